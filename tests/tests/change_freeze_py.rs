//! The Python twin of change-freeze (`example-policies/change-freeze-py`,
//! written with the Python SDK's date ranges, offsets and globs) passes the
//! Rust policy's own suite (`example-policies/change-freeze/tests`) unchanged,
//! case for case, settings errors included: the SDKs word date and range
//! errors alike. Needs the Rust change-freeze example and its suite
//! (branch i15-rust) beside this twin.

use gatehouse_e2e::{assert_no_host_panic, gatehouse, policy, workspace_root};

#[test]
fn the_rust_change_freeze_suite_passes_with_the_python_twin() {
    let suites = workspace_root().join("example-policies/change-freeze/tests");
    let suite = suites.join("change-freeze.test.toml");
    let text = std::fs::read_to_string(&suite)
        .unwrap_or_else(|e| panic!("the shared suite {}: {e}", suite.display()));
    let cases = text
        .lines()
        .filter(|line| line.trim() == "[[case]]")
        .count();
    assert!(cases >= 13, "{cases} cases in {}", suite.display());
    let run = gatehouse([
        "test".to_string(),
        "--policy".into(),
        policy("change-freeze-py").display().to_string(),
        suites.display().to_string(),
        "--output".into(),
        "json".into(),
    ]);
    assert_no_host_panic(&run);
    let report = run.json();
    let failed: Vec<&serde_json::Value> = report["cases"]
        .as_array()
        .expect("cases array")
        .iter()
        .filter(|case| case["status"] != "pass")
        .collect();
    assert!(failed.is_empty(), "failed cases: {failed:#?}");
    assert_eq!(
        report["summary"],
        serde_json::json!({"total": cases, "passed": cases, "failed": 0, "errors": 0}),
        "{run:#?}"
    );
    assert_eq!(run.code, 0, "{run:#?}");
}
