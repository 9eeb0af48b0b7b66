//! A real Python policy, built with componentize-py, under the default sandbox
//! limits: `example-policies/destructive-changes-py` must decide exactly as its
//! Rust twin `destructive-changes` on the same releases and settings — the same
//! exit codes, verdicts, reasons (messages and resource paths), approver groups,
//! minimum approvals and settings error messages.
//!
//! Each evaluation of the Python component compiles ~18 MB of WebAssembly (a
//! CPython interpreter) with Cranelift, several seconds each, so the cases are
//! few and chosen to cover every verdict and every setting once.

use gatehouse_e2e::{
    Run, assert_no_host_panic, gatehouse, policy, release_json, temp_file, workspace_root,
};
use serde_json::{Value, json};

const RUST: &str = "destructive-changes";
const PYTHON: &str = "destructive-changes-py";

/// A fixed evaluation time: reports are reproducible.
const NOW: &str = "2026-11-22T10:00:00Z";

fn example_release(name: &str) -> String {
    workspace_root()
        .join("example-policies/releases")
        .join(name)
        .display()
        .to_string()
}

/// Runs one policy on an input with `--set` settings, `--output json` and the
/// default limits (no `--fuel`, `--memory-mib` or `--timeout-ms`).
fn eval(policy_name: &str, input: &str, settings: &[&str]) -> Run {
    let mut args = vec![
        "eval".to_string(),
        "--policy".into(),
        policy(policy_name).display().to_string(),
        "--input".into(),
        input.into(),
        "--now".into(),
        NOW.into(),
        "--output".into(),
        "json".into(),
    ];
    for setting in settings {
        args.push("--set".into());
        args.push((*setting).to_string());
    }
    let run = gatehouse(&args);
    assert_no_host_panic(&run);
    run
}

/// What must agree between the two policies in a decision report: everything
/// but the policy's identity, digest, logs and timings.
fn decision(report: &Value) -> Value {
    let p = &report["policies"][0];
    let required: Vec<Value> = report["required_approvals"]
        .as_array()
        .expect("required_approvals array")
        .iter()
        .map(|r| {
            json!({
                "approver_groups": r["approver_groups"],
                "min_approvals": r["min_approvals"],
                "instructions": r["instructions"],
            })
        })
        .collect();
    json!({
        "verdict": report["verdict"],
        "exit_code": report["exit_code"],
        "required_approvals": required,
        "policy_verdict": p["verdict"],
        "reasons": p["reasons"],
        "approver_groups": p["approver_groups"],
        "min_approvals": p["min_approvals"],
        "instructions": p["instructions"],
        "settings": p["settings"],
    })
}

/// Evaluates both policies on `input` with `settings`, asserts both exit with
/// `expected_code` and decide alike, and returns the Python policy's report.
fn assert_twins_agree(input: &str, settings: &[&str], expected_code: i32) -> Value {
    let rust = eval(RUST, input, settings);
    let python = eval(PYTHON, input, settings);
    let context =
        format!("input {input}, settings {settings:?}\nrust: {rust:#?}\npython: {python:#?}");
    assert_eq!(rust.code, expected_code, "rust exit code; {context}");
    assert_eq!(python.code, expected_code, "python exit code; {context}");
    let (rust_report, python_report) = (rust.json(), python.json());

    if expected_code == 3 {
        // The same settings error, each naming its own policy.
        let detail = |report: &Value, name: &str| -> String {
            assert_eq!(report["verdict"], "error", "{context}");
            assert_eq!(report["policy"], name, "{context}");
            assert_eq!(report["limit"], Value::Null, "{context}");
            let error = report["error"].as_str().expect("error message");
            error
                .split_once(": settings rejected: ")
                .unwrap_or_else(|| panic!("not a settings error: {error}"))
                .1
                .to_string()
        };
        assert_eq!(
            detail(&python_report, PYTHON),
            detail(&rust_report, RUST),
            "settings error; {context}"
        );
        return python_report;
    }

    assert_eq!(
        decision(&python_report),
        decision(&rust_report),
        "decisions differ; {context}"
    );
    let p = &python_report["policies"][0];
    assert_eq!(p["name"], PYTHON);
    assert_eq!(p["version"], "0.1.0");
    assert_eq!(
        p["description"], rust_report["policies"][0]["description"],
        "the twins describe themselves alike"
    );
    assert_eq!(p["stdout"], "", "{context}");
    assert_eq!(p["stderr"], "", "{context}");
    python_report
}

fn policy_section(report: &Value) -> &Value {
    &report["policies"][0]
}

fn messages(report: &Value) -> Vec<String> {
    policy_section(report)["reasons"]
        .as_array()
        .expect("reasons array")
        .iter()
        .map(|r| r["message"].as_str().expect("message").to_string())
        .collect()
}

#[test]
fn example_releases_get_the_same_decisions() {
    let report = assert_twins_agree(&example_release("prod-delete-database.json"), &[], 1);
    assert_eq!(
        messages(&report),
        [
            "1 destructive change to protected resources in environment prod-eu (protected by \"prod*\"); run them through a maintenance change instead",
            "DELETE of mysql datastores/orders",
        ]
    );
    assert_eq!(
        policy_section(&report)["logs"],
        json!([{
            "level": "debug",
            "message": "1 destructive change to protected resources among 3 resources"
        }]),
        "the Python policy logs through the host `log` import"
    );

    let report = assert_twins_agree(
        &example_release("staging-recreate-database.json"),
        &["approver-groups=dba,sre", "min-approvals=2"],
        2,
    );
    assert_eq!(
        policy_section(&report)["reasons"],
        json!([
            {"message": "RECREATE of postgres datastores/users", "resource_path": "datastores/users"},
            {"message": "REPLACE of s3 buckets/assets", "resource_path": "buckets/assets"},
        ])
    );
    assert_eq!(
        policy_section(&report)["approver_groups"],
        json!(["dba", "sre"])
    );
    assert_eq!(policy_section(&report)["min_approvals"], 2);

    let report = assert_twins_agree(&example_release("staging-update.json"), &[], 0);
    assert_eq!(
        messages(&report),
        ["no destructive change to a protected resource"]
    );
    assert_twins_agree(&example_release("prod-with-approvals.json"), &[], 0);
}

#[test]
fn settings_variations_get_the_same_decisions() {
    // Several protected changes in prod: the plural message, a type glob and a
    // path glob; unprotected and non-destructive changes are not reasons.
    let prod = temp_file(
        release_json(
            "prod-eu",
            "PROD",
            &[
                ("aws_db_instance", "main", "rds/main", "RECREATE"),
                ("redis", "sessions", "caches/sessions", "DELETE"),
                ("anything", "orders", "datastores/eu/orders", "REPLACE"),
                ("aws_db_cluster", "analytics", "rds/analytics", "DELETE"),
                ("mysql", "users", "datastores/users", "UPDATE_IN_PLACE"),
                ("s3", "logs", "buckets/logs", "NO_OPERATION"),
            ],
        ),
        ".json",
    );
    let prod = prod.path().display().to_string();
    let report = assert_twins_agree(
        &prod,
        &["protected-types=aws_db_*", "protected-paths=datastores/**"],
        1,
    );
    assert_eq!(
        messages(&report),
        [
            "3 destructive changes to protected resources in environment prod-eu (protected by \"prod*\"); run them through a maintenance change instead",
            "RECREATE of aws_db_instance rds/main",
            "REPLACE of anything datastores/eu/orders",
            "DELETE of aws_db_cluster rds/analytics",
        ]
    );

    // Paths only, one change type (any case), no failing environment, groups
    // and a minimum: prod needs approval instead of failing.
    let report = assert_twins_agree(
        &prod,
        &[
            "protected-types=",
            "protected-paths=datastores/**, rds/*",
            "change-types=delete",
            "fail-environments=",
            "approver-groups=dba, sre",
            "min-approvals=3",
        ],
        2,
    );
    assert_eq!(
        policy_section(&report)["reasons"],
        json!([
            {"message": "DELETE of aws_db_cluster rds/analytics", "resource_path": "rds/analytics"},
        ])
    );

    // Custom change types and an environment glob spanning a `/`.
    let nested = temp_file(
        release_json(
            "eu/prod-1",
            "PROD",
            &[
                ("postgres", "users", "datastores/users", "UPDATE_IN_PLACE"),
                ("mysql", "orders", "datastores/orders", "DELETE"),
                ("s3", "assets", "buckets/assets", "CREATE"),
            ],
        ),
        ".json",
    );
    let report = assert_twins_agree(
        &nested.path().display().to_string(),
        &[
            "change-types= create ,UPDATE_in_place",
            "fail-environments=staging,*/prod-?",
        ],
        1,
    );
    assert_eq!(
        messages(&report)[0],
        "2 destructive changes to protected resources in environment eu/prod-1 (protected by \"*/prod-?\"); run them through a maintenance change instead"
    );
}

#[test]
fn invalid_settings_get_the_same_errors() {
    let input = example_release("staging-update.json");
    let cases: [(&str, &str); 4] = [
        (
            "change-types=DELETE,DESTROY",
            "setting 'change-types': unknown change type \"DESTROY\"; expected some of CREATE, DELETE, UPDATE_IN_PLACE, REPLACE, RECREATE, NO_OPERATION",
        ),
        (
            "min-approvals=ten",
            "setting 'min-approvals': expected a whole number from 0 to 4294967295, got \"ten\"",
        ),
        (
            "min-approval=2",
            "setting 'min-approval': unknown setting (known settings: approver-groups, change-types, fail-environments, min-approvals, protected-paths, protected-types)",
        ),
        (
            "protected-types=",
            "setting 'protected-types': protected-types and protected-paths are both empty",
        ),
    ];
    for (setting, fragment) in cases {
        let report = assert_twins_agree(&input, &[setting], 3);
        let error = report["error"].as_str().expect("error message");
        assert!(
            error.starts_with(&format!("policy '{PYTHON}' (")) && error.contains(fragment),
            "{setting}: {error}"
        );
    }
}
