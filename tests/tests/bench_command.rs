//! `gatehouse bench`: every phase is measured and reported (the numbers
//! themselves are not checked: these machines are shared and noisy), the
//! verdict and fuel match `eval`'s, and bad arguments are usage errors.

use gatehouse_e2e::{assert_error, gatehouse, policy, workspace_root};
use serde_json::Value;

fn release() -> String {
    workspace_root()
        .join("example-policies/releases/staging-recreate-database.json")
        .display()
        .to_string()
}

#[test]
fn bench_reports_every_phase_with_the_verdict_and_fuel_of_eval() {
    let policy = policy("destructive-changes").display().to_string();
    let run = gatehouse([
        "bench",
        "--policy",
        &policy,
        "--input",
        &release(),
        "--iterations",
        "20",
        "--compile-iterations",
        "1",
        "--now",
        "2026-11-22T10:00:00Z",
        "--output",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["schema"], "gatehouse.bench/v1");
    assert_eq!(report["resources"], 3);
    let phases: Vec<&str> = report["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .map(|p| p["phase"].as_str().expect("name"))
        .collect();
    assert_eq!(
        phases,
        [
            "read",
            "compile",
            "cache-load",
            "instantiate",
            "calls",
            "evaluate"
        ]
    );
    for phase in report["phases"].as_array().expect("phases") {
        let (min, median, p99) = (
            phase["min_us"].as_f64().expect("min"),
            phase["median_us"].as_f64().expect("median"),
            phase["p99_us"].as_f64().expect("p99"),
        );
        assert!(phase["samples"].as_u64().expect("samples") >= 1, "{phase}");
        assert!(0.0 < min && min <= median && median <= p99, "{phase}");
    }

    let eval = gatehouse([
        "--no-cache",
        "eval",
        "--policy",
        &policy,
        "--input",
        &release(),
        "--now",
        "2026-11-22T10:00:00Z",
        "--output",
        "json",
    ]);
    let eval: Value = serde_json::from_str(&eval.stdout).expect("eval JSON");
    assert_eq!(report["verdict"], eval["verdict"]);
    assert_eq!(report["fuel_used"], eval["policies"][0]["fuel_used"]);
    assert_eq!(report["wasm_sha256"], eval["policies"][0]["wasm_sha256"]);
}

#[test]
fn bench_text_output_has_one_row_per_phase() {
    let run = gatehouse([
        "bench",
        "--policy",
        &policy("stream-approval").display().to_string(),
        "--input",
        &release(),
        "--iterations",
        "5",
        "--compile-iterations",
        "1",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for phase in [
        "read",
        "compile",
        "cache-load",
        "instantiate",
        "calls",
        "evaluate",
    ] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(phase)),
            "no {phase} row: {}",
            run.stdout
        );
    }
}

#[test]
fn bench_refuses_bad_arguments() {
    let policy = policy("stream-approval").display().to_string();
    let zero = gatehouse([
        "bench",
        "--policy",
        &policy,
        "--input",
        &release(),
        "--iterations",
        "0",
    ]);
    assert_error(&zero, &["--iterations", "at least 1"]);
    let budget = gatehouse([
        "bench",
        "--policy",
        &policy,
        "--input",
        &release(),
        "--max-seconds",
        "0",
    ]);
    assert_error(&budget, &["--max-seconds", "positive"]);
    let missing = gatehouse([
        "bench",
        "--policy",
        "no-such-policy.wasm",
        "--input",
        &release(),
    ]);
    assert_error(&missing, &["no-such-policy.wasm"]);
}
