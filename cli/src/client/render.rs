//! What `eval --server` prints: the server's `gatehouse.report/v1` JSON as
//! it came (`--output json`: the same document a local eval prints), or a
//! text report in the layout of a local eval's, read from that JSON. Every
//! text from the server passes through [`gatehouse_core::untrusted`]: it
//! quotes releases and policies.

use gatehouse_core::untrusted::{line as shown, line_list};
use serde_json::Value;
use std::io::{self, Write};

/// A string field, or "" when absent.
fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

/// A list of strings, the non-strings left out.
fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The text report of a server's answer: verdict first, the release, each
/// policy's verdict and reasons, who must act; then the decision id and the
/// approval request.
pub fn write_text(answer: &Value, out: &mut impl Write) -> io::Result<()> {
    let report = &answer["report"];
    let verdict = text(answer, "verdict");
    let exit_code = answer["exit_code"].as_i64().unwrap_or(3);
    if verdict == "error" {
        writeln!(out, "ERROR (exit {exit_code})")?;
        writeln!(out, "error: {}", shown(text(report, "error")))?;
    } else {
        let headline = match verdict {
            "auto-approve" => "AUTO-APPROVE",
            "require-approval" => "REQUIRE APPROVAL",
            "fail" => "FAIL",
            other => other,
        };
        let unchecked = if report["nothing_applied"].is_object() {
            ": NOTHING WAS CHECKED"
        } else {
            ""
        };
        writeln!(out, "{} (exit {exit_code}){unchecked}", shown(headline))?;
        write_release(report, out)?;
        write_policies(report, out)?;
    }
    writeln!(out)?;
    writeln!(out, "decision: {}", shown(text(answer, "decision_id")))?;
    if let Some(request) = answer["approval_request"].as_object() {
        let request = Value::Object(request.clone());
        write_request(&request, out)?;
    }
    Ok(())
}

/// The release lines.
fn write_release(report: &Value, out: &mut impl Write) -> io::Result<()> {
    let input = &report["input"];
    let resources = input["resources"].as_u64().unwrap_or(0);
    let changes: Vec<String> = input["changes"]
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(kind, n)| format!("{} {}", n.as_u64().unwrap_or(0), shown(kind)))
                .collect()
        })
        .unwrap_or_default();
    let changes = if changes.is_empty() {
        String::new()
    } else {
        format!(" ({})", changes.join(", "))
    };
    writeln!(
        out,
        "release: environment {}, stream {}, {resources} resource{}{changes}",
        shown(text(input, "environment")),
        shown(text(input, "release_stream")),
        if resources == 1 { "" } else { "s" },
    )?;
    writeln!(
        out,
        "release digest: {}",
        shown(text(input, "release_digest"))
    )?;
    writeln!(out, "evaluated at: {}", shown(text(report, "evaluated_at")))?;
    for warning in strings(&input["warnings"]) {
        writeln!(out, "warning: {}", shown(&warning))?;
    }
    if let Some(message) = report["nothing_applied"]["message"].as_str() {
        writeln!(out, "\n{}", shown(message))?;
    }
    Ok(())
}

/// Each policy's verdict, reasons and approvers.
fn write_policies(report: &Value, out: &mut impl Write) -> io::Result<()> {
    for policy in report["policies"].as_array().into_iter().flatten() {
        let label = policy["config_name"]
            .as_str()
            .unwrap_or_else(|| text(policy, "name"));
        writeln!(
            out,
            "\npolicy {} {}: {}",
            shown(label),
            shown(text(policy, "version")),
            shown(text(policy, "verdict"))
        )?;
        for reason in policy["reasons"].as_array().into_iter().flatten() {
            let message = shown(text(reason, "message"));
            match reason["resource_path"].as_str() {
                Some(path) => writeln!(out, "  - {message} [{}]", shown(path))?,
                None => writeln!(out, "  - {message}")?,
            }
        }
        if let Some(min) = policy["min_approvals"].as_u64() {
            let groups = strings(&policy["approver_groups"]);
            let who = if groups.is_empty() {
                "anyone with release rights".to_string()
            } else {
                line_list(&groups, ", ")
            };
            writeln!(
                out,
                "  approvers: {who} ({min} approval{})",
                if min == 1 { "" } else { "s" }
            )?;
        }
        if let Some(instructions) = policy["instructions"].as_str() {
            writeln!(out, "  instructions: {}", shown(instructions))?;
        }
    }
    for skipped in report["skipped"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "skipped {}: {}",
            shown(text(skipped, "name")),
            shown(text(skipped, "reason"))
        )?;
    }
    Ok(())
}

/// An approval request: its id, state, and the groups still owed.
pub fn write_request(request: &Value, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "approval request: {} ({}, expires {})",
        shown(text(request, "id")),
        shown(text(request, "state")),
        shown(text(request, "expires"))
    )?;
    for owed in request["owed"].as_array().into_iter().flatten() {
        let groups = strings(&owed["approver_groups"]);
        let who = if groups.is_empty() {
            "anyone with release rights".to_string()
        } else {
            line_list(&groups, ", ")
        };
        let min = owed["min_approvals"].as_u64().unwrap_or(1);
        writeln!(
            out,
            "  owed to {}: {who} ({min} approval{})",
            shown(text(owed, "policy")),
            if min == 1 { "" } else { "s" }
        )?;
    }
    if let Some(resolution) = request["resolution"].as_str() {
        writeln!(out, "  resolution: {}", shown(resolution))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_text_report_escapes_what_the_server_quotes() {
        let answer = json!({
            "decision_id": "d-1", "verdict": "require-approval", "exit_code": 2,
            "report": {
                "input": {"environment": "prod\u{1b}[31m", "release_stream": "PROD", "resources": 1,
                          "changes": {"DELETE": 1}, "release_digest": "sha256:ab", "warnings": []},
                "evaluated_at": "2026-11-30T15:00:00Z",
                "policies": [{"name": "destructive-changes", "config_name": null, "version": "0.1.0",
                              "verdict": "require-approval",
                              "reasons": [{"message": "deletes\ndatabase", "resource_path": "datastores/orders"}],
                              "approver_groups": ["dba"], "min_approvals": 1, "instructions": null}],
                "skipped": []
            },
            "approval_request": {"id": "r-9", "state": "pending", "expires": "2026-12-03T15:00:00Z",
                                 "owed": [{"policy": "destructive-changes", "approver_groups": ["dba"], "min_approvals": 1}],
                                 "resolution": null}
        });
        let mut out = Vec::new();
        write_text(&answer, &mut out).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.starts_with("REQUIRE APPROVAL (exit 2)\n"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(
            text.contains("  - deletes\\u{a}database [datastores/orders]"),
            "{text}"
        );
        assert!(text.contains("  approvers: dba (1 approval)"), "{text}");
        assert!(text.contains("decision: d-1\napproval request: r-9 (pending, expires 2026-12-03T15:00:00Z)\n  owed to destructive-changes: dba (1 approval)\n"), "{text}");
    }
}
