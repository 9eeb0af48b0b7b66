//! `eval --audit-log FILE [--audit-key KEY]`: appending the record of one
//! evaluation (a decision or an error; built by the core from what the
//! evaluation observed), with a signed checkpoint when asked (docs/audit.md).

use crate::args::EvalArgs;
use gatehouse_core::approvals::Signer;
use gatehouse_core::audit::{Appender, LimitsRecord};
use gatehouse_core::error::Error;
use gatehouse_core::evaluation::{Observed, RecordContext, base_record, decision_record};
use gatehouse_core::report::Report;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The record context of this `eval`: now, its `--config`, and the limits
/// its `--policy` list got.
fn record_context(args: &EvalArgs) -> RecordContext {
    RecordContext::now(
        args.config.as_ref().map(|c| c.display().to_string()),
        LimitsRecord {
            fuel: args.fuel,
            memory_bytes: args.memory_mib.saturating_mul(1 << 20),
            timeout_ms: args.timeout_ms,
        },
    )
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
    let context = record_context(args);
    let mut record = decision_record(&context, seen, outcome)?;
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
    let mut undelivered = base_record(&record_context(args), seen);
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
    let mut record = base_record(&record_context(args), seen);
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
