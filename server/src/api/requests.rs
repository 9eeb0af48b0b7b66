//! Approval requests: listing, one, and posting a signed approval (or a
//! signed rejection) onto one.
//!
//! A posted approval is trusted for its signature only: it is verified
//! against the policy set's `[trust]` section exactly as
//! `gatehouse eval --approvals` verifies it, by evaluating the request's
//! release again with every approval accepted so far plus this one. It is
//! accepted only when that evaluation counts it (or, for a statement whose
//! `decision` is `reject`, when its signature, release, environment, time
//! and group membership all hold); anything else is a 422 naming the
//! reason, and the request is left as it was.

use super::errors::ApiError;
use super::evaluations::{admit, count_decision, new_decision, owed, run_on_pool};
use super::{authorize, authorize_any, check_id, json_body, views};
use crate::App;
use crate::evaluate::{Evaluated, Submission, Upload, upload_name};
use crate::store::{Accepted, ApprovalRow, RequestRow, RequestUpdate};
use crate::tokens::Scope;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use gatehouse_core::approvals::{ApprovalEntry, Statement};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const STATES: [&str; 4] = ["pending", "approved", "rejected", "expired"];

/// `GET /v1/approval-requests?state=&environment=` (scope `read`).
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    authorize(&app, &headers, Scope::Read)?;
    for key in query.keys() {
        if key != "state" && key != "environment" {
            return Err(ApiError::bad_request(format!(
                "unknown query parameter {}: use state and environment",
                gatehouse_core::untrusted::quote(key)
            )));
        }
    }
    let state = query.get("state").map(String::as_str);
    if let Some(state) = state
        && !STATES.contains(&state)
    {
        return Err(ApiError::bad_request(format!(
            "state {}: use pending, approved, rejected or expired",
            gatehouse_core::untrusted::quote(state)
        )));
    }
    let store_error = |e: crate::store::StoreError| ApiError::internal(e.to_string());
    app.store
        .expire_now(gatehouse_core::time::now_unix())
        .await
        .map_err(store_error)?;
    let rows = app
        .store
        .requests(state, query.get("environment").map(String::as_str))
        .await
        .map_err(store_error)?;
    let list: Vec<Value> = rows.iter().map(|r| views::request(r, None)).collect();
    Ok(Json(json!({ "approval_requests": list })))
}

/// A request with its approvals, or 404.
async fn load(app: &App, id: &str) -> Result<(RequestRow, Vec<ApprovalRow>), ApiError> {
    check_id(id)?;
    let store_error = |e: crate::store::StoreError| ApiError::internal(e.to_string());
    app.store
        .expire_now(gatehouse_core::time::now_unix())
        .await
        .map_err(store_error)?;
    let row = app
        .store
        .request(id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::not_found(format!("no approval request {id}")))?;
    let approvals = app.store.approvals(id).await.map_err(store_error)?;
    Ok((row, approvals))
}

/// `GET /v1/approval-requests/{id}` (scope `read`, or `evaluate`: a pipeline
/// waits on the request its evaluation opened, and `evaluate` already learns
/// any request it could join by submitting the release; the list stays `read`).
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize_any(&app, &headers, &[Scope::Read, Scope::Evaluate])?;
    let (row, approvals) = load(&app, &id).await?;
    Ok(Json(views::request(&row, Some(&approvals))))
}

fn not_pending(row: &RequestRow) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "not-pending",
        format!(
            "approval request {} is {}, not pending: nothing more can be posted onto it",
            row.id, row.state
        ),
    )
}

/// What the evaluation made of the posted approval (the last one).
fn posted_entry(evaluated: &Evaluated, index: usize) -> Option<&ApprovalEntry> {
    let name = upload_name(index);
    evaluated
        .seen
        .approvals
        .as_ref()?
        .entries
        .iter()
        .find(|e| e.file == name)
}

/// Checks a verified statement whose decision is `reject`: for this
/// release and environment, within its time, by a member of a group it
/// claims. Returns the statement, or why it cannot close the request.
fn check_rejection(
    app: &App,
    row: &RequestRow,
    upload: &Upload,
    now: i64,
) -> Result<Statement, String> {
    let statement = Statement::parse(upload.statement.as_bytes()).map_err(|e| e.to_string())?;
    if statement.release_digest != row.release_digest {
        return Err(format!(
            "other-release: the rejection is for {}, this request for {}",
            statement.release_digest, row.release_digest
        ));
    }
    if statement.environment != row.environment {
        return Err(format!(
            "other-environment: the rejection is for environment {}, this request for {}",
            gatehouse_core::untrusted::quote(&statement.environment),
            gatehouse_core::untrusted::quote(&row.environment)
        ));
    }
    if statement.time > now || now >= statement.expires {
        return Err("expired: the rejection is not valid now (its time or expires)".into());
    }
    let groups = app.set.trust.as_ref().map(|t| &t.groups);
    let member = statement.groups.iter().any(|g| {
        groups
            .and_then(|groups| groups.get(g))
            .is_some_and(|members| members.contains(&statement.principal))
    });
    if !member {
        return Err(format!(
            "not-in-group: {} is not a member of any group the rejection claims",
            gatehouse_core::untrusted::quote(&statement.principal)
        ));
    }
    Ok(statement)
}

/// The reason word that starts `check_rejection`'s message
/// (`not-in-group: ...`), or `malformed-rejection` for a statement that
/// did not parse.
fn reason_of(why: &str) -> &str {
    why.split_once(": ")
        .map(|(reason, _)| reason)
        .filter(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .unwrap_or("malformed-rejection")
}

/// `POST /v1/approval-requests/{id}/approvals` (scope `approve`) with
/// `{"statement": ..., "signature": ...}`.
pub(crate) async fn approve(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let uploader = authorize(&app, &headers, Scope::Approve)?;
    check_id(&id)?;
    let upload: Upload = json_body(&app, body).await?;
    // Another approval accepted meanwhile means this one was judged without
    // it: judge it again, a few times, then let the client retry.
    for _ in 0..3 {
        if let Some(answer) = try_approve(&app, &id, &upload, &uploader).await? {
            return Ok(answer);
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "concurrent-approvals",
        "other approvals kept arriving for this request while this one was checked; post it again",
    ))
}

/// One attempt at accepting `upload` onto request `id`: `None` when another
/// approval was accepted since its approvals were read.
async fn try_approve(
    app: &Arc<App>,
    id: &str,
    upload: &Upload,
    uploader: &str,
) -> Result<Option<Json<Value>>, ApiError> {
    let (id, uploader, upload) = (id.to_string(), uploader.to_string(), upload.clone());
    let (row, accepted) = load(app, &id).await?;
    if row.state != "pending" {
        return Err(not_pending(&row));
    }
    if app.set.trust.is_none() {
        app.metrics.rejected_approval("no-trust");
        return Err(ApiError::unprocessable(
            "no-trust",
            "the policy set has no [trust] section, so no signed approval can be verified: add one (docs/approvals.md)",
        ));
    }
    let submission: Submission = serde_json::from_str(&row.submission)
        .map_err(|e| ApiError::internal(format!("the stored submission is unreadable: {e}")))?;
    let mut uploads: Vec<Upload> = accepted
        .iter()
        .filter(|a| a.decision == "approve")
        .map(|a| Upload {
            statement: a.statement.clone(),
            signature: a.signature.clone(),
        })
        .collect();
    let index = uploads.len();
    uploads.push(upload.clone());
    let now = gatehouse_core::time::now_unix();
    let place = admit(app)?;
    let (mut evaluated, _) = run_on_pool(app, place, submission, uploads, now).await?;
    let Ok(report) = &evaluated.outcome else {
        let message = evaluated
            .outcome
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        // The failed evaluation is a decision (exit 3) like any other: it
        // goes into the audit trail; the approval is not kept and the
        // request stays as it was.
        let decision = new_decision(&mut evaluated, &uploader, now)?;
        let decision_id = decision.id.clone();
        app.store
            .record_decision(decision, None)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        crate::logging::note_decision(&decision_id);
        count_decision(app, &evaluated, "error");
        return Err(ApiError::internal(format!(
            "the release could not be evaluated again with the approval, so it was not accepted (decision {decision_id}, exit 3, recorded): {message}"
        )));
    };
    let entry = posted_entry(&evaluated, index)
        .ok_or_else(|| ApiError::internal("the evaluation did not assess the approval"))?;
    let (decision_word, signer, fingerprint, update) =
        match (entry.status.as_str(), entry.reason.as_deref()) {
            ("valid", _) => {
                let (owed, _) = owed(report);
                let update = match report.exit_code {
                    0 => RequestUpdate {
                        state: "approved".into(),
                        owed: "[]".into(),
                        resolution: Some(format!(
                            "approved by {}",
                            report
                                .approvals
                                .valid
                                .iter()
                                .map(|a| a.principal.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    },
                    2 => RequestUpdate {
                        state: "pending".into(),
                        owed: owed.to_string(),
                        resolution: None,
                    },
                    _ => RequestUpdate {
                        state: "rejected".into(),
                        owed: owed.to_string(),
                        resolution: Some(format!(
                            "the policies now answer {}",
                            report.verdict.as_str()
                        )),
                    },
                };
                (
                    "approve",
                    entry.principal.clone(),
                    entry.key_fingerprint.clone(),
                    update,
                )
            }
            ("rejected", Some("reject-decision")) => {
                let statement = check_rejection(app, &row, &upload, now).map_err(|why| {
                    app.metrics.rejected_approval(reason_of(&why));
                    ApiError::unprocessable(
                        "approval-rejected",
                        format!("the signed rejection does not count: {why}"),
                    )
                })?;
                let resolution = match &statement.comment {
                    Some(comment) => format!("rejected by {}: {comment}", statement.principal),
                    None => format!("rejected by {}", statement.principal),
                };
                let update = RequestUpdate {
                    state: "rejected".into(),
                    owed: row.owed.clone(),
                    resolution: Some(resolution),
                };
                (
                    "reject",
                    Some(statement.principal),
                    entry.key_fingerprint.clone(),
                    update,
                )
            }
            (_, reason) => {
                app.metrics.rejected_approval(reason.unwrap_or("rejected"));
                return Err(ApiError::unprocessable(
                    "approval-rejected",
                    format!(
                        "the approval does not count ({}): {}; the request is unchanged",
                        reason.unwrap_or("rejected"),
                        entry.message.as_deref().unwrap_or("no reason given")
                    ),
                ));
            }
        };
    let approval = ApprovalRow {
        statement: upload.statement,
        signature: upload.signature,
        signer: signer.unwrap_or_default(),
        key_fingerprint: fingerprint.unwrap_or_default(),
        decision: decision_word.to_string(),
        uploaded_by: uploader.clone(),
        created_at: now,
    };
    let decision = new_decision(&mut evaluated, &uploader, now)?;
    let accepted = app
        .store
        .accept_approval(&id, accepted.len(), &approval, &decision, &update)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let row = match accepted {
        Accepted::Done(row) => {
            crate::logging::note_decision(&decision.id);
            count_decision(app, &evaluated, &decision.verdict);
            if row.state == "approved" {
                app.metrics
                    .approval_wait(now.saturating_sub(row.created_at) as f64);
            }
            row
        }
        Accepted::NotPending(row) => return Err(not_pending(&row)),
        Accepted::Stale => return Ok(None),
        Accepted::Missing => return Err(ApiError::not_found(format!("no approval request {id}"))),
    };
    let approvals = app
        .store
        .approvals(&id)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Some(Json(json!({
        "approval_request": views::request(&row, Some(&approvals)),
        "decision": {
            "decision_id": decision.id,
            "verdict": decision.verdict,
            "exit_code": decision.exit_code,
            "report": evaluated.report,
        },
    }))))
}
