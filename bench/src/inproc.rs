//! In-process evaluation through the gatehouse library: JSON text in, verdict
//! out, a fresh store (and instance) for every evaluation, as `gatehouse eval`
//! does. Also a breakdown of one evaluation into its phases.

use crate::report::{Table, heading};
use crate::stats::{Budget, Summary, fmt};
use crate::{Bench, size_label};
use gatehouse_core::decision::Decision;
use gatehouse_core::release::{InputOptions, Release, read_release};
use gatehouse_core::runtime::{LoadedPolicy, RunOptions};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A loaded policy and the settings it is evaluated with.
pub struct Subject {
    /// The file stem, e.g. `destructive-changes`.
    pub name: String,
    /// The compiled policy.
    pub policy: LoadedPolicy,
    /// Settings passed to `validate-settings` and `evaluate`.
    pub settings: Vec<(String, String)>,
    /// Limits, time and grants of every evaluation.
    pub options: RunOptions,
}

/// Settings that give each example policy real work on the generated
/// releases (see `generate`); defaults otherwise, which for
/// `destructive-changes` are those of the reference Rego rule.
pub fn settings_for(name: &str) -> Vec<(String, String)> {
    match name {
        "approval-quorum" => vec![("required-groups".into(), "tech-lead,on-call".into())],
        _ => Vec::new(),
    }
}

/// One evaluation, timed: parse, then evaluate.
pub struct Timed {
    /// `read_release` of the JSON text.
    pub parse: Duration,
    /// `LoadedPolicy::evaluate` (thread, store, instantiate, the three calls).
    pub evaluate: Duration,
    /// What the policy decided.
    pub decision: Decision,
    /// Fuel the evaluation used.
    pub fuel: u64,
}

/// Parses `text` and evaluates it with `subject` in a fresh store.
pub fn eval_text(subject: &Subject, text: &str) -> Result<Timed, String> {
    let started = Instant::now();
    let (release, _) = read_release(text.as_bytes(), "generated", &InputOptions::default())
        .map_err(|e| e.to_string())?;
    let parsed = Instant::now();
    // Shared, not copied: a 0.2.0 policy reads it in place.
    let release = Arc::new(release);
    let run = subject
        .policy
        .evaluate_shared(&release, &subject.settings, &subject.options)
        .map_err(|e| e.to_string())?;
    let done = Instant::now();
    Ok(Timed {
        parse: parsed - started,
        evaluate: done - parsed,
        decision: run.decision,
        fuel: run.fuel_used,
    })
}

/// Samples of one (policy, size) measurement.
#[derive(Default)]
struct Samples {
    total: Vec<Duration>,
    evaluate: Vec<Duration>,
    fuel: u64,
    verdict: String,
    reasons: usize,
}

fn sample(subject: &Subject, text: &str, budget: Budget) -> Result<Samples, String> {
    // One warm-up evaluation (page faults in the pool slot, caches).
    let warm = eval_text(subject, text)?;
    let mut samples = Samples {
        fuel: warm.fuel,
        verdict: warm.decision.verdict.as_str().to_string(),
        reasons: warm.decision.reasons.len(),
        ..Samples::default()
    };
    let started = Instant::now();
    while budget.more(started, samples.total.len()) {
        let timed = eval_text(subject, text)?;
        samples.total.push(timed.parse + timed.evaluate);
        samples.evaluate.push(timed.evaluate);
    }
    Ok(samples)
}

/// Measures each subject on each size; prints a table per subject.
pub fn run(bench: &Bench, title: &str, subjects: &[Subject], seconds: f64) -> Value {
    let load = heading(title);
    println!(
        "Each row: JSON text → `read_release` → `LoadedPolicy::evaluate` (fresh store and instance) → verdict; \"evaluate\" excludes the parse. Time-boxed to {seconds} s per row{}.\n",
        if bench.quick { " (÷10, --quick)" } else { "" }
    );
    let mut out = Vec::new();
    for subject in subjects {
        println!("#### {}\n", subject.name);
        let mut table = Table::new(&[
            "resources",
            "text → verdict: min",
            "median",
            "p99",
            "evaluate only: median",
            "p99",
            "iterations",
            "fuel",
            "verdict (reasons)",
        ]);
        for &n in &bench.sizes {
            let mut budget = Budget::new(bench.quick, seconds);
            // Slow guests (an interpreter per evaluation) get fewer samples.
            budget.min_iterations = budget.min_iterations.min(3);
            match sample(subject, bench.text(n), budget) {
                Ok(samples) => {
                    let (Some(total), Some(evaluate)) =
                        (Summary::of(&samples.total), Summary::of(&samples.evaluate))
                    else {
                        continue;
                    };
                    table.row(vec![
                        size_label(n),
                        fmt(total.min),
                        fmt(total.median),
                        fmt(total.p99),
                        fmt(evaluate.median),
                        fmt(evaluate.p99),
                        total.iterations.to_string(),
                        samples.fuel.to_string(),
                        format!("{} ({})", samples.verdict, samples.reasons),
                    ]);
                    out.push(json!({
                        "policy": subject.name,
                        "resources": n,
                        "text_to_verdict": total.to_json(),
                        "evaluate_only": evaluate.to_json(),
                        "fuel": samples.fuel,
                        "verdict": samples.verdict,
                        "reasons": samples.reasons,
                    }));
                }
                Err(error) => {
                    let error = one_line(&error);
                    table.row(vec![
                        size_label(n),
                        format!("error: {error}"),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ]);
                    out.push(json!({"policy": subject.name, "resources": n, "error": error}));
                }
            }
        }
        table.print();
    }
    json!({"load_average": load, "rows": out})
}

/// The first 200 characters of the first line of an error.
pub fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(200).collect()
}

/// Where one evaluation's time goes, from the library's public entry points:
/// a new thread with the evaluation stack (for reference), `describe` (hand-off + store +
/// instantiate + `describe`), `check_settings` (+ `validate-settings`),
/// `evaluate` on a parsed release (+ lowering the release, the guest's pass,
/// lifting the decision), the `PolicyRun::duration` it reports (store to
/// decision, without the thread), `release_to_wit` (the host-side copy of the
/// release into WIT values) and `read_release` (JSON parse).
pub fn breakdown(bench: &Bench, subjects: &[&Subject], seconds: f64) -> Value {
    let load = heading("Where the time goes (medians)");
    println!(
        "Phases of one in-process evaluation, each measured on its own (medians); differences between columns give the cost of a step. \"new thread\" is spawning and joining a thread with the 16 MiB evaluation stack that does nothing (for reference: the bench measures on such a thread, declared with `declare_big_stack_thread`, so evaluations run on it without a hand-off, as in `gatehouse serve`; other callers get one reused worker per thread); \"store→decision\" is `PolicyRun::duration`, so \"evaluate − store→decision\" is what `evaluate` adds around it: taking a slot, and dropping the store.\n"
    );
    let mut out = Vec::new();
    for subject in subjects {
        println!("#### {}\n", subject.name);
        let mut table = Table::new(&[
            "resources",
            "new thread",
            "describe",
            "check_settings",
            "evaluate",
            "store→decision",
            "evaluate − store→decision",
            "release_to_wit",
            "read_release",
            "fuel",
        ]);
        for &n in &bench.sizes {
            match phases(bench, subject, n, seconds) {
                Ok(p) => {
                    table.row(vec![
                        size_label(n),
                        fmt(p.thread),
                        fmt(p.describe),
                        fmt(p.check),
                        fmt(p.evaluate),
                        fmt(p.run),
                        fmt(p.evaluate.saturating_sub(p.run)),
                        fmt(p.to_wit),
                        fmt(p.parse),
                        p.fuel.to_string(),
                    ]);
                    out.push(json!({
                        "policy": subject.name,
                        "resources": n,
                        "thread_us": crate::stats::micros(p.thread),
                        "describe_us": crate::stats::micros(p.describe),
                        "check_settings_us": crate::stats::micros(p.check),
                        "evaluate_us": crate::stats::micros(p.evaluate),
                        "store_to_decision_us": crate::stats::micros(p.run),
                        "release_to_wit_us": crate::stats::micros(p.to_wit),
                        "read_release_us": crate::stats::micros(p.parse),
                        "fuel": p.fuel,
                    }));
                }
                Err(error) => {
                    let error = one_line(&error);
                    println!("{}: error: {error}", size_label(n));
                    out.push(json!({"policy": subject.name, "resources": n, "error": error}));
                }
            }
        }
        table.print();
    }
    json!({"load_average": load, "rows": out})
}

struct Phases {
    thread: Duration,
    describe: Duration,
    check: Duration,
    evaluate: Duration,
    run: Duration,
    to_wit: Duration,
    parse: Duration,
    fuel: u64,
}

/// Median of `f` run under a budget of `seconds`.
fn median_of(
    budget: Budget,
    mut f: impl FnMut() -> Result<Duration, String>,
) -> Result<Duration, String> {
    f()?;
    let mut samples = Vec::new();
    let started = Instant::now();
    while budget.more(started, samples.len()) {
        samples.push(f()?);
    }
    Summary::of(&samples)
        .map(|s| s.median)
        .ok_or_else(|| "no samples".into())
}

fn timed<R>(f: impl FnOnce() -> Result<R, String>) -> Result<(Duration, R), String> {
    let started = Instant::now();
    let r = f()?;
    Ok((started.elapsed(), r))
}

fn phases(bench: &Bench, subject: &Subject, n: usize, seconds: f64) -> Result<Phases, String> {
    let budget = {
        let mut b = Budget::new(bench.quick, seconds);
        b.min_iterations = b.min_iterations.min(3);
        b
    };
    let text = bench.text(n);
    let parse_release = || -> Result<Release, String> {
        read_release(text.as_bytes(), "generated", &InputOptions::default())
            .map(|(r, _)| r)
            .map_err(|e| e.to_string())
    };
    let release = parse_release()?;
    let shared = Arc::new(release.clone());
    let policy = &subject.policy;
    let options = &subject.options;
    let thread = median_of(budget, || {
        Ok(timed(|| {
            std::thread::scope(|scope| {
                std::thread::Builder::new()
                    .stack_size(EVALUATION_THREAD_STACK)
                    .spawn_scoped(scope, || 1u8)
                    .map_err(|e| e.to_string())?
                    .join()
                    .map_err(|_| "thread panicked".to_string())
            })
        })?
        .0)
    })?;
    let describe = median_of(budget, || {
        Ok(timed(|| policy.describe(options).map_err(|e| e.to_string()))?.0)
    })?;
    let check = median_of(budget, || {
        Ok(timed(|| {
            policy
                .check_settings(&subject.settings, options)
                .map_err(|e| e.to_string())
        })?
        .0)
    })?;
    let mut runs = Vec::new();
    let mut fuel = 0;
    let evaluate = median_of(budget, || {
        let (elapsed, run) = timed(|| {
            policy
                .evaluate_shared(&shared, &subject.settings, options)
                .map_err(|e| e.to_string())
        })?;
        runs.push(run.duration);
        fuel = run.fuel_used;
        Ok(elapsed)
    })?;
    let run = Summary::of(&runs)
        .map(|s| s.median)
        .unwrap_or(Duration::ZERO);
    let to_wit = median_of(budget, || {
        let started = Instant::now();
        let wit = gatehouse_core::runtime::convert::release_to_wit(&release);
        let elapsed = started.elapsed();
        drop(wit);
        Ok(elapsed)
    })?;
    let parse = median_of(budget, || Ok(timed(parse_release)?.0))?;
    Ok(Phases {
        thread,
        describe,
        check,
        evaluate,
        run,
        to_wit,
        parse,
        fuel,
    })
}

/// The native stack `LoadedPolicy::evaluate` gives its thread (1 MiB guest
/// stack × 8 + 8 MiB; see host/src/runtime/policy.rs).
const EVALUATION_THREAD_STACK: usize = (1 << 20) * 8 + (8 << 20);
