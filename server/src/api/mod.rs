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
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            crate::logging::requests,
        ))
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
    authorize_any(app, headers, &[scope])
}

/// Like [`authorize`], for an endpoint any one of `scopes` opens.
pub(crate) fn authorize_any(
    app: &App,
    headers: &HeaderMap,
    scopes: &[Scope],
) -> Result<String, ApiError> {
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
    crate::logging::note_token(&entry.name);
    if !scopes.iter().any(|scope| entry.scopes.contains(scope)) {
        let wanted: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token {} lacks the {} scope this endpoint needs",
                entry.name,
                wanted.join(" or ")
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
/// it) within its `--request-timeout` (408 for a client that stalls or
/// trickles it), and parses it strictly (400 naming the problem and where).
pub(crate) async fn json_body<T: DeserializeOwned>(app: &App, body: Body) -> Result<T, ApiError> {
    let seconds = app.request_timeout.as_secs();
    let bytes = tokio::time::timeout(app.request_timeout, read_body(app.max_body_bytes, body))
        .await
        .map_err(|_| ApiError::request_timeout(seconds))??;
    parse_json(&bytes)
}

/// The body, whole, or 413 past `limit` bytes.
async fn read_body(limit: usize, body: Body) -> Result<Vec<u8>, ApiError> {
    use http_body_util::BodyExt;
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
    Ok(bytes)
}

/// Parses a JSON body strictly: a syntax error, a wrong type, a missing or
/// an unknown field is a 400 whose message says what and where
/// (`at approvals[0]: unknown field ...`).
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let error = match serde_json::from_slice(bytes) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    // Where in the document: a second pass that tracks the path, used only
    // when it finds the same problem.
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let path = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(tracked) if tracked.inner().to_string() == error.to_string() => {
            let path = tracked.path().to_string();
            (path != ".").then_some(path)
        }
        _ => None,
    };
    let fix = match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            "send one JSON object (docs/api.md)"
        }
        _ => "see the request body's fields in docs/api.md",
    };
    Err(ApiError::bad_request(match path {
        Some(path) => format!("the request body is not valid at {path}: {error}; {fix}"),
        None => format!("the request body is not valid: {error}; {fix}"),
    }))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[allow(dead_code)]
        statement: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[allow(dead_code)]
        release: Box<serde_json::value::RawValue>,
        #[serde(default)]
        #[allow(dead_code)]
        approvals: Vec<Inner>,
    }

    fn message(body: &str) -> String {
        match parse_json::<Outer>(body.as_bytes()) {
            Ok(parsed) => panic!("{body} parsed: {parsed:?}"),
            Err(e) => {
                assert_eq!(e.status, StatusCode::BAD_REQUEST);
                e.message
            }
        }
    }

    #[test]
    fn unknown_fields_are_named_with_where_they_are() {
        let top = message(r#"{"release": {}, "relase_stream": "x"}"#);
        assert!(top.contains("unknown field `relase_stream`"), "{top}");
        let nested =
            message(r#"{"release": {"a": 1}, "approvals": [{"statement": "s", "sig": "x"}]}"#);
        assert!(nested.contains("at approvals[0]"), "{nested}");
        assert!(nested.contains("unknown field `sig`"), "{nested}");
    }

    #[test]
    fn malformed_and_mistyped_bodies_say_what_is_wrong() {
        let cut = message(r#"{"release": "#);
        assert!(
            cut.contains("EOF") && cut.contains("send one JSON object"),
            "{cut}"
        );
        let missing = message(r#"{"approvals": []}"#);
        assert!(missing.contains("missing field `release`"), "{missing}");
        let typed = message(r#"{"release": 1, "approvals": {"statement": "s"}}"#);
        assert!(
            typed.contains("at approvals") && typed.contains("invalid type"),
            "{typed}"
        );
        assert!(parse_json::<Outer>(br#"{"release": {"x": [1, 2]}}"#).is_ok());
    }
}
