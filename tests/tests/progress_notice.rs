//! The progress notice before a slow compile: `eval`, `test` and `inspect`
//! print `gatehouse: compiling policy PATH (first run; cached afterwards)…`
//! on stderr when a large policy (the JavaScript twin, 12 MiB) misses a cold
//! compile cache, and nothing once the cache is warm or for a small Rust
//! policy (`bench` announces its uncached compile measurement the same way);
//! stdout, `--output json` included, never carries it.

use gatehouse_e2e::twins::example_release;
use gatehouse_e2e::{Run, assert_no_host_panic, gatehouse, policy};
use std::path::Path;

const NOTICE: &str = "compiling policy";

fn run(cache: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--cache-dir", cache.to_str().expect("UTF-8 temp path")];
    all.extend_from_slice(args);
    let run = gatehouse(&all);
    assert_no_host_panic(&run);
    run
}

fn notices(run: &Run) -> usize {
    run.stderr.matches(NOTICE).count()
}

fn assert_quiet(run: &Run, what: &str) {
    assert_eq!(notices(run), 0, "{what}: {run:#?}");
    assert!(!run.stdout.contains(NOTICE), "{what}: {run:#?}");
}

#[test]
fn a_cold_cache_compile_is_announced_on_stderr_once() {
    let js = policy("destructive-changes-js").display().to_string();
    let input = example_release("staging-update.json");
    let eval = [
        "eval", "--policy", &js, "--input", &input, "--output", "json",
    ];

    // Cold: one notice naming the file, on stderr; stdout is only the report.
    let cache = tempfile::tempdir().expect("cache dir");
    let cold = run(cache.path(), &eval);
    assert_eq!(cold.code, 0, "{cold:#?}");
    assert_eq!(notices(&cold), 1, "{cold:#?}");
    assert!(
        cold.stderr.contains(&format!(
            "gatehouse: compiling policy {js} (first run; cached afterwards)…\n"
        )),
        "{cold:#?}"
    );
    assert!(!cold.stdout.contains(NOTICE), "{cold:#?}");
    let report = cold.json();
    assert_eq!(report["exit_code"], 0, "{report:#}");

    // Warm: the same commands say nothing.
    assert_quiet(&run(cache.path(), &eval), "warm eval");
    assert_quiet(
        &run(cache.path(), &["inspect", &js, "--output", "json"]),
        "warm inspect",
    );
    let warm_test = run(
        cache.path(),
        &[
            "test",
            "example-policies/destructive-changes",
            "--policy",
            &js,
        ],
    );
    assert_eq!(warm_test.code, 0, "{warm_test:#?}");
    assert_quiet(&warm_test, "warm test");
}

#[test]
fn test_and_inspect_announce_a_compile_and_small_policies_do_not() {
    let js = policy("destructive-changes-js").display().to_string();

    // `test`: every case loads the policy, only the first compiles.
    let cache = tempfile::tempdir().expect("cache dir");
    let suite = run(
        cache.path(),
        &[
            "test",
            "example-policies/destructive-changes",
            "--policy",
            &js,
        ],
    );
    assert_eq!(suite.code, 0, "{suite:#?}");
    assert_eq!(notices(&suite), 1, "{suite:#?}");
    assert!(!suite.stdout.contains(NOTICE), "{suite:#?}");

    // `inspect` without a cache compiles every time, and says so.
    let inspect = gatehouse(["--no-cache", "inspect", &js, "--output", "json"]);
    assert_no_host_panic(&inspect);
    assert_eq!(inspect.code, 0, "{inspect:#?}");
    assert!(
        inspect.stderr.contains(&format!(
            "gatehouse: compiling policy {js} (no compile cache)…\n"
        )),
        "{inspect:#?}"
    );
    assert_eq!(inspect.json()["schema"], "gatehouse.inspect/v1");

    // A Rust policy compiles in well under a second: no notice, cold or not.
    let rust = policy("change-budget").display().to_string();
    let small = tempfile::tempdir().expect("cache dir");
    let input = example_release("staging-update.json");
    let cold = run(
        small.path(),
        &["eval", "--policy", &rust, "--input", &input],
    );
    assert_eq!(cold.code, 0, "{cold:#?}");
    assert_quiet(&cold, "a small policy");
}

#[test]
fn the_notice_escapes_the_path_it_quotes() {
    // A file name is text the runner does not control: a forged line in it
    // stays inside the one notice line.
    let dir = tempfile::tempdir().expect("dir");
    let hostile = dir.path().join("x\n::error::forged.wasm");
    std::fs::copy(policy("destructive-changes-js"), &hostile).expect("copy policy");
    let hostile = hostile.to_str().expect("UTF-8 temp path").to_string();
    let run = gatehouse(["--no-cache", "inspect", &hostile, "--output", "json"]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(notices(&run), 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("x\\u{a}::error::forged.wasm (no compile cache)…"),
        "{run:#?}"
    );
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("::error")),
        "{run:#?}"
    );
}

#[test]
fn bench_announces_its_compile_measurement_once_and_keeps_stdout_json() {
    let js = policy("destructive-changes-js").display().to_string();
    let input = example_release("staging-update.json");
    let run = gatehouse([
        "bench",
        "--policy",
        &js,
        "--input",
        &input,
        "--iterations",
        "2",
        "--compile-iterations",
        "1",
        "--output",
        "json",
    ]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(notices(&run), 1, "{run:#?}");
    assert!(
        run.stderr.contains(&format!(
            "gatehouse: compiling policy {js} (no compile cache)…\n"
        )),
        "{run:#?}"
    );
    assert_eq!(run.json()["schema"], "gatehouse.bench/v1");

    // A small Rust policy: no notice.
    let rust = policy("change-budget").display().to_string();
    let small = gatehouse([
        "bench",
        "--policy",
        &rust,
        "--input",
        &input,
        "--iterations",
        "2",
        "--compile-iterations",
        "1",
    ]);
    assert_eq!(small.code, 0, "{small:#?}");
    assert_quiet(&small, "bench of a small policy");
}
