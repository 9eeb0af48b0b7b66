//! A real JavaScript policy, built with componentize-js, under the default
//! sandbox limits: `example-policies/destructive-changes-js` must decide
//! exactly as its Rust twin `destructive-changes` on the same releases and
//! settings — the same exit codes, verdicts, reasons (messages and resource
//! paths), approver groups, minimum approvals and settings error messages.
//!
//! The component embeds the SpiderMonkey engine (~12 MB), so each evaluation
//! compiles it with Cranelift (seconds without a compile cache); the cases are
//! few and chosen to cover every verdict and every setting once.

use gatehouse_e2e::{
    Run, assert_no_host_panic, gatehouse, policy, release_json, temp_file, workspace_root,
};
use serde_json::{Value, json};

const RUST: &str = "destructive-changes";
const JS: &str = "destructive-changes-js";

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

/// The settings error after the policy's own name, from an error report.
fn settings_error(report: &Value, name: &str, context: &str) -> String {
    assert_eq!(report["verdict"], "error", "{context}");
    assert_eq!(report["policy"], name, "{context}");
    assert_eq!(report["limit"], Value::Null, "{context}");
    let error = report["error"].as_str().expect("error message");
    error
        .split_once(": settings rejected: ")
        .unwrap_or_else(|| panic!("not a settings error: {error}"))
        .1
        .to_string()
}

/// Evaluates both policies on `input` with `settings`, asserts both exit with
/// `expected_code` and decide alike, and returns the JavaScript policy's report.
fn assert_twins_agree(input: &str, settings: &[&str], expected_code: i32) -> Value {
    let rust = eval(RUST, input, settings);
    let js = eval(JS, input, settings);
    let context = format!("input {input}, settings {settings:?}\nrust: {rust:#?}\njs: {js:#?}");
    assert_eq!(rust.code, expected_code, "rust exit code; {context}");
    assert_eq!(js.code, expected_code, "js exit code; {context}");
    let (rust_report, js_report) = (rust.json(), js.json());

    if expected_code == 3 {
        // The same settings error, each naming its own policy.
        assert_eq!(
            settings_error(&js_report, JS, &context),
            settings_error(&rust_report, RUST, &context),
            "settings error; {context}"
        );
        return js_report;
    }

    assert_eq!(
        decision(&js_report),
        decision(&rust_report),
        "decisions differ; {context}"
    );
    let p = &js_report["policies"][0];
    assert_eq!(p["name"], JS);
    assert_eq!(p["version"], "0.1.0");
    assert_eq!(
        p["description"], rust_report["policies"][0]["description"],
        "the twins describe themselves alike"
    );
    assert_eq!(p["stdout"], "", "{context}");
    assert_eq!(p["stderr"], "", "{context}");
    js_report
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
        "the JavaScript policy logs through the host `log` import"
    );
    let fuel = policy_section(&report)["fuel_used"]
        .as_u64()
        .expect("fuel_used");
    assert!(
        fuel > 0 && fuel < 2_000_000_000,
        "an evaluation fits the default fuel: {fuel}"
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

    // Globs match UTF-8 bytes (`?` is one byte, `é` two), and a quoted glob
    // escapes what Rust's `{:?}` escapes (a zero-width space), not a letter.
    let accented = temp_file(
        release_json(
            "prod-é",
            "PROD",
            &[("mysql", "orders", "datastores/orders", "DELETE")],
        ),
        ".json",
    );
    let report = assert_twins_agree(
        &accented.path().display().to_string(),
        &["fail-environments=prod-?,prod-??"],
        1,
    );
    assert_eq!(
        messages(&report)[0],
        "1 destructive change to protected resources in environment prod-é (protected by \"prod-??\"); run them through a maintenance change instead"
    );
    let invisible = temp_file(
        release_json(
            "prod\u{200b}eu",
            "PROD",
            &[("mysql", "orders", "datastores/orders", "DELETE")],
        ),
        ".json",
    );
    let report = assert_twins_agree(
        &invisible.path().display().to_string(),
        &["fail-environments=prod\u{200b}*"],
        1,
    );
    assert!(
        messages(&report)[0].contains(r#"(protected by "prod\u{200b}*")"#),
        "{:?}",
        messages(&report)
    );
}

#[test]
fn invalid_settings_get_the_same_errors() {
    let input = example_release("staging-update.json");
    let cases: [(&str, &str); 6] = [
        (
            "change-types=DELETE,DESTROY",
            "setting 'change-types': unknown change type \"DESTROY\"; expected some of CREATE, DELETE, UPDATE_IN_PLACE, REPLACE, RECREATE, NO_OPERATION",
        ),
        (
            "change-types= , ",
            "setting 'change-types': expected a comma-separated list with at least one item, got an empty value",
        ),
        (
            "min-approvals=ten",
            "setting 'min-approvals': expected a whole number from 0 to 4294967295, got \"ten\"",
        ),
        (
            "min-approvals=4294967296",
            "setting 'min-approvals': expected a whole number from 0 to 4294967295, got \"4294967296\"",
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
            error.starts_with(&format!("policy '{JS}' (")) && error.contains(fragment),
            "{setting}: {error}"
        );
    }

    // Values quoted with escapes: a tab, a quote and a zero-width space.
    let report = assert_twins_agree(&input, &["change-types=DEL\tE\"TE\u{200b}"], 3);
    let error = report["error"].as_str().expect("error message");
    assert!(
        error.contains(r#"unknown change type "DEL\tE\"TE\u{200b}""#),
        "{error}"
    );
}

#[test]
fn a_large_release_gets_the_same_decision_under_default_limits() {
    // The engine is interpreted: about 0.2 million fuel per resource (half of
    // it in the generated bindings that copy the release into JS objects), so
    // 5,000 resources stay well inside the default 2,000,000,000 per call.
    let resources: Vec<(String, String, String, &str)> = (0..5000)
        .map(|i| {
            let kind = ["DELETE", "DELETE", "RECREATE", "CREATE"][i % 4];
            let ty = ["mysql", "redis", "aws_db_instance", "s3"][i % 4];
            (
                ty.to_string(),
                format!("r{i}"),
                format!("stack/{}/r{i}", i % 7),
                kind,
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str, &str, &str)> = resources
        .iter()
        .map(|(t, n, p, k)| (t.as_str(), n.as_str(), p.as_str(), *k))
        .collect();
    let release = temp_file(release_json("staging", "QA", &borrowed), ".json");
    let report = assert_twins_agree(
        &release.path().display().to_string(),
        &["protected-paths=stack/3/**"],
        2,
    );
    // mysql and aws_db_instance by type, redis only under `stack/3/`.
    assert_eq!(messages(&report).len(), 2678);
    let fuel = policy_section(&report)["fuel_used"]
        .as_u64()
        .expect("fuel_used");
    assert!(fuel < 2_000_000_000, "fuel {fuel}");
}

/// `gatehouse inspect` shows what a reviewer must know: the component imports
/// only the Gatehouse host interface and its types (every WASI feature of the
/// engine is disabled at build time), and says it was made by ComponentizeJS.
#[test]
fn the_component_imports_only_the_gatehouse_host() {
    let run = gatehouse([
        "inspect".to_string(),
        "--output".into(),
        "json".into(),
        policy(JS).display().to_string(),
    ]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.json();
    assert_eq!(report["load"]["ok"], true, "{report:#}");
    assert_eq!(report["refused_imports"], json!([]), "{report:#}");
    let mut names = Vec::new();
    for group in report["imports"].as_array().expect("imports array") {
        for import in group["imports"].as_array().expect("group imports") {
            let name = import["name"].as_str().expect("import name");
            assert!(
                ["gatehouse", "type"].contains(&group["class"].as_str().unwrap_or("")),
                "unexpected import {name} in class {}",
                group["class"]
            );
            names.push(name.to_string());
        }
    }
    assert!(
        names.contains(&"gatehouse:policy/host@0.1.0".to_string()),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.starts_with("wasi:")), "{names:?}");
    let producers = report["producers"].to_string();
    assert!(producers.contains("ComponentizeJS"), "{producers}");
    assert!(producers.contains("JavaScript"), "{producers}");
}

/// The Rust policy's own `gatehouse test` suite passes, case for case, with the
/// JavaScript policy in its place (`--policy`), and every case in it runs.
#[test]
fn the_rust_twins_test_suite_passes_with_the_js_policy() {
    let suites = workspace_root().join("example-policies/destructive-changes/tests");
    let cases: usize = std::fs::read_dir(&suites)
        .expect("the destructive-changes suites")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.to_string_lossy().ends_with(".test.toml"))
        .map(|path| {
            std::fs::read_to_string(&path)
                .expect("read a suite")
                .lines()
                .filter(|line| line.trim() == "[[case]]")
                .count()
        })
        .sum();
    assert!(cases > 0, "no cases in {}", suites.display());
    let run = gatehouse([
        "test".to_string(),
        "--policy".into(),
        policy(JS).display().to_string(),
        suites.display().to_string(),
        "--output".into(),
        "json".into(),
    ]);
    assert_no_host_panic(&run);
    let report = run.json();
    let failed: Vec<&Value> = report["cases"]
        .as_array()
        .expect("cases array")
        .iter()
        .filter(|case| case["status"] != "pass")
        .collect();
    assert!(failed.is_empty(), "failed cases: {failed:#?}");
    assert_eq!(
        report["summary"],
        json!({"total": cases, "passed": cases, "failed": 0, "errors": 0}),
        "{run:#?}"
    );
    assert_eq!(run.code, 0, "{run:#?}");
    for case in report["cases"].as_array().expect("cases array") {
        assert!(
            case["policy"]
                .as_str()
                .is_some_and(|p| p.ends_with("destructive-changes-js.wasm")),
            "{case:#?}"
        );
    }
}
