//! `gatehouse eval`: load the policies, read the release, evaluate each policy
//! in its own sandbox, aggregate, report, and return the exit code.

use super::{EvalArgs, report_error};
use crate::config::{PolicyEntry, PolicySet};
use crate::error::{Error, InputError};
use crate::release::Release;
use crate::report::{ErrorReport, InputSummary, PolicyReport, Report, SkippedPolicy};
use crate::runtime::{Grants, Limits, RunOptions, Runtime};
use crate::settings::{check_assignments, settings_for};
use sha2::{Digest, Sha256};
use std::io::Read;

/// Runs `gatehouse eval` and returns the exit code.
pub fn run(args: &EvalArgs) -> i32 {
    let mut seen = super::audit::Observed::default();
    let outcome = evaluate(args, &mut seen);
    // The record is written before the report: a gate decision, or a failed
    // one (exit 3), that cannot be recorded is not delivered.
    if let Some(log) = &args.audit_log
        && let Err(e) = super::audit::record_eval(log, args, &seen, &outcome)
    {
        let message = format!("--audit-log {}: {e}", log.display());
        return report_error(&ErrorReport::new(message), args.output);
    }
    match outcome {
        Ok(report) => match super::write_report(&report, args.output) {
            Ok(()) => report.exit_code,
            // The verdict could not be delivered: CI must not act on a
            // report nobody saw, so this is an error, not the verdict.
            Err(e) => {
                super::print_error(&format!("cannot write the report to stdout: {e}"));
                super::EXIT_ERROR
            }
        },
        Err(err) => report_error(&ErrorReport::from_error(&err), args.output),
    }
}

fn evaluate(args: &EvalArgs, seen: &mut super::audit::Observed) -> Result<Report, Error> {
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

    let super::LoadedInput {
        source,
        bytes,
        release,
        warnings,
    } = super::load_input(
        &args.input,
        &args.source,
        args.environment.clone(),
        args.release_stream.clone(),
        args.max_input_mib,
    )?;
    let input_sha256 = hex::encode(Sha256::digest(&bytes));
    drop(bytes);
    seen.input_sha256 = Some(input_sha256.clone());
    seen.release = args.audit_log.is_some().then(|| release.clone());

    if let Some(config) = &args.config {
        let set = PolicySet::load(config).map_err(|problems| Error::Config(problems.join("; ")))?;
        seen.set_limits = set
            .policies
            .iter()
            .map(|e| (e.name.clone(), e.limits.clone()))
            .collect();
        let input = InputSummary::new(source, input_sha256, &release, warnings);
        return evaluate_set(&set, &release, now, input);
    }

    let runtime = Runtime::with_limits(&limits)
        .map_err(|e| Error::Usage(format!("cannot start the WebAssembly engine: {e}")))?;
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
        RunOptions::new(now, limits.clone(), grants).with_release_digest(release.digest());
    let mut reports = Vec::with_capacity(policies.len());
    for policy in &policies {
        let settings = settings_for(&assignments, &policy.file_stem()).map_err(Error::Usage)?;
        let run = policy.evaluate(&release, &settings, &run_options)?;
        reports.push(PolicyReport::new(
            policy.path().display().to_string(),
            policy.sha256().to_string(),
            &settings,
            &run_options.grants,
            run,
        ));
    }
    let input = InputSummary::new(source, input_sha256, &release, warnings);
    Ok(Report::new(crate::time::format_utc(now), input, reports))
}

/// Evaluates the policies of a policy set whose conditions match the release;
/// the others are reported as skipped.
fn evaluate_set(
    set: &PolicySet,
    release: &Release,
    now: i64,
    input: InputSummary,
) -> Result<Report, Error> {
    let mut applicable: Vec<&PolicyEntry> = Vec::new();
    let mut skipped = Vec::new();
    for entry in &set.policies {
        match entry.skip_reason(&release.environment_name, &release.release_stream) {
            None => applicable.push(entry),
            Some(reason) => skipped.push(SkippedPolicy {
                name: entry.name.clone(),
                path: entry.path.display().to_string(),
                reason,
            }),
        }
    }
    let mut reports = Vec::with_capacity(applicable.len());
    if !applicable.is_empty() {
        let release_digest = release.digest();
        let limits = PolicySet::max_limits(applicable.iter().copied());
        let runtime = Runtime::for_policy_set(&limits, set.cache_dir.as_deref())
            .map_err(|e| Error::Usage(format!("cannot start the WebAssembly engine: {e}")))?;
        let mut loaded = Vec::with_capacity(applicable.len());
        for entry in &applicable {
            let grants = entry.grants().map_err(Error::Config)?;
            loaded.push((load_pinned(&runtime, entry)?, grants));
        }
        for (entry, (policy, grants)) in applicable.iter().zip(loaded) {
            let options = RunOptions::new(now, entry.limits.clone(), grants)
                .with_release_digest(release_digest.clone());
            // Errors name the policy as the config does.
            let run = policy
                .evaluate(release, &entry.settings, &options)
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
            report.config_name = Some(entry.name.clone());
            reports.push(report);
        }
    }
    Ok(Report::new(crate::time::format_utc(now), input, reports)
        .with_config(set.path.display().to_string(), skipped))
}

/// Reads a policy of a set, refuses it when its digest does not match the
/// pin (fail closed), and loads it.
pub(super) fn load_pinned(
    runtime: &Runtime,
    entry: &PolicyEntry,
) -> Result<crate::runtime::LoadedPolicy, Error> {
    let bytes = std::fs::read(&entry.path).map_err(|e| crate::error::LoadError {
        path: entry.path.clone(),
        kind: crate::error::LoadErrorKind::Io(e),
    })?;
    if let Some(pin) = &entry.sha256 {
        let actual = hex::encode(Sha256::digest(&bytes));
        if &actual != pin {
            return Err(Error::Config(format!(
                "policy '{}' ({}): sha256 is {actual}, but the config pins {pin}; refusing to run it",
                entry.name,
                entry.path.display()
            )));
        }
    }
    Ok(runtime.load_bytes(&entry.path, &bytes)?)
}

/// Reads the input file (or stdin for `-`), refusing more than `max_mib` MiB.
pub(super) fn read_input(input: &str, max_mib: u64) -> Result<(String, Vec<u8>), InputError> {
    let limit = max_mib.saturating_mul(1 << 20);
    let (source, reader): (String, Box<dyn Read>) = if input == "-" {
        ("<stdin>".to_string(), Box::new(std::io::stdin().lock()))
    } else {
        let file = std::fs::File::open(input)
            .map_err(|e| InputError::whole(input, format!("cannot open the input file: {e}")))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(InputError::whole(
                input,
                "is a directory; pass a JSON file: a release, a Terraform plan or a Pulumi preview"
                    .into(),
            ));
        }
        (input.to_string(), Box::new(file))
    };
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| InputError::whole(&source, format!("cannot read the input: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(InputError::whole(
            &source,
            format!("the input is larger than {max_mib} MiB; raise the limit with --max-input-mib"),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::whole(
            &source,
            "the input is empty; expected a JSON object: a release, a Terraform plan or a Pulumi preview".into(),
        ));
    }
    Ok((source, bytes))
}
