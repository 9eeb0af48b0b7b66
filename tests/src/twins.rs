//! The language twins of the `destructive-changes` example policy (Python,
//! JavaScript, C): each must decide exactly as the Rust policy on the same
//! releases and settings. What every twin's end-to-end test checks the same
//! way lives here — running a twin beside the Rust policy and comparing the
//! reports, the cases every twin shares, and the Rust suite run through
//! `gatehouse test --policy` — so each test file keeps only what is specific
//! to its language.

use crate::{
    Run, assert_no_host_panic, gatehouse, policy, release_json, temp_file, workspace_root,
};
use serde_json::{Value, json};

/// The Rust policy every twin is compared against.
pub const RUST: &str = "destructive-changes";

/// A fixed evaluation time: reports are reproducible.
pub const NOW: &str = "2026-11-22T10:00:00Z";

/// The path of an example release, `example-policies/releases/<name>`, as an
/// argument for the binary.
pub fn example_release(name: &str) -> String {
    workspace_root()
        .join("example-policies/releases")
        .join(name)
        .display()
        .to_string()
}

/// The arguments of `gatehouse eval` for one policy on an input with `--set`
/// settings, [`NOW`], `--output json`, the default limits (no `--fuel`,
/// `--memory-mib` or `--timeout-ms`) and no grants.
pub fn eval_args(policy_name: &str, input: &str, settings: &[&str]) -> Vec<String> {
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
    args
}

/// Runs [`eval_args`] and asserts the host did not panic.
pub fn eval(policy_name: &str, input: &str, settings: &[&str]) -> Run {
    let run = gatehouse(eval_args(policy_name, input, settings));
    assert_no_host_panic(&run);
    run
}

/// What must agree between two policies in a decision report: everything
/// but the policy's identity, digest, logs and timings.
pub fn decision(report: &Value) -> Value {
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

/// The settings error after `settings rejected: `, asserting the report is
/// an error report for policy `name` (not a limit) with a settings error.
pub fn settings_error(report: &Value, name: &str, context: &str) -> String {
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

/// The policy's section of a decision report (the only policy evaluated).
pub fn policy_section(report: &Value) -> &Value {
    &report["policies"][0]
}

/// The reason messages of the policy in a decision report, in order.
pub fn messages(report: &Value) -> Vec<String> {
    policy_section(report)["reasons"]
        .as_array()
        .expect("reasons array")
        .iter()
        .map(|r| r["message"].as_str().expect("message").to_string())
        .collect()
}

/// Settings errors every twin must report as the Rust policy does: a
/// setting and a fragment of the error message that follows
/// `settings rejected: `. A twin's test may check more.
pub const SETTINGS_ERRORS: [(&str, &str); 4] = [
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

/// One language twin of the Rust policy [`RUST`].
#[derive(Debug, Clone, Copy)]
pub struct Twin {
    /// The compiled policy's name, `target/policies/<policy>.wasm`.
    pub policy: &'static str,
    /// The language, for messages ("Python", "JavaScript", "C").
    pub language: &'static str,
}

impl Twin {
    /// Evaluates the Rust policy and this twin on `input` with `settings`,
    /// asserts both exit with `expected_code` and decide alike (or, for exit
    /// 3, reject the settings with the same error, each naming itself), and
    /// returns the twin's report. A decision report must also carry the
    /// twin's name and version, the Rust policy's description, no stdout or
    /// stderr and no dropped logs.
    pub fn assert_agrees(&self, input: &str, settings: &[&str], expected_code: i32) -> Value {
        let name = self.policy;
        let lang = self.language;
        let rust = eval(RUST, input, settings);
        let twin = eval(name, input, settings);
        let context =
            format!("input {input}, settings {settings:?}\nrust: {rust:#?}\n{lang}: {twin:#?}");
        assert_eq!(rust.code, expected_code, "rust exit code; {context}");
        assert_eq!(twin.code, expected_code, "{lang} exit code; {context}");
        let (rust_report, twin_report) = (rust.json(), twin.json());

        if expected_code == 3 {
            // The same settings error, each naming its own policy.
            assert_eq!(
                settings_error(&twin_report, name, &context),
                settings_error(&rust_report, RUST, &context),
                "settings error; {context}"
            );
            return twin_report;
        }

        assert_eq!(
            decision(&twin_report),
            decision(&rust_report),
            "decisions differ; {context}"
        );
        let p = policy_section(&twin_report);
        assert_eq!(p["name"], name);
        assert_eq!(p["version"], "0.1.0");
        assert_eq!(
            p["description"],
            policy_section(&rust_report)["description"],
            "the twins describe themselves alike"
        );
        assert_eq!(p["stdout"], "", "{context}");
        assert_eq!(p["stderr"], "", "{context}");
        assert_eq!(p["logs_dropped"], 0, "{context}");
        twin_report
    }

    /// The four example releases decide alike: every verdict, the reasons
    /// with their resource paths, approver groups, the minimum, and the
    /// twin's one debug log line. Returns the twin's report on
    /// `prod-delete-database.json` for checks specific to the language.
    pub fn assert_example_releases_agree(&self) -> Value {
        let report = self.assert_agrees(&example_release("prod-delete-database.json"), &[], 1);
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
            "the {} policy logs through the host `log` import",
            self.language
        );
        let prod_delete = report;

        let report = self.assert_agrees(
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

        let report = self.assert_agrees(&example_release("staging-update.json"), &[], 0);
        assert_eq!(
            messages(&report),
            ["no destructive change to a protected resource"]
        );
        self.assert_agrees(&example_release("prod-with-approvals.json"), &[], 0);
        prod_delete
    }

    /// Every setting varied once decides alike: type and path globs with the
    /// plural message, paths only with one change type in any case and
    /// approvers instead of failing, custom change types and an environment
    /// glob spanning a `/`.
    pub fn assert_settings_variations_agree(&self) {
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
        let report = self.assert_agrees(
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
        let report = self.assert_agrees(
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
        let report = self.assert_agrees(
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

    /// Each `(setting, fragment)` is rejected alike on
    /// `staging-update.json`, and the twin's error names the twin and
    /// contains the fragment.
    pub fn assert_settings_errors_agree(&self, cases: &[(&str, &str)]) {
        let input = example_release("staging-update.json");
        for (setting, fragment) in cases {
            let report = self.assert_agrees(&input, &[setting], 3);
            let error = report["error"].as_str().expect("error message");
            assert!(
                error.starts_with(&format!("policy '{}' (", self.policy))
                    && error.contains(fragment),
                "{setting}: {error}"
            );
        }
    }

    /// A staging release of 5,000 resources under the default limits, with
    /// `stack/3/**` protected, decides alike (2,678 reasons: mysql and
    /// aws_db_instance by type, redis only under `stack/3/`). Returns the
    /// twin's report.
    pub fn assert_large_release_agrees(&self) -> Value {
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
        let report = self.assert_agrees(
            &release.path().display().to_string(),
            &["protected-paths=stack/3/**"],
            2,
        );
        // mysql and aws_db_instance by type, redis only under `stack/3/`.
        assert_eq!(messages(&report).len(), 2678);
        report
    }

    /// The Rust policy's own `gatehouse test` suite passes, case for case,
    /// with this twin in its place (`--policy`): every case in it runs, and
    /// every case really ran the twin.
    pub fn assert_rust_suite_passes(&self) {
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
            policy(self.policy).display().to_string(),
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
        let wasm = format!("{}.wasm", self.policy);
        for case in report["cases"].as_array().expect("cases array") {
            assert!(
                case["policy"].as_str().is_some_and(|p| p.ends_with(&wasm)),
                "{case:#?}"
            );
        }
    }
}
