//! A misbehaving policy (the `trap-policy` fixture) is contained: a panic,
//! an `unreachable` trap, an endless loop (ended by fuel), unbounded
//! recursion or allocation, an evaluation error or a decision the contract
//! forbids all end in exit code 3 with one error line naming the policy, the
//! phase and the cause, and the host itself never panics. A policy that
//! floods the log or prints is not an error: the report keeps a capped
//! amount and counts the rest.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    Run, assert_error, assert_no_host_panic, fixture_policy, gatehouse, policy, release_json,
    temp_file,
};

/// Lines the host keeps per evaluation (`Limits::max_log_lines`).
const MAX_LOG_LINES: u64 = 1_000;
/// Lines the fixture logs in `log-flood` mode.
const FLOOD_LINES: u64 = 100_000;

/// Runs trap-policy in `mode` on a QA release, with extra arguments.
fn trap(mode: &str, extra: &[&str]) -> Run {
    let input = temp_file(
        release_json(
            "qa",
            "QA",
            &[("mysql", "orders", "datastores/orders", "CREATE")],
        ),
        ".json",
    );
    let mut args = vec![
        "eval".to_string(),
        "--policy".to_string(),
        fixture_policy("trap-policy").display().to_string(),
        "--input".to_string(),
        input.path().display().to_string(),
        "--set".to_string(),
        format!("mode={mode}"),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    gatehouse(&args)
}

#[test]
fn well_behaved_mode_approves() {
    // The baseline: the fixture itself works, so the failures below are the modes'.
    let run = trap("none", &[]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .contains("policy trap-policy 0.1.0: auto-approve"),
        "{run:#?}"
    );
}

#[test]
fn panic_in_evaluate() {
    let run = trap("panic", &[]);
    assert_error(
        &run,
        &[
            "policy 'trap-policy'",
            "trap-policy.wasm",
            "trapped in evaluate",
            "unreachable",
            // The panic message, from the guest's stderr.
            "boom: deliberate panic",
        ],
    );
}

#[test]
fn panic_in_validate_settings() {
    let run = trap("panic-validate", &[]);
    assert_error(
        &run,
        &[
            "policy 'trap-policy'",
            "trapped in validate-settings",
            "boom: deliberate panic in validate",
        ],
    );
}

#[test]
fn unreachable_instruction() {
    let run = trap("unreachable", &[]);
    let message = assert_error(
        &run,
        &[
            "policy 'trap-policy'",
            "trapped in evaluate",
            "wasm `unreachable` instruction executed",
        ],
    );
    assert!(
        !message.contains("stderr:"),
        "nothing was printed, so no stderr tail: {message}"
    );
}

#[test]
fn endless_loop_runs_out_of_fuel() {
    let run = trap("spin", &["--fuel", "10000000"]);
    assert_error(
        &run,
        &[
            "policy 'trap-policy'",
            "ran out of fuel in evaluate",
            "limit 10000000",
            "--fuel",
        ],
    );
}

#[test]
fn too_little_fuel_to_start() {
    let run = trap("none", &["--fuel", "0"]);
    assert_error(&run, &["ran out of fuel in instantiation", "limit 0"]);
}

#[test]
fn unbounded_recursion_traps() {
    // Rust's shadow stack lives in linear memory: overflowing it is either an
    // out-of-bounds access or call-stack exhaustion. Either way, a trap.
    let run = trap("recurse", &[]);
    assert_error(&run, &["policy 'trap-policy'", "trapped in evaluate"]);
}

#[test]
fn unbounded_allocation_hits_the_memory_limit() {
    // Only the phase is checked here; the cause is `memory_limit_error_names_the_cause`.
    let run = trap("oom", &["--memory-mib", "32"]);
    assert_error(&run, &["policy 'trap-policy'", " in evaluate"]);
}

#[test]
fn memory_limit_error_names_the_cause() {
    let run = trap("oom", &["--memory-mib", "32"]);
    let message = assert_error(
        &run,
        &[
            "policy 'trap-policy'",
            "exceeded its 32 MiB memory limit in evaluate",
            "--memory-mib",
        ],
    );
    assert!(
        !message.contains("wasm backtrace"),
        "the cause, not the backtrace header: {message}"
    );
}

#[test]
fn the_json_error_names_the_limit_hit() {
    for (mode, extra, name, value) in [
        ("oom", ["--memory-mib", "32"], "memory", 32u64 << 20),
        ("spin", ["--fuel", "10000000"], "fuel", 10_000_000),
    ] {
        let mut args = extra.to_vec();
        args.extend(["--output", "json"]);
        let run = trap(mode, &args);
        assert_eq!(run.code, 3, "{run:#?}");
        let json = run.json();
        assert_eq!(json["verdict"], "error", "{json}");
        assert_eq!(json["policy"], "trap-policy", "{json}");
        assert_eq!(json["limit"]["name"], name, "{json}");
        assert_eq!(json["limit"]["value"], value, "{json}");
    }
}

#[test]
fn endless_loop_with_ample_fuel_hits_the_wall_clock_timeout() {
    // Fuel high enough that the epoch deadline must be what stops the loop.
    let run = trap(
        "spin",
        &[
            "--fuel",
            "1000000000000000",
            "--timeout-ms",
            "200",
            "--output",
            "json",
        ],
    );
    assert_eq!(run.code, 3, "{run:#?}");
    let json = run.json();
    let error = json["error"].as_str().expect("error message");
    assert!(
        error.contains("policy 'trap-policy'")
            && error.contains("timed out after 200 ms in evaluate"),
        "{error}"
    );
    assert_eq!(json["limit"]["name"], "timeout-ms", "{json}");
    assert_eq!(json["limit"]["value"], 200, "{json}");
}

#[test]
fn evaluation_error_is_could_not_decide() {
    let run = trap("error", &[]);
    assert_error(
        &run,
        &[
            "policy 'trap-policy'",
            "could not decide: cannot decide: deliberate",
        ],
    );
}

#[test]
fn fail_without_reason_is_an_invalid_decision() {
    let run = trap("bad-decision", &[]);
    assert_error(
        &run,
        &[
            "policy 'trap-policy'",
            "returned an invalid decision",
            "fail without a reason",
        ],
    );
}

#[test]
fn unknown_mode_is_rejected_with_the_policys_message() {
    let run = trap("explode", &[]);
    assert_error(
        &run,
        &[
            "policy 'trap-policy'",
            "settings rejected",
            "setting 'mode': unknown mode \"explode\"",
        ],
    );
}

#[test]
fn trap_in_json_mode_prints_the_error_object() {
    let run = trap("panic", &["--output", "json"]);
    let message = assert_error(&run, &["boom: deliberate panic"]);
    let report = run.json();
    assert_eq!(report["verdict"], "error");
    assert_eq!(report["exit_code"], 3);
    assert_eq!(report["error"], message.as_str());
}

#[test]
fn a_trap_in_one_policy_is_an_error_even_if_others_decide() {
    // Error beats every verdict: no decision is made from a partial run.
    let input = temp_file(release_json("prod", "PROD", &[]), ".json");
    let run = gatehouse([
        "eval",
        "--policy",
        &policy("stream-approval").display().to_string(),
        "--policy",
        &fixture_policy("trap-policy").display().to_string(),
        "--input",
        &input.path().display().to_string(),
        "--set",
        "trap-policy:mode=panic",
    ]);
    assert_error(&run, &["policy 'trap-policy'", "trapped in evaluate"]);
    assert!(run.stdout.is_empty(), "no partial report: {run:#?}");
}

#[test]
fn log_flood_is_capped_and_counted() {
    let run = trap("log-flood", &["--output", "json"]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "flooding the log is not an error: {run:#?}");
    let report = run.json();
    let section = &report["policies"][0];
    let logs = section["logs"].as_array().expect("logs array");
    assert_eq!(logs.len() as u64, MAX_LOG_LINES, "logs are capped");
    assert_eq!(
        section["logs_dropped"].as_u64(),
        Some(FLOOD_LINES - MAX_LOG_LINES),
        "the rest are counted"
    );
    assert_eq!(logs[0]["level"], "info");
    assert_eq!(
        logs[0]["message"], "flood line 0",
        "the first lines are kept"
    );
    assert_eq!(logs[logs.len() - 1]["message"], "flood line 999");
}

#[test]
fn log_flood_in_text_mode_says_lines_were_dropped() {
    let run = trap("log-flood", &[]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.contains("log info: flood line 0\n"), "{run:#?}");
    assert!(
        run.stdout
            .contains("log: 99000 more lines dropped (over the cap)"),
        "{run:#?}"
    );
}

#[test]
fn stdout_and_stderr_are_captured_into_the_report() {
    let run = trap("print", &["--output", "json"]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.json();
    let section = &report["policies"][0];
    assert_eq!(section["stdout"], "trap-policy says hello on stdout\n");
    assert_eq!(section["stderr"], "trap-policy says hello on stderr\n");
    assert!(
        run.stderr.is_empty(),
        "the guest's output never reaches the host's stderr: {run:#?}"
    );

    let run = trap("print", &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .contains("  stdout: trap-policy says hello on stdout\n"),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains("  stderr: trap-policy says hello on stderr\n"),
        "{run:#?}"
    );
}

#[test]
fn a_proper_fail_verdict_exits_1() {
    let run = trap("fail", &["--output", "json"]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 1, "{run:#?}");
    let report = run.json();
    assert_eq!(report["verdict"], "fail");
    assert_eq!(
        report["policies"][0]["reasons"][0]["message"],
        "trap-policy fails on request"
    );
}
