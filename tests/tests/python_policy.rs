//! A real Python policy, built with componentize-py, under the default sandbox
//! limits: `example-policies/destructive-changes-py` must decide exactly as its
//! Rust twin `destructive-changes` on the same releases and settings — the same
//! exit codes, verdicts, reasons (messages and resource paths), approver groups,
//! minimum approvals and settings error messages. The comparison and the cases
//! every twin shares are in `gatehouse_e2e::twins`.
//!
//! Each evaluation of the Python component compiles ~18 MB of WebAssembly (a
//! CPython interpreter) with Cranelift, several seconds each, so the cases are
//! few and chosen to cover every verdict and every setting once; the shared
//! suite runs once through `gatehouse test --policy`.

use gatehouse_e2e::twins::{SETTINGS_ERRORS, Twin};

const PYTHON: Twin = Twin {
    policy: "destructive-changes-py",
    language: "Python",
};

#[test]
fn example_releases_get_the_same_decisions() {
    PYTHON.assert_example_releases_agree();
}

#[test]
fn settings_variations_get_the_same_decisions() {
    PYTHON.assert_settings_variations_agree();
}

#[test]
fn invalid_settings_get_the_same_errors() {
    PYTHON.assert_settings_errors_agree(&SETTINGS_ERRORS);
}

/// The Rust policy's own `gatehouse test` suite passes, case for case, with the
/// Python policy in its place (`--policy`), settings errors included: the
/// Python SDK words them exactly as the Rust SDK does.
#[test]
fn the_rust_twins_test_suite_passes_with_the_python_policy() {
    PYTHON.assert_rust_suite_passes();
}
