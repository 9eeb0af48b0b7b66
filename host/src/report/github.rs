//! The GitHub Actions rendering of a report: workflow-command annotations
//! (`::error` for fail, `::warning` for require-approval, `::notice` for
//! auto-approve, one per reason, naming the policy and the resource), a
//! Markdown summary for `$GITHUB_STEP_SUMMARY`, and step outputs for
//! `$GITHUB_OUTPUT`.
//!
//! Within GitHub's own limits: a step shows at most 10 error, 10 warning
//! and 10 notice annotations (actions/toolkit docs/problem-matchers.md;
//! the REST API's check-run documentation states the same for errors and
//! warnings), so at most [`ANNOTATIONS_PER_KIND`] of each are written, the
//! last one saying how many more there are; and a step's summary may hold
//! 1 MiB (docs.github.com, "Workflow commands for GitHub Actions", "Step
//! isolation and limits": more and the upload fails), so the summary is
//! cut at [`SUMMARY_MAX_BYTES`] with a line saying what was left out.
//! Every untrusted text goes through [`super::untrusted`].

use super::untrusted::{github_output, markdown, markdown_list, workflow_data, workflow_property};
use super::{ErrorReport, PolicyReport, Report};
use crate::decision::Verdict;
use std::io::{self, Write};

/// Annotations of one kind (error, warning, notice) written at most:
/// GitHub shows no more than 10 of each per step.
pub const ANNOTATIONS_PER_KIND: usize = 10;

/// The most bytes of Markdown one report appends to the step summary,
/// including what the step wrote there before: below GitHub's 1 MiB cap.
pub const SUMMARY_MAX_BYTES: usize = (1 << 20) - (16 << 10);

/// The most reasons listed per policy in the step summary (the JSON report
/// and the log list them all).
pub const SUMMARY_REASONS_PER_POLICY: usize = 20;

fn command_for(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Fail => "error",
        Verdict::RequireApproval => "warning",
        Verdict::AutoApprove => "notice",
    }
}

/// The GitHub log: the text report, then the annotations.
pub fn write_log(report: &Report, out: &mut impl Write) -> io::Result<()> {
    super::write_text(report, out)?;
    write_annotations(report, out)
}

/// One annotation per reason of every policy (a policy without reasons gets
/// one naming its verdict), at most [`ANNOTATIONS_PER_KIND`] of each kind
/// counting the closing verdict annotation; when some are left out, the
/// last of that kind says how many.
pub fn write_annotations(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let closing = command_for(report.verdict);
    let kinds = [
        Verdict::Fail,
        Verdict::RequireApproval,
        Verdict::AutoApprove,
    ];
    // Per kind: how many annotations the report has, and how many are written.
    let mut total = [0usize; 3];
    for policy in &report.policies {
        total[kind_index(policy.verdict)] += policy.reasons.len().max(1);
    }
    let mut room = [0usize; 3];
    for verdict in kinds {
        let i = kind_index(verdict);
        let slots = ANNOTATIONS_PER_KIND - usize::from(command_for(verdict) == closing);
        // Keep one slot for "… N more" when they do not all fit.
        room[i] = if total[i] <= slots {
            total[i]
        } else {
            slots - 1
        };
    }
    let mut written = [0usize; 3];
    for policy in &report.policies {
        let i = kind_index(policy.verdict);
        if written[i] == room[i] {
            continue;
        }
        let command = command_for(policy.verdict);
        let title = title(policy);
        if policy.reasons.is_empty() {
            writeln!(
                out,
                "::{command} title={title}::{}",
                policy.verdict.as_str()
            )?;
            written[i] += 1;
        }
        for reason in &policy.reasons {
            if written[i] == room[i] {
                break;
            }
            let message = workflow_data(&reason.message);
            match reason.path_to_show() {
                Some(path) => writeln!(
                    out,
                    "::{command} title={title}::{message} [{}]",
                    workflow_data(path)
                )?,
                None => writeln!(out, "::{command} title={title}::{message}")?,
            }
            written[i] += 1;
        }
    }
    for verdict in kinds {
        let i = kind_index(verdict);
        let more = total[i] - written[i];
        if more > 0 {
            writeln!(
                out,
                "::{} title=Gatehouse%3A {more} more {} annotation{}::{more} more {} annotation{} left out (GitHub shows {ANNOTATIONS_PER_KIND} of each kind per step); the log above and the JSON report have every reason",
                command_for(verdict),
                verdict.as_str(),
                plural(more),
                verdict.as_str(),
                plural(more),
            )?;
        }
    }
    writeln!(
        out,
        "::{closing} title=Gatehouse verdict::{} (exit {})",
        report.verdict.as_str(),
        report.exit_code
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn kind_index(verdict: Verdict) -> usize {
    match verdict {
        Verdict::Fail => 0,
        Verdict::RequireApproval => 1,
        Verdict::AutoApprove => 2,
    }
}

/// `Gatehouse NAME: VERDICT` as a property value.
fn title(policy: &PolicyReport) -> String {
    format!(
        "Gatehouse {}%3A {}",
        workflow_property(policy.label()),
        policy.verdict.as_str()
    )
}

/// The Markdown summary for the job page, at most `max_bytes` bytes (but
/// always the verdict heading and the release line, at most about 80 KiB):
/// the verdict heading, the release, the approvals required and one table
/// row per policy (at most [`SUMMARY_REASONS_PER_POLICY`] reasons each).
/// What does not fit is counted in a closing line.
pub fn render_summary(report: &Report, max_bytes: usize) -> String {
    let icon = match report.verdict {
        Verdict::AutoApprove => "✅",
        Verdict::RequireApproval => "⏸️",
        Verdict::Fail => "❌",
    };
    let mut out = format!(
        "## {icon} Gatehouse: {} (exit {})\n\n",
        report.verdict.as_str(),
        report.exit_code
    );
    if let Some(nothing) = &report.nothing_applied {
        out.push_str("**Nothing was checked: no policy of the set applies to this release.**\n\n");
        if !nothing.approved_by.is_empty() {
            out.push_str(&format!(
                "Approved by {}.\n\n",
                markdown(&crate::approvals::describe(&nothing.approved_by))
            ));
        }
    }
    let input = &report.input;
    // Untrusted text is never put in a code span, where escapes do not work;
    // the digests are Gatehouse's own hex.
    out.push_str(&format!(
        "Release: environment **{}**, stream **{}**, {} resources; release digest `{}`; input sha256 `{}`; evaluated at {}.\n\n",
        markdown(&input.environment),
        markdown(&input.release_stream),
        input.resources,
        input.release_digest,
        input.sha256,
        report.evaluated_at
    ));
    // What is left for the sections, keeping room for the closing line.
    const CLOSING_ROOM: usize = 512;
    let budget = max_bytes.saturating_sub(CLOSING_ROOM);
    let mut left_out_policies = 0usize;
    let mut left_out_approvals = 0usize;

    if !report.required_approvals.is_empty() {
        out.push_str("**Approvals required**\n\n");
        for approval in &report.required_approvals {
            let who = if approval.approver_groups.is_empty() {
                "anyone with release rights".to_string()
            } else {
                markdown_list(&approval.approver_groups, ", ")
            };
            let mut item = format!(
                "- Policy {}: {who} ({} approval{})",
                markdown(&approval.policy),
                approval.min_approvals,
                if approval.min_approvals == 1 { "" } else { "s" }
            );
            if let Some(instructions) = &approval.instructions {
                item.push_str(&format!("; instructions: {}", markdown(instructions)));
            }
            item.push_str(&format!(
                "; approve with: {}",
                command_markdown(&approval.approve_command)
            ));
            if approval.approver_groups.len() != 1 {
                item.push_str(" (GROUP: the approver's own group)");
            }
            item.push('\n');
            if out.len() + item.len() > budget {
                left_out_approvals += 1;
                continue;
            }
            out.push_str(&item);
        }
        out.push('\n');
    }

    let approvals = approvals_summary(&report.approvals);
    if out.len() + approvals.len() <= budget {
        out.push_str(&approvals);
    } else if !approvals.is_empty() {
        out.push_str(
            "**Approvals**: too many to show here; the log and the JSON report list them.\n\n",
        );
    }

    if !report.policies.is_empty() {
        out.push_str("| policy | version | verdict | reasons |\n|---|---|---|---|\n");
        for policy in &report.policies {
            let row = summary_row(policy, budget.saturating_sub(out.len()));
            match row {
                Some(row) => out.push_str(&row),
                None => left_out_policies += 1,
            }
        }
    }
    if left_out_policies > 0 || left_out_approvals > 0 {
        out.push_str(&format!(
            "\n… {left_out_policies} more polic{} and {left_out_approvals} more approval{} not shown: the summary stays below GitHub's 1 MiB step-summary limit. The log and the JSON report (`--output json`) have everything.\n",
            if left_out_policies == 1 { "y" } else { "ies" },
            if left_out_approvals == 1 { "" } else { "s" },
        ));
    }
    out
}

/// A command in a code span when it holds only plain characters (a code
/// span cannot be escaped), else escaped Markdown text.
fn command_markdown(command: &str) -> String {
    let plain = command
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " @%+=:,./_~-".contains(c));
    if plain {
        format!("`{command}`")
    } else {
        markdown(command)
    }
}

/// The approvals section: unverified approvals marked as such; else the
/// valid and rejected signed approvals. Empty when there is nothing to say.
fn approvals_summary(approvals: &super::ApprovalsReport) -> String {
    let mut out = String::new();
    if approvals.unverified {
        out.push_str(&format!(
            "**Approvals: {} UNVERIFIED** (unsigned, and no trust section: anyone who can write the approvals could have; see docs/approvals.md)\n\n",
            approvals.unverified_approvals.len()
        ));
        for a in &approvals.unverified_approvals {
            out.push_str(&format!(
                "- unverified: {} ({}) at {}\n",
                markdown(&a.approver),
                markdown_list(&a.groups, ", "),
                markdown(&a.at)
            ));
        }
        out.push('\n');
    }
    let Some(signers) = &approvals.allowed_signers else {
        return out;
    };
    out.push_str(&format!(
        "**Approvals**: {} valid, {} rejected (verified against {}, sha256 `{}`)\n\n",
        approvals.valid.len(),
        approvals.rejected.len(),
        markdown(&signers.path),
        signers.sha256
    ));
    for a in &approvals.valid {
        out.push_str(&format!(
            "- valid: {} ({}) at {}, key `{}`\n",
            markdown(&a.principal),
            markdown_list(&a.groups, ", "),
            a.at,
            a.key_fingerprint
        ));
    }
    for r in &approvals.rejected {
        let who = r
            .principal
            .as_deref()
            .map(|p| format!(" by {}", markdown(p)))
            .unwrap_or_default();
        out.push_str(&format!(
            "- rejected: {}{who}: `{}`: {}\n",
            markdown(&r.file),
            r.reason,
            markdown(&r.message)
        ));
    }
    if !approvals.valid.is_empty() || !approvals.rejected.is_empty() {
        out.push('\n');
    }
    out
}

/// A policy's table row within `room` bytes, or `None` when not even the
/// row without reasons fits. Reasons are listed while they fit, then counted.
fn summary_row(policy: &PolicyReport, room: usize) -> Option<String> {
    let head = format!(
        "| {} | {} | {} | ",
        markdown(policy.label()),
        markdown(&policy.version),
        policy.verdict.as_str()
    );
    // Room for the row's end and a "… N more reasons" note.
    const TAIL_ROOM: usize = 128;
    let mut row = head;
    if row.len() + TAIL_ROOM > room {
        return None;
    }
    let mut listed = 0usize;
    // Whether the cell holds something already (a `<br>` goes before more).
    let mut started = false;
    if !policy.approved_by.is_empty() {
        let item = format!(
            "approved by {}",
            markdown(&crate::approvals::describe(&policy.approved_by))
        );
        if row.len() + item.len() + TAIL_ROOM <= room {
            row.push_str(&item);
            started = true;
        }
    }
    for reason in policy.reasons.iter().take(SUMMARY_REASONS_PER_POLICY) {
        let mut item = String::new();
        if started {
            item.push_str("<br>");
        }
        item.push_str(&markdown(&reason.message));
        if let Some(path) = reason.path_to_show() {
            item.push_str(&format!(" (resource {})", markdown(path)));
        }
        if row.len() + item.len() + TAIL_ROOM > room {
            break;
        }
        row.push_str(&item);
        listed += 1;
        started = true;
    }
    let more = policy.reasons.len() - listed;
    if more > 0 {
        row.push_str(&format!(
            "{}… {more} more reason{} (see the log or the JSON report)",
            if started { "<br>" } else { "" },
            if more == 1 { "" } else { "s" }
        ));
    }
    row.push_str(" |\n");
    Some(row)
}

/// Step outputs: `verdict` and `exit-code`, as `$GITHUB_OUTPUT` entries.
pub fn render_outputs(verdict: &str, exit_code: i32) -> String {
    [
        ("verdict", verdict.to_string()),
        ("exit-code", exit_code.to_string()),
    ]
    .iter()
    .map(|(name, value)| github_output(name, value).unwrap_or_default())
    .collect()
}

/// The annotation for an error (exit 3).
pub fn render_error(report: &ErrorReport) -> String {
    format!(
        "::error title=Gatehouse error::{}\n",
        workflow_data(&report.error)
    )
}

/// The step summary for an error (exit 3); the message is untrusted.
pub fn render_error_summary(report: &ErrorReport) -> String {
    format!(
        "## ⛔ Gatehouse: error (exit 3)\n\nNo decision could be made. Error: {}\n",
        markdown(&report.error)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::{FORGED, report_with};

    #[test]
    fn messages_and_properties_are_escaped() {
        let error = ErrorReport::new("bad\ninput 50%".into());
        assert_eq!(
            render_error(&error),
            "::error title=Gatehouse error::bad\\u{a}input 50%25\n"
        );
        assert_eq!(render_outputs("fail", 1), "verdict=fail\nexit-code=1\n");
        let summary = render_error_summary(&ErrorReport::new(FORGED.into()));
        assert_eq!(summary.lines().count(), 3, "{summary}");
        assert!(summary.starts_with("## ⛔ Gatehouse: error (exit 3)\n\nNo decision"));
    }

    fn annotations(report: &Report) -> String {
        let mut out = Vec::new();
        write_annotations(report, &mut out).expect("write to a Vec");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn one_annotation_per_reason_and_a_closing_verdict() {
        let report = report_with(Verdict::Fail, 2, "orders", None);
        let log = annotations(&report);
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 3, "{log}");
        assert!(lines[0].starts_with("::error title=Gatehouse "), "{log}");
        assert_eq!(lines[2], "::error title=Gatehouse verdict::fail (exit 1)");
    }

    #[test]
    fn forged_names_and_reasons_stay_inside_their_annotation() {
        let report = report_with(Verdict::Fail, 3, FORGED, Some(&format!("path/{FORGED}")));
        let log = annotations(&report);
        assert_eq!(log.lines().count(), 4, "{log}");
        for line in log.lines() {
            assert!(line.starts_with("::error title=Gatehouse "), "{line}");
            assert!(!line.contains("##["), "{line}");
            assert!(!line.chars().any(crate::untrusted::needs_escape));
            // The properties end at the first `::`; the title cannot contain one.
            let title = &line["::error ".len()..];
            let end = title.find("::").expect("data separator");
            assert!(!title[..end].contains(','), "{line}");
        }
    }

    #[test]
    fn annotations_stay_within_githubs_per_step_limit() {
        let report = report_with(Verdict::AutoApprove, 100_000, "r", None);
        let log = annotations(&report);
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), ANNOTATIONS_PER_KIND, "{log}");
        assert!(lines.iter().all(|l| l.starts_with("::notice ")));
        assert!(
            lines[ANNOTATIONS_PER_KIND - 2]
                .contains("::99992 more auto-approve annotations left out"),
            "{log}"
        );
        assert_eq!(
            lines[ANNOTATIONS_PER_KIND - 1],
            "::notice title=Gatehouse verdict::auto-approve (exit 0)"
        );
        // Exactly at the limit: no "more" annotation.
        let report = report_with(Verdict::Fail, ANNOTATIONS_PER_KIND - 1, "r", None);
        let log = annotations(&report);
        assert_eq!(log.lines().count(), ANNOTATIONS_PER_KIND);
        assert!(!log.contains("more"), "{log}");
    }

    #[test]
    fn the_summary_cannot_be_given_structure() {
        let report = report_with(
            Verdict::RequireApproval,
            2,
            FORGED,
            Some(&format!("path/{FORGED}")),
        );
        let summary = render_summary(&report, SUMMARY_MAX_BYTES);
        let headings: Vec<&str> = summary.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(
            headings,
            ["## ⏸️ Gatehouse: require-approval (exit 2)"],
            "{summary}"
        );
        for line in summary.lines().filter(|l| l.starts_with('|')) {
            // Every row has exactly the table's five unescaped pipes.
            let pipes = line
                .match_indices('|')
                .filter(|(at, _)| !line[..*at].ends_with('\\'))
                .count();
            assert_eq!(pipes, 5, "{line}");
        }
        assert!(
            !summary.contains("<details>") && !summary.contains("<img"),
            "{summary}"
        );
        assert!(!summary.contains("](http"), "{summary}");
        assert!(
            !summary
                .chars()
                .any(|c| c != '\n' && crate::untrusted::needs_escape(c)),
            "{summary}"
        );
    }

    #[test]
    fn the_summary_stays_below_its_budget() {
        let report = report_with(Verdict::AutoApprove, 100_000, &"\u{1b}".repeat(200), None);
        let summary = render_summary(&report, SUMMARY_MAX_BYTES);
        assert!(summary.len() <= SUMMARY_MAX_BYTES, "{}", summary.len());
        assert!(summary.contains("… 99980 more reasons"), "{summary}");
        // A tiny budget still gives the verdict and says what is left out.
        let summary = render_summary(&report, 0);
        assert!(summary.starts_with("## ✅ Gatehouse: auto-approve (exit 0)"));
        assert!(
            summary.contains("… 1 more policy and 0 more approvals not shown"),
            "{summary}"
        );
    }
}
