//! `gatehouse check`: validate a policy set without a release — the config,
//! every policy's digest pin, imports and exports, and settings — listing
//! every problem, not just the first.

use super::{CheckArgs, EXIT_ERROR, OutputFormat};
use crate::config::PolicySet;
use crate::runtime::{RunOptions, Runtime};
use serde::Serialize;
use std::io::Write;

/// The JSON schema of `gatehouse check --output json`.
pub const CHECK_SCHEMA: &str = "gatehouse.check/v1";

/// The result of `gatehouse check`.
#[derive(Debug, Serialize)]
struct CheckReport {
    schema: &'static str,
    ok: bool,
    config: String,
    policies: Vec<CheckedPolicy>,
    problems: Vec<String>,
}

/// One policy's result.
#[derive(Debug, Serialize)]
struct CheckedPolicy {
    name: String,
    path: String,
    sha256: Option<String>,
    version: Option<String>,
    ok: bool,
}

/// Runs `gatehouse check` and returns the exit code.
pub fn run(args: &CheckArgs) -> i32 {
    let report = check(args);
    for problem in &report.problems {
        super::print_error(problem);
    }
    let text = match args.output {
        OutputFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => format!("{json}\n"),
            Err(e) => {
                eprintln!("gatehouse: error: cannot serialise the check report: {e}");
                return EXIT_ERROR;
            }
        },
        OutputFormat::Text | OutputFormat::Github => {
            let n = report.policies.len();
            let plural = if n == 1 { "policy" } else { "policies" };
            if report.ok {
                format!("ok: {n} {plural} checked ({})\n", report.config)
            } else {
                let bad = report.problems.len();
                format!(
                    "{bad} problem{} in {} ({n} {plural})\n",
                    if bad == 1 { "" } else { "s" },
                    report.config
                )
            }
        }
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        eprintln!("gatehouse: error: cannot write to stdout: {e}");
        return EXIT_ERROR;
    }
    if report.ok { 0 } else { EXIT_ERROR }
}

fn check(args: &CheckArgs) -> CheckReport {
    let config = args.config.display().to_string();
    let mut report = CheckReport {
        schema: CHECK_SCHEMA,
        ok: false,
        config: config.clone(),
        policies: Vec::new(),
        problems: Vec::new(),
    };
    let set = match PolicySet::load(&args.config) {
        Ok(set) => set,
        Err(problems) => {
            report.problems = problems;
            return report;
        }
    };
    let limits = PolicySet::max_limits(&set.policies);
    let runtime = match Runtime::for_policy_set(&limits, set.cache_dir.as_deref()) {
        Ok(runtime) => runtime,
        Err(e) => {
            report
                .problems
                .push(format!("cannot start the WebAssembly engine: {e}"));
            return report;
        }
    };
    for entry in &set.policies {
        let mut checked = CheckedPolicy {
            name: entry.name.clone(),
            path: entry.path.display().to_string(),
            sha256: None,
            version: None,
            ok: false,
        };
        let before = report.problems.len();
        let grants = entry.grants().unwrap_or_else(|e| {
            report.problems.push(format!("{config}: {e}"));
            Default::default()
        });
        if let Ok(bytes) = std::fs::read(&entry.path) {
            use sha2::{Digest, Sha256};
            checked.sha256 = Some(hex::encode(Sha256::digest(&bytes)));
        }
        match super::eval::load_pinned(&runtime, entry) {
            Err(crate::error::Error::Load(e)) => report.problems.push(format!(
                "{config}: policy '{}' ({}): {}",
                entry.name,
                entry.path.display(),
                e.kind
            )),
            Err(e) => report.problems.push(format!("{config}: {e}")),
            Ok(policy) => {
                let options =
                    RunOptions::new(crate::time::now_unix(), entry.limits.clone(), grants);
                match policy.check_settings(&entry.settings, &options) {
                    Ok(info) => checked.version = Some(info.version),
                    Err(e) => report.problems.push(format!(
                        "{config}: policy '{}' ({}): {}",
                        entry.name, e.path, e.kind
                    )),
                }
            }
        }
        checked.ok = report.problems.len() == before;
        report.policies.push(checked);
    }
    report.ok = report.problems.is_empty();
    report
}
