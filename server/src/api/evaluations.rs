//! `POST /v1/evaluations`: evaluate a release, record the decision, and on
//! `require-approval` open (or join) its approval request.

use super::errors::ApiError;
use super::{authorize, json_body, new_id, views};
use crate::App;
use crate::evaluate::{Evaluated, Failure, Submission, Upload};
use crate::pool::{Admission, PoolError};
use crate::store::{NewDecision, NewRequest};
use crate::tokens::Scope;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use gatehouse_core::report::Report;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EvaluationBody {
    release: Box<RawValue>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    release_stream: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    approvals: Vec<Upload>,
}

/// A place on the evaluation pool, or 503 `busy` at once when none is free.
pub(crate) fn admit(app: &App) -> Result<Admission, ApiError> {
    app.pool.admit().map_err(|e| match e {
        PoolError::Busy => ApiError::busy(),
        PoolError::Failed(e) => ApiError::internal(format!("the evaluation pool failed: {e}")),
    })
}

/// Runs an evaluation in its place on the pool, mapping what stops it to an answer.
pub(crate) async fn run_on_pool(
    app: &Arc<App>,
    place: Admission,
    submission: Submission,
    uploads: Vec<Upload>,
    now: i64,
) -> Result<(Evaluated, Submission), ApiError> {
    let shared = Arc::clone(app);
    let started = std::time::Instant::now();
    let outcome = place
        .run(move || {
            let result = crate::evaluate::evaluate(
                &shared.policies,
                shared.engines.as_ref(),
                &submission,
                &uploads,
                now,
            );
            (result, submission)
        })
        .await;
    if outcome.is_ok() {
        app.metrics.evaluation(started.elapsed().as_secs_f64());
    }
    match outcome {
        Err(PoolError::Busy) => Err(ApiError::busy()),
        Err(PoolError::Failed(e)) => Err(ApiError::internal(format!("the evaluation failed: {e}"))),
        Ok((Err(Failure::Refused(message)), _)) => {
            Err(ApiError::unprocessable("invalid-request", message))
        }
        Ok((Err(Failure::Internal(message)), _)) => Err(ApiError::internal(message)),
        Ok((Ok(evaluated), submission)) => Ok((evaluated, submission)),
    }
}

/// The decision row of an evaluation; the record and the release move into
/// it (the answer needs neither).
pub(crate) fn new_decision(
    evaluated: &mut Evaluated,
    submitted_by: &str,
    now: i64,
) -> Result<NewDecision, ApiError> {
    let release = evaluated.seen.release.as_ref();
    Ok(NewDecision {
        id: new_id("d-")?,
        created_at: now,
        release_digest: evaluated.seen.release_digest.clone(),
        environment: release.map(|r| r.environment_name.clone()),
        release_stream: release.map(|r| r.release_stream.clone()),
        verdict: evaluated.verdict(),
        exit_code: evaluated.exit_code(),
        submitted_by: submitted_by.to_string(),
        approvers: match &evaluated.outcome {
            Ok(report) => report
                .approvals
                .valid
                .iter()
                .map(|a| a.principal.clone())
                .collect(),
            Err(_) => Vec::new(),
        },
        report: evaluated.report.get().to_string(),
        release: evaluated.release.take(),
        record: std::mem::take(&mut evaluated.record),
    })
}

/// Counts a recorded decision in the metrics: its verdict and each
/// policy's.
pub(crate) fn count_decision(app: &App, evaluated: &Evaluated, verdict: &str) {
    let policies: Vec<(&str, &str)> = match &evaluated.outcome {
        Ok(report) => report
            .policies
            .iter()
            .map(|p| (p.name.as_str(), p.verdict.as_str()))
            .collect(),
        Err(_) => Vec::new(),
    };
    app.metrics.decision(verdict, policies.into_iter());
}

/// What a require-approval report still asks for: one entry per request.
pub(crate) fn owed(report: &Report) -> (Value, Value) {
    let owed: Vec<Value> = report
        .required_approvals
        .iter()
        .map(|r| {
            json!({
                "policy": r.policy,
                "approver_groups": r.approver_groups,
                "min_approvals": r.min_approvals,
                "approve_command": r.approve_command,
            })
        })
        .collect();
    let instructions: Vec<&String> = report
        .required_approvals
        .iter()
        .filter_map(|r| r.instructions.as_ref())
        .collect();
    (Value::Array(owed), json!(instructions))
}

/// The answer to `POST /v1/evaluations`.
#[derive(Debug, Serialize)]
pub(crate) struct EvaluationAnswer {
    decision_id: String,
    release_digest: Option<String>,
    verdict: String,
    exit_code: i64,
    /// The report as the evaluation serialised it (not parsed again).
    report: Box<RawValue>,
    approval_request: Option<Value>,
}

/// `POST /v1/evaluations` (scope `evaluate`).
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<EvaluationAnswer>, ApiError> {
    let principal = authorize(&app, &headers, Scope::Evaluate)?;
    // The place first: a busy server refuses before reading the body.
    let place = admit(&app)?;
    let body: EvaluationBody = json_body(&app, body).await?;
    let submission = Submission {
        release: body.release,
        format: body.format,
        environment: body.environment,
        release_stream: body.release_stream,
        metadata: body.metadata,
    };
    let now = gatehouse_core::time::now_unix();
    let (mut evaluated, submission) =
        run_on_pool(&app, place, submission, body.approvals, now).await?;
    let decision = new_decision(&mut evaluated, &principal, now)?;
    let request = match &evaluated.outcome {
        Ok(report) if report.exit_code == 2 => {
            let (owed, instructions) = owed(report);
            Some(NewRequest {
                id: new_id("r-")?,
                release_digest: report.input.release_digest.clone(),
                environment: report.input.environment.clone(),
                release_stream: report.input.release_stream.clone(),
                owed: owed.to_string(),
                instructions: instructions.to_string(),
                submission: serde_json::to_string(&submission)
                    .map_err(|e| ApiError::internal(format!("cannot keep the submission: {e}")))?,
                expires_at: now.saturating_add(app.request_ttl_secs),
            })
        }
        _ => None,
    };
    let (decision_id, release_digest, verdict, exit_code) = (
        decision.id.clone(),
        decision.release_digest.clone(),
        decision.verdict.clone(),
        decision.exit_code,
    );
    let opened = app
        .store
        .record_decision(decision, request)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    crate::logging::note_decision(&decision_id);
    count_decision(&app, &evaluated, &verdict);
    Ok(Json(EvaluationAnswer {
        decision_id,
        release_digest,
        verdict,
        exit_code,
        report: evaluated.report,
        approval_request: opened.as_ref().map(|r| views::request(r, None)),
    }))
}
