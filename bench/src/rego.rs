//! The reference Rego rules (../shared/reference/rego/) evaluated in-process
//! by regorus, against our policies, from the same JSON text, interleaved.
//!
//! Protocol (issue 6): the engine is prepared once with the policy; per
//! evaluation it is cloned, the input is set from the JSON text, the rule is
//! evaluated and the verdict read. Ours: `read_release` of the same text, then
//! `LoadedPolicy::evaluate` in a fresh store, verdict read.

use crate::generate::expected_destructive_reasons;
use crate::inproc::{Subject, eval_text, one_line};
use crate::report::{Table, heading};
use crate::shared;
use crate::stats::{Budget, Summary, fmt, ratio};
use crate::{Bench, size_label};
use regorus::{Engine, Value as RegoValue};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// A Rego rule and the policy of ours with the same logic.
pub struct Pair<'a> {
    /// The rule's path, e.g. `data.gate.destructive_changes`.
    pub rule: &'static str,
    /// The `.rego` file.
    pub file: &'static str,
    /// Our policy.
    pub ours: &'a Subject,
}

/// What Rego decided: the verdict and, for destructive_changes, the reasons.
#[derive(Debug, PartialEq)]
struct RegoDecision {
    verdict: String,
    reasons: Vec<String>,
}

/// Loads the policy into an engine and prepares it with one evaluation.
fn prepared_engine(dir: &Path, pair: &Pair) -> Result<Engine, String> {
    let path = dir.join(pair.file);
    let rego = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut engine = Engine::new();
    engine
        .add_policy(pair.file.to_string(), rego)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    engine
        .set_input_json(&crate::generate::release_json(1))
        .map_err(|e| e.to_string())?;
    engine
        .eval_rule(pair.rule.to_string())
        .map_err(|e| e.to_string())?;
    Ok(engine)
}

/// One Rego evaluation from JSON text: clone, set input, evaluate, read.
fn rego_eval(prepared: &Engine, rule: &str, text: &str) -> Result<RegoDecision, String> {
    let mut engine = prepared.clone();
    engine.set_input_json(text).map_err(|e| e.to_string())?;
    let value = engine
        .eval_rule(rule.to_string())
        .map_err(|e| e.to_string())?;
    read_decision(&value)
}

fn read_decision(value: &RegoValue) -> Result<RegoDecision, String> {
    if let Ok(verdict) = value.as_string() {
        return Ok(RegoDecision {
            verdict: verdict.to_string(),
            reasons: Vec::new(),
        });
    }
    let verdict = value["verdict"]
        .as_string()
        .map_err(|e| format!("no verdict in {value}: {e}"))?
        .to_string();
    let reasons = value["reasons"]
        .as_array()
        .map_err(|e| format!("no reasons in {value}: {e}"))?
        .iter()
        .map(|r| {
            r.as_string()
                .map(|s| s.to_string())
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    Ok(RegoDecision { verdict, reasons })
}

/// Runs every pair on every size, interleaved (ours, Rego, ours, ...).
pub fn run(bench: &Bench, pairs: &[Pair], seconds: f64) -> Value {
    let load = heading("Against Rego (regorus 0.14.1), in-process, JSON text → verdict");
    let dir = match shared::file_or_skip(
        &bench.shared,
        shared::REGO_DIR,
        "section rego (the reference Rego rules against ours)",
    ) {
        Ok(dir) => dir,
        Err(mut unavailable) => {
            unavailable["load_average"] = json!(load);
            return unavailable;
        }
    };
    println!(
        "Interleaved in one loop per row. Ours: `read_release` + `LoadedPolicy::evaluate` (fresh store and instance). Rego: clone the prepared engine, `set_input_json`, `eval_rule`, read the verdict. Ratio = our median / regorus median (below 0.5 meets the 2× target). Verdicts and reasons are compared once per row.\n"
    );
    let mut out = Vec::new();
    for pair in pairs {
        println!("#### {} vs {}\n", pair.ours.name, pair.rule);
        let engine = match prepared_engine(&dir, pair) {
            Ok(engine) => engine,
            Err(error) => {
                println!("**cannot prepare the Rego engine: {error}**\n");
                out.push(json!({"rule": pair.rule, "error": error}));
                continue;
            }
        };
        let mut table = Table::new(&[
            "resources",
            "ours: min",
            "median",
            "p99",
            "regorus: min",
            "median",
            "p99",
            "ours / regorus (median)",
            "iterations",
            "same verdict",
        ]);
        for &n in &bench.sizes {
            match row(bench, pair, &engine, n, seconds) {
                Ok((ours, rego, same)) => {
                    let r = ratio(ours.median, rego.median);
                    table.row(vec![
                        size_label(n),
                        fmt(ours.min),
                        fmt(ours.median),
                        fmt(ours.p99),
                        fmt(rego.min),
                        fmt(rego.median),
                        fmt(rego.p99),
                        format!("{r:.2}"),
                        ours.iterations.to_string(),
                        same.clone(),
                    ]);
                    out.push(json!({
                        "rule": pair.rule,
                        "policy": pair.ours.name,
                        "resources": n,
                        "ours": ours.to_json(),
                        "regorus": rego.to_json(),
                        "ratio_median": r,
                        "same_verdict": same,
                    }));
                }
                Err(error) => {
                    let error = one_line(&error);
                    println!("{}: error: {error}", size_label(n));
                    out.push(json!({"rule": pair.rule, "resources": n, "error": error}));
                }
            }
        }
        table.print();
    }
    json!({"load_average": load, "rows": out})
}

fn row(
    bench: &Bench,
    pair: &Pair,
    engine: &Engine,
    n: usize,
    seconds: f64,
) -> Result<(Summary, Summary, String), String> {
    let text = bench.text(n);
    // Warm up both, and compare what they decide.
    let ours = eval_text(pair.ours, text)?;
    let rego = rego_eval(engine, pair.rule, text)?;
    let our_reasons: Vec<String> = ours
        .decision
        .reasons
        .iter()
        .filter(|r| r.resource_path.is_some())
        .map(|r| r.message.clone())
        .collect();
    let mut problems = Vec::new();
    if ours.decision.verdict.as_str() != rego.verdict {
        problems.push(format!(
            "verdicts differ: ours {}, Rego {}",
            ours.decision.verdict.as_str(),
            rego.verdict
        ));
    }
    if pair.rule.ends_with("destructive_changes") {
        if our_reasons != rego.reasons {
            problems.push(format!(
                "reasons differ: ours {}, Rego {}",
                our_reasons.len(),
                rego.reasons.len()
            ));
        }
        if rego.reasons != expected_destructive_reasons(n) {
            problems.push("Rego's reasons are not the expected ones".into());
        }
    }
    let same = if problems.is_empty() {
        format!("yes ({}, {} reasons)", rego.verdict, rego.reasons.len())
    } else {
        let message = problems.join("; ");
        eprintln!(
            "\n!!!!! MISMATCH ({} vs {} at {n} resources): {message}; the comparison is unfair !!!!!\n",
            pair.ours.name, pair.rule
        );
        format!("**NO: {message}**")
    };
    let budget = Budget::new(bench.quick, seconds);
    let (mut ours_samples, mut rego_samples) = (Vec::new(), Vec::new());
    let started = Instant::now();
    while budget.more(started, ours_samples.len()) {
        let t = eval_text(pair.ours, text)?;
        ours_samples.push(t.parse + t.evaluate);
        rego_samples.push(time_rego(engine, pair.rule, text)?);
    }
    let summary = |s: &[Duration]| Summary::of(s).ok_or_else(|| "no samples".to_string());
    Ok((summary(&ours_samples)?, summary(&rego_samples)?, same))
}

/// One timed Rego evaluation; the clone is dropped after the clock stops
/// (ours drops its parsed release after the clock stops too).
fn time_rego(engine: &Engine, rule: &str, text: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let mut clone = engine.clone();
    clone.set_input_json(text).map_err(|e| e.to_string())?;
    let value = clone
        .eval_rule(rule.to_string())
        .map_err(|e| e.to_string())?;
    let verdict = if let Ok(v) = value.as_string() {
        v.clone()
    } else {
        value["verdict"]
            .as_string()
            .map_err(|e| e.to_string())?
            .clone()
    };
    let elapsed = started.elapsed();
    drop((verdict, value, clone));
    Ok(elapsed)
}
