//! `gatehouse inspect`: everything a security reviewer needs to decide
//! whether to allow a policy module, from the binary alone — its digest, the
//! world it targets, its exports, every import with what the sandbox does
//! with it, what `describe` says, who built it, and its sizes against the
//! sandbox's limits.
//!
//! [`inspect`] gathers an [`Inspection`]; [`text::render`] prints it and the
//! JSON form (schema [`SCHEMA`]) is its serde serialisation, documented in
//! docs/inspect.md. Inspection never fails on a hostile module: a component
//! the sandbox refuses, or whose `describe` traps or hits a limit, is still
//! inspected, and the reason is part of the result. Only a file that cannot
//! be read or is not a component is an error.

mod scan;
mod signature;
pub mod text;

pub use scan::{Counts, Producers, Tool};

use crate::error::{LoadError, LoadErrorKind};
use crate::report::LimitReport;
use crate::runtime::bindings::{REQUIRED_EXPORTS, WORLD, WORLD_0_2};
use crate::runtime::imports::{
    ImportClass, SandboxTreatment, Treatment, sandbox_treatment, type_import_treatment,
};
use crate::runtime::{Grants, Limits, PolicyInfo, RunOptions, Runtime};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use wasmtime::component::Component;

/// The JSON schema of `gatehouse inspect --output json`.
pub const SCHEMA: &str = "gatehouse.inspect/v1";

/// The WIT package whose version a policy's import and export names carry.
const POLICY_PACKAGE: &str = "gatehouse:policy";

/// Everything known about one policy file.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The file, as given.
    pub path: String,
    /// Hex sha256 of the file: what a policy set pins.
    pub sha256: String,
    /// Size of the file in bytes.
    pub size: u64,
    /// Whether the Gatehouse sandbox would load it, and why not.
    pub load: LoadStatus,
    /// The world it targets, as far as the names tell.
    pub world: WorldInfo,
    /// What `describe` returned in the sandbox, or why it did not.
    pub describe: DescribeOutcome,
    /// Every top-level export.
    pub exports: Vec<Export>,
    /// Every top-level import, grouped by what it gives the policy, in the
    /// order of [`ImportClass::ALL`]; empty groups are left out.
    pub imports: Vec<ImportGroup>,
    /// The names of the imports the sandbox refuses (also in `imports`).
    pub refused_imports: Vec<String>,
    /// The producers sections of the component and its core modules.
    pub producers: Vec<Producers>,
    /// Sizes the sandbox checks before compiling, and a few more.
    pub counts: Counts,
    /// The limits that would apply: the pre-check's and, per evaluation,
    /// the defaults of `gatehouse eval`.
    pub limits: LimitsInfo,
}

/// Whether the sandbox would load the component.
#[derive(Debug, Clone, Serialize)]
pub struct LoadStatus {
    /// True when `gatehouse eval` would load, compile and link it.
    pub ok: bool,
    /// Why the load fails, as `gatehouse eval` would report it.
    pub error: Option<String>,
}

/// The component's world, as far as its import and export names tell.
#[derive(Debug, Clone, Serialize)]
pub struct WorldInfo {
    /// The world Gatehouse runs for this component: `gatehouse:policy/policy@0.2.0`
    /// when its names carry version 0.2.0, else `gatehouse:policy/policy@0.1.0`.
    pub expected: &'static str,
    /// True when the component exports every function of that world.
    pub targets_policy_world: bool,
    /// The world's exports the component lacks.
    pub missing_exports: Vec<String>,
    /// The `gatehouse:policy` interfaces named by its imports and exports,
    /// e.g. `gatehouse:policy/types@0.1.0`.
    pub policy_interfaces: Vec<String>,
    /// The `gatehouse:policy` package versions those names carry, e.g. `0.1.0`.
    pub policy_versions: Vec<String>,
}

/// What calling `describe` in the sandbox produced.
#[derive(Debug, Clone, Serialize)]
pub struct DescribeOutcome {
    /// `ok`, `failed` (it trapped or hit a limit) or `not-called` (the
    /// component does not load).
    pub status: &'static str,
    /// The policy's name, version and description, when it answered.
    pub info: Option<PolicyInfo>,
    /// Why it failed or was not called.
    pub error: Option<String>,
    /// The sandbox limit it hit, when it hit one.
    pub limit: Option<LimitReport>,
}

/// One top-level export.
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    /// The export's name, e.g. `evaluate`.
    pub name: String,
    /// `func`, `instance`, `type`, `module`, `component` or `value`.
    pub kind: &'static str,
    /// True when the policy world requires it.
    pub required: bool,
    /// Its type in WIT-like text, when the component compiles.
    pub signature: Option<String>,
}

/// The imports of one class.
#[derive(Debug, Clone, Serialize)]
pub struct ImportGroup {
    /// The class, e.g. `wasi-filesystem`.
    pub class: ImportClass,
    /// What the class gives a policy.
    pub title: &'static str,
    /// The imports, in declaration order.
    pub imports: Vec<Import>,
}

/// One top-level import and what the sandbox does with it.
#[derive(Debug, Clone, Serialize)]
pub struct Import {
    /// The import's name, e.g. `wasi:filesystem/preopens@0.2.0`.
    pub name: String,
    /// `instance` (an interface), `func` (a bare function), `type`, ...
    pub kind: &'static str,
    /// `allowed`, `allowed-but-inert` or `refused`.
    pub treatment: Treatment,
    /// What exactly the sandbox does with it, or why it is refused.
    pub sandbox: String,
    /// The `gatehouse eval` flag that would make it give something, if any.
    pub grant: Option<&'static str>,
    /// The functions of the interface the component uses, when it compiles.
    pub functions: Vec<String>,
}

/// The limits that apply to the component.
#[derive(Debug, Clone, Serialize)]
pub struct LimitsInfo {
    /// Most core functions a policy may define (checked before compiling).
    pub max_functions: u64,
    /// Most bytes of code a policy may carry (checked before compiling).
    pub max_code_bytes: u64,
    /// True when the counts are within those two maxima.
    pub within_precheck: bool,
    /// The per-evaluation defaults of `gatehouse eval`.
    pub per_evaluation: EvaluationLimits,
}

/// The per-evaluation limits, with the names of [`Limits`].
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationLimits {
    /// Fuel per call.
    pub fuel: u64,
    /// Linear memory, bytes, all memories together.
    pub memory_bytes: u64,
    /// Wall-clock budget per evaluation, milliseconds.
    pub timeout_ms: u64,
    /// Elements per table.
    pub table_elements: u64,
    /// Core instances.
    pub instances: u64,
    /// Tables.
    pub tables: u64,
    /// Linear memories.
    pub memories: u64,
    /// `log` lines kept.
    pub max_log_lines: u64,
    /// `log` bytes kept.
    pub max_log_bytes: u64,
    /// stdout bytes kept, and separately stderr bytes.
    pub max_output_bytes: u64,
    /// Bytes the guest may pass to the host in one call.
    pub max_hostcall_bytes: u64,
}

impl From<&Limits> for EvaluationLimits {
    fn from(limits: &Limits) -> Self {
        let n = |v: usize| v as u64;
        EvaluationLimits {
            fuel: limits.fuel,
            memory_bytes: n(limits.memory_bytes),
            timeout_ms: limits.timeout_ms,
            table_elements: n(limits.table_elements),
            instances: n(limits.instances),
            tables: n(limits.tables),
            memories: n(limits.memories),
            max_log_lines: n(limits.max_log_lines),
            max_log_bytes: n(limits.max_log_bytes),
            max_output_bytes: n(limits.max_output_bytes),
            max_hostcall_bytes: n(limits.max_hostcall_bytes),
        }
    }
}

/// Inspects the policy file at `path` with a runtime built with the default
/// limits, calling `describe` at `now` (Unix seconds). Errors only when the
/// file cannot be read or is not a (parseable) component.
pub fn inspect(runtime: &Runtime, path: &Path, now: i64) -> Result<Inspection, LoadError> {
    let fail = |kind| LoadError {
        path: path.to_path_buf(),
        kind,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(LoadErrorKind::Io(e)))?;
    crate::runtime::check_header(&bytes).map_err(fail)?;
    let scanned = scan::scan(&bytes).map_err(|e| fail(LoadErrorKind::Compile(e)))?;
    let limits = Limits::default();

    // Load exactly as `gatehouse eval` does, so the verdict here is the real one.
    let loaded = runtime.load_bytes(path, &bytes);
    let (load, describe) = match &loaded {
        Ok(policy) => {
            let options = RunOptions::new(now, limits.clone(), Grants::default());
            let describe = match policy.describe(&options) {
                Ok(info) => DescribeOutcome {
                    status: "ok",
                    info: Some(info),
                    error: None,
                    limit: None,
                },
                Err(e) => DescribeOutcome {
                    status: "failed",
                    info: None,
                    error: Some(e.kind.to_string()),
                    limit: e
                        .kind
                        .limit()
                        .map(|(name, value)| LimitReport { name, value }),
                },
            };
            let load = LoadStatus {
                ok: true,
                error: None,
            };
            (load, describe)
        }
        Err(e) => {
            let why = e.kind.to_string();
            let describe = DescribeOutcome {
                status: "not-called",
                info: None,
                error: Some(format!("the sandbox does not load the component: {why}")),
                limit: None,
            };
            let load = LoadStatus {
                ok: false,
                error: Some(why),
            };
            (load, describe)
        }
    };

    // Types come from the compiled component: the loaded one, or — for a
    // component refused only for its exports or imports, which compiled
    // within the pre-check — a fresh compile, so the reviewer sees what a
    // refused import would have been used for. Names always come from the parser.
    let component = match &loaded {
        Ok(policy) => Some(policy.component().clone()),
        Err(e) if compiled_before_refusal(&e.kind) => Component::new(runtime.engine(), &bytes).ok(),
        Err(_) => None,
    };
    let typed = component.map(|component| {
        let engine = runtime.engine();
        let ty = component.component_type();
        let imports: BTreeMap<String, Vec<String>> = ty
            .imports(engine)
            .map(|(name, item)| {
                (
                    name.to_string(),
                    signature::instance_functions(engine, &item.ty),
                )
            })
            .collect();
        let exports: BTreeMap<String, String> = ty
            .exports(engine)
            .map(|(name, item)| (name.to_string(), signature::describe_item(engine, &item.ty)))
            .collect();
        (imports, exports)
    });

    let exports = scanned
        .exports
        .iter()
        .map(|(name, kind)| Export {
            name: name.clone(),
            kind,
            required: REQUIRED_EXPORTS.contains(&name.as_str()),
            signature: typed.as_ref().and_then(|(_, e)| e.get(name).cloned()),
        })
        .collect();

    let mut groups: Vec<ImportGroup> = Vec::new();
    for class in ImportClass::ALL {
        let imports: Vec<Import> = scanned
            .imports
            .iter()
            .filter_map(|(name, kind)| {
                let treatment = treatment_of(name, kind);
                (treatment.class == class).then(|| Import {
                    name: name.clone(),
                    kind,
                    treatment: treatment.treatment,
                    sandbox: treatment.detail,
                    grant: treatment.grant,
                    functions: typed
                        .as_ref()
                        .and_then(|(i, _)| i.get(name).cloned())
                        .unwrap_or_default(),
                })
            })
            .collect();
        if !imports.is_empty() {
            groups.push(ImportGroup {
                class,
                title: class.title(),
                imports,
            });
        }
    }
    let refused_imports = scanned
        .imports
        .iter()
        .filter(|(name, kind)| treatment_of(name, kind).treatment == Treatment::Refused)
        .map(|(name, _)| name.clone())
        .collect();

    let world = world_info(&scanned);
    let counts = scanned.counts;
    let within_precheck = counts.functions <= crate::runtime::MAX_FUNCTIONS
        && counts.code_bytes <= crate::runtime::MAX_CODE_BYTES;
    Ok(Inspection {
        schema: SCHEMA,
        path: path.display().to_string(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        size: bytes.len() as u64,
        load,
        world,
        describe,
        exports,
        imports: groups,
        refused_imports,
        producers: scanned.producers,
        counts,
        limits: LimitsInfo {
            max_functions: crate::runtime::MAX_FUNCTIONS,
            max_code_bytes: crate::runtime::MAX_CODE_BYTES,
            within_precheck,
            per_evaluation: EvaluationLimits::from(&limits),
        },
    })
}

/// True when the load failed after the component compiled: its types can
/// be read, although the sandbox will not run it.
fn compiled_before_refusal(kind: &LoadErrorKind) -> bool {
    matches!(
        kind,
        LoadErrorKind::WrongWorld { .. }
            | LoadErrorKind::ForbiddenImports(_)
            | LoadErrorKind::Link(_)
    )
}

/// What the sandbox does with a top-level import of this name and kind: a
/// type alias gives nothing (wasmtime does not even list it); everything
/// else is classified by name, as the load does.
fn treatment_of(name: &str, kind: &str) -> SandboxTreatment {
    if kind == "type" {
        type_import_treatment()
    } else {
        sandbox_treatment(name)
    }
}

/// The world as the names tell it: which required exports are missing, and
/// which `gatehouse:policy` interfaces and versions the names carry.
fn world_info(scanned: &scan::Scan) -> WorldInfo {
    let exported: Vec<&str> = scanned.exports.iter().map(|(n, _)| n.as_str()).collect();
    let missing_exports: Vec<String> = REQUIRED_EXPORTS
        .iter()
        .filter(|name| !exported.contains(name))
        .map(|name| name.to_string())
        .collect();
    let mut policy_interfaces: Vec<String> = Vec::new();
    let mut policy_versions: Vec<String> = Vec::new();
    let names = scanned.imports.iter().chain(&scanned.exports);
    for (name, _) in names {
        let Some(rest) = name
            .strip_prefix(POLICY_PACKAGE)
            .and_then(|r| r.strip_prefix('/'))
        else {
            continue;
        };
        if !policy_interfaces.contains(name) {
            policy_interfaces.push(name.clone());
        }
        if let Some((_, version)) = rest.split_once('@')
            && !policy_versions.iter().any(|v| v == version)
        {
            policy_versions.push(version.to_string());
        }
    }
    WorldInfo {
        // The names tell the version; a component that shows none is
        // measured against the first world.
        expected: if policy_versions.iter().any(|v| v == "0.2.0") {
            WORLD_0_2
        } else {
            WORLD
        },
        targets_policy_world: missing_exports.is_empty(),
        missing_exports,
        policy_interfaces,
        policy_versions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanned(imports: &[&str], exports: &[&str]) -> scan::Scan {
        scan::Scan {
            imports: imports
                .iter()
                .map(|n| (n.to_string(), "instance"))
                .collect(),
            exports: exports.iter().map(|n| (n.to_string(), "func")).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_world_is_told_from_the_names() {
        let world = world_info(&scanned(
            &[
                "gatehouse:policy/types@0.1.0",
                "gatehouse:policy/host@0.1.0",
                "wasi:cli/stdout@0.2.3",
            ],
            &["describe", "validate-settings", "evaluate"],
        ));
        assert!(world.targets_policy_world);
        assert!(world.missing_exports.is_empty());
        assert_eq!(
            world.policy_interfaces,
            [
                "gatehouse:policy/types@0.1.0",
                "gatehouse:policy/host@0.1.0"
            ]
        );
        assert_eq!(world.policy_versions, ["0.1.0"]);
    }

    #[test]
    fn missing_exports_and_other_versions_are_named() {
        let world = world_info(&scanned(&["gatehouse:policy/host@0.2.0"], &["greet"]));
        assert!(!world.targets_policy_world);
        assert_eq!(
            world.missing_exports,
            ["describe", "validate-settings", "evaluate"]
        );
        assert_eq!(world.policy_versions, ["0.2.0"]);
    }
}
