//! Policy sets (`gatehouse.toml`): `eval --config` with conditions and
//! skipped policies; no applicable policy → exit 3 naming the environment,
//! stream and conditions, unless `when-nothing-applies` says otherwise (each
//! value); a release that matches only when case is ignored is refused (the
//! `Prod-eu` reproduction with the example set); sha256 pins (mismatch
//! refused, a correct pin runs), aggregation of three verdicts with
//! per-policy attribution, per-policy limits, and `gatehouse check` on the
//! example config, on a config with several problems at once, and with
//! `--input` (which policies apply to a release, text and JSON).

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
            "min_approvals": 1, "instructions": json["required_approvals"][0]["instructions"],
            "approve_command": format!(
                "gatehouse approve --digest {} --environment prod-eu --group release-managers --key ~/.ssh/id_ed25519",
                json["input"]["release_digest"].as_str().expect("digest")
            )
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
        "release stream \"QA\" is not one of \"PROD\""
    );
    assert_eq!(
        skipped[0]["path"],
        policy("stream-approval").display().to_string()
    );
    assert_eq!(skipped[1]["name"], "destructive");
    assert_eq!(
        skipped[1]["reason"],
        "environment \"dev\" matches none of \"prod*\", \"staging\""
    );
    assert_eq!(json["nothing_applied"], serde_json::Value::Null);

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

/// A set of two conditional policies, preceded by `header` (top-level keys).
fn conditional_set(header: &str) -> String {
    format!(
        "{header}\n[[policy]]\nname = \"prod-only\"\npath = {}\nenvironments = [\"prod*\", \"staging\"]\n\n\
         [[policy]]\nname = \"prod-stream\"\npath = {}\nrelease_streams = [\"PROD\"]\n",
        lit(&policy("destructive-changes")),
        lit(&policy("stream-approval")),
    )
}

#[test]
fn nothing_applies_is_an_error_naming_environment_stream_and_conditions() {
    for header in ["", "when-nothing-applies = \"error\""] {
        let (_dir, path) = config(&conditional_set(header));
        let input = release("dev", "QA");
        let run = eval(&path, input.path(), &[]);
        let message = assert_error(
            &run,
            &[
                &format!("{}: no policy applies to", path.display()),
                "environment \"dev\", release stream \"QA\", so nothing would be checked",
                "policy 'prod-only': environment \"dev\" matches none of \"prod*\", \"staging\"",
                "policy 'prod-stream': release stream \"QA\" is not one of \"PROD\"",
                "when-nothing-applies",
            ],
        );
        assert!(!message.contains("auto-approve (exit"), "{message}");
        assert!(run.stdout.is_empty(), "{run:#?}");
        let json = eval(&path, input.path(), &["--output", "json"]);
        assert_eq!(json.code, 3, "{json:#?}");
        assert_eq!(json.json()["verdict"], "error");
        assert!(
            json.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains("no policy applies")),
            "{json:#?}"
        );
    }
}

#[test]
fn nothing_applies_messages_escape_the_release_names() {
    let (_dir, path) = config(&conditional_set(""));
    let input = release("dev\n::error::forged\u{202e}", "QA\r\u{2028}x");
    let run = eval(&path, input.path(), &[]);
    // One stderr line: the names cannot add lines or reverse the text.
    let message = assert_error(&run, &["environment \"dev\\n::error::forged\\u{202e}\""]);
    assert!(
        message.contains("release stream \"QA\\r\\u{2028}x\""),
        "{message}"
    );
    assert!(!message.contains('\u{202e}') && !message.contains('\u{2028}'));
}

#[test]
fn when_nothing_applies_fail_fails_and_says_nothing_was_checked() {
    let (_dir, path) = config(&conditional_set("when-nothing-applies = \"fail\""));
    let input = release("dev", "QA");
    let run = eval(&path, input.path(), &["--output", "json"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let json = run.json();
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["policies"], serde_json::json!([]));
    assert_eq!(json["required_approvals"], serde_json::json!([]));
    assert_eq!(json["nothing_applied"]["action"], "fail");
    assert_eq!(json["nothing_applied"]["checked"], false);
    assert_eq!(
        json["nothing_applied"]["message"],
        "nothing was checked: no policy of the set applies to environment \"dev\", release stream \"QA\"; \
         fail because the set says when-nothing-applies = \"fail\""
    );
    assert_eq!(json["skipped"].as_array().map(Vec::len), Some(2));
    let text = eval(&path, input.path(), &[]);
    assert_eq!(text.code, 1, "{text:#?}");
    assert!(
        text.stdout
            .starts_with("FAIL (exit 1): NOTHING WAS CHECKED\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("skipped prod-only (")
            && text
                .stdout
                .contains("matches none of \"prod*\", \"staging\""),
        "{}",
        text.stdout
    );
}

#[test]
fn when_nothing_applies_require_approval_names_who_may_approve() {
    let (_dir, path) = config(&conditional_set(
        "when-nothing-applies = { verdict = \"require-approval\", approver-groups = [\"release-managers\"], min-approvals = 2 }",
    ));
    let input = release("dev", "QA");
    let run = eval(&path, input.path(), &["--output", "json"]);
    assert_eq!(run.code, 2, "{run:#?}");
    let json = run.json();
    assert_eq!(json["verdict"], "require-approval");
    assert_eq!(json["nothing_applied"]["action"], "require-approval");
    let approvals = &json["required_approvals"];
    assert_eq!(approvals.as_array().map(Vec::len), Some(1), "{json:#}");
    assert_eq!(approvals[0]["policy"], "(when-nothing-applies)");
    assert_eq!(
        approvals[0]["approver_groups"],
        serde_json::json!(["release-managers"])
    );
    assert_eq!(approvals[0]["min_approvals"], 2);
    assert!(
        approvals[0]["instructions"]
            .as_str()
            .is_some_and(|i| i.contains("nothing was checked")),
        "{json:#}"
    );
    let text = eval(&path, input.path(), &[]);
    assert_eq!(text.code, 2, "{text:#?}");
    assert!(
        text.stdout
            .starts_with("REQUIRE APPROVAL (exit 2): NOTHING WAS CHECKED\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("  approvers: release-managers (2 approvals)"),
        "{}",
        text.stdout
    );

    // The short form: anyone with release rights, one approval.
    let (_dir, path) = config(&conditional_set(
        "when-nothing-applies = \"require-approval\"",
    ));
    let run = eval(&path, input.path(), &["--output", "json"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(
        run.json()["required_approvals"][0]["approver_groups"],
        serde_json::json!([])
    );
    assert_eq!(run.json()["required_approvals"][0]["min_approvals"], 1);
}

#[test]
fn when_nothing_applies_auto_approve_says_loudly_that_nothing_was_checked() {
    let (_dir, path) = config(&conditional_set("when-nothing-applies = \"auto-approve\""));
    let input = release("dev", "QA");
    let text = eval(&path, input.path(), &[]);
    assert_eq!(text.code, 0, "{text:#?}");
    assert!(
        text.stdout
            .starts_with("AUTO-APPROVE (exit 0): NOTHING WAS CHECKED\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "NOTHING WAS CHECKED: no policy of the set applies to environment \"dev\", release stream \"QA\"; \
             auto-approved only because the set says when-nothing-applies = \"auto-approve\""
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stderr
            .starts_with("gatehouse: warning: NOTHING WAS CHECKED: "),
        "{text:#?}"
    );
    let run = eval(&path, input.path(), &["--output", "json"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.json()["nothing_applied"]["action"], "auto-approve");
    assert_eq!(run.json()["nothing_applied"]["checked"], false);

    // When a policy applies, the setting plays no part.
    let run = eval(
        &path,
        release("prod-eu", "QA").path(),
        &["--output", "json"],
    );
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.json()["nothing_applied"], serde_json::Value::Null);
}

#[test]
fn an_unknown_when_nothing_applies_is_a_config_error_with_its_line() {
    let (_dir, path) = config(&conditional_set("\nwhen-nothing-applies = \"approve\""));
    let run = eval(&path, release("dev", "QA").path(), &[]);
    assert_error(
        &run,
        &[
            &format!("{}: line 2: ", path.display()),
            "when-nothing-applies = \"approve\": expected one of \"error\", \"fail\", \"require-approval\", \"auto-approve\"",
        ],
    );
    let check = gatehouse(["check", "--config", &path.display().to_string()]);
    assert_eq!(check.code, 3, "{check:#?}");
    assert!(
        check.stderr.contains("line 2: when-nothing-applies"),
        "{check:#?}"
    );
}

/// The issue's reproduction: a database DELETE released to `Prod-eu`
/// (capital P) with the example set skipped every `prod*` policy and exited 0.
#[test]
fn the_prod_eu_release_with_the_example_set_is_refused() {
    let input = release("Prod-eu", "QA");
    let example = workspace_root().join("example-policies/gatehouse.toml");
    let run = eval(&example, input.path(), &[]);
    let message = assert_error(
        &run,
        &[
            "refusing the release",
            "policy 'destructive-changes': environment \"Prod-eu\" matches environments glob \"prod*\" only when case is ignored (matching is case-sensitive)",
            "policy 'release-window': environment \"Prod-eu\" matches environments glob \"prod*\" only when case is ignored",
            "use the exact name",
        ],
    );
    // approval-quorum also needs the PROD stream, so it would not apply anyway.
    assert!(!message.contains("approval-quorum"), "{message}");
    assert!(run.stdout.is_empty(), "{run:#?}");

    // The stream too: `prod` for `PROD`.
    let run = eval(
        &example,
        release("prod-eu", "prod").path(),
        &["--output", "json"],
    );
    assert_eq!(run.code, 3, "{run:#?}");
    let error = run.json()["error"].as_str().unwrap_or_default().to_string();
    assert!(
        error.contains(
            "policy 'stream-approval': release stream \"prod\" matches release_streams entry \"PROD\" only when case is ignored"
        ),
        "{error}"
    );

    // Spelled as the set spells it, the release is decided: a prod DELETE fails.
    let run = eval(&example, release("prod-eu", "QA").path(), &[]);
    assert_eq!(run.code, 1, "{run:#?}");
}

#[test]
fn case_is_compared_beyond_ascii() {
    let (_dir, path) = config(&format!(
        "[[policy]]\nname = \"munich\"\npath = {}\nenvironments = [\"münchen-*\"]\n\n\
         [[policy]]\nname = \"budget\"\npath = {}\n",
        lit(&policy("destructive-changes")),
        lit(&policy("change-budget")),
    ));
    let run = eval(&path, release("MÜNCHEN-1", "QA").path(), &[]);
    assert_error(
        &run,
        &[
            "policy 'munich': environment \"MÜNCHEN-1\" matches environments glob \"münchen-*\" only when case is ignored",
        ],
    );
    let run = eval(&path, release("münchen-1", "QA").path(), &[]);
    assert_eq!(run.code, 2, "{run:#?}");
}

fn check_input(config: &Path, input: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "check".to_string(),
        "--config".into(),
        config.display().to_string(),
        "--input".into(),
        input.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = gatehouse(&args);
    assert_no_host_panic(&run);
    run
}

#[test]
fn check_input_shows_which_policies_apply_and_why() {
    let example = workspace_root().join("example-policies/gatehouse.toml");
    let input = release("prod-eu", "QA");
    let run = check_input(&example, input.path(), &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stderr.is_empty(), "{run:#?}");
    let digest = gatehouse(["digest", "--input", &input.path().display().to_string()]);
    assert_eq!(digest.code, 0, "{digest:#?}");
    let expected = format!(
        "release: environment \"prod-eu\", release stream \"QA\" ({:?})\n\
         release digest: {}\
         \x20 skipped  stream-approval: release stream \"QA\" is not one of \"PROD\"\n\
         \x20 applies  destructive-changes: environment \"prod-eu\" matches \"prod*\"; any release stream\n\
         \x20 applies  change-budget: any environment; any release stream\n\
         \x20 skipped  approval-quorum: release stream \"QA\" is not one of \"PROD\"\n\
         \x20 applies  release-window: environment \"prod-eu\" matches \"prod*\"; any release stream\n\
         3 of 5 policies apply\n\
         ok: 5 policies checked ({})\n",
        input.path().display().to_string(),
        digest.stdout,
        example.display()
    );
    assert_eq!(run.stdout, expected);

    // --environment and --release-stream override the input, as for eval.
    let run = check_input(
        &example,
        input.path(),
        &["--environment", "Prod-eu", "--output", "json"],
    );
    assert_eq!(run.code, 3, "{run:#?}");
    let json = run.json();
    assert_eq!(json["schema"], "gatehouse.check/v1");
    assert_eq!(json["ok"], false);
    assert_eq!(json["when_nothing_applies"], "error");
    assert_eq!(json["release"]["environment"], "Prod-eu");
    assert_eq!(json["release"]["release_stream"], "QA");
    assert_eq!(json["release"]["applicable"], 1);
    assert_eq!(json["release"]["outcome"], "error");
    let statuses: Vec<(&str, &str)> = json["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name"),
                p["applicability"]["status"].as_str().expect("status"),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("stream-approval", "skipped"),
            ("destructive-changes", "refused"),
            ("change-budget", "applies"),
            ("approval-quorum", "skipped"),
            ("release-window", "refused"),
        ]
    );
    assert!(
        json["policies"][1]["applicability"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("only when case is ignored")),
        "{json:#}"
    );
    assert_eq!(
        json["problems"].as_array().map(Vec::len),
        Some(1),
        "{json:#}"
    );
    assert_eq!(json["problems"][0], json["release"]["error"]);
    // Every policy was still checked.
    assert!(
        json["policies"]
            .as_array()
            .is_some_and(|p| p.iter().all(|p| p["ok"] == true))
    );

    let text = check_input(&example, input.path(), &["--environment", "Prod-eu"]);
    assert_eq!(text.code, 3, "{text:#?}");
    assert!(
        text.stdout.contains("  refused  destructive-changes: environment \"Prod-eu\" matches environments glob \"prod*\" only when case is ignored (matching is case-sensitive)\n"),
        "{}",
        text.stdout
    );
    assert!(text.stderr.contains("refusing the release"), "{text:#?}");

    // Without --input, no release part.
    let run = gatehouse([
        "check",
        "--config",
        &example.display().to_string(),
        "--output",
        "json",
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.json()["release"], serde_json::Value::Null);
    assert_eq!(
        run.json()["policies"][0]["applicability"],
        serde_json::Value::Null
    );
}

#[test]
fn check_input_says_what_happens_when_nothing_applies() {
    let input = release("dev", "QA");
    let (_dir, path) = config(&conditional_set(""));
    let run = check_input(&path, input.path(), &[]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(run.stdout.contains("eval would exit 3"), "{run:#?}");
    assert!(
        run.stderr
            .contains("no policy applies to environment \"dev\", release stream \"QA\""),
        "{run:#?}"
    );

    let (_dir, path) = config(&conditional_set(
        "when-nothing-applies = \"require-approval\"",
    ));
    let run = check_input(&path, input.path(), &["--output", "json"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let json = run.json();
    assert_eq!(json["when_nothing_applies"], "require-approval");
    assert_eq!(json["release"]["applicable"], 0);
    assert_eq!(json["release"]["outcome"], "require-approval");
    assert_eq!(json["release"]["error"], serde_json::Value::Null);
    let text = check_input(&path, input.path(), &[]);
    assert_eq!(text.code, 0, "{text:#?}");
    assert!(
        text.stdout.contains(
            "no policy applies: eval would require-approval, as when-nothing-applies says; nothing would be checked"
        ),
        "{}",
        text.stdout
    );

    // A plan names no environment: the usual input error, exit 3.
    let plan = temp_file(
        r#"{"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": []}"#,
        ".json",
    );
    let run = check_input(&path, plan.path(), &[]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(run.stderr.contains("--environment"), "{run:#?}");
}

#[test]
fn environment_globs_use_the_sdk_glob_dialect() {
    // The same glob in the policy set and in the policy's settings: `*`
    // stays within a `/`-separated segment in both, `**` spans segments.
    let (_dir, path) = config(&format!(
        r#"
[[policy]]
name = "team-a"
path = {destructive}
environments = ["team-a/*"]
[policy.settings]
fail-environments = "team-a/*"

[[policy]]
name = "team-a-deep"
path = {destructive}
environments = ["team-a/**"]
[policy.settings]
fail-environments = "team-a/**"
"#,
        destructive = lit(&policy("destructive-changes")),
    ));
    let statuses = |environment: &str| -> Vec<(String, String)> {
        let run = check_input(
            &path,
            release(environment, "QA").path(),
            &["--output", "json"],
        );
        assert_eq!(run.code, 0, "{run:#?}");
        run.json()["policies"]
            .as_array()
            .expect("policies")
            .iter()
            .map(|p| {
                let status = p["applicability"]["status"].as_str().expect("status");
                (p["name"].as_str().expect("name").to_string(), status.into())
            })
            .collect()
    };
    let both = |a: &str, b: &str| {
        vec![
            ("team-a".into(), a.into()),
            ("team-a-deep".into(), b.into()),
        ]
    };
    assert_eq!(statuses("team-a/prod"), both("applies", "applies"));
    assert_eq!(statuses("team-a/prod/eu"), both("skipped", "applies"));

    // Where both apply, the policy inside matches the same way: fail.
    let input = release("team-a/prod", "QA");
    let run = eval(&path, input.path(), &["--output", "json"]);
    assert_eq!(run.code, 1, "{run:#?}");
    // Deeper, only `**` matches, in the set and in the policy alike.
    let input = release("team-a/prod/eu", "QA");
    let run = eval(&path, input.path(), &["--output", "json"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let json = run.json();
    assert_eq!(json["skipped"][0]["name"], "team-a");
    assert_eq!(
        json["skipped"][0]["reason"],
        "environment \"team-a/prod/eu\" matches none of \"team-a/*\""
    );
    assert_eq!(json["policies"][0]["config_name"], "team-a-deep");
    assert_eq!(json["policies"][0]["verdict"], "fail");
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
