//! Policy sets (`gatehouse.toml`): `eval --config` with conditions and
//! skipped policies, no applicable policy → auto-approve, sha256 pins
//! (mismatch refused, a correct pin runs), aggregation of three verdicts
//! with per-policy attribution, per-policy limits, and `gatehouse check`
//! on the example config and on a config with several problems at once.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    Run, assert_error, assert_no_host_panic, gatehouse, policy, release_json, sha256_hex,
    temp_file, workspace_root,
};
use std::path::{Path, PathBuf};

/// Writes `gatehouse.toml` with `text` into a fresh directory.
fn config(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("gatehouse.toml");
    std::fs::write(&path, text).expect("write the config");
    (dir, path)
}

/// A TOML string literal for a path.
fn lit(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

/// A release file with one datastore deletion.
fn release(environment: &str, stream: &str) -> tempfile::NamedTempFile {
    temp_file(
        release_json(
            environment,
            stream,
            &[
                ("mysql", "orders", "datastores/orders", "DELETE"),
                ("service", "api", "services/api", "UPDATE_IN_PLACE"),
            ],
        ),
        ".json",
    )
}

fn eval(config: &Path, input: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "eval".to_string(),
        "--config".into(),
        config.display().to_string(),
        "--input".into(),
        input.display().to_string(),
        "--now".into(),
        "2026-11-22T10:00:00Z".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = gatehouse(&args);
    assert_no_host_panic(&run);
    run
}

/// Three policies: stream-approval (PROD → require-approval),
/// destructive-changes (fails in prod*), change-budget (auto-approve).
fn three_policies() -> String {
    format!(
        r#"
[[policy]]
name = "streams"
path = {stream}
release_streams = ["PROD"]
[policy.settings]
approver-groups = "release-managers"

[[policy]]
name = "destructive"
path = {destructive}
environments = ["prod*", "staging"]
[policy.settings]
approver-groups = "dba"
fail-environments = "prod*"

[[policy]]
name = "budget"
path = {budget}
[policy.settings]
max-changes = 10
"#,
        stream = lit(&policy("stream-approval")),
        destructive = lit(&policy("destructive-changes")),
        budget = lit(&policy("change-budget")),
    )
}

#[test]
fn three_verdicts_aggregate_to_fail_with_attribution() {
    let (_dir, path) = config(&three_policies());
    let input = release("prod-eu", "PROD");
    let run = eval(&path, input.path(), &["--output", "json"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let json = run.json();
    assert_eq!(json["schema"], "gatehouse.report/v1");
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["config"], path.display().to_string());
    assert_eq!(json["skipped"], serde_json::json!([]));
    let policies = json["policies"].as_array().expect("policies");
    let got: Vec<(&str, &str)> = policies
        .iter()
        .map(|p| {
            (
                p["config_name"].as_str().expect("config_name"),
                p["verdict"].as_str().expect("verdict"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("streams", "require-approval"),
            ("destructive", "fail"),
            ("budget", "auto-approve")
        ]
    );
    assert_eq!(policies[1]["name"], "destructive-changes");
    assert_eq!(policies[1]["settings"]["fail-environments"], "prod*");
    assert_eq!(policies[2]["settings"]["max-changes"], "10");
    assert_eq!(
        json["required_approvals"],
        serde_json::json!([{
            "policy": "streams", "approver_groups": ["release-managers"],
            "min_approvals": 1, "instructions": json["required_approvals"][0]["instructions"]
        }])
    );

    let text = eval(&path, input.path(), &[]);
    assert_eq!(text.code, 1, "{text:#?}");
    assert!(text.stdout.starts_with("FAIL (exit 1)"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains("policy streams [stream-approval] 0.1.0: require-approval"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("policy destructive [destructive-changes] 0.1.0: fail")
    );
    assert!(
        text.stdout
            .contains("policy budget [change-budget] 0.1.0: auto-approve")
    );
    assert!(text.stdout.contains(&format!("config: {}", path.display())));
}

#[test]
fn conditions_skip_policies_and_say_why() {
    let (_dir, path) = config(&three_policies());
    let input = release("dev", "QA");
    let run = eval(&path, input.path(), &["--output", "json"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let json = run.json();
    assert_eq!(json["verdict"], "auto-approve");
    let ran: Vec<&str> = json["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .map(|p| p["config_name"].as_str().expect("name"))
        .collect();
    assert_eq!(ran, ["budget"]);
    let skipped = json["skipped"].as_array().expect("skipped");
    assert_eq!(skipped.len(), 2, "{json:#}");
    assert_eq!(skipped[0]["name"], "streams");
    assert_eq!(
        skipped[0]["reason"],
        "release stream \"QA\" is not one of PROD"
    );
    assert_eq!(
        skipped[0]["path"],
        policy("stream-approval").display().to_string()
    );
    assert_eq!(skipped[1]["name"], "destructive");
    assert_eq!(
        skipped[1]["reason"],
        "environment \"dev\" matches none of prod*, staging"
    );

    // staging matches the exact name: destructive runs (approval, not fail).
    let run = eval(
        &path,
        release("staging", "QA").path(),
        &["--output", "json"],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    let json = run.json();
    assert_eq!(json["policies"][0]["config_name"], "destructive");
    assert_eq!(json["policies"][0]["verdict"], "require-approval");
    assert_eq!(json["skipped"][0]["name"], "streams");

    // --environment overrides the input's before conditions are matched.
    let run = eval(
        &path,
        input.path(),
        &["--environment", "prod-us", "--output", "json"],
    );
    assert_eq!(run.code, 1, "{run:#?}");
}

#[test]
fn no_applicable_policy_auto_approves_and_lists_the_skipped() {
    let (_dir, path) = config(&format!(
        "[[policy]]\nname = \"prod-only\"\npath = {}\nenvironments = [\"prod*\"]\n",
        lit(&policy("destructive-changes"))
    ));
    let input = release("dev", "QA");
    let run = eval(&path, input.path(), &["--output", "json"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let json = run.json();
    assert_eq!(json["verdict"], "auto-approve");
    assert_eq!(json["policies"], serde_json::json!([]));
    assert_eq!(json["skipped"][0]["name"], "prod-only");
    assert_eq!(
        json["skipped"][0]["reason"],
        "environment \"dev\" matches none of prod*"
    );
    let text = eval(&path, input.path(), &[]);
    assert_eq!(text.code, 0);
    assert!(
        text.stdout.contains("no policy applies: auto-approve"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("skipped prod-only (")
            && text.stdout.contains("matches none of prod*"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_pin_mismatch_is_refused_and_a_correct_pin_runs() {
    let wasm = policy("change-budget");
    let digest = sha256_hex(std::fs::read(&wasm).expect("read the policy"));
    let wrong = "0".repeat(64);
    let (_dir, path) = config(&format!(
        "[[policy]]\nname = \"budget\"\npath = {}\nsha256 = \"{wrong}\"\n",
        lit(&wasm)
    ));
    let input = release("dev", "QA");
    let run = eval(&path, input.path(), &[]);
    assert_error(
        &run,
        &[
            "policy 'budget' (",
            &format!("sha256 is {digest}, but the config pins {wrong}; refusing to run it"),
        ],
    );
    assert!(run.stdout.is_empty(), "{run:#?}");

    let (_dir, path) = config(&format!(
        "[[policy]]\nname = \"budget\"\npath = {}\nsha256 = \"{}\"\n",
        lit(&wasm),
        digest.to_uppercase()
    ));
    let run = eval(&path, input.path(), &["--output", "json"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.json()["policies"][0]["wasm_sha256"], digest);
}

#[test]
fn limits_are_per_policy() {
    let (_dir, path) = config(&format!(
        r#"
[[policy]]
name = "budget"
path = {budget}

[[policy]]
name = "starved"
path = {streams}
[policy.limits]
fuel = 1000
"#,
        budget = lit(&policy("change-budget")),
        streams = lit(&policy("stream-approval")),
    ));
    let run = eval(&path, release("dev", "QA").path(), &["--output", "json"]);
    let message = assert_error(
        &run,
        &["policy 'starved' (", "ran out of fuel", "(limit 1000)"],
    );
    assert!(message.contains("stream-approval.wasm"), "{message}");
    assert_eq!(run.json()["policy"], "starved");
    assert_eq!(
        run.json()["limit"],
        serde_json::json!({"name": "fuel", "value": 1000})
    );
}

#[test]
fn config_conflicts_with_policy_flags() {
    let (_dir, path) = config(&three_policies());
    let input = release("dev", "QA");
    let p = policy("change-budget").display().to_string();
    for extra in [
        vec!["--policy", p.as_str()],
        vec!["--set", "a=b"],
        vec!["--fuel", "10"],
    ] {
        let run = eval(&path, input.path(), &extra);
        assert_eq!(run.code, 3, "{run:#?}");
        assert!(run.stderr.contains("cannot be used with"), "{run:#?}");
    }
    let run = gatehouse(["eval", "--input", &input.path().display().to_string()]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(run.stderr.contains("--config <FILE>"), "{run:#?}");
}

#[test]
fn check_accepts_the_example_config() {
    let run = gatehouse(["check", "--config", "example-policies/gatehouse.toml"]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.starts_with("ok: 5 policies checked"), "{run:#?}");
    assert!(run.stderr.is_empty(), "{run:#?}");

    let run = gatehouse([
        "check",
        "--config",
        "example-policies/gatehouse.toml",
        "--output",
        "json",
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    let json = run.json();
    assert_eq!(json["schema"], "gatehouse.check/v1");
    assert_eq!(json["ok"], true);
    assert_eq!(json["problems"], serde_json::json!([]));
    assert_eq!(json["policies"].as_array().map(Vec::len), Some(5));
    assert_eq!(json["policies"][0]["version"], "0.1.0");
    assert!(
        workspace_root()
            .join("example-policies/gatehouse.toml")
            .exists()
    );
}

#[test]
fn check_lists_every_problem() {
    let budget = policy("change-budget");
    let (dir, path) = config(&format!(
        r#"
[[policy]]
name = "missing"
path = "not-there.wasm"

[[policy]]
name = "pinned"
path = {streams}
sha256 = "{zeros}"

[[policy]]
name = "bad-settings"
path = {budget}
[policy.settings]
max-changes = "-1"

[[policy]]
name = "fine"
path = {budget}
"#,
        streams = lit(&policy("stream-approval")),
        budget = lit(&budget),
        zeros = "0".repeat(64),
    ));
    let run = gatehouse(["check", "--config", &path.display().to_string()]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 3, "{run:#?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{run:#?}");
    assert!(lines.iter().all(|l| l.starts_with("gatehouse: error: ")));
    assert!(
        lines[0].contains("policy 'missing' (")
            && lines[0].contains("not-there.wasm): cannot read"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("policy 'pinned'") && lines[1].contains("refusing to run it"),
        "{lines:?}"
    );
    assert!(
        lines[2].contains("policy 'bad-settings' (") && lines[2].contains("): settings rejected"),
        "{lines:?}"
    );
    assert!(run.stdout.starts_with("3 problems in"), "{run:#?}");

    let json = gatehouse([
        "check",
        "--config",
        &path.display().to_string(),
        "--output",
        "json",
    ]);
    assert_eq!(json.code, 3);
    let json = json.json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["problems"].as_array().map(Vec::len), Some(3));
    let oks: Vec<bool> = json["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .map(|p| p["ok"].as_bool().expect("ok"))
        .collect();
    assert_eq!(oks, [false, false, false, true]);

    // Several config mistakes at once, including an unknown key (a parse error
    // names its key and line; semantic problems are all listed together).
    std::fs::write(
        dir.path().join("typo.toml"),
        "[[policy]]\nname = \"a\"\npath = \"a.wasm\"\nenvironmnets = [\"prod\"]\n",
    )
    .expect("write");
    let run = gatehouse([
        "check",
        "--config",
        &dir.path().join("typo.toml").display().to_string(),
    ]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr.contains("line 4") && run.stderr.contains("unknown field `environmnets`"),
        "{run:#?}"
    );
    std::fs::write(
        dir.path().join("many.toml"),
        "[[policy]]\nname = \"a\"\npath = \"a.wasm\"\nsha256 = \"nothex\"\n[policy.limits]\nfuel = 0\n\n[[policy]]\nname = \"a\"\npath = \"b.wasm\"\n",
    )
    .expect("write");
    let run = gatehouse([
        "check",
        "--config",
        &dir.path().join("many.toml").display().to_string(),
    ]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert_eq!(run.stderr.lines().count(), 3, "{run:#?}");
    for fragment in [
        "not 64 hex digits",
        "limits.fuel must be at least 1",
        "already used",
    ] {
        assert!(run.stderr.contains(fragment), "{fragment}: {run:#?}");
    }
}

#[test]
fn check_without_a_config_file_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = gatehouse([
        "check",
        "--config",
        &dir.path().join("gatehouse.toml").display().to_string(),
    ]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr.contains("cannot open the config file"),
        "{run:#?}"
    );
}
