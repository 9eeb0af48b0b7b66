//! The audit trail: `GET /v1/decisions` (filtered, paged) and
//! `GET /v1/decisions/{id}` (with its report and audit record).

use super::errors::ApiError;
use super::{authorize, check_id, views};
use crate::App;
use crate::store::DecisionFilter;
use crate::tokens::Scope;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most decisions one page holds.
const MAX_PAGE: i64 = 500;

/// The default page size.
const DEFAULT_PAGE: i64 = 100;

fn filter(query: &BTreeMap<String, String>) -> Result<DecisionFilter, ApiError> {
    let mut filter = DecisionFilter {
        limit: DEFAULT_PAGE,
        ..DecisionFilter::default()
    };
    let time = |key: &str, text: &str| {
        gatehouse_core::time::parse_rfc3339(text)
            .map_err(|e| ApiError::bad_request(format!("{key}: {e}")))
    };
    let number = |key: &str, text: &str| {
        text.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad_request(format!(
                "{key} {}: expected a whole number",
                gatehouse_core::untrusted::quote(text)
            ))
        })
    };
    for (key, value) in query {
        match key.as_str() {
            "environment" => filter.environment = Some(value.clone()),
            "verdict" => {
                if !["auto-approve", "require-approval", "fail", "error"].contains(&value.as_str())
                {
                    return Err(ApiError::bad_request(format!(
                        "verdict {}: use auto-approve, require-approval, fail or error",
                        gatehouse_core::untrusted::quote(value)
                    )));
                }
                filter.verdict = Some(value.clone());
            }
            "since" => filter.since = Some(time(key, value)?),
            "until" => filter.until = Some(time(key, value)?),
            "after" => filter.after = Some(number(key, value)?),
            "limit" => filter.limit = number(key, value)?.clamp(1, MAX_PAGE),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter {}: use environment, verdict, since, until, after and limit",
                    gatehouse_core::untrusted::quote(other)
                )));
            }
        }
    }
    Ok(filter)
}

/// `GET /v1/decisions?environment=&verdict=&since=&until=&after=&limit=`
/// (scope `read`): oldest first; `next` is the `after` of the next page,
/// null on the last.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    authorize(&app, &headers, Scope::Read)?;
    let filter = filter(&query)?;
    let rows = app
        .store
        .decisions(&filter)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let next = (rows.len() as i64 == filter.limit)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    let list: Vec<Value> = rows.iter().map(|r| views::decision(r, false)).collect();
    Ok(Json(json!({ "decisions": list, "next": next })))
}

/// `GET /v1/decisions/{id}` (scope `read`).
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&app, &headers, Scope::Read)?;
    check_id(&id)?;
    let row = app
        .store
        .decision(&id)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found(format!("no decision {id}")))?;
    Ok(Json(views::decision(&row, true)))
}
