//! The human-readable report: verdict first, then why, then who must act.
//!
//! Written straight to a writer, line by line, so a large report is never
//! held in memory; every text from a policy or the input goes through
//! [`super::untrusted::line`] (one line, at most
//! [`super::untrusted::MAX_SHOWN_CHARS`] characters per field).

use super::Report;
use super::untrusted::{line as shown, line_list};
use crate::decision::Verdict;
use std::io::{self, Write};

/// Writes the report for a terminal or a CI log.
pub fn write_text(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let headline = match report.verdict {
        Verdict::AutoApprove => "AUTO-APPROVE",
        Verdict::RequireApproval => "REQUIRE APPROVAL",
        Verdict::Fail => "FAIL",
    };
    let unchecked = if report.nothing_applied.is_some() {
        ": NOTHING WAS CHECKED"
    } else {
        ""
    };
    writeln!(out, "{headline} (exit {}){unchecked}", report.exit_code)?;
    let input = &report.input;
    let changes: Vec<String> = input
        .changes
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    let changes = if changes.is_empty() {
        String::new()
    } else {
        format!(" ({})", changes.join(", "))
    };
    writeln!(
        out,
        "release: environment {}, stream {}, {} resource{}{changes}",
        shown(&input.environment),
        shown(&input.release_stream),
        input.resources,
        if input.resources == 1 { "" } else { "s" },
    )?;
    writeln!(
        out,
        "input: {} (sha256 {})",
        shown(&input.source),
        input.sha256
    )?;
    writeln!(out, "release digest: {}", input.release_digest)?;
    writeln!(out, "evaluated at: {}", report.evaluated_at)?;
    if let Some(config) = &report.config {
        writeln!(out, "config: {}", shown(config))?;
    }
    for warning in &input.warnings {
        writeln!(out, "warning: {}", shown(warning))?;
    }
    write_approvals(&report.approvals, out)?;
    if let Some(nothing) = &report.nothing_applied {
        writeln!(out, "\n{}", shown(&nothing.message))?;
        for approval in &report.required_approvals {
            let who = if approval.approver_groups.is_empty() {
                "anyone with release rights".to_string()
            } else {
                line_list(&approval.approver_groups, ", ")
            };
            writeln!(
                out,
                "  approvers: {who} ({} approval{})",
                approval.min_approvals,
                if approval.min_approvals == 1 { "" } else { "s" }
            )?;
            if let Some(instructions) = &approval.instructions {
                writeln!(out, "  instructions: {}", shown(instructions))?;
            }
            write_approve_command(&approval.approve_command, &approval.approver_groups, out)?;
        }
        if !nothing.approved_by.is_empty() {
            writeln!(
                out,
                "  approved by {}",
                shown(&crate::approvals::describe(&nothing.approved_by))
            )?;
        }
    }
    for policy in &report.policies {
        let described = if policy.label() == policy.name {
            String::new()
        } else {
            format!(" [{}]", shown(&policy.name))
        };
        // Two policies reported under one name are told apart by their file.
        let collides = report
            .policies
            .iter()
            .filter(|other| other.label() == policy.label())
            .count()
            > 1;
        let file = if collides {
            format!(" ({})", shown(&policy.path))
        } else {
            String::new()
        };
        writeln!(
            out,
            "\npolicy {}{described} {}{file}: {} ({:.2} ms, {} fuel)",
            shown(policy.label()),
            shown(&policy.version),
            policy.verdict.as_str(),
            policy.duration_ms,
            policy.fuel_used
        )?;
        for reason in &policy.reasons {
            match reason.path_to_show() {
                Some(path) => writeln!(out, "  - {} [{}]", shown(&reason.message), shown(path))?,
                None => writeln!(out, "  - {}", shown(&reason.message))?,
            }
        }
        if let Some(min) = policy.min_approvals {
            let who = if policy.approver_groups.is_empty() {
                "anyone with release rights".to_string()
            } else {
                line_list(&policy.approver_groups, ", ")
            };
            let per_group = if policy.approver_groups.len() > 1 {
                " from each group"
            } else {
                ""
            };
            writeln!(
                out,
                "  approvers: {who} ({min} approval{}{per_group})",
                if min == 1 { "" } else { "s" }
            )?;
        }
        if !policy.approved_by.is_empty() {
            writeln!(
                out,
                "  approved by {}",
                shown(&crate::approvals::describe(&policy.approved_by))
            )?;
        }
        if policy.counts_approvals_itself {
            writeln!(
                out,
                "  approvals: this policy counts approvals itself (it decides differently without them), so its own verdict stands"
            )?;
        }
        if policy.verdict == Verdict::RequireApproval {
            let command = super::approve_command(
                &input.release_digest,
                &input.environment,
                &policy.approver_groups,
            );
            write_approve_command(&command, &policy.approver_groups, out)?;
        }
        for dir in &policy.grants.read_dirs {
            writeln!(out, "  granted: read {}", shown(&dir.display().to_string()))?;
        }
        for name in &policy.grants.env {
            writeln!(out, "  granted: environment variable {}", shown(name))?;
        }
        if policy.grants.random {
            let _ = writeln!(
                out,
                "  granted: real randomness (wasi:random is not reproducible)"
            );
        }
        if let Some(instructions) = &policy.instructions {
            writeln!(out, "  instructions: {}", shown(instructions))?;
        }
        for line in &policy.logs {
            writeln!(
                out,
                "  log {}: {}",
                line.level.as_str(),
                shown(&line.message)
            )?;
        }
        if policy.logs_dropped > 0 {
            writeln!(
                out,
                "  log: {} more lines dropped (over the cap)",
                policy.logs_dropped
            )?;
        }
        for (name, text, dropped) in [
            ("stdout", &policy.stdout, policy.stdout_dropped_bytes),
            ("stderr", &policy.stderr, policy.stderr_dropped_bytes),
        ] {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                writeln!(out, "  {name}: {}", shown(line))?;
            }
            if dropped > 0 {
                writeln!(out, "  {name}: {dropped} more bytes dropped (over the cap)")?;
            }
        }
    }
    if !report.skipped.is_empty() {
        writeln!(out)?;
    }
    for skipped in &report.skipped {
        writeln!(
            out,
            "skipped {} ({}): {}",
            shown(&skipped.name),
            shown(&skipped.path),
            shown(&skipped.reason)
        )?;
    }
    Ok(())
}

/// The approvals: verified against which file, each valid and rejected
/// one; or a loud mark on approvals nobody verified.
fn write_approvals(approvals: &super::ApprovalsReport, out: &mut impl Write) -> io::Result<()> {
    if approvals.unverified {
        let n = approvals.unverified_approvals.len();
        writeln!(
            out,
            "approvals: {n} UNVERIFIED (unsigned, and no trust section to check signed ones: anyone who can write the approvals could have; see docs/approvals.md)"
        )?;
        for a in &approvals.unverified_approvals {
            writeln!(
                out,
                "  unverified: {} ({}) at {}",
                shown(&a.approver),
                line_list(&a.groups, ", "),
                shown(&a.at)
            )?;
        }
    }
    let Some(signers) = &approvals.allowed_signers else {
        return Ok(());
    };
    writeln!(
        out,
        "approvals: {} valid, {} rejected (verified against {}, sha256 {})",
        approvals.valid.len(),
        approvals.rejected.len(),
        shown(&signers.path),
        signers.sha256
    )?;
    for a in &approvals.valid {
        writeln!(
            out,
            "  valid: {} ({}) at {}, key {} [{}]",
            shown(&a.principal),
            line_list(&a.groups, ", "),
            a.at,
            a.key_fingerprint,
            shown(&a.file)
        )?;
    }
    for r in &approvals.rejected {
        let who = r
            .principal
            .as_deref()
            .map(|p| format!(" by {}", shown(p)))
            .unwrap_or_default();
        writeln!(
            out,
            "  rejected: {}{who}: {}: {}",
            shown(&r.file),
            r.reason,
            shown(&r.message)
        )?;
    }
    Ok(())
}

/// `  approve: gatehouse approve …`, and what to put for GROUP.
fn write_approve_command(command: &str, groups: &[String], out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "  approve: {}", shown(command))?;
    if groups.len() > 1 {
        writeln!(
            out,
            "    (GROUP: each approver names their own group among {})",
            line_list(groups, ", ")
        )?;
    } else if groups.is_empty() {
        writeln!(
            out,
            "    (GROUP: any group the trust settings list the approver in)"
        )?;
    }
    Ok(())
}

/// The text report as a string (for tests and small reports; the CLI
/// writes it with [`write_text`]).
pub fn render_text(report: &Report) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_text(report, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::{FORGED, report_with};
    use crate::untrusted::{MAX_SHOWN_CHARS, needs_escape};

    #[test]
    fn a_path_already_in_the_message_is_not_repeated() {
        let path = "datastores/orders";
        let about = render_text(&report_with(
            Verdict::Fail,
            1,
            "DELETE of datastores/orders",
            Some(path),
        ));
        assert!(
            about.contains("\n  - DELETE of datastores/orders\n"),
            "{about}"
        );
        let plain = render_text(&report_with(Verdict::Fail, 1, "deleted", Some(path)));
        assert!(
            plain.contains("\n  - deleted [datastores/orders]\n"),
            "{plain}"
        );
    }

    #[test]
    fn policies_sharing_a_name_are_told_apart_by_their_file() {
        let mut report = report_with(Verdict::Fail, 1, "x", None);
        let mut twin = report.policies[0].clone();
        twin.path = "policies/twin.wasm".into();
        report.policies.push(twin);
        let text = render_text(&report);
        assert!(text.contains(" (policies/forged.wasm): fail"), "{text}");
        assert!(text.contains(" (policies/twin.wasm): fail"), "{text}");
        let single = render_text(&report_with(Verdict::Fail, 1, "x", None));
        assert!(!single.contains("(policies/forged.wasm)"), "{single}");
    }

    #[test]
    fn forged_text_cannot_add_lines() {
        let report = report_with(
            Verdict::RequireApproval,
            2,
            FORGED,
            Some(&format!("path/{FORGED}")),
        );
        let text = render_text(&report);
        assert!(
            !text.chars().any(|c| c != '\n' && needs_escape(c)),
            "{text}"
        );
        assert!(!text.contains("##["), "{text}");
        let prefixes = [
            "REQUIRE APPROVAL (exit 2)",
            "release: environment ok\\u{a}## ✅ Gatehouse: auto-approve (exit 0)\\u{d}\\u{a}::error::x ##\\u{5b}",
            "input: ok\\u{a}",
            "release digest: sha256:2222",
            "evaluated at: 2026-11-22T10:00:00Z",
            "warning: ok\\u{a}",
            "",
            "policy ok\\u{a}",
            "  - ok\\u{a}",
            "  - ok\\u{a}",
            "  approvers: ok\\u{a}",
            "  approve: gatehouse approve --digest sha256:2222",
            "    (GROUP: each approver names their own group among ok\\u{a}",
            "  instructions: ok\\u{a}",
            "  log warn: ok\\u{a}",
            // Captured output is shown line by line, each behind its label.
            "  stdout: ok",
            "  stdout: ## ✅ Gatehouse",
            "  stdout: ::error::x ##\\u{5b}add-mask]y",
        ];
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), prefixes.len(), "{text}");
        for (line, prefix) in lines.iter().zip(prefixes) {
            assert!(line.starts_with(prefix), "{line:?} vs {prefix:?}");
        }
        assert!(lines[8].contains(" [path/ok\\u{a}## ✅"), "{}", lines[8]);
        assert!(
            lines[10].contains(", dba (1 approval from each group)"),
            "{}",
            lines[10]
        );
    }

    #[test]
    fn a_huge_reason_is_cut_and_written_without_a_copy_of_the_report() {
        let huge = "\u{1b}".repeat(1 << 20);
        let report = report_with(Verdict::AutoApprove, 1, &huge, None);
        let mut out = Vec::new();
        write_text(&report, &mut out).expect("write to a Vec");
        assert!(out.len() < MAX_SHOWN_CHARS * 6 + 8192, "{}", out.len());
        let text = String::from_utf8(out).expect("UTF-8");
        assert!(
            text.contains(&format!(
                "… ({} more characters; the JSON report has the full text)",
                (1 << 20) - MAX_SHOWN_CHARS
            )),
            "{text}"
        );
    }
}
