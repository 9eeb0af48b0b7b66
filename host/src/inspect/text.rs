//! The human-readable `gatehouse inspect` page: verdict first, then what a
//! reviewer weighs — describe, world, exports, imports with the sandbox's
//! treatment, producers, sizes and limits.

use super::{Inspection, Producers};
use crate::runtime::imports::Treatment;
use std::borrow::Cow;
use std::fmt::Write;

/// Renders an inspection as text.
pub fn render(inspection: &Inspection) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_page(&mut out, inspection);
    out
}

fn write_page(out: &mut String, i: &Inspection) -> std::fmt::Result {
    writeln!(out, "Policy {}", shown(&i.path))?;
    writeln!(out, "  sha256  {}", i.sha256)?;
    writeln!(out, "  size    {}", bytes(i.size))?;
    writeln!(out)?;

    match &i.load.error {
        None => writeln!(out, "Sandbox: loads (imports and exports accepted)")?,
        Some(why) => writeln!(out, "Sandbox: REFUSED, the load fails: {}", shown(why))?,
    }
    let refused = &i.refused_imports;
    if !refused.is_empty() {
        writeln!(out, "  refused imports: {}", shown(&refused.join(", ")))?;
    }
    writeln!(out)?;

    writeln!(out, "describe()")?;
    match (&i.describe.info, &i.describe.error) {
        (Some(info), _) => {
            writeln!(out, "  name         {}", shown(&info.name))?;
            writeln!(out, "  version      {}", shown(&info.version))?;
            writeln!(out, "  description  {}", shown(&info.description))?;
        }
        (None, Some(error)) if i.describe.status == "failed" => {
            writeln!(out, "  FAILED under the default limits: {}", shown(error))?;
            if let Some(limit) = &i.describe.limit {
                writeln!(out, "  limit hit: {} = {}", limit.name, limit.value)?;
            }
        }
        (None, Some(_)) if i.load.error.is_some() => {
            writeln!(
                out,
                "  not called: the sandbox does not load the component (see above)"
            )?;
        }
        (None, Some(error)) => writeln!(out, "  not called: {}", shown(error))?,
        (None, None) => writeln!(out, "  not called")?,
    }
    writeln!(out)?;

    writeln!(out, "World")?;
    let w = &i.world;
    if w.targets_policy_world {
        writeln!(out, "  exports every function of {}", w.expected)?;
    } else {
        writeln!(
            out,
            "  NOT the Gatehouse policy world {}: missing export(s) {}",
            w.expected,
            shown(&w.missing_exports.join(", "))
        )?;
    }
    if w.policy_versions.is_empty() {
        writeln!(out, "  gatehouse:policy version: none named")?;
    } else {
        writeln!(
            out,
            "  gatehouse:policy version: {} (from {})",
            shown(&w.policy_versions.join(", ")),
            shown(&w.policy_interfaces.join(", "))
        )?;
    }
    writeln!(out)?;

    writeln!(out, "Exports ({})", i.exports.len())?;
    if i.exports.is_empty() {
        writeln!(out, "  none")?;
    }
    for export in &i.exports {
        let ty = export.signature.as_deref().unwrap_or(export.kind);
        let note = if export.required {
            ""
        } else {
            "  (not part of the policy world)"
        };
        writeln!(out, "  {}: {}{note}", shown(&export.name), shown(ty))?;
    }
    writeln!(out)?;

    let count: usize = i.imports.iter().map(|g| g.imports.len()).sum();
    writeln!(out, "Imports ({count}), by what they give the policy")?;
    if count == 0 {
        writeln!(out, "  none: the policy can reach nothing but its inputs")?;
    }
    for group in &i.imports {
        writeln!(out, "  {}", group.title)?;
        for import in &group.imports {
            let kind = if import.kind == "instance" {
                String::new()
            } else {
                format!(" ({})", import.kind)
            };
            writeln!(
                out,
                "    {}{kind}: {}",
                shown(&import.name),
                treatment_word(import.treatment)
            )?;
            writeln!(out, "      {}", shown(&import.sandbox))?;
            if let Some(grant) = import.grant {
                writeln!(out, "      needs a grant to give anything: {grant}")?;
            }
            if !import.functions.is_empty() {
                writeln!(out, "      uses: {}", shown(&import.functions.join(", ")))?;
            }
        }
    }
    writeln!(out)?;

    writeln!(out, "Producers")?;
    if i.producers.is_empty() {
        writeln!(out, "  none recorded")?;
    }
    for producers in &i.producers {
        write_producers(out, producers)?;
    }
    writeln!(out)?;

    let c = &i.counts;
    let l = &i.limits;
    writeln!(out, "Sizes (checked before compiling)")?;
    writeln!(
        out,
        "  functions    {} (at most {})",
        c.functions, l.max_functions
    )?;
    writeln!(
        out,
        "  code         {} (at most {})",
        bytes(c.code_bytes),
        bytes(l.max_code_bytes)
    )?;
    writeln!(
        out,
        "  core modules {}, nested components {}, core instances {}, memories {}, tables {}",
        c.core_modules, c.nested_components, c.core_instances, c.memories, c.tables
    )?;
    if !l.within_precheck {
        writeln!(
            out,
            "  OVER the pre-check: the sandbox refuses to compile it"
        )?;
    }
    writeln!(out)?;

    let p = &l.per_evaluation;
    writeln!(out, "Default limits per evaluation (gatehouse eval)")?;
    writeln!(
        out,
        "  fuel {} per call, memory {}, timeout {} ms",
        p.fuel,
        bytes(p.memory_bytes),
        p.timeout_ms
    )?;
    writeln!(
        out,
        "  instances {}, memories {}, tables {} of {} elements",
        p.instances, p.memories, p.tables, p.table_elements
    )?;
    writeln!(
        out,
        "  log {} lines / {}, stdout and stderr {} each, {} per host call",
        p.max_log_lines,
        bytes(p.max_log_bytes),
        bytes(p.max_output_bytes),
        bytes(p.max_hostcall_bytes)
    )?;
    Ok(())
}

fn write_producers(out: &mut String, producers: &Producers) -> std::fmt::Result {
    let scope = match producers.index {
        Some(index) => format!("{} {index}", producers.scope),
        None => producers.scope.to_string(),
    };
    writeln!(out, "  {scope}")?;
    for (field, tools) in &producers.fields {
        let tools: Vec<String> = tools
            .iter()
            .map(|t| {
                if t.version.is_empty() {
                    t.name.clone()
                } else {
                    format!("{} {}", t.name, t.version)
                }
            })
            .collect();
        writeln!(out, "    {}: {}", shown(field), shown(&tools.join("; ")))?;
    }
    if let Some(why) = &producers.malformed {
        writeln!(out, "    (section incomplete: {})", shown(why))?;
    }
    Ok(())
}

fn treatment_word(treatment: Treatment) -> &'static str {
    match treatment {
        Treatment::Allowed => "allowed",
        Treatment::AllowedButInert => "allowed-but-inert",
        Treatment::Refused => "REFUSED",
    }
}

/// Untrusted text (names, `describe` answers, producers, guest stderr in
/// errors) on one line, as every text sink writes it
/// ([`crate::untrusted::line`]): control, bidirectional and
/// invisible characters shown as `\u{..}` escapes and at most
/// [`crate::untrusted::MAX_SHOWN_CHARS`] characters, so a module
/// cannot forge lines of the page, hide text from the reader or flood it.
fn shown(text: &str) -> Cow<'_, str> {
    crate::untrusted::line(text)
}

/// `1234567` → `1,234,567 bytes (1.2 MiB)`.
fn bytes(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if n < 1024 {
        return format!("{grouped} bytes");
    }
    let (value, unit) = if n < 1 << 20 {
        (n as f64 / 1024.0, "KiB")
    } else {
        (n as f64 / f64::from(1u32 << 20), "MiB")
    };
    format!("{grouped} bytes ({value:.1} {unit})")
}

#[cfg(test)]
mod tests {
    use super::{bytes, shown};

    #[test]
    fn untrusted_text_cannot_forge_lines_or_escape_the_terminal() {
        assert_eq!(shown("destructive-changes"), "destructive-changes");
        assert_eq!(shown("ok\nSandbox: loads"), "ok\\u{a}Sandbox: loads");
        assert_eq!(shown("\u{1b}[2Jx"), "\\u{1b}[2Jx");
        assert_eq!(shown("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(shown("café ✓"), "café ✓");
        assert_eq!(
            shown("a\u{61c}b\u{2028}c\u{2029}d\u{85}e"),
            "a\\u{61c}b\\u{2028}c\\u{2029}d\\u{85}e"
        );
    }

    #[test]
    fn byte_counts_are_grouped_and_scaled() {
        assert_eq!(bytes(0), "0 bytes");
        assert_eq!(bytes(999), "999 bytes");
        assert_eq!(bytes(1536), "1,536 bytes (1.5 KiB)");
        assert_eq!(bytes(256 << 20), "268,435,456 bytes (256.0 MiB)");
    }
}
