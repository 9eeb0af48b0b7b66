//! `gatehouse eval`: load the policies, read the release, evaluate each policy
//! in its own sandbox, aggregate, report, and return the exit code.

use crate::args::EvalArgs;
use crate::engines::EngineSettings;
use crate::output::report_error;
use gatehouse_core::error::Error;
use gatehouse_core::evaluation::{
    ApprovalsInput, Evaluation, Observed, Policies, PolicyList, TrustFlags,
};
use gatehouse_core::report::{ErrorReport, Report};
use gatehouse_core::runtime::Limits;

/// Runs `gatehouse eval` and returns the exit code.
///
/// Record, then deliver: with `--audit-log`, a decision (or a failed one,
/// exit 3) is answered only after its record is written; and when the answer
/// cannot be delivered, a second record says so, so that the log's final
/// exit code for the decision is always the process's.
pub fn run(args: &EvalArgs, engines: &EngineSettings) -> i32 {
    if let Some(server) = &args.server.server {
        return run_server(args, server);
    }
    let mut seen = Observed::default();
    // `--audit-key` is loaded first: a key that cannot be used is an error
    // of this run, recorded as such, before any policy runs.
    let (outcome, mut audit_key) = match super::eval_audit::load_audit_key(args) {
        Ok(key) => (evaluate(args, engines, &mut seen), key),
        Err(e) => (Err(e), None),
    };
    // Every error after the input was read names the release's digest.
    let fail = |report: ErrorReport| {
        report_error(
            &report.with_release_digest(seen.release_digest.clone()),
            args.output,
        )
    };
    let recorded = match &args.audit_log {
        None => None,
        Some(log) => {
            match super::eval_audit::record_eval(log, args, &seen, &outcome, audit_key.as_mut()) {
                Ok(seq) => Some((log, seq)),
                Err(e) => {
                    let message = format!("--audit-log {}: {e}", log.display());
                    return fail(ErrorReport::new(message));
                }
            }
        }
    };
    let report = match outcome {
        Ok(report) => report,
        Err(err) => return fail(ErrorReport::from_error(&err)),
    };
    if let Some(nothing) = &report.nothing_applied {
        crate::output::print_warning(&nothing.message);
    }
    let Err(failure) = crate::output::deliver_report(&report, args.output) else {
        return report.exit_code;
    };
    // The verdict did not reach whoever acts on it: the outcome is an error.
    let mut message = failure;
    if let Some((log, seq)) = recorded
        && let Err(e) = super::eval_audit::record_undelivered(
            log,
            args,
            &seen,
            seq,
            &message,
            audit_key.as_mut(),
        )
    {
        message = format!("{message}; and --audit-log {}: {e}", log.display());
    }
    fail(ErrorReport::new(message))
}

/// `eval --server`: the server evaluates, records and answers.
#[cfg(feature = "client")]
fn run_server(args: &EvalArgs, server: &str) -> i32 {
    crate::client::eval::run(args, server)
}

/// `eval --server` in a binary built without the `client` feature.
#[cfg(not(feature = "client"))]
fn run_server(args: &EvalArgs, _server: &str) -> i32 {
    report_error(
        &ErrorReport::new(crate::output::NO_CLIENT.to_string()),
        args.output,
    )
}

/// Reads the flags and the input, and hands them to the core's one
/// evaluation entry point ([`gatehouse_core::evaluation::evaluate`]).
fn evaluate(
    args: &EvalArgs,
    engines: &EngineSettings,
    seen: &mut Observed,
) -> Result<Report, Error> {
    let assignments = super::parse_assignments(&args.settings)?;
    let now = super::evaluation_time(args.now.as_deref())?;
    seen.now = Some(now);
    let memory_bytes = usize::try_from(args.memory_mib.saturating_mul(1 << 20))
        .map_err(|_| Error::Usage(format!("--memory-mib {} is too large", args.memory_mib)))?;
    let limits = Limits {
        fuel: args.fuel,
        memory_bytes,
        timeout_ms: args.timeout_ms,
        ..Limits::default()
    };
    // `--approvals` is read by the core, by the rules of the trust section.
    let input = args
        .release
        .flags
        .request(&args.release.input, &[])?
        .load()?;
    let policies = match &args.config {
        Some(config) => Policies::Config(config),
        None => Policies::List(Box::new(PolicyList {
            paths: args.policies.clone(),
            assignments,
            limits,
            allow_read: args.allow_read.clone(),
            allow_env: args.allow_env.clone(),
            allow_random: args.allow_random,
            trust: TrustFlags {
                allowed_signers: args.allowed_signers.clone(),
                groups: args.trust_groups.clone(),
                allow_self_approval: args.allow_self_approval,
                author_key: args.author_key.clone(),
            },
        })),
    };
    let evaluation = Evaluation {
        policies,
        approvals: ApprovalsInput::Paths {
            paths: args.release.approvals.approvals.clone(),
            max_input_mib: args.release.flags.max_input_mib,
        },
        now,
        keep_release: args.audit_log.is_some(),
    };
    let engines = |cache_dir: Option<&std::path::Path>| engines.for_policy_set(cache_dir);
    gatehouse_core::evaluation::evaluate(input, evaluation, &engines, seen)
}
