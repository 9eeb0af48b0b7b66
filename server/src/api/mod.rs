//! The HTTP API (docs/api.md): the routes, bearer-token authorisation by
//! scope, and bounded JSON bodies. Each handler authorises first, from the
//! headers alone, so that a request without the right token is refused
//! (401/403) before its body is read and nothing of it is recorded.

mod decisions;
pub mod errors;
mod evaluations;
mod requests;
mod views;

use crate::App;
use crate::tokens::Scope;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use errors::ApiError;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The routes, over the shared state.
pub fn router(app: Arc<App>) -> Router {
    // The approvers' page only with `--page`: otherwise `/` is the 404 below.
    let page = match app.page {
        Some(_) => crate::page::routes(),
        None => Router::new(),
    };
    page.route("/healthz", get(health))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/v1/evaluations", post(evaluations::create))
        .route("/v1/approval-requests", get(requests::list))
        .route("/v1/approval-requests/{id}", get(requests::show))
        .route(
            "/v1/approval-requests/{id}/approvals",
            post(requests::approve),
        )
        .route("/v1/decisions", get(decisions::list))
        .route("/v1/decisions/{id}", get(decisions::show))
        .fallback(|| async { ApiError::not_found("no such endpoint; see docs/api.md") })
        .with_state(app)
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}

async fn ready(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    app.store.ping().await.map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            format!("the store does not answer: {e}"),
        )
    })?;
    Ok(axum::Json(serde_json::json!({
        "status": "ready",
        "policies": app.set.policies.len(),
    })))
}

/// `GET /metrics` (scope `read`): Prometheus text format 0.0.4.
async fn metrics(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    authorize(&app, &headers, Scope::Read)?;
    let store_error = |e: crate::store::StoreError| ApiError::internal(e.to_string());
    app.store
        .expire_now(gatehouse_core::time::now_unix())
        .await
        .map_err(store_error)?;
    let pending = app.store.pending_count().await.map_err(store_error)?;
    let text = app.metrics.render(pending);
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}

/// The token holder's name, when the `Authorization: Bearer` token is
/// known and has `scope`: 401 without a known token, 403 without the scope.
pub(crate) fn authorize(app: &App, headers: &HeaderMap, scope: Scope) -> Result<String, ApiError> {
    let unauthorized = |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", why);
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            "no Authorization header: send Authorization: Bearer TOKEN (gatehouse serve token add)",
        ));
    };
    // The scheme is case-insensitive (RFC 9110).
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| unauthorized("the Authorization header is not Bearer TOKEN"))?;
    let tokens = app
        .tokens
        .current()
        .map_err(|e| ApiError::internal(format!("cannot read the tokens file: {e}")))?;
    let entry = tokens
        .find(token)
        .ok_or_else(|| unauthorized("unknown token"))?;
    if !entry.scopes.contains(&scope) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token {} lacks the {} scope this endpoint needs",
                entry.name,
                scope.as_str()
            ),
        ));
    }
    Ok(entry.name.clone())
}

/// How much of an oversized body is read and dropped before the 413, so
/// that a client still sending gets the answer instead of a reset
/// connection; past it (or after [`DRAIN_SECS`]) the connection is closed.
const DRAIN_BYTES: usize = 64 << 20;

/// How long draining an oversized body may take.
const DRAIN_SECS: u64 = 10;

/// Reads a JSON body of at most the server's `--max-input-mib` (413 above
/// it) and parses it strictly (400 naming the problem).
pub(crate) async fn json_body<T: DeserializeOwned>(app: &App, body: Body) -> Result<T, ApiError> {
    use http_body_util::BodyExt;
    let limit = app.max_body_bytes;
    let mut body = body;
    let mut bytes: Vec<u8> = Vec::new();
    let mut over = false;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if bytes.len() + data.len() > limit {
            over = true;
            break;
        }
        bytes.extend_from_slice(&data);
    }
    if over {
        drop(bytes);
        let drain = async {
            let mut drained = 0usize;
            while drained < DRAIN_BYTES {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        drained += frame.data_ref().map_or(0, |d| d.len());
                    }
                    _ => break,
                }
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(DRAIN_SECS), drain).await;
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            format!(
                "the request body is larger than {} MiB (the server's --max-input-mib)",
                limit >> 20
            ),
        ));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid: {e}")))
}

/// An id from a path or query: short, plain characters (anything else
/// cannot be one of ours).
pub(crate) fn check_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(ApiError::not_found("no such id"));
    }
    Ok(())
}

/// A new random id with `prefix` (`d-`, `r-`): 128 bits, hex.
pub(crate) fn new_id(prefix: &str) -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::internal(format!("cannot get random bytes: {e}")))?;
    Ok(format!("{prefix}{}", hex::encode(bytes)))
}
