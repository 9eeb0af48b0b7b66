//! `gatehouse check`: validate a policy set without a release — the config,
//! every policy's digest pin, imports and exports, and settings — listing
//! every problem, not just the first. With `--input`, also which policies
//! apply to that release and why, and what eval would do if none does.

use crate::args::{CheckArgs, InputFormat, OutputFormat};
use crate::engines::EngineSettings;
use crate::output::EXIT_ERROR;
use gatehouse_core::config::{Applicability, PolicyEntry, PolicySet, quote};
use gatehouse_core::runtime::RunOptions;
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
    /// The set's `when-nothing-applies` (null when the config is invalid).
    when_nothing_applies: Option<&'static str>,
    /// With `--input`: the release and what eval would do with it.
    release: Option<CheckedRelease>,
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
    /// With `--input`: whether it applies to the release, and why.
    applicability: Option<CheckedApplicability>,
}

impl CheckedPolicy {
    /// A policy of the set not (yet) checked: only its name and path known.
    fn unchecked(entry: &PolicyEntry) -> Self {
        CheckedPolicy {
            name: entry.name.clone(),
            path: entry.path.display().to_string(),
            sha256: None,
            version: None,
            ok: false,
            applicability: None,
        }
    }
}

/// Whether a policy applies to the `--input` release.
#[derive(Debug, Serialize)]
struct CheckedApplicability {
    /// `applies`, `skipped` or `refused` (it matches only when case is ignored).
    status: &'static str,
    /// Why, e.g. `environment "dev" matches none of "prod*"`.
    reason: String,
}

/// The `--input` release and what eval would do with it.
#[derive(Debug, Serialize)]
struct CheckedRelease {
    /// The input path, or `<stdin>`.
    source: String,
    /// The release digest (`sha256:<hex>`), as `gatehouse digest` prints it.
    release_digest: String,
    /// The environment, after `--environment`.
    environment: String,
    /// The release stream, after `--release-stream`.
    release_stream: String,
    /// How many policies apply.
    applicable: usize,
    /// `evaluate` (policies apply), the set's `when-nothing-applies` verdict
    /// (`fail`, `require-approval`, `auto-approve`) when none does, or
    /// `error` when eval would exit 3 for this release's conditions.
    outcome: &'static str,
    /// Eval's error message when `outcome` is `error`.
    error: Option<String>,
}

/// Runs `gatehouse check` and returns the exit code.
pub fn run(args: &CheckArgs, engines: &EngineSettings) -> i32 {
    let report = check(args, engines);
    for problem in &report.problems {
        crate::output::print_error(problem);
    }
    let text = match args.output {
        OutputFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => format!("{json}\n"),
            Err(e) => {
                crate::output::print_error(&format!("cannot serialise the check report: {e}"));
                return EXIT_ERROR;
            }
        },
        OutputFormat::Text | OutputFormat::Github => {
            let mut text = render_release(&report);
            let n = report.policies.len();
            let plural = if n == 1 { "policy" } else { "policies" };
            if report.ok {
                text.push_str(&format!(
                    "ok: {n} {plural} checked ({})\n",
                    gatehouse_core::untrusted::line(&report.config)
                ));
            } else {
                let bad = report.problems.len();
                text.push_str(&format!(
                    "{bad} problem{} in {} ({n} {plural})\n",
                    if bad == 1 { "" } else { "s" },
                    gatehouse_core::untrusted::line(&report.config)
                ));
            }
            text
        }
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        crate::output::print_error(&format!("cannot write to stdout: {e}"));
        return EXIT_ERROR;
    }
    if report.ok { 0 } else { EXIT_ERROR }
}

/// The `--input` part of the text report: one line per policy and the outcome.
fn render_release(report: &CheckReport) -> String {
    let Some(release) = &report.release else {
        return String::new();
    };
    let mut out = format!(
        "release: environment {}, release stream {} ({})\n",
        quote(&release.environment),
        quote(&release.release_stream),
        quote(&release.source)
    );
    out.push_str(&format!("release digest: {}\n", release.release_digest));
    for policy in &report.policies {
        if let Some(a) = &policy.applicability {
            out.push_str(&format!(
                "  {:<8} {}: {}\n",
                a.status, policy.name, a.reason
            ));
        }
    }
    let n = report.policies.len();
    out.push_str(&match release.outcome {
        "evaluate" => format!("{} of {n} policies apply\n", release.applicable),
        "error" => "eval would exit 3 (the error is below)\n".to_string(),
        verdict => format!(
            "no policy applies: eval would {verdict}, as when-nothing-applies says; nothing would be checked\n"
        ),
    });
    out
}

/// Reads `--input` and matches it against the set: fills the report's
/// `release` and each policy's `applicability`, and adds eval's refusal
/// (a case-only match, or nothing applies with `when-nothing-applies =
/// "error"`) to the problems.
fn check_release(args: &CheckArgs, input: &str, set: &PolicySet, report: &mut CheckReport) {
    let loaded = match args
        .release
        .request(input, &args.approvals.approvals)
        .and_then(|request| request.load())
    {
        Ok(loaded) => loaded,
        Err(e) => {
            report.problems.push(e.to_string());
            return;
        }
    };
    let release = &loaded.release;
    let matched = set.applicability(&release.environment_name, &release.release_stream);
    let refusal = set.refusal(&release.environment_name, &release.release_stream, &matched);
    let applicable = matched
        .iter()
        .filter(|(_, a)| matches!(a, Applicability::Applies(_)))
        .count();
    let outcome = match (&refusal, applicable) {
        (Some(_), _) => "error",
        (None, 0) => set.when_nothing_applies.as_str(),
        (None, _) => "evaluate",
    };
    for (checked, (_, a)) in report.policies.iter_mut().zip(&matched) {
        let (status, reason) = match a {
            Applicability::Applies(why) => ("applies", why),
            Applicability::Skipped(why) => ("skipped", why),
            Applicability::CaseMismatch(why) => ("refused", why),
        };
        checked.applicability = Some(CheckedApplicability {
            status,
            reason: reason.clone(),
        });
    }
    report.release = Some(CheckedRelease {
        source: loaded.source,
        release_digest: release.digest(),
        environment: release.environment_name.clone(),
        release_stream: release.release_stream.clone(),
        applicable,
        outcome,
        error: refusal.clone(),
    });
    report.problems.extend(refusal);
}

fn check(args: &CheckArgs, engines: &EngineSettings) -> CheckReport {
    let config = args.config.display().to_string();
    let mut report = CheckReport {
        schema: CHECK_SCHEMA,
        ok: false,
        config: config.clone(),
        when_nothing_applies: None,
        release: None,
        policies: Vec::new(),
        problems: Vec::new(),
    };
    if args.input.is_none()
        && (!args.release.meta.is_empty()
            || !args.approvals.approvals.is_empty()
            || args.release.format != InputFormat::Auto)
    {
        report
            .problems
            .push("--format, --meta and --approvals describe --input; pass --input FILE".into());
        return report;
    }
    let set = match PolicySet::load(&args.config) {
        Ok(set) => set,
        Err(problems) => {
            report.problems = problems;
            return report;
        }
    };
    report.when_nothing_applies = Some(set.when_nothing_applies.as_str());
    report.policies = set.policies.iter().map(CheckedPolicy::unchecked).collect();
    // The trust section's allowed_signers file: eval reads it on every run.
    if let Some(trust) = &set.trust
        && let Err(e) = trust.load_signers()
    {
        report.problems.push(format!("{config}: [trust] {e}"));
    }
    if let Some(input) = &args.input {
        check_release(args, input, &set, &mut report);
    }
    let limits = PolicySet::max_limits(&set.policies);
    let built = engines
        .for_policy_set(set.cache_dir.as_deref())
        .limits(&limits)
        .build();
    let runtime = match built {
        Ok(runtime) => runtime,
        Err(e) => {
            report.problems.push(e.to_string());
            return report;
        }
    };
    for (i, entry) in set.policies.iter().enumerate() {
        let mut checked = CheckedPolicy::unchecked(entry);
        let before = report.problems.len();
        let grants = entry.grants().unwrap_or_else(|e| {
            report.problems.push(format!("{config}: {e}"));
            Default::default()
        });
        if let Ok(bytes) = std::fs::read(&entry.path) {
            use sha2::{Digest, Sha256};
            checked.sha256 = Some(hex::encode(Sha256::digest(&bytes)));
        }
        match entry.load_pinned(&runtime) {
            Err(gatehouse_core::error::Error::Load(e)) => report.problems.push(format!(
                "{config}: policy '{}' ({}): {}",
                entry.name,
                entry.path.display(),
                e.kind
            )),
            Err(e) => report.problems.push(format!("{config}: {e}")),
            Ok(policy) => {
                let options = RunOptions::new(
                    gatehouse_core::time::now_unix(),
                    entry.limits.clone(),
                    grants,
                );
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
        if let Some(slot) = report.policies.get_mut(i) {
            checked.applicability = slot.applicability.take();
            *slot = checked;
        }
    }
    report.ok = report.problems.is_empty();
    report
}
