//! The JSON the API answers with: approval requests and decisions, built
//! from their stored rows.

use crate::store::{ApprovalRow, DecisionRow, RequestRow};
use gatehouse_core::time::format_utc;
use serde_json::{Value, json};

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// An approval request, with the approvals accepted onto it (when given).
pub fn request(row: &RequestRow, approvals: Option<&[ApprovalRow]>) -> Value {
    let mut view = json!({
        "id": row.id,
        "release_digest": row.release_digest,
        "environment": row.environment,
        "release_stream": row.release_stream,
        "state": row.state,
        "owed": parsed(&row.owed),
        "instructions": parsed(&row.instructions),
        "created": format_utc(row.created_at),
        "expires": format_utc(row.expires_at),
        "updated": format_utc(row.updated_at),
        "resolution": row.resolution,
    });
    if let (Some(approvals), Some(map)) = (approvals, view.as_object_mut()) {
        let list: Vec<Value> = approvals
            .iter()
            .map(|a| {
                json!({
                    "principal": a.signer,
                    "decision": a.decision,
                    "key_fingerprint": a.key_fingerprint,
                    "uploaded_by": a.uploaded_by,
                    "accepted": format_utc(a.created_at),
                })
            })
            .collect();
        map.insert("approvals".into(), Value::Array(list));
    }
    view
}

/// A decision; `full` adds the report and the audit record.
pub fn decision(row: &DecisionRow, full: bool) -> Value {
    let d = &row.decision;
    let mut view = json!({
        "decision_id": d.id,
        "seq": row.seq,
        "time": format_utc(d.created_at),
        "release_digest": d.release_digest,
        "environment": d.environment,
        "release_stream": d.release_stream,
        "verdict": d.verdict,
        "exit_code": d.exit_code,
        "approval_request_id": row.request_id,
        "submitted_by": d.submitted_by,
        "approvers": d.approvers,
    });
    if full && let Some(map) = view.as_object_mut() {
        map.insert("report".into(), parsed(&d.report));
        map.insert("record".into(), parsed(&d.record));
    }
    view
}
