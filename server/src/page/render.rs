//! The page from the store's rows: pending approval requests (what changes,
//! what each policy said, what is owed, what was given, the command to
//! run) and the recent decisions. Every piece of text goes through
//! [`Html::text`]; the page is bounded to [`MAX_PENDING`] requests,
//! [`MAX_RECENT`] decisions, [`MAX_DESTRUCTIVE`] destructive changes and
//! [`MAX_REASONS`] reasons per policy, with a note when there are more.

use super::html::Html;
use super::html_response;
use crate::App;
use crate::evaluate::{Failure, Submission};
use crate::store::sessions::SessionOwner;
use crate::store::{ApprovalRow, DecisionRow, RequestRow};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::release::{ChangeKind, Release};
use gatehouse_core::time::format_utc;
use serde_json::Value;

/// Pending requests shown (oldest first).
pub const MAX_PENDING: usize = 20;
/// Recent decisions shown (newest first).
pub const MAX_RECENT: i64 = 25;
/// Destructive changes listed per request.
pub const MAX_DESTRUCTIVE: usize = 30;
/// Reasons listed per policy.
pub const MAX_REASONS: usize = 10;

/// A pending request and what the page shows of it.
struct Pending {
    row: RequestRow,
    approvals: Vec<ApprovalRow>,
    report: Option<Value>,
}

/// The page for `owner`, from the store now.
pub(crate) async fn page(app: &App, owner: &SessionOwner) -> Result<String, String> {
    let now = gatehouse_core::time::now_unix();
    let store = &app.store;
    store.expire_now(now).await.map_err(|e| e.to_string())?;
    let rows = store
        .requests(Some("pending"), None)
        .await
        .map_err(|e| e.to_string())?;
    let pending_total = store.pending_count().await.map_err(|e| e.to_string())?;
    let mut pending = Vec::new();
    for row in rows.into_iter().take(MAX_PENDING) {
        let approvals = store.approvals(&row.id).await.map_err(|e| e.to_string())?;
        let report = store
            .latest_report(&row.id)
            .await
            .map_err(|e| e.to_string())?
            .and_then(|text| serde_json::from_str(&text).ok());
        pending.push(Pending {
            row,
            approvals,
            report,
        });
    }
    let recent = store
        .recent_decisions(MAX_RECENT)
        .await
        .map_err(|e| e.to_string())?;
    let recent_total = store.decision_count().await.map_err(|e| e.to_string())?;
    let url = app
        .page
        .as_ref()
        .map_or_else(String::new, |p| p.url().to_string());
    let who = owner.token_name.clone();
    // Reading the releases (up to MAX_PENDING of them, possibly large) is
    // CPU work: off the async threads.
    tokio::task::spawn_blocking(move || {
        render(
            &who,
            &url,
            now,
            &pending,
            pending_total,
            &recent,
            recent_total,
        )
    })
    .await
    .map_err(|e| format!("rendering the page failed: {e}"))
}

fn head(page: &mut Html, title: &'static str) {
    page.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .raw("<link rel=\"stylesheet\" href=\"/page.css\"><title>")
        .raw(title)
        .raw("</title></head><body><main>");
}

/// A refusal or failure as a small page with the security headers.
pub(crate) fn problem(status: StatusCode, title: &'static str, message: &str) -> Response {
    let mut page = Html::new();
    head(&mut page, "Gatehouse approvals");
    page.raw("<h1>")
        .raw(title)
        .raw("</h1><p class=\"problem\">")
        .text(message)
        .raw("</p></main></body></html>\n");
    html_response(status, page.into_string())
}

fn render(
    who: &str,
    url: &str,
    now: i64,
    pending: &[Pending],
    pending_total: i64,
    recent: &[DecisionRow],
    recent_total: i64,
) -> String {
    let mut page = Html::new();
    head(&mut page, "Gatehouse approvals");
    page.raw("<header><h1>Gatehouse approvals</h1><p class=\"who\">Signed in with token ")
        .element("<strong>", "</strong>", who)
        .raw(" · ")
        .text(&format_utc(now))
        .raw("</p></header>");
    page.raw("<h2>Pending approval requests (")
        .number(pending_total)
        .raw(")</h2>");
    if pending.is_empty() {
        page.raw("<p class=\"none\">Nothing is waiting for approval.</p>");
    }
    for item in pending {
        request(&mut page, url, now, item);
    }
    let shown = pending.len() as i64;
    if pending_total > shown {
        page.raw("<p class=\"more\">")
            .number(pending_total - shown)
            .raw(" more pending requests are not shown (oldest first, ")
            .number(shown)
            .raw(" shown): list them all with GET /v1/approval-requests?state=pending.</p>");
    }
    decisions(&mut page, recent, recent_total);
    page.raw("</main></body></html>\n");
    page.into_string()
}

/// `3 h 05 min`, `2 d 4 h`, `45 s`.
fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86400, (s % 86400) / 3600),
    }
}

fn short_digest(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

fn verdict_class(verdict: &str) -> &'static str {
    match verdict {
        "auto-approve" => "<span class=\"verdict ok\">",
        "require-approval" => "<span class=\"verdict wait\">",
        "fail" => "<span class=\"verdict fail\">",
        _ => "<span class=\"verdict error\">",
    }
}

fn request(page: &mut Html, url: &str, now: i64, item: &Pending) {
    let row = &item.row;
    page.raw("<section class=\"request\"><h3>")
        .text(&row.environment)
        .raw(" <span class=\"stream\">stream ")
        .text(&row.release_stream)
        .raw("</span></h3><dl class=\"facts\"><dt>Request</dt><dd><code>")
        .text(&row.id)
        .raw("</code></dd><dt>Waiting</dt><dd>")
        .text(&duration(now - row.created_at))
        .raw(" (since ")
        .text(&format_utc(row.created_at))
        .raw(")</dd><dt>Expires</dt><dd>in ")
        .text(&duration(row.expires_at - now))
        .raw(" (")
        .text(&format_utc(row.expires_at))
        .raw(")</dd><dt>Release</dt><dd><code>")
        .text(short_digest(&row.release_digest))
        .raw("</code></dd></dl>");
    changes(page, &row.submission);
    if let Some(report) = &item.report {
        policies(page, report);
    }
    owed_and_given(page, url, row, &item.approvals);
    page.raw("</section>");
}

/// The release of a stored submission, read again.
fn release_of(submission: &str) -> Result<Release, String> {
    let submission: Submission = serde_json::from_str(submission).map_err(|e| e.to_string())?;
    submission
        .load()
        .map(|loaded| loaded.release)
        .map_err(|e| match e {
            Failure::Refused(why) | Failure::Internal(why) => why,
        })
}

fn changes(page: &mut Html, submission: &str) {
    page.raw("<h4>Changes</h4>");
    let release = match release_of(submission) {
        Ok(release) => release,
        Err(why) => {
            page.raw("<p class=\"problem\">The release cannot be read again: ")
                .text(&why)
                .raw("</p>");
            return;
        }
    };
    page.raw("<p class=\"counts\">")
        .number(release.resources.len() as i64)
        .raw(" resources:");
    for (kind, count) in release.change_counts() {
        page.raw(" <span class=\"count\">")
            .text(kind.as_str())
            .raw(" ")
            .number(count as i64)
            .raw("</span>");
    }
    page.raw("</p>");
    let destructive: Vec<_> = release
        .resources
        .iter()
        .filter(|r| {
            matches!(
                r.change_type,
                ChangeKind::Delete | ChangeKind::Replace | ChangeKind::Recreate
            )
        })
        .collect();
    if destructive.is_empty() {
        page.raw("<p class=\"none\">No resource is deleted, replaced or recreated.</p>");
        return;
    }
    page.raw("<table class=\"destructive\"><thead><tr><th>Change</th><th>Type</th><th>Name</th><th>Path</th></tr></thead><tbody>");
    for r in destructive.iter().take(MAX_DESTRUCTIVE) {
        page.element("<tr><td class=\"kind\">", "</td>", r.change_type.as_str())
            .element("<td>", "</td>", &r.resource_type)
            .element("<td>", "</td>", &r.resource_name)
            .element("<td><code>", "</code></td></tr>", &r.resource_path);
    }
    page.raw("</tbody></table>");
    if destructive.len() > MAX_DESTRUCTIVE {
        page.raw("<p class=\"more\">")
            .number((destructive.len() - MAX_DESTRUCTIVE) as i64)
            .raw(" more destructive changes are not listed.</p>");
    }
}

fn text_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn policies(page: &mut Html, report: &Value) {
    let Some(list) = report.get("policies").and_then(Value::as_array) else {
        return;
    };
    page.raw("<h4>Policies</h4><ul class=\"policies\">");
    for policy in list {
        let verdict = text_of(policy, "verdict");
        page.raw("<li>")
            .raw(verdict_class(verdict))
            .text(verdict)
            .raw("</span> <strong>")
            .text(text_of(policy, "name"))
            .raw("</strong>");
        let reasons = policy
            .get("reasons")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        if !reasons.is_empty() {
            page.raw("<ul class=\"reasons\">");
            for reason in reasons.iter().take(MAX_REASONS) {
                page.element("<li>", "</li>", text_of(reason, "message"));
            }
            if reasons.len() > MAX_REASONS {
                page.raw("<li class=\"more\">")
                    .number((reasons.len() - MAX_REASONS) as i64)
                    .raw(" more reasons (GET /v1/decisions/{id} has them all)</li>");
            }
            page.raw("</ul>");
        }
        page.raw("</li>");
    }
    page.raw("</ul>");
}

fn owed_and_given(page: &mut Html, url: &str, row: &RequestRow, approvals: &[ApprovalRow]) {
    let owed: Vec<Value> = serde_json::from_str(&row.owed).unwrap_or_default();
    let mut groups: Vec<String> = Vec::new();
    page.raw("<h4>Still owed</h4><ul class=\"owed\">");
    for entry in &owed {
        let entry_groups: Vec<&str> = entry
            .get("approver_groups")
            .and_then(Value::as_array)
            .map(|g| g.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let min = entry
            .get("min_approvals")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        page.raw("<li>")
            .number(min)
            .raw(if min == 1 { " approval" } else { " approvals" })
            .raw(" from group ");
        for (i, group) in entry_groups.iter().enumerate() {
            if i > 0 {
                page.raw(" or ");
            }
            page.element("<strong class=\"group\">", "</strong>", group);
            if !groups.iter().any(|g| g == group) {
                groups.push((*group).to_string());
            }
        }
        page.raw(" for policy ")
            .text(text_of(entry, "policy"))
            .raw("</li>");
    }
    page.raw("</ul><h4>Approvals given</h4>");
    if approvals.is_empty() {
        page.raw("<p class=\"none\">None yet.</p>");
    } else {
        page.raw("<ul class=\"given\">");
        for a in approvals {
            page.raw("<li>")
                .text(&a.signer)
                .raw(" (")
                .text(&a.decision)
                .raw(", ")
                .text(&format_utc(a.created_at))
                .raw(")</li>");
        }
        page.raw("</ul>");
    }
    page.raw("<h4>To approve</h4><p class=\"hint\">Run on your machine, with your token file, your SSH key and your principal:</p>");
    for group in &groups {
        let command = format!(
            "gatehouse approve --server {url} --request {} --token-file <FILE> --key ~/.ssh/id_ed25519 --principal <you> --group {group}",
            row.id
        );
        page.element("<pre class=\"command\"><code>", "</code></pre>", &command);
    }
}

fn decisions(page: &mut Html, recent: &[DecisionRow], total: i64) {
    page.raw("<h2>Recent decisions</h2>");
    if recent.is_empty() {
        page.raw("<p class=\"none\">No decision yet.</p>");
        return;
    }
    page.raw("<div class=\"scroll\"><table class=\"decisions\"><thead><tr><th>Time</th><th>Environment</th><th>Verdict</th><th>Release</th><th>Approvers</th></tr></thead><tbody>");
    for row in recent {
        let d = &row.decision;
        page.element("<tr><td>", "</td>", &format_utc(d.created_at))
            .element("<td>", "</td>", d.environment.as_deref().unwrap_or("—"))
            .raw("<td>")
            .raw(verdict_class(&d.verdict))
            .text(&d.verdict)
            .raw("</span></td>")
            .element(
                "<td><code>",
                "</code></td>",
                d.release_digest.as_deref().map_or("—", short_digest),
            )
            .element("<td>", "</td></tr>", &d.approvers.join(", "));
    }
    page.raw("</tbody></table></div>");
    let shown = recent.len() as i64;
    if total > shown {
        page.raw("<p class=\"more\">")
            .number(total - shown)
            .raw(" older decisions are not shown: query them with GET /v1/decisions.</p>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(-5), "0 s");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(600), "10 min");
        assert_eq!(duration(3 * 3600 + 5 * 60), "3 h 05 min");
        assert_eq!(duration(2 * 86400 + 4 * 3600), "2 d 4 h");
    }
}
