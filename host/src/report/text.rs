//! The human-readable report: verdict first, then why, then who must act.

use super::Report;
use super::untrusted::one_line as shown;
use crate::decision::Verdict;
use std::fmt::Write;

/// Renders the report for a terminal or a CI log.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
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
    let _ = writeln!(out, "{headline} (exit {}){unchecked}", report.exit_code);
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
    let _ = writeln!(
        out,
        "release: environment {}, stream {}, {} resource{}{changes}",
        shown(&input.environment),
        shown(&input.release_stream),
        input.resources,
        if input.resources == 1 { "" } else { "s" },
    );
    let _ = writeln!(
        out,
        "input: {} (sha256 {})",
        shown(&input.source),
        input.sha256
    );
    let _ = writeln!(out, "evaluated at: {}", report.evaluated_at);
    if let Some(config) = &report.config {
        let _ = writeln!(out, "config: {config}");
    }
    for warning in &input.warnings {
        let _ = writeln!(out, "warning: {}", shown(warning));
    }
    if let Some(nothing) = &report.nothing_applied {
        let _ = writeln!(out, "\n{}", shown(&nothing.message));
        for approval in &report.required_approvals {
            let who = if approval.approver_groups.is_empty() {
                "anyone with release rights".to_string()
            } else {
                shown(&approval.approver_groups.join(", ")).into_owned()
            };
            let _ = writeln!(
                out,
                "  approvers: {who} ({} approval{})",
                approval.min_approvals,
                if approval.min_approvals == 1 { "" } else { "s" }
            );
            if let Some(instructions) = &approval.instructions {
                let _ = writeln!(out, "  instructions: {}", shown(instructions));
            }
        }
    }
    for policy in &report.policies {
        let described = if policy.label() == policy.name {
            String::new()
        } else {
            format!(" [{}]", shown(&policy.name))
        };
        let _ = writeln!(
            out,
            "\npolicy {}{described} {}: {} ({:.2} ms, {} fuel)",
            shown(policy.label()),
            shown(&policy.version),
            policy.verdict.as_str(),
            policy.duration_ms,
            policy.fuel_used
        );
        for reason in &policy.reasons {
            match &reason.resource_path {
                Some(path) => {
                    let _ = writeln!(out, "  - {} [{}]", shown(&reason.message), shown(path));
                }
                None => {
                    let _ = writeln!(out, "  - {}", shown(&reason.message));
                }
            }
        }
        if let Some(min) = policy.min_approvals {
            let who = if policy.approver_groups.is_empty() {
                "anyone with release rights".to_string()
            } else {
                shown(&policy.approver_groups.join(", ")).into_owned()
            };
            let per_group = if policy.approver_groups.len() > 1 {
                " from each group"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  approvers: {who} ({min} approval{}{per_group})",
                if min == 1 { "" } else { "s" }
            );
        }
        for dir in &policy.grants.read_dirs {
            let _ = writeln!(out, "  granted: read {}", dir.display());
        }
        for name in &policy.grants.env {
            let _ = writeln!(out, "  granted: environment variable {name}");
        }
        if policy.grants.random {
            let _ = writeln!(
                out,
                "  granted: real randomness (wasi:random is not reproducible)"
            );
        }
        if let Some(instructions) = &policy.instructions {
            let _ = writeln!(out, "  instructions: {}", shown(instructions));
        }
        for line in &policy.logs {
            let _ = writeln!(
                out,
                "  log {}: {}",
                line.level.as_str(),
                shown(&line.message)
            );
        }
        if policy.logs_dropped > 0 {
            let _ = writeln!(
                out,
                "  log: {} more lines dropped (over the cap)",
                policy.logs_dropped
            );
        }
        for (name, text, dropped) in [
            ("stdout", &policy.stdout, policy.stdout_dropped_bytes),
            ("stderr", &policy.stderr, policy.stderr_dropped_bytes),
        ] {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(out, "  {name}: {}", shown(line));
            }
            if dropped > 0 {
                let _ = writeln!(out, "  {name}: {dropped} more bytes dropped (over the cap)");
            }
        }
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(out);
    }
    for skipped in &report.skipped {
        let _ = writeln!(
            out,
            "skipped {} ({}): {}",
            shown(&skipped.name),
            shown(&skipped.path),
            shown(&skipped.reason)
        );
    }
    out
}
