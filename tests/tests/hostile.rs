//! The hostile-policy suite: policies written to hurt the host. Every case
//! checks the exit code, a message fragment saying what limit or refusal
//! ended it, a bound on wall time (a hang guard: the child is killed and the
//! test fails past it) and a bound on the child's peak resident memory
//! (`VmHWM`, sampled every 5 ms by [`gatehouse_e2e::run_bounded`]): the
//! policy's memory limit plus [`HOST_OVERHEAD_BYTES`].
//!
//! | # | case | expected |
//! |---|---|---|
//! | 1 | endless loop in `evaluate` | exit 3: out of fuel (small `--fuel`); timed out (huge `--fuel`, `--timeout-ms 500`) |
//! | 2 | endless loop in `describe` (fixture `spin-describe`) and in `validate-settings` (`mode=spin-validate`) | exit 3: out of fuel / timed out, naming the export |
//! | 3 | deep recursion: shadow-stack frames (`mode=recurse`) and wasm-stack frames (`mode=recurse-native`) | exit 3: trapped (out-of-bounds access / call stack exhausted), host stack intact |
//! | 4 | memory growth bomb with `--memory-mib 64` | exit 3 naming the 64 MiB limit; JSON `limit` = memory |
//! | 5 | huge return values: a 100 MB reason, millions of reasons, 1,000 reasons aliasing one 1 MiB buffer | exit 3, host memory bounded (the copy is stopped, never amplified) |
//! | 5b | a decision at the host's documented caps (100,000 reasons) | accepted |
//! | 6 | log flood; 100 MB each to stdout and stderr | exit 0; report keeps 1,000 lines / 64 KiB each with `…[truncated]` |
//! | 7 | reading `/etc/passwd` and the host environment without grants | the read fails, the content and the secret never appear; `--allow-env` passes exactly the variable named |
//! | 8 | `--allow-read DIR`: read inside, `DIR/../x`, a symlink out, an absolute path out, writing inside | only the read inside works |
//! | 9 | TCP connect to a listener the test opens, UDP send, DNS lookup | all fail; the listener sees no connection, no datagram |
//! | 10 | panic, `unreachable` | see `traps.rs` (`panic_in_evaluate`, `unreachable_instruction`) |
//! | 11 | core module, garbage, empty file: see `bad_input.rs`; a truncated component | exit 3 `invalid component` |
//! | 12 | a component of another world: see `bad_input.rs`; components importing `wasi:http` (built with wit-bindgen, and built here with the exact name `wasi:http/outgoing-handler@0.2.0`) or an unknown host function | exit 3 before instantiation, naming the import |
//! | 13 | a policy carrying a core module of 200,000 functions | exit 3 before compiling: too large (at most 50,000 functions) |
//! | 14 | an hour's `std::thread::sleep`, and a `wasi:io/poll` on a clock pollable at `u64::MAX`, in `evaluate`, `validate-settings` and `describe` (fixture `sleep-describe`); the same via `inspect`, `test` and `bench` | exit 3 `timed out after N ms in <phase>` at once (the virtual clock), well within the budget + 250 ms; `inspect` exits 0 reporting `describe` timed out |
//! | 14b | a sleep within the budget | succeeds at once; the virtual monotonic clock moved by exactly the time slept |
//! | 14c | reading a FIFO in a granted directory (blocks in a host call) | exit 3 `timed out after 1000 ms in evaluate` at the budget plus the caller's slack (the caller-side deadline) |
//! | 15 | a policy reading `wasi:random` (secure, insecure, seed) | ten runs give one answer; with `--allow-random` two runs differ |
//! | 16 | `describe` answers past the limits (fixture `describe-from-env`): a 129-byte name, a 65-byte version, a 4097-byte description, control, bidi and separator characters | exit 3 naming the limit; answers at the limits pass |
//! | 17 | reading arguments and stdin (mode `args-stdin`) while the test feeds the process's stdin real data | no arguments at all, 0 bytes on stdin |
//! | 18 | a `static` counter (mode `counter`) evaluated three times in one process: `eval` with the policy three times, `gatehouse test` with three cases | every evaluation counts 1: a fresh instance each time |
//! | 19 | `std::time::SystemTime::now()` around a sleep (mode `wall-clock`) | frozen at `--now` (two `--now` values give their own seconds), or without `--now` at the run's start |
//! | 20 | 25 MiB passed to the host in one call: one `log` line (mode `log-lines`), one `output-stream.write` (mode `write-once`) | exit 3 `passed more than 24 MiB to the host in one call in evaluate`, JSON `limit` = `hostcall-bytes` 25165824; exactly 24 MiB passes, one byte more does not |
//! | 21 | an endless loop and a memory bomb under the default limits | JSON `limit` = fuel 2000000000, memory 268435456 |
//! | 22 | 300 log lines of 1,000 bytes | at most 256 KiB of log text kept, the cut line ends `…[truncated]`, `logs_dropped` counts the other 37 |
//! | 23 | a decision one past its caps: 100,001 reasons, 16 MiB + 1 byte of text | exit 3 naming the cap; exactly 16 MiB is a decision |
//! | — | the harness: a run past its time bound | killed, and the test fails saying so |
//!
//! Run `cargo test -p gatehouse-e2e --test hostile -- --nocapture` to see
//! each case's measured time and peak memory.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    BoundedRun, Run, assert_error, assert_no_host_panic, fixture_policy, gatehouse_with_stdin,
    policy, release_json, run_bounded, run_bounded_with_env, temp_file,
};
use std::path::Path;
use std::time::Duration;

/// What the host process itself needs on top of the policy's linear memory:
/// wasmtime, the compiled policy, the pooling allocator's bookkeeping, the
/// report. Measured: a well-behaved trap-policy run peaks at about 32 MiB
/// (debug `gatehouse` with optimised dependencies, wasmtime 48, Linux
/// x86-64); 128 MiB leaves four times that as headroom. Checked by
/// [`baseline_well_behaved_policy_fits_the_overhead`].
const HOST_OVERHEAD_BYTES: u64 = 128 << 20;

/// The default `--memory-mib`.
const DEFAULT_MEMORY_MIB: u64 = 256;

/// The hang guard for every case: a few times the longest limit involved
/// (the 10 s default timeout), on a loaded two-core CI machine.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// Fuel high enough that only the wall-clock timeout can stop a loop.
const HUGE_FUEL: &str = "1000000000000000";

/// The report's truncation marker.
const TRUNCATED: &str = "…[truncated]";

/// Evaluates a one-resource QA release with `policy_file`, extra arguments
/// and extra environment variables, under the hang guard; prints what the
/// run cost (see `--nocapture`).
fn eval(name: &str, policy_file: &Path, extra: &[&str], envs: &[(&str, &str)]) -> BoundedRun {
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
        policy_file.display().to_string(),
        "--input".to_string(),
        input.path().display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let bounded = run_bounded_with_env(&args, envs, HANG_GUARD);
    eprintln!(
        "{name}: exit {}, {:.2} s, peak RSS {:.1} MiB",
        bounded.run.code,
        bounded.elapsed.as_secs_f64(),
        bounded.peak_rss_mib()
    );
    bounded
}

/// Runs trap-policy in `mode` with extra arguments.
fn trap(mode: &str, extra: &[&str]) -> BoundedRun {
    let mode_setting = format!("mode={mode}");
    let mut args = vec!["--set", mode_setting.as_str()];
    args.extend_from_slice(extra);
    eval(mode, &fixture_policy("trap-policy"), &args, &[])
}

/// Asserts the run stayed within `max_time` and within `memory_mib` of
/// policy memory plus the host's overhead.
fn assert_bounded(bounded: &BoundedRun, memory_mib: u64, max_time: Duration) {
    assert_no_host_panic(&bounded.run);
    assert!(
        bounded.elapsed <= max_time,
        "took {:?}, more than {max_time:?}: {:#?}",
        bounded.elapsed,
        bounded.run
    );
    let bound = (memory_mib << 20) + HOST_OVERHEAD_BYTES;
    assert!(
        bounded.peak_rss_bytes <= bound,
        "peak resident memory {:.1} MiB is over the bound of {} MiB ({memory_mib} MiB policy memory + {} MiB host overhead): {:#?}",
        bounded.peak_rss_mib(),
        bound >> 20,
        HOST_OVERHEAD_BYTES >> 20,
        bounded.run
    );
    if bounded.peak_rss_bytes == 0 {
        // The child can exit before the first poll on a loaded machine: a
        // run that short cannot be measured, but a long one must have been
        // (no reading then means the polling, or /proc, is broken).
        let proc_works = std::fs::read_to_string("/proc/self/status")
            .is_ok_and(|status| status.contains("VmHWM:"));
        assert!(
            proc_works && bounded.elapsed < Duration::from_secs(1),
            "no memory reading of a {:?} run (is /proc mounted?): {:#?}",
            bounded.elapsed,
            bounded.run
        );
    }
}

/// The reasons of the only policy in a JSON report.
fn reasons(run: &Run) -> Vec<String> {
    let report = run.json();
    report["policies"][0]["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons in {report}"))
        .iter()
        .map(|r| r["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Runs trap-policy in `mode` with JSON output, expects auto-approve, and
/// returns its reasons. `label` names the run in the printed measurements.
fn probe(
    label: &str,
    mode: &str,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> (BoundedRun, Vec<String>) {
    let mode_setting = format!("mode={mode}");
    let mut args = vec!["--set", mode_setting.as_str(), "--output", "json"];
    args.extend_from_slice(extra);
    let bounded = eval(label, &fixture_policy("trap-policy"), &args, envs);
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
    assert_eq!(bounded.run.code, 0, "{:#?}", bounded.run);
    let found = reasons(&bounded.run);
    (bounded, found)
}

#[test]
fn baseline_well_behaved_policy_fits_the_overhead() {
    // The measurement behind HOST_OVERHEAD_BYTES: no policy memory to speak of.
    let bounded = trap("none", &[]);
    assert_eq!(bounded.run.code, 0, "{:#?}", bounded.run);
    assert_bounded(&bounded, 0, HANG_GUARD);
}

#[test]
fn the_hang_guard_kills_a_run_past_its_bound() {
    // The harness itself: a loop that only the default 10 s timeout would
    // stop is killed after the 1 s bound, and the test fails saying so.
    let input = temp_file(release_json("qa", "QA", &[]), ".json");
    let args = [
        "eval".to_string(),
        "--policy".to_string(),
        fixture_policy("trap-policy").display().to_string(),
        "--input".to_string(),
        input.path().display().to_string(),
        "--set".to_string(),
        "mode=spin".to_string(),
        "--fuel".to_string(),
        HUGE_FUEL.to_string(),
    ];
    let started = std::time::Instant::now();
    let outcome =
        std::panic::catch_unwind(|| gatehouse_e2e::run_bounded(&args, Duration::from_secs(1)));
    let message = match outcome {
        Ok(bounded) => panic!("the run was not killed: {bounded:#?}"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default(),
    };
    assert!(
        message.contains("was killed: still running after"),
        "{message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "killed well before the policy's own 10 s timeout: {:?}",
        started.elapsed()
    );
}

// ---- 1. endless loop in evaluate ----

#[test]
fn endless_loop_in_evaluate_is_ended_by_fuel() {
    let bounded = trap("spin", &["--fuel", "10000000"]);
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "ran out of fuel in evaluate (limit 10000000)",
        ],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

#[test]
fn endless_loop_in_evaluate_is_ended_by_the_timeout() {
    let bounded = trap("spin", &["--fuel", HUGE_FUEL, "--timeout-ms", "500"]);
    assert_error(
        &bounded.run,
        &["policy 'trap-policy'", "timed out after 500 ms in evaluate"],
    );
    assert!(
        bounded.elapsed >= Duration::from_millis(500),
        "the loop ran until the deadline: {:?}",
        bounded.elapsed
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

// ---- 2. endless loop in describe and validate-settings ----

#[test]
fn endless_loop_in_describe_is_ended_by_fuel() {
    let bounded = eval(
        "spin-describe fuel",
        &fixture_policy("spin-describe"),
        &["--fuel", "10000000"],
        &[],
    );
    // Before `describe` returns the policy is named by its file stem.
    assert_error(
        &bounded.run,
        &[
            "policy 'spin-describe'",
            "ran out of fuel in describe (limit 10000000)",
        ],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

#[test]
fn endless_loop_in_describe_is_ended_by_the_timeout() {
    let bounded = eval(
        "spin-describe timeout",
        &fixture_policy("spin-describe"),
        &["--fuel", HUGE_FUEL, "--timeout-ms", "500"],
        &[],
    );
    assert_error(
        &bounded.run,
        &[
            "policy 'spin-describe'",
            "timed out after 500 ms in describe",
        ],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

#[test]
fn endless_loop_in_validate_settings_is_ended_by_fuel() {
    let bounded = trap("spin-validate", &["--fuel", "10000000"]);
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "ran out of fuel in validate-settings (limit 10000000)",
        ],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

#[test]
fn endless_loop_in_validate_settings_is_ended_by_the_timeout() {
    let bounded = trap(
        "spin-validate",
        &["--fuel", HUGE_FUEL, "--timeout-ms", "500"],
    );
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "timed out after 500 ms in validate-settings",
        ],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

// ---- 3. deep recursion ----

#[test]
fn deep_recursion_on_the_shadow_stack_traps() {
    // 512-byte frames on Rust's shadow stack in linear memory: ~2,000 real
    // nested calls exhaust its 1 MiB and the stack pointer wraps below
    // address 0. A loop could not do that: it would run out of fuel instead.
    let bounded = trap("recurse", &[]);
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "trapped in evaluate",
            "out of bounds memory access",
        ],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

#[test]
fn deep_recursion_on_the_wasm_stack_traps() {
    // Small frames in wasm locals: the guest's wasm call stack (1 MiB,
    // `MAX_WASM_STACK`) runs out first, and the host thread's does not.
    let bounded = trap("recurse-native", &[]);
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "trapped in evaluate",
            "call stack exhausted",
        ],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

// ---- 4. memory growth bomb ----

#[test]
fn memory_bomb_hits_the_64_mib_limit() {
    let bounded = trap("oom", &["--memory-mib", "64", "--output", "json"]);
    let message = assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "exceeded its 64 MiB memory limit in evaluate",
        ],
    );
    let json = bounded.run.json();
    assert_eq!(json["error"], message.as_str(), "{json}");
    assert_eq!(json["limit"]["name"], "memory", "{json}");
    assert_eq!(json["limit"]["value"], 64u64 << 20, "{json}");
    assert_bounded(&bounded, 64, HANG_GUARD);
}

// ---- 5. huge return values ----

#[test]
fn a_100_mb_reason_is_stopped_with_host_memory_bounded() {
    let bounded = trap("huge-reason", &["--set", "size=100000000"]);
    assert_error(&bounded.run, &["policy 'trap-policy'", " in evaluate"]);
    assert!(
        bounded.run.stdout.len() < 1 << 20,
        "no 100 MB report: {} bytes on stdout",
        bounded.run.stdout.len()
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

#[test]
fn millions_of_reasons_are_stopped_with_host_memory_bounded() {
    // 1,000,000 reasons fit in the guest's 256 MiB; 5,000,000 do not.
    for count in ["1000000", "5000000"] {
        let setting = format!("count={count}");
        let bounded = trap("many-reasons", &["--set", &setting]);
        assert_error(&bounded.run, &["policy 'trap-policy'", " in evaluate"]);
        assert!(
            bounded.run.stdout.len() < 1 << 20,
            "no giant report: {} bytes on stdout",
            bounded.run.stdout.len()
        );
        assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
    }
}

#[test]
fn aliased_reasons_cannot_amplify_host_memory() {
    // 1,000 reasons whose messages all point at one 1 MiB buffer: 1 MiB of
    // guest memory that the host would copy into 1,000 MiB. The host must
    // stop copying (or cap what it copies), not allocate a gigabyte.
    let bounded = trap(
        "alias-reasons",
        &["--set", "count=1000", "--set", "size=1048576"],
    );
    assert_error(&bounded.run, &["policy 'trap-policy'", " in evaluate"]);
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

#[test]
fn a_decision_at_the_documented_caps_is_accepted() {
    // runtime::convert::MAX_REASONS: the most reasons a decision may carry.
    let bounded = trap(
        "many-reasons",
        &["--set", "count=100000", "--output", "json"],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
    assert_eq!(bounded.run.code, 0, "{:#?}", bounded.run);
    assert_eq!(reasons(&bounded.run).len(), 100_000);
}

// ---- 6. floods ----

#[test]
fn log_flood_is_capped_with_host_memory_bounded() {
    let bounded = trap("log-flood", &["--output", "json"]);
    assert_eq!(bounded.run.code, 0, "{:#?}", bounded.run);
    let report = bounded.run.json();
    let section = &report["policies"][0];
    assert_eq!(section["logs"].as_array().map(Vec::len), Some(1000));
    assert_eq!(section["logs_dropped"].as_u64(), Some(99_000));
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

#[test]
fn stdout_and_stderr_floods_are_truncated_to_64_kib() {
    const SIZE: u64 = 100_000_000;
    const KEPT: u64 = 64 << 10;
    let bounded = trap(
        "output-flood",
        &["--set", &format!("size={SIZE}"), "--output", "json"],
    );
    assert_eq!(bounded.run.code, 0, "{:#?}", bounded.run);
    assert!(
        bounded.run.stderr.is_empty(),
        "the guest's output never reaches the host's stderr ({} bytes)",
        bounded.run.stderr.len()
    );
    let report = bounded.run.json();
    let section = &report["policies"][0];
    for stream in ["stdout", "stderr"] {
        let text = section[stream].as_str().expect("captured text");
        assert!(
            text.len() as u64 <= KEPT + TRUNCATED.len() as u64,
            "{stream} keeps at most 64 KiB: {} bytes",
            text.len()
        );
        assert!(
            text.ends_with(TRUNCATED),
            "{stream} is marked as cut: ...{}",
            &text[text.len().saturating_sub(40)..]
        );
        assert!(text.starts_with("oooo"), "{stream} keeps the first bytes");
        assert_eq!(
            section[format!("{stream}_dropped_bytes")].as_u64(),
            Some(SIZE - KEPT),
            "{stream}: the rest is counted"
        );
    }
    assert!(
        bounded.run.stdout.len() < 1 << 20,
        "the report itself stays small: {} bytes",
        bounded.run.stdout.len()
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

// ---- 7. files and environment without grants ----

#[test]
fn etc_passwd_is_unreadable_without_a_grant() {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let first_line = passwd.lines().next().unwrap_or("root:x:0:0:");
    // No grant at all, then a grant of an unrelated directory.
    let other = tempfile::tempdir().expect("temp dir");
    let other = other.path().display().to_string();
    for extra in [&[][..], &["--allow-read", other.as_str()][..]] {
        let mut args = vec!["--set", "path=/etc/passwd"];
        args.extend_from_slice(extra);
        let (bounded, found) = probe("read /etc/passwd", "read-file", &args, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("read failed: "), "{found:?}");
        for text in [&bounded.run.stdout, &bounded.run.stderr] {
            assert!(
                !text.contains(first_line) && !text.contains("root:x:0:0"),
                "/etc/passwd leaked: {text}"
            );
        }
    }
}

#[test]
fn the_host_environment_is_invisible_without_a_grant() {
    const NAME: &str = "GATEHOUSE_TEST_SECRET";
    const SECRET: &str = "hunter2";
    let envs = [(NAME, SECRET)];
    let name_setting = format!("name={NAME}");

    let (bounded, found) = probe("read-env", "read-env", &["--set", &name_setting], &envs);
    assert_eq!(
        found,
        [
            format!("env {NAME} unset: environment variable not found"),
            "env count 0".to_string()
        ]
    );
    assert!(
        !bounded.run.stdout.contains(SECRET) && !bounded.run.stderr.contains(SECRET),
        "the secret leaked: {:#?}",
        bounded.run
    );

    // Granted by name: exactly that variable, nothing else of the host's.
    let (_, found) = probe(
        "read-env granted",
        "read-env",
        &["--set", &name_setting, "--allow-env", NAME],
        &envs,
    );
    assert_eq!(
        found,
        [format!("env {NAME}={SECRET}"), "env count 1".to_string()]
    );
}

// ---- 8. grants ----

/// A granted directory with a file, and a secret beside it (outside the
/// grant) that a symlink inside the grant points at. Canonical paths: the
/// guest sees the granted directory at its canonical host path.
struct GrantLayout {
    _root: tempfile::TempDir,
    granted: String,
    inside_file: String,
    secret: String,
}

const INSIDE_TEXT: &str = "granted content";
const SECRET_TEXT: &str = "outside secret";

fn grant_layout() -> GrantLayout {
    let root = tempfile::tempdir().expect("temp dir");
    let base = root.path().canonicalize().expect("canonical temp dir");
    let granted = base.join("granted");
    std::fs::create_dir(&granted).expect("create granted dir");
    std::fs::write(granted.join("inside.txt"), INSIDE_TEXT).expect("write inside file");
    std::fs::write(base.join("secret.txt"), SECRET_TEXT).expect("write secret");
    std::os::unix::fs::symlink(base.join("secret.txt"), granted.join("link-out"))
        .expect("create symlink");
    GrantLayout {
        granted: granted.display().to_string(),
        inside_file: granted.join("inside.txt").display().to_string(),
        secret: base.join("secret.txt").display().to_string(),
        _root: root,
    }
}

/// Runs trap-policy `mode` on `path` with `dir` granted; returns the one reason.
fn with_grant(mode: &str, dir: &str, path: &str) -> String {
    let path_setting = format!("path={path}");
    let (bounded, found) = probe(
        &format!("{mode} {path}"),
        mode,
        &["--set", &path_setting, "--allow-read", dir],
        &[],
    );
    assert!(
        !bounded.run.stdout.contains(SECRET_TEXT),
        "the secret leaked: {:#?}",
        bounded.run
    );
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

#[test]
fn a_granted_directory_is_readable() {
    let layout = grant_layout();
    let reason = with_grant("read-file", &layout.granted, &layout.inside_file);
    assert_eq!(reason, format!("read ok: {INSIDE_TEXT}"));
}

#[test]
fn dot_dot_cannot_leave_a_granted_directory() {
    let layout = grant_layout();
    let escape = format!("{}/../secret.txt", layout.granted);
    let reason = with_grant("read-file", &layout.granted, &escape);
    assert!(reason.starts_with("read failed: "), "{reason}");
}

#[test]
fn a_symlink_cannot_leave_a_granted_directory() {
    let layout = grant_layout();
    let link = format!("{}/link-out", layout.granted);
    let reason = with_grant("read-file", &layout.granted, &link);
    assert!(reason.starts_with("read failed: "), "{reason}");
}

#[test]
fn an_absolute_path_outside_a_granted_directory_is_unreadable() {
    let layout = grant_layout();
    let reason = with_grant("read-file", &layout.granted, &layout.secret);
    assert!(reason.starts_with("read failed: "), "{reason}");
}

#[test]
fn a_granted_directory_is_read_only() {
    let layout = grant_layout();
    let new_file = format!("{}/new.txt", layout.granted);
    let reason = with_grant("write-file", &layout.granted, &new_file);
    assert!(reason.starts_with("write failed: "), "{reason}");
    assert!(!Path::new(&new_file).exists(), "no file was created");

    let reason = with_grant("write-file", &layout.granted, &layout.inside_file);
    assert!(reason.starts_with("write failed: "), "{reason}");
    assert_eq!(
        std::fs::read_to_string(&layout.inside_file).expect("read back"),
        INSIDE_TEXT,
        "the file is unchanged"
    );
}

// ---- 9. network ----

#[test]
fn sockets_and_name_lookup_are_denied() {
    use std::net::{TcpListener, UdpSocket};
    // A TCP listener and a UDP socket on the same port, both non-blocking.
    let (tcp, udp) = (0..20)
        .find_map(|_| {
            let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
            let port = udp.local_addr().ok()?.port();
            let tcp = TcpListener::bind(("127.0.0.1", port)).ok()?;
            Some((tcp, udp))
        })
        .expect("bind a TCP listener and a UDP socket on one port");
    tcp.set_nonblocking(true).expect("non-blocking listener");
    udp.set_nonblocking(true).expect("non-blocking udp");
    let addr = tcp.local_addr().expect("listener address");

    let addr_setting = format!("addr={addr}");
    let (_, found) = probe("socket", "socket", &["--set", &addr_setting], &[]);
    assert_eq!(found.len(), 3, "{found:?}");
    for (reason, what) in found.iter().zip(["tcp connect", "udp send", "dns lookup"]) {
        assert!(
            reason.starts_with(&format!("{what} failed: ")),
            "{what} must fail: {found:?}"
        );
    }

    match tcp.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the listener must see no connection: {other:?}"),
    }
    let mut buffer = [0u8; 64];
    match udp.recv_from(&mut buffer) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the UDP socket must receive nothing: {other:?}"),
    }
}

// ---- 14. time: sleeping, clocks that never come, blocking reads ----

/// The bound the issue sets for a run whose policy sleeps for an hour under
/// `--timeout-ms 1000`: the process (start, compile, report) ends within it.
const ONE_SECOND_BUDGET_BOUND: Duration = Duration::from_millis(1500);

/// The default time budget (`--timeout-ms`).
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(10_000);

/// What the issue allows on top of the budget for a run to end.
const ISSUE_SLACK: Duration = Duration::from_millis(250);

/// Runs `sleep-describe` with `--timeout-ms 1000`, in its default mode or
/// (with `SLEEP_DESCRIBE_MODE` granted) `poll-forever`.
fn sleep_describe(mode: Option<&str>) -> BoundedRun {
    let mut extra = vec!["--timeout-ms", "1000"];
    let mut envs = Vec::new();
    if let Some(mode) = mode {
        extra.extend(["--allow-env", "SLEEP_DESCRIBE_MODE"]);
        envs.push(("SLEEP_DESCRIBE_MODE", mode));
    }
    eval(
        &format!("sleep-describe {mode:?}"),
        &fixture_policy("sleep-describe"),
        &extra,
        &envs,
    )
}

/// Asserts a run ended by the time budget of 1000 ms in `phase`, at once.
fn assert_timed_out_at_once(bounded: &BoundedRun, policy: &str, phase: &str) {
    assert_error(
        &bounded.run,
        &[
            &format!("policy '{policy}'"),
            &format!("timed out after 1000 ms in {phase}"),
        ],
    );
    assert_bounded(bounded, DEFAULT_MEMORY_MIB, ONE_SECOND_BUDGET_BOUND);
}

#[test]
fn an_hour_of_sleep_in_evaluate_times_out_at_once() {
    // The issue's "done when": exit 3 in under 1.5 s.
    let bounded = trap("sleep", &["--timeout-ms", "1000"]);
    assert_timed_out_at_once(&bounded, "trap-policy", "evaluate");
}

#[test]
fn an_hour_of_sleep_in_validate_settings_times_out_at_once() {
    let bounded = trap("sleep-validate", &["--timeout-ms", "1000"]);
    assert_timed_out_at_once(&bounded, "trap-policy", "validate-settings");
}

#[test]
fn an_hour_of_sleep_in_describe_times_out_at_once() {
    // Before `describe` returns the policy is named by its file stem.
    let bounded = sleep_describe(None);
    assert_timed_out_at_once(&bounded, "sleep-describe", "describe");
}

#[test]
fn a_clock_that_never_comes_times_out_at_once_in_every_phase() {
    let bounded = trap("poll-forever", &["--timeout-ms", "1000"]);
    assert_timed_out_at_once(&bounded, "trap-policy", "evaluate");
    let bounded = trap("poll-forever-validate", &["--timeout-ms", "1000"]);
    assert_timed_out_at_once(&bounded, "trap-policy", "validate-settings");
    let bounded = sleep_describe(Some("poll-forever"));
    assert_timed_out_at_once(&bounded, "sleep-describe", "describe");
}

#[test]
fn an_hour_of_sleep_under_the_default_budget_ends_at_once_too() {
    let bounded = trap("sleep", &[]);
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "timed out after 10000 ms in evaluate",
        ],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, DEFAULT_TIMEOUT + ISSUE_SLACK);
}

#[test]
fn inspect_reports_a_sleeping_describe_as_timed_out() {
    let file = fixture_policy("sleep-describe");
    let bounded = run_bounded(
        [
            "inspect".as_ref(),
            file.as_os_str(),
            "--output".as_ref(),
            "json".as_ref(),
        ],
        HANG_GUARD,
    );
    eprintln!(
        "inspect sleep-describe: exit {}, {:.2} s",
        bounded.run.code,
        bounded.elapsed.as_secs_f64()
    );
    assert_eq!(bounded.run.code, 0, "{:#?}", bounded.run);
    // The issue's "done when": under 1.5 s with the default (10 s) budget.
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, ONE_SECOND_BUDGET_BOUND);
    let json = bounded.run.json();
    let describe = &json["describe"];
    assert_eq!(describe["status"], "failed", "{json}");
    let error = describe["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("timed out after 10000 ms in describe"),
        "{json}"
    );
    assert_eq!(describe["limit"]["name"], "timeout-ms", "{json}");
}

#[test]
fn gatehouse_test_on_a_sleeping_policy_ends_within_the_budget() {
    let dir = tempfile::tempdir().expect("temp dir");
    let suite = dir.path().join("sleep.test.toml");
    std::fs::write(
        &suite,
        format!(
            r#"policy = "{}"

[[case]]
name = "sleeping for an hour is a timeout"
expect = "error"
settings = {{ mode = "sleep" }}
reasons = ["timed out after 10000 ms in evaluate"]
[case.release]
environmentName = "qa"
releaseStream = "QA"
resources = []

[[case]]
name = "a sleeping policy never approves"
expect = "approve"
settings = {{ mode = "sleep" }}
[case.release]
environmentName = "qa"
releaseStream = "QA"
resources = []
"#,
            fixture_policy("trap-policy").display()
        ),
    )
    .expect("write suite");
    let bounded = run_bounded(["test".as_ref(), suite.as_os_str()], HANG_GUARD);
    eprintln!(
        "test sleep suite: exit {}, {:.2} s",
        bounded.run.code,
        bounded.elapsed.as_secs_f64()
    );
    assert_no_host_panic(&bounded.run);
    // The first case passes (the timeout is the expected error); the second
    // could not be judged (a limit hit where a verdict was expected): an
    // ERROR, exit 3, as `eval` exits on a timeout.
    assert_eq!(bounded.run.code, 3, "{:#?}", bounded.run);
    assert!(
        bounded.run.stdout.contains("PASS") && bounded.run.stdout.contains("ERROR"),
        "{:#?}",
        bounded.run
    );
    assert!(
        bounded
            .run
            .stdout
            .contains("timed out after 10000 ms in evaluate"),
        "{:#?}",
        bounded.run
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, DEFAULT_TIMEOUT + ISSUE_SLACK);
}

#[test]
fn gatehouse_bench_on_a_sleeping_policy_ends_within_the_budget() {
    let input = temp_file(release_json("qa", "QA", &[]), ".json");
    let policy_file = fixture_policy("trap-policy");
    let bounded = run_bounded(
        [
            "bench".as_ref(),
            "--policy".as_ref(),
            policy_file.as_os_str(),
            "--input".as_ref(),
            input.path().as_os_str(),
            "--set".as_ref(),
            "mode=sleep".as_ref(),
            "--iterations".as_ref(),
            "5".as_ref(),
            "--compile-iterations".as_ref(),
            "1".as_ref(),
        ],
        HANG_GUARD,
    );
    eprintln!(
        "bench sleep: exit {}, {:.2} s",
        bounded.run.code,
        bounded.elapsed.as_secs_f64()
    );
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "timed out after 10000 ms in evaluate",
        ],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, DEFAULT_TIMEOUT + ISSUE_SLACK);
}

#[test]
fn a_sleep_within_the_budget_succeeds_at_once() {
    // Eight seconds of sleep under the default ten: approved, without
    // waiting eight seconds.
    let (bounded, found) = probe("sleep 8 s", "sleep", &["--set", "ms=8000"], &[]);
    assert_eq!(found, ["slept 8000 ms"]);
    assert!(
        bounded.elapsed < Duration::from_secs(8),
        "the sleep was virtual: {:?}",
        bounded.elapsed
    );
}

#[test]
fn the_virtual_clock_moves_by_exactly_the_time_slept() {
    let (_, found) = probe("clock", "clock", &[], &[]);
    assert_eq!(
        found,
        ["clock before 1000000000 after 1005000000 resolution 1"],
        "starts at 1 s and moves by the 5 ms slept"
    );
    let (_, again) = probe("clock again", "clock", &[], &[]);
    assert_eq!(again, found, "the same on every run");
}

#[test]
fn a_blocking_read_is_abandoned_at_the_deadline() {
    // A FIFO nobody writes to: opening it blocks inside a host call, where
    // neither fuel nor the epoch deadline reaches. The caller's deadline
    // (budget + slack) abandons the evaluation.
    let dir = tempfile::tempdir().expect("temp dir");
    let granted = dir.path().canonicalize().expect("canonical temp dir");
    let fifo = granted.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo {}", fifo.display());
    let path_setting = format!("path={}", fifo.display());
    let granted = granted.display().to_string();
    let bounded = trap(
        "read-file",
        &[
            "--set",
            &path_setting,
            "--allow-read",
            &granted,
            "--timeout-ms",
            "1000",
        ],
    );
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "timed out after 1000 ms in evaluate",
        ],
    );
    assert!(
        bounded.elapsed >= Duration::from_millis(1000),
        "ended by the deadline, not before: {:?}",
        bounded.elapsed
    );
    // The budget, the caller's slack (100 ms) within the issue's 250 ms,
    // and the process's own start-up, compile and report.
    assert_bounded(
        &bounded,
        DEFAULT_MEMORY_MIB,
        Duration::from_millis(1000) + ISSUE_SLACK + Duration::from_secs(2),
    );
}

// ---- 15. determinism: wasi:random ----

#[test]
fn a_random_reading_policy_gives_one_answer() {
    let (_, first) = probe("random", "random", &[], &[]);
    assert_eq!(first.len(), 3, "{first:?}");
    for (reason, prefix) in first.iter().zip(["secure ", "insecure ", "seed "]) {
        let hex = reason
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{first:?}"));
        assert_eq!(hex.len(), 32, "{first:?}");
        assert!(hex.chars().any(|c| c != '0'), "not all zeros: {first:?}");
    }
    assert_ne!(
        first[0][7..],
        first[1][9..],
        "the sources differ: {first:?}"
    );
    for run in 1..10 {
        let (_, again) = probe(&format!("random {run}"), "random", &[], &[]);
        assert_eq!(again, first, "run {run} gave another answer");
    }
}

#[test]
fn allow_random_gives_real_randomness() {
    let (bounded, first) = probe("random granted", "random", &["--allow-random"], &[]);
    let (_, second) = probe("random granted again", "random", &["--allow-random"], &[]);
    assert_ne!(first, second, "real randomness differs between runs");
    let (_, deterministic) = probe("random", "random", &[], &[]);
    assert_ne!(first, deterministic);
    // The grant is listed in the report.
    let report = bounded.run.json();
    assert_eq!(report["policies"][0]["grants"]["random"], true, "{report}");
}

// ---- 16. describe limits ----

/// Runs `describe-from-env` with the given variables granted.
fn describe_from_env(label: &str, vars: &[(&str, &str)]) -> BoundedRun {
    let mut extra = Vec::new();
    for (name, _) in vars {
        extra.extend(["--allow-env", name]);
    }
    eval(label, &fixture_policy("describe-from-env"), &extra, vars)
}

#[test]
fn describe_answers_at_the_limits_are_accepted() {
    let name = "n".repeat(128);
    let version = "v".repeat(64);
    let description = "d".repeat(4096);
    let bounded = describe_from_env(
        "describe at the limits",
        &[
            ("DESCRIBE_NAME", &name),
            ("DESCRIBE_VERSION", &version),
            ("DESCRIBE_DESCRIPTION", &description),
        ],
    );
    assert_eq!(bounded.run.code, 0, "{:#?}", bounded.run);
    assert!(bounded.run.stdout.contains(&name), "{:#?}", bounded.run);
}

#[test]
fn describe_answers_past_the_limits_make_the_policy_invalid() {
    /// A label, the variables `describe` reads, and the expected message.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 4] = [
        (
            "4 KiB name",
            &[("DESCRIBE_NAME", "n"), ("DESCRIBE_REPEAT", "4096")],
            "the name is 4096 bytes, more than the 128 a policy name may have",
        ),
        (
            "129-byte name",
            &[("DESCRIBE_NAME", "n"), ("DESCRIBE_REPEAT", "129")],
            "the name is 129 bytes, more than the 128",
        ),
        (
            "65-byte version",
            &[("DESCRIBE_VERSION", "1"), ("DESCRIBE_REPEAT", "65")],
            "the version is 65 bytes, more than the 64",
        ),
        (
            "4097-byte description",
            &[("DESCRIBE_DESCRIPTION", "d"), ("DESCRIBE_REPEAT", "4097")],
            "the description is 4097 bytes, more than the 4096",
        ),
    ];
    for (label, vars, fragment) in cases {
        let bounded = describe_from_env(label, vars);
        let message = assert_error(
            &bounded.run,
            &[
                "policy 'describe-from-env'",
                "returned an invalid describe answer",
                fragment,
            ],
        );
        assert!(
            message.len() < 1024,
            "{label}: the answer is not repeated: {message}"
        );
        assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
    }
}

#[test]
fn control_bidi_and_separator_characters_in_a_name_or_version_are_refused() {
    let cases = [
        ("DESCRIBE_NAME", "ok\n## forged heading", '\n'),
        ("DESCRIBE_NAME", "evil\u{202e}txt.exe", '\u{202e}'),
        ("DESCRIBE_NAME", "line\u{2028}break", '\u{2028}'),
        ("DESCRIBE_NAME", "next\u{85}line", '\u{85}'),
        ("DESCRIBE_NAME", "bell\u{7}", '\u{7}'),
        ("DESCRIBE_VERSION", "1.0\u{1b}[2J", '\u{1b}'),
        ("DESCRIBE_VERSION", "1.0\u{61c}", '\u{61c}'),
    ];
    for (var, value, bad) in cases {
        let field = if var == "DESCRIBE_NAME" {
            "name"
        } else {
            "version"
        };
        let bounded = describe_from_env(&format!("{var} with {bad:?}"), &[(var, value)]);
        let message = assert_error(
            &bounded.run,
            &[
                "policy 'describe-from-env'",
                &format!("the {field} contains U+{:04X}", u32::from(bad)),
            ],
        );
        assert!(
            !message.contains(bad) && !message.contains(value),
            "the text is not repeated: {message:?}"
        );
    }
}

// ---- 11. a truncated component ----

#[test]
fn a_truncated_component_is_invalid() {
    let bytes = std::fs::read(policy("stream-approval")).expect("read stream-approval.wasm");
    let half = temp_file(&bytes[..bytes.len() / 2], ".wasm");
    let bounded = eval("truncated", half.path(), &[], &[]);
    assert_error(&bounded.run, &["invalid component"]);
    assert_bounded(&bounded, 0, HANG_GUARD);
}

// ---- 12. forbidden imports ----

/// Asserts a policy was refused at load time (a `policy PATH: ...` load
/// error, not a `policy 'name' (PATH): ...` runtime error) naming `import`.
fn assert_refused_import(bounded: &BoundedRun, file: &Path, import: &str) {
    let message = assert_error(
        &bounded.run,
        &[
            "imports `",
            &format!("`{import}`"),
            "which Gatehouse does not provide",
        ],
    );
    assert!(
        message.starts_with(&format!("policy {}: ", file.display())),
        "refused while loading, before instantiation: {message}"
    );
    assert_bounded(bounded, 0, HANG_GUARD);
}

#[test]
fn a_component_importing_wasi_http_is_refused() {
    // Built by cargo: Rust's std carries wasi 0.2.4 definitions, so the
    // fixture's `wasi:http@0.2.0` import is upgraded to 0.2.4 when linked.
    let file = fixture_policy("http-importer");
    let bounded = eval("http-importer", &file, &[], &[]);
    assert_refused_import(&bounded, &file, "wasi:http/outgoing-handler@0.2.4");
}

#[test]
fn a_component_importing_wasi_http_0_2_0_is_refused() {
    // The well-behaved trap-policy plus one import of exactly
    // `wasi:http/outgoing-handler@0.2.0`, which nothing even calls.
    let bytes = std::fs::read(fixture_policy("trap-policy")).expect("read trap-policy.wasm");
    let hostile = component::with_instance_import(&bytes, "wasi:http/outgoing-handler@0.2.0");
    let file = temp_file(&hostile, ".wasm");
    let bounded = eval("wasi:http@0.2.0 import", file.path(), &[], &[]);
    assert_refused_import(&bounded, file.path(), "wasi:http/outgoing-handler@0.2.0");
}

#[test]
fn a_component_importing_an_unknown_host_function_is_refused() {
    let file = fixture_policy("backdoor-importer");
    let bounded = eval("backdoor-importer", &file, &[], &[]);
    assert_refused_import(&bounded, &file, "test:evil/backdoor@1.0.0");
}

// ---- 13. a very large module ----

/// Functions in the extra core module.
const HUGE_FUNCTIONS: u32 = 200_000;

/// Wall-time bound: the host refuses the module after one parser pass,
/// before compiling (measured before that check existed: 26 s and 1,190 MiB).
const HUGE_MODULE_MAX_TIME: Duration = Duration::from_secs(30);

#[test]
fn a_module_of_200_000_functions_is_refused_before_compiling() {
    // trap-policy (mode none) plus a core module of 200,000 small functions.
    // Compiling is the one cost fuel and timeouts do not cover, so the host
    // counts functions first and refuses, cheaply, with the numbers.
    let bytes = std::fs::read(fixture_policy("trap-policy")).expect("read trap-policy.wasm");
    let hostile = component::with_huge_module(&bytes, HUGE_FUNCTIONS);
    let file = temp_file(&hostile, ".wasm");
    let input = temp_file(release_json("qa", "QA", &[]), ".json");
    let bounded = gatehouse_e2e::run_bounded(
        [
            "eval",
            "--policy",
            &file.path().display().to_string(),
            "--input",
            &input.path().display().to_string(),
        ],
        HUGE_MODULE_MAX_TIME,
    );
    assert_no_host_panic(&bounded.run);
    assert_error(
        &bounded.run,
        &[
            &format!("policy {}", file.path().display()),
            "too large to compile safely",
            "functions",
            "at most 50000 functions",
        ],
    );
    // No compilation happened: the host stays near its idle footprint.
    assert_bounded(&bounded, 0, HUGE_MODULE_MAX_TIME);
}

/// Building hostile components from a real one by appending top-level
/// sections: nothing before them moves, so the original stays valid and
/// only gains what is appended.
mod component {
    use wasm_encoder::{
        CodeSection, Component, ComponentImportSection, ComponentTypeRef, ComponentTypeSection,
        ComponentValType, Function, FunctionSection, InstanceSection, InstanceType, Module,
        ModuleArg, ModuleSection, TypeSection, ValType,
    };
    use wasmparser::{
        Chunk, ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind, Parser, Payload,
    };

    /// Sizes of a component's top-level index spaces.
    #[derive(Debug, Default)]
    struct IndexSpaces {
        /// Component types.
        types: u32,
        /// Core modules.
        modules: u32,
    }

    /// Counts the top-level component type and core module index spaces
    /// (nested modules and components are skipped, not entered).
    fn index_spaces(bytes: &[u8]) -> IndexSpaces {
        let mut spaces = IndexSpaces::default();
        let mut parser = Parser::new(0);
        let mut data = bytes;
        loop {
            let (consumed, payload) = match parser.parse(data, true).expect("parse component") {
                Chunk::Parsed { consumed, payload } => (consumed, payload),
                Chunk::NeedMoreData(_) => panic!("the whole component is in memory"),
            };
            data = &data[consumed..];
            match payload {
                Payload::ModuleSection {
                    unchecked_range, ..
                } => {
                    // The parent parser has moved past the nested
                    // module; its bytes are skipped here, not parsed.
                    spaces.modules += 1;
                    data = &data[section_len(&unchecked_range)..];
                }
                Payload::ComponentSection {
                    unchecked_range, ..
                } => {
                    data = &data[section_len(&unchecked_range)..];
                }
                Payload::ComponentTypeSection(reader) => spaces.types += reader.count(),
                Payload::ComponentImportSection(reader) => {
                    for import in reader {
                        let import = import.expect("import");
                        if matches!(import.ty, wasmparser::ComponentTypeRef::Type(_)) {
                            spaces.types += 1;
                        }
                    }
                }
                Payload::ComponentExportSection(reader) => {
                    for export in reader {
                        if export.expect("export").kind == ComponentExternalKind::Type {
                            spaces.types += 1;
                        }
                    }
                }
                Payload::ComponentAliasSection(reader) => {
                    for alias in reader {
                        match alias.expect("alias") {
                            ComponentAlias::InstanceExport {
                                kind: ComponentExternalKind::Type,
                                ..
                            }
                            | ComponentAlias::Outer {
                                kind: ComponentOuterAliasKind::Type,
                                ..
                            } => spaces.types += 1,
                            ComponentAlias::Outer {
                                kind: ComponentOuterAliasKind::CoreModule,
                                ..
                            } => spaces.modules += 1,
                            _ => {}
                        }
                    }
                }
                Payload::End(_) => return spaces,
                _ => {}
            }
        }
    }

    /// The length of a section's byte range.
    fn section_len<T: Copy + TryInto<usize> + std::ops::Sub<Output = T>>(
        range: &std::ops::Range<T>,
    ) -> usize {
        (range.end - range.start)
            .try_into()
            .unwrap_or_else(|_| panic!("section length fits in usize"))
    }

    /// `original` followed by the sections of `extra` (its header dropped).
    fn append(original: &[u8], extra: Component) -> Vec<u8> {
        let encoded = extra.finish();
        let mut bytes = original.to_vec();
        bytes.extend_from_slice(&encoded[8..]);
        bytes
    }

    /// `original` plus an import `name` of an instance exporting one
    /// `func()` named `handle`.
    pub fn with_instance_import(original: &[u8], name: &str) -> Vec<u8> {
        let spaces = index_spaces(original);
        let mut instance = InstanceType::new();
        instance
            .ty()
            .function()
            .params(std::iter::empty::<(&str, ComponentValType)>())
            .result(None);
        instance.export("handle", ComponentTypeRef::Func(0));
        let mut types = ComponentTypeSection::new();
        types.instance(&instance);
        let mut imports = ComponentImportSection::new();
        imports.import(name, ComponentTypeRef::Instance(spaces.types));
        let mut extra = Component::new();
        extra.section(&types).section(&imports);
        append(original, extra)
    }

    /// `original` plus a core module of `functions` small functions, and a
    /// core instance of it, so that it is compiled and instantiated.
    pub fn with_huge_module(original: &[u8], functions: u32) -> Vec<u8> {
        let spaces = index_spaces(original);
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], [ValType::I32]);
        let mut funcs = FunctionSection::new();
        let mut code = CodeSection::new();
        for i in 0..functions {
            funcs.function(0);
            let mut body = Function::new([]);
            body.instructions()
                .local_get(0)
                .i32_const(i.cast_signed())
                .i32_add()
                .i32_const(7)
                .i32_mul()
                .end();
            code.function(&body);
        }
        let mut module = Module::new();
        module.section(&types).section(&funcs).section(&code);
        let mut instances = InstanceSection::new();
        instances.instantiate(spaces.modules, std::iter::empty::<(&str, ModuleArg)>());
        let mut extra = Component::new();
        extra.section(&ModuleSection(&module)).section(&instances);
        append(original, extra)
    }
}

// ---- 17–22. the remaining SECURITY.md guarantees, each checked here ----

/// Runs trap-policy `mode` with JSON output and `stdin` fed to the
/// `gatehouse` process (the harness's bounded runner closes stdin, so this
/// uses the unbounded one: the data is small enough to sit in the pipe, and
/// the pipe is closed once written, so nothing here can wait on it).
fn probe_with_stdin(mode: &str, stdin: &[u8]) -> Vec<String> {
    let input = temp_file(release_json("qa", "QA", &[]), ".json");
    let policy_file = fixture_policy("trap-policy");
    let mode_setting = format!("mode={mode}");
    let run = gatehouse_with_stdin(
        [
            "eval".as_ref(),
            "--policy".as_ref(),
            policy_file.as_os_str(),
            "--input".as_ref(),
            input.path().as_os_str(),
            "--set".as_ref(),
            mode_setting.as_ref(),
            "--output".as_ref(),
            "json".as_ref(),
        ],
        stdin,
    );
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    reasons(&run)
}

#[test]
fn a_policy_sees_no_arguments_and_an_empty_stdin() {
    // The gatehouse process has arguments and a stdin full of data; the
    // sandbox passes on neither (wasmtime-wasi's default is no arguments at
    // all, not even a program name, and a closed, empty stdin).
    const STDIN_SECRET: &str = "stdin secret: deploy-token-4f1a";
    let found = probe_with_stdin("args-stdin", format!("{STDIN_SECRET}\n").as_bytes());
    assert_eq!(
        found,
        ["args []".to_string(), "stdin 0 bytes: ".to_string()],
        "no arguments and nothing on stdin"
    );
}

#[test]
fn no_state_survives_between_evaluations_in_one_process() {
    // A `static` counter incremented in `evaluate`: a reused instance (or
    // store) would count 2 and 3.
    let policy_file = fixture_policy("trap-policy").display().to_string();
    let input = temp_file(release_json("qa", "QA", &[]), ".json");
    let bounded = run_bounded(
        [
            "eval",
            "--policy",
            &policy_file,
            "--policy",
            &policy_file,
            "--policy",
            &policy_file,
            "--input",
            &input.path().display().to_string(),
            "--set",
            "mode=counter",
            "--output",
            "json",
        ],
        HANG_GUARD,
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
    assert_eq!(bounded.run.code, 0, "{:#?}", bounded.run);
    let report = bounded.run.json();
    let policies = report["policies"].as_array().expect("policies");
    assert_eq!(policies.len(), 3, "{report}");
    for (i, policy) in policies.iter().enumerate() {
        assert_eq!(
            policy["reasons"][0]["message"], "[count 1]",
            "evaluation {i} saw another evaluation's state: {report}"
        );
    }

    // The same through `gatehouse test`: three cases, one compiled policy,
    // each case must see a count of 1.
    let dir = tempfile::tempdir().expect("temp dir");
    let suite = dir.path().join("counter.test.toml");
    let case = |name: &str| {
        format!(
            r#"
[[case]]
name = "{name}"
expect = "approve"
reasons = ["[count 1]"]
[case.release]
environmentName = "qa"
releaseStream = "QA"
resources = []
"#
        )
    };
    std::fs::write(
        &suite,
        format!(
            "policy = {policy_file:?}\n[settings]\nmode = \"counter\"\n{}{}{}",
            case("first evaluation"),
            case("second evaluation"),
            case("third evaluation")
        ),
    )
    .expect("write suite");
    let bounded = run_bounded(["test".as_ref(), suite.as_os_str()], HANG_GUARD);
    assert_no_host_panic(&bounded.run);
    assert_eq!(bounded.run.code, 0, "every case sees 1: {:#?}", bounded.run);
    assert_eq!(
        bounded.run.stdout.matches("PASS").count(),
        3,
        "{:#?}",
        bounded.run
    );
    assert!(!bounded.run.stdout.contains("FAIL"), "{:#?}", bounded.run);
}

/// The `wall-clock` reasons: the wall clock before and after a sleep,
/// `SECONDS.NANOSECONDS`.
fn wall_clock(extra: &[&str]) -> (String, String) {
    let (_, found) = probe("wall-clock", "wall-clock", extra, &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    let rest = found[0]
        .strip_prefix("wall clock before ")
        .unwrap_or_else(|| panic!("{found:?}"));
    let (before, after) = rest
        .split_once(" after ")
        .unwrap_or_else(|| panic!("{found:?}"));
    (before.to_string(), after.to_string())
}

#[test]
fn the_wall_clock_is_frozen_at_now() {
    // 2026-11-22T10:00:00Z is 1,795,341,600 s after the Unix epoch.
    let (before, after) = wall_clock(&["--now", "2026-11-22T10:00:00Z", "--set", "ms=1500"]);
    assert_eq!(before, "1795341600.000000000");
    assert_eq!(after, before, "frozen: a sleep does not move it");
    let (other, _) = wall_clock(&["--now", "2030-01-01T00:00:00Z"]);
    assert_eq!(other, "1893456000.000000000", "it follows --now");
}

#[test]
fn without_now_the_wall_clock_is_frozen_at_the_start() {
    let unix_now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after the epoch")
            .as_secs()
    };
    let started = unix_now();
    let (before, after) = wall_clock(&["--set", "ms=1500"]);
    let ended = unix_now();
    assert_eq!(after, before, "frozen: a sleep does not move it");
    let (seconds, nanos) = before.split_once('.').expect("SECONDS.NANOSECONDS");
    let seconds: u64 = seconds.parse().expect("seconds");
    assert!(
        (started..=ended).contains(&seconds),
        "the clock at the start of the run: {before}, run from {started} to {ended}"
    );
    assert_eq!(nanos, "000000000", "whole seconds, like --now");
}

/// The host-call data limit, 24 MiB.
const HOSTCALL_BYTES: u64 = 24 << 20;

/// Asserts a run was stopped by the host-call data limit in `evaluate`.
fn assert_hostcall_limit(bounded: &BoundedRun) {
    let message = assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "passed more than 24 MiB to the host in one call in evaluate",
        ],
    );
    let json = bounded.run.json();
    assert_eq!(json["error"], message.as_str(), "{json}");
    assert_eq!(json["limit"]["name"], "hostcall-bytes", "{json}");
    assert_eq!(json["limit"]["value"], HOSTCALL_BYTES, "{json}");
    assert_bounded(bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

#[test]
fn a_25_mib_log_line_hits_the_hostcall_limit_by_name() {
    let size = format!("size={}", 25u64 << 20);
    let bounded = trap("log-lines", &["--set", &size, "--output", "json"]);
    assert_hostcall_limit(&bounded);
}

#[test]
fn a_25_mib_write_in_one_call_hits_the_hostcall_limit_by_name() {
    let size = format!("size={}", 25u64 << 20);
    let bounded = trap("write-once", &["--set", &size, "--output", "json"]);
    assert_hostcall_limit(&bounded);
}

#[test]
fn exactly_24_mib_in_one_call_passes_and_one_byte_more_does_not() {
    // The limit is the documented number, not some lower one: 24 MiB in one
    // `log` call or one `write` call crosses; the capture then keeps its own
    // bounded share. One byte more is refused.
    let at_limit = format!("size={HOSTCALL_BYTES}");
    let (bounded, found) = probe("24 MiB log line", "log-lines", &["--set", &at_limit], &[]);
    let section = &bounded.run.json()["policies"][0];
    let logs = section["logs"].as_array().expect("logs");
    assert_eq!(logs.len(), 1, "{found:?}");
    let kept = logs[0]["message"].as_str().expect("message");
    assert!(kept.starts_with("line 0 lll") && kept.ends_with(TRUNCATED));
    let (bounded, found) = probe("24 MiB write", "write-once", &["--set", &at_limit], &[]);
    assert_eq!(found, ["write ok"]);
    assert_eq!(
        bounded.run.json()["policies"][0]["stdout_dropped_bytes"],
        HOSTCALL_BYTES - (64 << 10),
        "the write arrived whole; 64 KiB of it is kept"
    );

    let past_limit = format!("size={}", HOSTCALL_BYTES + 1);
    for mode in ["log-lines", "write-once"] {
        let bounded = trap(mode, &["--set", &past_limit, "--output", "json"]);
        assert_hostcall_limit(&bounded);
    }
}

#[test]
fn an_endless_loop_under_the_default_limits_reports_the_default_fuel() {
    let bounded = trap("spin", &["--output", "json"]);
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "ran out of fuel in evaluate (limit 2000000000)",
        ],
    );
    let json = bounded.run.json();
    assert_eq!(json["limit"]["name"], "fuel", "{json}");
    assert_eq!(json["limit"]["value"], 2_000_000_000u64, "{json}");
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

#[test]
fn a_memory_bomb_under_the_default_limits_reports_256_mib() {
    let bounded = trap("oom", &["--output", "json"]);
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "exceeded its 256 MiB memory limit in evaluate",
        ],
    );
    let json = bounded.run.json();
    assert_eq!(json["limit"]["name"], "memory", "{json}");
    assert_eq!(json["limit"]["value"], 268_435_456u64, "{json}");
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
}

#[test]
fn log_text_is_capped_at_256_kib_with_the_cut_line_marked() {
    // 300 lines of 1,000 bytes: 262 fit whole in 256 KiB (262,144 bytes),
    // the 263rd is cut to the 144 bytes left and marked, 37 are dropped.
    // (Lines of exactly 1 KiB would fill the cap with no line cut.)
    const MAX_LOG_BYTES: usize = 256 << 10;
    let (bounded, _) = probe(
        "300 log lines",
        "log-lines",
        &["--set", "count=300", "--set", "size=1000"],
        &[],
    );
    let report = bounded.run.json();
    let section = &report["policies"][0];
    let logs: Vec<&str> = section["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .map(|line| line["message"].as_str().expect("message"))
        .collect();
    let total: usize = logs.iter().map(|line| line.len()).sum();
    assert!(
        total <= MAX_LOG_BYTES + TRUNCATED.len(),
        "at most 256 KiB of log text (plus the marker): {total} bytes"
    );
    assert_eq!(logs.len(), 263, "262 whole lines and the cut one");
    for (i, line) in logs[..262].iter().enumerate() {
        assert!(
            line.len() == 1000 && line.starts_with(&format!("line {i} ")),
            "line {i} is kept whole and in order: {line:?}"
        );
    }
    let cut = logs[262];
    assert!(cut.starts_with("line 262 "), "{cut:?}");
    assert!(cut.ends_with(TRUNCATED), "the cut line is marked: {cut:?}");
    assert_eq!(cut.len(), MAX_LOG_BYTES - 262 * 1000 + TRUNCATED.len());
    assert_eq!(section["logs_dropped"], 37, "the rest is counted: {report}");
}

#[test]
fn a_decision_one_past_its_caps_is_refused_naming_the_cap() {
    // Both caps are below the host-call limit, so `convert` is what refuses:
    // 100,001 one-character reasons, or one reason of 16 MiB + 1 bytes.
    let bounded = trap("many-reasons", &["--set", "count=100001"]);
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "returned an invalid decision: 100001 reasons, more than the 100000",
        ],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
    let size = format!("size={}", (16 << 20) + 1);
    let bounded = trap("huge-reason", &["--set", &size]);
    assert_error(
        &bounded.run,
        &[
            "policy 'trap-policy'",
            "returned an invalid decision: 16777217 bytes of text, more than the 16 MiB",
        ],
    );
    assert_bounded(&bounded, DEFAULT_MEMORY_MIB, HANG_GUARD);
    // Exactly 16 MiB of text is a decision.
    let size = format!("size={}", 16 << 20);
    let (_, found) = probe("16 MiB reason", "huge-reason", &["--set", &size], &[]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].len(), 16 << 20);
}
