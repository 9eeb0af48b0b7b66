//! One pass of the parser over a component's bytes, without compiling it:
//! the top-level import and export names, the producers sections of the
//! component and of every core module inside it, and the counts the sandbox
//! pre-checks. Works on components the sandbox refuses (too large, wrong
//! world, forbidden imports), so a reviewer sees what they carry.

use serde::Serialize;
use std::collections::BTreeMap;
use wasmparser::{
    ComponentExternalKind, ComponentTypeRef, Encoding, KnownCustom, Parser, Payload,
    ProducersSectionReader, TypeBounds,
};

/// Most producers entries kept per section: a hostile section cannot make
/// the report unbounded.
const MAX_PRODUCER_VALUES: usize = 64;

/// What the parser found, before any compilation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Top-level imports: name and kind (`instance`, `func`, `type` (an
    /// alias of a type defined elsewhere), `resource`, ...).
    pub imports: Vec<(String, &'static str)>,
    /// Top-level exports: name and kind.
    pub exports: Vec<(String, &'static str)>,
    /// Every producers section, in file order.
    pub producers: Vec<Producers>,
    /// What the sandbox counts before compiling, and a few more sizes.
    pub counts: Counts,
}

/// One producers custom section: who made the component or a core module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Producers {
    /// `component` (the file itself), `core-module` or `nested-component`.
    pub scope: &'static str,
    /// The core module's (or nested component's) index in file order, from
    /// 0; absent for the component itself.
    pub index: Option<u32>,
    /// Field name (`language`, `processed-by`, `sdk`) to its entries, in
    /// section order.
    pub fields: BTreeMap<String, Vec<Tool>>,
    /// Why the section could not be read in full, when it could not.
    pub malformed: Option<String>,
}

/// One producers entry: a language, tool or SDK and its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tool {
    /// E.g. `Rust`, `rustc`, `wit-component`, `componentize-py`.
    pub name: String,
    /// E.g. `1.95.0 (...)`; may be empty.
    pub version: String,
}

/// Sizes of the component, as the sandbox's pre-check counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Core modules embedded anywhere in the component.
    pub core_modules: u64,
    /// Components nested inside the component.
    pub nested_components: u64,
    /// Core functions defined (with a body) in all core modules: checked
    /// against the pre-check's maximum.
    pub functions: u64,
    /// Bytes of code in all core modules: checked against the pre-check's maximum.
    pub code_bytes: u64,
    /// Linear memories defined in all core modules.
    pub memories: u64,
    /// Tables defined in all core modules.
    pub tables: u64,
    /// Core instances the component declares (each counts against the
    /// `instances` limit when instantiated).
    pub core_instances: u64,
}

/// What the parser is inside of.
#[derive(Debug, Clone, Copy)]
enum Scope {
    Component { index: Option<u32> },
    Module { index: u32 },
}

/// Scans a component. Fails with the parser's message (and offset) when the
/// bytes are malformed.
pub fn scan(bytes: &[u8]) -> Result<Scan, String> {
    let mut out = Scan::default();
    let mut stack: Vec<Scope> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| e.to_string())?;
        let top_level = matches!(stack.as_slice(), [Scope::Component { .. }]);
        match payload {
            Payload::Version { encoding, .. } => stack.push(match encoding {
                Encoding::Module => {
                    let index = index_of(out.counts.core_modules);
                    out.counts.core_modules += 1;
                    Scope::Module { index }
                }
                Encoding::Component if stack.is_empty() => Scope::Component { index: None },
                Encoding::Component => {
                    let index = index_of(out.counts.nested_components);
                    out.counts.nested_components += 1;
                    Scope::Component { index: Some(index) }
                }
            }),
            Payload::End(_) => {
                stack.pop();
            }
            Payload::ComponentImportSection(reader) if top_level => {
                for import in reader {
                    let import = import.map_err(|e| e.to_string())?;
                    out.imports
                        .push((import.name.name.to_string(), type_ref_kind(import.ty)));
                }
            }
            Payload::ComponentExportSection(reader) if top_level => {
                for export in reader {
                    let export = export.map_err(|e| e.to_string())?;
                    out.exports
                        .push((export.name.name.to_string(), external_kind(export.kind)));
                }
            }
            Payload::FunctionSection(reader) => out.counts.functions += u64::from(reader.count()),
            Payload::CodeSectionStart { size, .. } => out.counts.code_bytes += u64::from(size),
            Payload::MemorySection(reader) => out.counts.memories += u64::from(reader.count()),
            Payload::TableSection(reader) => out.counts.tables += u64::from(reader.count()),
            Payload::InstanceSection(reader) => {
                out.counts.core_instances += u64::from(reader.count());
            }
            Payload::CustomSection(reader) => {
                if let KnownCustom::Producers(producers) = reader.as_known() {
                    let scope = stack
                        .last()
                        .copied()
                        .unwrap_or(Scope::Component { index: None });
                    out.producers.push(read_producers(scope, producers));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn index_of(count: u64) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Reads one producers section, keeping what was read before any error.
fn read_producers(scope: Scope, reader: ProducersSectionReader<'_>) -> Producers {
    let (scope, index) = match scope {
        Scope::Component { index: None } => ("component", None),
        Scope::Component { index } => ("nested-component", index),
        Scope::Module { index } => ("core-module", Some(index)),
    };
    let mut producers = Producers {
        scope,
        index,
        fields: BTreeMap::new(),
        malformed: None,
    };
    let mut kept = 0usize;
    let read = || -> wasmparser::Result<()> {
        for field in reader {
            let field = field?;
            let mut tools = Vec::new();
            for value in field.values {
                let value = value?;
                if kept < MAX_PRODUCER_VALUES {
                    tools.push(Tool {
                        name: value.name.to_string(),
                        version: value.version.to_string(),
                    });
                }
                kept += 1;
            }
            producers
                .fields
                .entry(field.name.to_string())
                .or_default()
                .extend(tools);
        }
        Ok(())
    };
    if let Err(e) = read() {
        producers.malformed = Some(e.to_string());
    } else if kept > MAX_PRODUCER_VALUES {
        producers.malformed = Some(format!(
            "{kept} entries; only the first {MAX_PRODUCER_VALUES} are shown"
        ));
    }
    producers
}

/// The kind of a component import, as WIT would call it.
fn type_ref_kind(ty: ComponentTypeRef) -> &'static str {
    match ty {
        ComponentTypeRef::Module(_) => "module",
        ComponentTypeRef::Func(_) => "func",
        ComponentTypeRef::Value(_) => "value",
        ComponentTypeRef::Type(TypeBounds::Eq(_)) => "type",
        ComponentTypeRef::Type(TypeBounds::SubResource) => "resource",
        ComponentTypeRef::Instance(_) => "instance",
        ComponentTypeRef::Component(_) => "component",
    }
}

/// The kind of a component export, as WIT would call it.
fn external_kind(kind: ComponentExternalKind) -> &'static str {
    match kind {
        ComponentExternalKind::Module => "module",
        ComponentExternalKind::Func => "func",
        ComponentExternalKind::Value => "value",
        ComponentExternalKind::Type => "type",
        ComponentExternalKind::Instance => "instance",
        ComponentExternalKind::Component => "component",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends a custom section named `name` with `payload` to `out`.
    fn custom_section(out: &mut Vec<u8>, name: &str, payload: &[u8]) {
        let mut body = Vec::new();
        leb(&mut body, name.len());
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(payload);
        out.push(0);
        leb(out, body.len());
        out.extend_from_slice(&body);
    }

    fn leb(out: &mut Vec<u8>, mut n: usize) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn string(out: &mut Vec<u8>, s: &str) {
        leb(out, s.len());
        out.extend_from_slice(s.as_bytes());
    }

    /// A producers payload: fields of (name, [(tool, version)]).
    fn producers_payload(fields: &[(&str, &[(&str, &str)])]) -> Vec<u8> {
        let mut out = Vec::new();
        leb(&mut out, fields.len());
        for (name, values) in fields {
            string(&mut out, name);
            leb(&mut out, values.len());
            for (tool, version) in *values {
                string(&mut out, tool);
                string(&mut out, version);
            }
        }
        out
    }

    /// An empty component holding one core module; each carries a
    /// producers section.
    fn component_with_module(component_fields: &[u8], module_fields: &[u8]) -> Vec<u8> {
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        custom_section(&mut module, "producers", module_fields);
        let mut component = b"\0asm\x0d\0\x01\0".to_vec();
        // Core module section (id 1) holding the module.
        component.push(1);
        leb(&mut component, module.len());
        component.extend_from_slice(&module);
        custom_section(&mut component, "producers", component_fields);
        component
    }

    #[test]
    fn producers_of_the_component_and_its_core_module() {
        let bytes = component_with_module(
            &producers_payload(&[("processed-by", &[("wit-component", "0.239.0")])]),
            &producers_payload(&[
                ("language", &[("Rust", "")]),
                (
                    "processed-by",
                    &[("rustc", "1.95.0"), ("wit-bindgen-rust", "0.46.0")],
                ),
                ("sdk", &[("gatehouse-sdk", "0.1.0")]),
            ]),
        );
        let scan = scan(&bytes).expect("scans");
        assert_eq!(scan.counts.core_modules, 1);
        assert_eq!(scan.producers.len(), 2);
        let module = &scan.producers[0];
        assert_eq!((module.scope, module.index), ("core-module", Some(0)));
        assert_eq!(module.fields["language"][0].name, "Rust");
        let tools: Vec<(&str, &str)> = module.fields["processed-by"]
            .iter()
            .map(|t| (t.name.as_str(), t.version.as_str()))
            .collect();
        assert_eq!(tools, [("rustc", "1.95.0"), ("wit-bindgen-rust", "0.46.0")]);
        assert_eq!(module.fields["sdk"][0].name, "gatehouse-sdk");
        assert_eq!(module.malformed, None);
        let component = &scan.producers[1];
        assert_eq!((component.scope, component.index), ("component", None));
        assert_eq!(component.fields["processed-by"][0].version, "0.239.0");
    }

    #[test]
    fn a_malformed_producers_section_is_not_fatal() {
        // Claims two fields, holds one.
        let mut payload = producers_payload(&[("language", &[("Rust", "")])]);
        payload[0] = 2;
        let bytes = component_with_module(&producers_payload(&[]), &payload);
        let scan = scan(&bytes).expect("scans");
        let module = &scan.producers[0];
        assert_eq!(module.fields["language"][0].name, "Rust");
        assert!(module.malformed.is_some(), "{module:?}");
    }

    #[test]
    fn too_many_producer_entries_are_capped() {
        let many: Vec<(String, String)> = (0..100)
            .map(|i| (format!("tool-{i}"), "1".to_string()))
            .collect();
        let values: Vec<(&str, &str)> =
            many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let bytes = component_with_module(
            &producers_payload(&[("processed-by", &values)]),
            &producers_payload(&[]),
        );
        let scan = scan(&bytes).expect("scans");
        let component = &scan.producers[1];
        assert_eq!(component.fields["processed-by"].len(), MAX_PRODUCER_VALUES);
        assert!(
            component
                .malformed
                .as_deref()
                .is_some_and(|m| m.contains("100 entries"))
        );
    }

    #[test]
    fn truncated_bytes_are_an_error() {
        let bytes = component_with_module(&producers_payload(&[]), &producers_payload(&[]));
        assert!(scan(&bytes[..bytes.len() - 3]).is_err());
    }
}
