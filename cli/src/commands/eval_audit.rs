//! `eval --audit-log FILE [--audit-key KEY]`: building the record of one
//! evaluation (a decision or an error) from what `eval` observed, and
//! appending it, with a signed checkpoint when asked (docs/audit.md).

use crate::args::EvalArgs;
use gatehouse_core::approvals::Signer;
use gatehouse_core::audit::{Appender, GrantsRecord, LimitHit, LimitsRecord, PolicyRecord, Record};
use gatehouse_core::error::Error;
use gatehouse_core::release::Release;
use gatehouse_core::report::{ErrorReport, Report};
use gatehouse_core::runtime::Limits;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `eval` learned before it finished, for the audit record.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// Hex sha256 of the input bytes.
    pub input_sha256: Option<String>,
    /// The normalised release.
    pub release: Option<Release>,
    /// Its digest ([`Release::digest`]), once the input was read.
    pub release_digest: Option<String>,
    /// The evaluation time.
    pub now: Option<i64>,
    /// Each policy-set entry's limits, by name (`--config`).
    pub set_limits: Vec<(String, Limits)>,
    /// The approvals, once gathered.
    pub approvals: Option<gatehouse_core::approvals::ApprovalsRecord>,
}

fn limits_record(limits: &Limits) -> LimitsRecord {
    LimitsRecord {
        fuel: limits.fuel,
        memory_bytes: limits.memory_bytes as u64,
        timeout_ms: limits.timeout_ms,
    }
}

/// The part of a record every record of one `eval` shares: when, on what
/// input, with which policy set; verdict `error` (exit 3) until set.
fn base_record(args: &EvalArgs, seen: &Observed) -> Result<Record, String> {
    let time = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| gatehouse_core::time::format_utc(gatehouse_core::time::now_unix()));
    Ok(Record {
        schema: gatehouse_core::audit::SCHEMA.to_string(),
        seq: 0,
        time,
        evaluated_at: seen.now.map(gatehouse_core::time::format_utc),
        host_version: env!("CARGO_PKG_VERSION").to_string(),
        input_sha256: seen.input_sha256.clone(),
        input: None,
        metadata: seen
            .release
            .as_ref()
            .map(|r| r.metadata.clone())
            .unwrap_or_default(),
        config: args.config.as_ref().map(|c| c.display().to_string()),
        policies: Vec::new(),
        verdict: "error".to_string(),
        exit_code: crate::output::EXIT_ERROR,
        error: None,
        limit_hit: None,
        release_digest: seen.release_digest.clone(),
        nothing_applied: None,
        outcome_of: None,
        approvals: seen.approvals.clone(),
        prev_sha256: String::new(),
    })
}

/// Opens the audit log at `path` for appending (locked until dropped),
/// warning on stderr when a torn last line was removed first.
fn open_log(path: &Path) -> Result<Appender, String> {
    let log = Appender::open(path)?;
    if log.repaired_bytes() > 0 {
        let (next, _) = log.next_link();
        let _ = writeln!(
            std::io::stderr(),
            "gatehouse: warning: --audit-log {}: removed a torn last line ({} bytes) left by an interrupted gatehouse before appending record {next}; the {} records before it form a valid chain",
            path.display(),
            log.repaired_bytes(),
            next - 1
        );
    }
    Ok(log)
}

/// Loads `--audit-key` (a private key file, or a public key whose private
/// half ssh-agent holds), `None` without it.
pub(crate) fn load_audit_key(args: &EvalArgs) -> Result<Option<Signer>, Error> {
    let Some(path) = &args.audit_key else {
        return Ok(None);
    };
    let agent_socket = std::env::var_os("SSH_AUTH_SOCK")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    Signer::load_for("--audit-key", path, agent_socket.as_deref())
        .map(Some)
        .map_err(Error::Usage)
}

/// Appends the record of one `eval` (a decision or an error) to `path` and
/// returns its `seq`.
///
/// With `key` (`--audit-key`), a checkpoint signing the record follows it
/// under the same lock. When the key cannot sign, the decision is not
/// delivered: a record of that (`outcome_of`, exit 3) follows instead, and
/// the error says so.
pub(crate) fn record_eval(
    path: &Path,
    args: &EvalArgs,
    seen: &Observed,
    outcome: &Result<Report, Error>,
    key: Option<&mut Signer>,
) -> Result<u64, String> {
    let cli_limits = LimitsRecord {
        fuel: args.fuel,
        memory_bytes: args.memory_mib.saturating_mul(1 << 20),
        timeout_ms: args.timeout_ms,
    };
    let mut record = base_record(args, seen)?;
    record.input = match &seen.release {
        Some(release) => Some(
            serde_json::to_value(release)
                .map_err(|e| format!("cannot serialise the input: {e}"))?,
        ),
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
                    .map_or_else(|| cli_limits.clone(), |(_, l)| limits_record(l));
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
                        |digest| {
                            gatehouse_core::runtime::random_seed(digest, &p.wasm_sha256).to_string()
                        },
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
    let mut log = open_log(path)?;
    let seq = log.append_record(&mut record)?;
    let Some(key) = key else {
        return Ok(seq);
    };
    let Err(e) = gatehouse_core::audit_checkpoint::append(&mut log, key) else {
        return Ok(seq);
    };
    let failure = format!("cannot sign the checkpoint of record {seq} with --audit-key: {e}");
    if record.verdict == "error" {
        // No decision to withhold: the run fails (exit 3) as recorded.
        return Err(format!(
            "{failure}; record {seq} (exit 3: {}) is not signed",
            record.error.as_deref().unwrap_or("error")
        ));
    }
    let mut undelivered = base_record(args, seen)?;
    undelivered.error = Some(format!(
        "the decision of record {seq} was not delivered: {failure}"
    ));
    undelivered.outcome_of = Some(seq);
    match log.append_record(&mut undelivered) {
        Ok(outcome) => Err(format!(
            "{failure}; the decision was not delivered, and record {outcome} says so"
        )),
        Err(e) => Err(format!(
            "{failure}; and cannot record that the decision was not delivered: {e}"
        )),
    }
}

/// Appends the record that the decision of record `decided` could not be
/// delivered (`error`, the process's exit 3): that decision's final outcome;
/// with `key`, and a checkpoint signing it. The error says what failed.
pub(crate) fn record_undelivered(
    path: &Path,
    args: &EvalArgs,
    seen: &Observed,
    decided: u64,
    error: &str,
    key: Option<&mut Signer>,
) -> Result<u64, String> {
    let mut record = base_record(args, seen)?;
    record.error = Some(format!(
        "the decision of record {decided} was not delivered: {error}"
    ));
    record.outcome_of = Some(decided);
    let cannot =
        |e: String| format!("cannot record that decision {decided} was not delivered: {e}");
    let mut log = open_log(path).map_err(cannot)?;
    let seq = log.append_record(&mut record).map_err(cannot)?;
    if let Some(key) = key {
        gatehouse_core::audit_checkpoint::append(&mut log, key).map_err(|e| {
            format!("recorded that decision {decided} was not delivered (record {seq}), but cannot sign its checkpoint with --audit-key: {e}")
        })?;
    }
    Ok(seq)
}
