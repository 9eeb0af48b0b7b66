//! The Python and JavaScript SDKs (`sdk-python/`, `sdk-js/`) answer the
//! shared cases in `sdk/conformance/` exactly as the Rust SDK does
//! (`sdk/tests/conformance.rs` checks the Rust side against the same files):
//! the same settings values, byte-identical settings error messages, the same
//! unknown-key message and the same glob dialect; and their own unit tests
//! (time, decisions, release helpers) pass. Run with the host's `python3` and
//! `node`, which `scripts/install-tools.sh` needs anyway.

use gatehouse_e2e::workspace_root;
use std::process::{Command, Stdio};

/// Runs a program in the workspace root and requires success, showing its output otherwise.
fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .env_remove("VIRTUAL_ENV")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{text}"
    );
    text
}

#[test]
fn the_python_sdk_answers_the_shared_cases_as_the_rust_sdk() {
    let out = run("python3", &["sdk-python/tests/test_conformance.py", "-v"]);
    for test in [
        "test_settings",
        "test_dates",
        "test_globs",
        "test_durations",
        "test_windows",
    ] {
        assert!(
            out.contains(&format!("{test} (")) && out.contains("OK"),
            "{out}"
        );
    }
    let out = run("python3", &["sdk-python/tests/test_sdk.py", "-v"]);
    assert!(out.contains("Ran 17 tests") && out.contains("OK"), "{out}");
}

#[test]
fn the_javascript_sdk_answers_the_shared_cases_as_the_rust_sdk() {
    let out = run("node", &["--test", "sdk-js/test/"]);
    assert!(
        out.contains("# pass 20") && out.contains("# fail 0") && out.contains("# skipped 0"),
        "{out}"
    );
    for test in [
        "settings getters answer as the shared cases say",
        "globs match as the shared cases say",
        "date, date range and offset getters answer as the shared cases say",
        "duration getters answer as the shared cases say",
        "weekday and hours getters and weekly windows answer as the shared cases say",
    ] {
        assert!(out.contains(test), "{test}: {out}");
    }
}
