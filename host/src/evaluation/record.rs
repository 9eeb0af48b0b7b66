//! The audit record of one evaluation (a decision or an error), built from
//! what [`super::evaluate`] observed: the same [`Record`] whether a front-end
//! appends it to a file (`eval --audit-log`) or stores it elsewhere.

use crate::approvals::ApprovalsRecord;
use crate::audit::{GrantsRecord, LimitHit, LimitsRecord, PolicyRecord, Record, RecordedInput};
use crate::error::Error;
use crate::release::Release;
use crate::report::{ErrorReport, Report};
use crate::runtime::Limits;
use std::sync::Arc;

/// What an evaluation learned before it finished, for its audit record:
/// filled step by step, so that a failed evaluation's record still names
/// the input and release it got as far as reading.
#[derive(Debug, Default, Clone)]
pub struct Observed {
    /// Hex sha256 of the input bytes.
    pub input_sha256: Option<String>,
    /// The normalised release (kept only when the caller asks: it can be
    /// large).
    pub release: Option<Arc<Release>>,
    /// Its digest ([`Release::digest`]), once the input was read.
    pub release_digest: Option<String>,
    /// The evaluation time.
    pub now: Option<i64>,
    /// Each policy-set entry's limits, by name.
    pub set_limits: Vec<(String, Limits)>,
    /// The approvals, once gathered.
    pub approvals: Option<ApprovalsRecord>,
}

/// Who writes a record and with what: the values a record takes from its
/// front-end rather than from the evaluation.
#[derive(Debug, Clone)]
pub struct RecordContext {
    /// The record's `time` (RFC 3339): when it was written.
    pub time: String,
    /// The policy set's path as given, or `None` for a list of policies.
    pub config: Option<String>,
    /// The limits every policy of a list got (a set's entries have their
    /// own, in [`Observed::set_limits`]).
    pub list_limits: LimitsRecord,
}

impl RecordContext {
    /// A context written now (the clock, RFC 3339 UTC).
    pub fn now(config: Option<String>, list_limits: LimitsRecord) -> Self {
        let time = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| crate::time::format_utc(crate::time::now_unix()));
        RecordContext {
            time,
            config,
            list_limits,
        }
    }
}

/// The [`LimitsRecord`] of some [`Limits`].
pub fn limits_record(limits: &Limits) -> LimitsRecord {
    LimitsRecord {
        fuel: limits.fuel,
        memory_bytes: limits.memory_bytes as u64,
        timeout_ms: limits.timeout_ms,
    }
}

/// The part of a record every record of one evaluation shares: when, on
/// what input, with which policy set; verdict `error` (exit 3) until set.
pub fn base_record(context: &RecordContext, seen: &Observed) -> Record {
    Record {
        schema: crate::audit::SCHEMA.to_string(),
        seq: 0,
        time: context.time.clone(),
        evaluated_at: seen.now.map(crate::time::format_utc),
        host_version: env!("CARGO_PKG_VERSION").to_string(),
        input_sha256: seen.input_sha256.clone(),
        input: None,
        metadata: seen
            .release
            .as_ref()
            .map(|r| r.metadata.clone())
            .unwrap_or_default(),
        config: context.config.clone(),
        policies: Vec::new(),
        verdict: "error".to_string(),
        exit_code: 3,
        error: None,
        limit_hit: None,
        release_digest: seen.release_digest.clone(),
        nothing_applied: None,
        outcome_of: None,
        approvals: seen.approvals.clone(),
        prev_sha256: String::new(),
    }
}

/// The release as the audit record keeps it (`input`): the normalised
/// release the policies saw, serialised once.
pub fn release_record_json(release: &Release) -> Result<RecordedInput, String> {
    RecordedInput::of(release).map_err(|e| format!("cannot serialise the input: {e}"))
}

/// The record of one evaluation: its decision (verdict, each policy with
/// its digest, settings, grants, limits and reasons) or its error.
pub fn decision_record(
    context: &RecordContext,
    seen: &Observed,
    outcome: &Result<Report, Error>,
) -> Result<Record, String> {
    let mut record = base_record(context, seen);
    record.input = match &seen.release {
        Some(release) => Some(release_record_json(release)?),
        None => None,
    };
    let release_digest = record.release_digest.clone();
    match outcome {
        Ok(report) => {
            record.verdict = report.verdict.as_str().to_string();
            record.exit_code = report.exit_code;
            record.nothing_applied = report
                .nothing_applied
                .as_ref()
                .map(|n| n.action.to_string());
            for p in &report.policies {
                let limits = p
                    .config_name
                    .as_ref()
                    .and_then(|name| seen.set_limits.iter().find(|(n, _)| n == name))
                    .map_or_else(|| context.list_limits.clone(), |(_, l)| limits_record(l));
                record.policies.push(PolicyRecord {
                    name: p.name.clone(),
                    config_name: p.config_name.clone(),
                    version: p.version.clone(),
                    path: p.path.clone(),
                    wasm_sha256: p.wasm_sha256.clone(),
                    settings: p.settings.clone(),
                    grants: GrantsRecord {
                        read_dirs: p.grants.read_dirs.clone(),
                        env: p.grants.env.clone(),
                    },
                    limits,
                    verdict: p.verdict.as_str().to_string(),
                    reasons: serde_json::to_value(&p.reasons).unwrap_or_default(),
                    random_real: Some(p.grants.random),
                    // What seeded its deterministic `wasi:random`, so replay
                    // can check it reproduces the same stream.
                    random_seed: release_digest.as_deref().filter(|_| !p.grants.random).map(
                        |digest| crate::runtime::random_seed(digest, &p.wasm_sha256).to_string(),
                    ),
                    approved_by: p.approved_by.clone(),
                    counts_approvals_itself: p.counts_approvals_itself,
                });
            }
        }
        Err(err) => {
            let report = ErrorReport::from_error(err);
            record.error = Some(report.error);
            record.limit_hit = report.limit.map(|l| LimitHit {
                name: l.name.to_string(),
                value: l.value,
            });
        }
    }
    Ok(record)
}
