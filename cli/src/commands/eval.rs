//! `gatehouse eval`: load the policies, read the release, evaluate each policy
//! in its own sandbox, aggregate, report, and return the exit code.

use super::eval_approvals::{Gathered, gather};
use crate::args::EvalArgs;
use crate::engines::EngineSettings;
use crate::output::report_error;
use gatehouse_core::config::{Applicability, PolicyEntry, PolicySet, Trust};
use gatehouse_core::error::Error;
use gatehouse_core::gate::run_and_settle;
use gatehouse_core::input::LoadedInput;
use gatehouse_core::release::Release;
use gatehouse_core::report::{ErrorReport, InputSummary, PolicyReport, Report, SkippedPolicy};
use gatehouse_core::runtime::{Grants, Limits, RunOptions};
use gatehouse_core::settings::{check_assignments, settings_for};
use sha2::{Digest, Sha256};

/// Runs `gatehouse eval` and returns the exit code.
///
/// Record, then deliver: with `--audit-log`, a decision (or a failed one,
/// exit 3) is answered only after its record is written; and when the answer
/// cannot be delivered, a second record says so, so that the log's final
/// exit code for the decision is always the process's.
pub fn run(args: &EvalArgs, engines: &EngineSettings) -> i32 {
    let mut seen = super::eval_audit::Observed::default();
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

fn evaluate(
    args: &EvalArgs,
    engines: &EngineSettings,
    seen: &mut super::eval_audit::Observed,
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

    // `--approvals` is read below, by the rules of the trust section.
    let LoadedInput {
        source,
        bytes,
        mut release,
        mut warnings,
    } = args
        .release
        .flags
        .request(&args.release.input, &[])?
        .load()?;
    let input_sha256 = hex::encode(Sha256::digest(&bytes));
    drop(bytes);
    let release_digest = release.digest();
    seen.input_sha256 = Some(input_sha256.clone());
    seen.release_digest = Some(release_digest.clone());
    seen.release = args.audit_log.is_some().then(|| release.clone());

    let set = match &args.config {
        Some(config) => {
            Some(PolicySet::load(config).map_err(|problems| Error::Config(problems.join("; ")))?)
        }
        None => None,
    };
    let trust = match &set {
        Some(set) => set.trust.clone(),
        None => Trust::from_flags(
            args.allowed_signers.as_deref(),
            &args.trust_groups,
            args.allow_self_approval,
            args.author_key.as_deref(),
        )
        .map_err(Error::Usage)?,
    };
    let approvals = gather(
        &args.release.approvals.approvals,
        trust.as_ref(),
        &mut release,
        &release_digest,
        now,
        args.release.flags.max_input_mib,
    )?;
    warnings.extend(approvals.warnings.iter().cloned());
    seen.approvals = Some(approvals.record.clone());
    seen.release = args.audit_log.is_some().then(|| release.clone());

    if let Some(set) = set {
        seen.set_limits = set
            .policies
            .iter()
            .map(|e| (e.name.clone(), e.limits.clone()))
            .collect();
        let input = InputSummary::new(source, input_sha256, release_digest, &release, warnings);
        return evaluate_set(&set, engines, &release, now, input, approvals);
    }

    let runtime = engines.builder().limits(&limits).build()?;
    let policies = args
        .policies
        .iter()
        .map(|path| runtime.load(path))
        .collect::<Result<Vec<_>, _>>()?;
    let stems: Vec<String> = policies.iter().map(|p| p.file_stem()).collect();
    check_assignments(&assignments, &stems).map_err(Error::Usage)?;

    let mut grants = Grants::default();
    for dir in &args.allow_read {
        grants.allow_read(dir).map_err(Error::Usage)?;
    }
    for name in &args.allow_env {
        grants.allow_env(name).map_err(Error::Usage)?;
    }
    grants.random = args.allow_random;
    let run_options =
        RunOptions::new(now, limits.clone(), grants).with_release_digest(release_digest.clone());
    let mut reports = Vec::with_capacity(policies.len());
    for policy in &policies {
        let settings = settings_for(&assignments, &policy.file_stem()).map_err(Error::Usage)?;
        let (run, settlement) = run_and_settle(
            policy,
            &release,
            &settings,
            &run_options,
            &approvals.counted,
        )?;
        let mut report = PolicyReport::new(
            policy.path().display().to_string(),
            policy.sha256().to_string(),
            &settings,
            &run_options.grants,
            run,
        );
        report.settle(settlement);
        reports.push(report);
    }
    let input = InputSummary::new(source, input_sha256, release_digest, &release, warnings);
    Report::new(gatehouse_core::time::format_utc(now), input, reports)
        .map(|report| report.with_approvals(approvals.report))
        .ok_or_else(|| Error::Usage("no policy to evaluate; pass --policy or --config".into()))
}

/// Evaluates the policies of a policy set whose conditions match the release;
/// the others are reported as skipped. A release that some policy matches
/// only when case is ignored is refused, and one that no policy applies to
/// gets the set's `when-nothing-applies` (an error unless it says otherwise).
fn evaluate_set(
    set: &PolicySet,
    engines: &EngineSettings,
    release: &Release,
    now: i64,
    input: InputSummary,
    approvals: Gathered,
) -> Result<Report, Error> {
    let matched = set.applicability(&release.environment_name, &release.release_stream);
    if let Some(refusal) = set.refusal(&release.environment_name, &release.release_stream, &matched)
    {
        return Err(Error::Config(refusal));
    }
    let mut applicable: Vec<&PolicyEntry> = Vec::new();
    let mut skipped = Vec::new();
    for (entry, applicability) in matched {
        match applicability {
            Applicability::Applies(_) => applicable.push(entry),
            Applicability::Skipped(reason) | Applicability::CaseMismatch(reason) => {
                skipped.push(SkippedPolicy {
                    name: entry.name.clone(),
                    path: entry.path.display().to_string(),
                    reason,
                })
            }
        }
    }
    let evaluated_at = gatehouse_core::time::format_utc(now);
    let config = set.path.display().to_string();
    if applicable.is_empty() {
        // `refusal` returned the error for `when-nothing-applies = "error"`.
        let report = Report::nothing_applied(evaluated_at, input, &set.when_nothing_applies)
            .ok_or_else(|| Error::Config(format!("{config}: no policy applies")))?;
        return Ok(report
            .with_config(config, skipped)
            .satisfy_nothing_applied(&approvals.counted)
            .with_approvals(approvals.report));
    }
    let limits = PolicySet::max_limits(applicable.iter().copied());
    let runtime = engines
        .for_policy_set(set.cache_dir.as_deref())
        .limits(&limits)
        .build()?;
    let mut loaded = Vec::with_capacity(applicable.len());
    for entry in &applicable {
        let grants = entry.grants().map_err(Error::Config)?;
        loaded.push((entry.load_pinned(&runtime)?, grants));
    }
    let mut reports = Vec::with_capacity(applicable.len());
    for (entry, (policy, grants)) in applicable.iter().zip(loaded) {
        let options = RunOptions::new(now, entry.limits.clone(), grants)
            .with_release_digest(input.release_digest.clone());
        // Errors name the policy as the config does.
        let (run, settlement) = run_and_settle(
            &policy,
            release,
            &entry.settings,
            &options,
            &approvals.counted,
        )
        .map_err(|mut e| {
            e.policy = entry.name.clone();
            e
        })?;
        let mut report = PolicyReport::new(
            policy.path().display().to_string(),
            policy.sha256().to_string(),
            &entry.settings,
            &options.grants,
            run,
        );
        report.settle(settlement);
        report.config_name = Some(entry.name.clone());
        reports.push(report);
    }
    let report = Report::new(evaluated_at, input, reports)
        .ok_or_else(|| Error::Config(format!("{config}: no policy ran")))?;
    Ok(report
        .with_config(config, skipped)
        .with_approvals(approvals.report))
}
