//! The GitHub Actions rendering of a report: workflow-command annotations
//! (`::error` for fail, `::warning` for require-approval, `::notice` for
//! auto-approve, one per reason, naming the policy and the resource), a
//! Markdown summary for `$GITHUB_STEP_SUMMARY`, and step outputs for
//! `$GITHUB_OUTPUT`.

use super::{ErrorReport, Report};
use crate::decision::Verdict;
use std::fmt::Write;

/// Escapes a workflow-command message (`%`, CR and LF, as GitHub decodes
/// them), and shows other control and bidirectional characters as `\u{..}`
/// (see [`super::untrusted`]).
fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if super::untrusted::is_suspicious(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a workflow-command property value (also `:` and `,`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command_for(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Fail => "error",
        Verdict::RequireApproval => "warning",
        Verdict::AutoApprove => "notice",
    }
}

/// One annotation per reason of every policy, then a closing line with the verdict.
pub fn render_annotations(report: &Report) -> String {
    let mut out = String::new();
    for policy in &report.policies {
        let command = command_for(policy.verdict);
        let name = policy.config_name.as_deref().unwrap_or(&policy.name);
        let title = escape_property(&format!("Gatehouse {name}: {}", policy.verdict.as_str()));
        for reason in &policy.reasons {
            let message = match &reason.resource_path {
                Some(path) => format!("{} [{path}]", reason.message),
                None => reason.message.clone(),
            };
            let _ = writeln!(out, "::{command} title={title}::{}", escape_data(&message));
        }
        if policy.reasons.is_empty() {
            let _ = writeln!(
                out,
                "::{command} title={title}::{}",
                policy.verdict.as_str()
            );
        }
    }
    let _ = writeln!(
        out,
        "::{} title=Gatehouse verdict::{} (exit {})",
        command_for(report.verdict),
        report.verdict.as_str(),
        report.exit_code
    );
    out
}

/// The Markdown summary for the job page.
pub fn render_summary(report: &Report) -> String {
    let mut out = String::new();
    let icon = match report.verdict {
        Verdict::AutoApprove => "✅",
        Verdict::RequireApproval => "⏸️",
        Verdict::Fail => "❌",
    };
    let _ = writeln!(
        out,
        "## {icon} Gatehouse: {} (exit {})\n",
        report.verdict.as_str(),
        report.exit_code
    );
    if report.nothing_applied.is_some() {
        let _ = writeln!(
            out,
            "**Nothing was checked: no policy of the set applies to this release.**\n"
        );
    }
    let _ = writeln!(
        out,
        "Release: environment `{}`, stream `{}`, {} resources; input sha256 `{}`; evaluated at {}.\n",
        report.input.environment,
        report.input.release_stream,
        report.input.resources,
        report.input.sha256,
        report.evaluated_at
    );
    if !report.policies.is_empty() {
        let _ = writeln!(
            out,
            "| policy | version | verdict | reasons |\n|---|---|---|---|"
        );
        for policy in &report.policies {
            let reasons: Vec<String> = policy
                .reasons
                .iter()
                .map(|r| match &r.resource_path {
                    Some(path) => format!("{} (`{path}`)", r.message),
                    None => r.message.clone(),
                })
                .collect();
            let cell = reasons.join("<br>").replace('|', "\\|");
            let name = policy.config_name.as_deref().unwrap_or(&policy.name);
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {cell} |",
                policy.version,
                policy.verdict.as_str()
            );
        }
    }
    if !report.required_approvals.is_empty() {
        let _ = writeln!(out, "\n**Approvals required**\n");
        for approval in &report.required_approvals {
            let who = if approval.approver_groups.is_empty() {
                "anyone with release rights".to_string()
            } else {
                approval.approver_groups.join(", ")
            };
            let _ = writeln!(
                out,
                "- {}: {who} ({} approval{})",
                approval.policy,
                approval.min_approvals,
                if approval.min_approvals == 1 { "" } else { "s" }
            );
        }
    }
    out
}

/// Step outputs: `verdict` and `exit-code`.
pub fn render_outputs(verdict: &str, exit_code: i32) -> String {
    format!("verdict={verdict}\nexit-code={exit_code}\n")
}

/// The annotation for an error (exit 3).
pub fn render_error(report: &ErrorReport) -> String {
    format!(
        "::error title=Gatehouse error::{}\n",
        escape_data(&report.error)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(escape_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        let error = ErrorReport::new("bad\ninput".into());
        assert_eq!(
            render_error(&error),
            "::error title=Gatehouse error::bad%0Ainput\n"
        );
        assert_eq!(render_outputs("fail", 1), "verdict=fail\nexit-code=1\n");
    }
}
