//! Every verdict of every example policy, through the real binary on the
//! compiled components in target/policies/.

use gatehouse_e2e::twins::example_release;
use gatehouse_e2e::{gatehouse, policy, release_json, temp_file};
use serde_json::{Value, json};

/// Runs one policy with `--output json`, asserts the exit code and returns the
/// policy's section of the report.
fn eval_json(policy_name: &str, input: &str, extra: &[&str], expected_code: i32) -> Value {
    let policy_path = policy(policy_name);
    let mut args = vec![
        "eval".to_string(),
        "--policy".into(),
        policy_path.display().to_string(),
        "--input".into(),
        input.into(),
        "--output".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = gatehouse(&args);
    assert_eq!(
        run.code, expected_code,
        "{policy_name} on {input} {extra:?}: stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let report = run.json();
    report["policies"][0].clone()
}

fn reasons(policy: &Value) -> Vec<String> {
    policy["reasons"]
        .as_array()
        .expect("reasons array")
        .iter()
        .map(|r| r["message"].as_str().expect("message").to_string())
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

#[test]
fn stream_approval_gates_prod_and_passes_the_rest() {
    let prod = example_release("prod-delete-database.json");
    let p = eval_json("stream-approval", &prod, &[], 2);
    assert_eq!(p["verdict"], "require-approval");
    assert_eq!(p["min_approvals"], 1);

    let qa = example_release("staging-update.json");
    let p = eval_json("stream-approval", &qa, &[], 0);
    assert_eq!(p["verdict"], "auto-approve");

    let p = eval_json(
        "stream-approval",
        &qa,
        &[
            "--set",
            "streams=PROD,QA",
            "--set",
            "approver-groups=release-managers",
        ],
        2,
    );
    assert_eq!(strings(&p["approver_groups"]), ["release-managers"]);
}

#[test]
fn destructive_changes_require_approval_outside_prod_and_fail_in_prod() {
    let staging = example_release("staging-recreate-database.json");
    let p = eval_json(
        "destructive-changes",
        &staging,
        &[
            "--set",
            "approver-groups=dba,sre",
            "--set",
            "min-approvals=2",
        ],
        2,
    );
    assert_eq!(
        reasons(&p),
        [
            "RECREATE of postgres datastores/users",
            "REPLACE of s3 buckets/assets"
        ]
    );
    assert_eq!(p["reasons"][0]["resource_path"], "datastores/users");
    assert_eq!(strings(&p["approver_groups"]), ["dba", "sre"]);
    assert_eq!(p["min_approvals"], 2);
    assert!(
        p["instructions"]
            .as_str()
            .is_some_and(|s| s.contains("backup"))
    );

    let prod = example_release("prod-delete-database.json");
    let p = eval_json("destructive-changes", &prod, &[], 1);
    assert_eq!(p["verdict"], "fail");
    assert!(reasons(&p).contains(&"DELETE of mysql datastores/orders".to_string()));

    let p = eval_json(
        "destructive-changes",
        &example_release("staging-update.json"),
        &[],
        0,
    );
    assert_eq!(p["verdict"], "auto-approve");

    // Environments that fail are configurable: none fail, so prod needs approval.
    let p = eval_json(
        "destructive-changes",
        &prod,
        &["--set", "fail-environments="],
        2,
    );
    assert_eq!(p["verdict"], "require-approval");
}

#[test]
fn destructive_changes_rejects_bad_settings_with_its_message() {
    let run = gatehouse([
        "eval",
        "--policy",
        &policy("destructive-changes").display().to_string(),
        "--input",
        &example_release("staging-update.json"),
        "--set",
        "change-types=DELETE,DESTROY",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("policy 'destructive-changes'")
            && run.stderr.contains(
                "settings rejected: setting 'change-types': unknown change type \"DESTROY\""
            ),
        "{}",
        run.stderr
    );
}

#[test]
fn change_budget_counts_real_changes_only() {
    let many: Vec<(String, String)> = (0..12)
        .map(|i| (format!("svc{i}"), format!("services/svc{i}")))
        .collect();
    let mut resources: Vec<(&str, &str, &str, &str)> = many
        .iter()
        .map(|(n, p)| ("service", n.as_str(), p.as_str(), "UPDATE_IN_PLACE"))
        .collect();
    resources.push(("service", "idle", "services/idle", "NO_OPERATION"));
    let file = temp_file(release_json("prod", "PROD", &resources), ".json");
    let input = file.path().display().to_string();

    let p = eval_json("change-budget", &input, &[], 2);
    assert_eq!(
        reasons(&p),
        ["12 changes (12 UPDATE_IN_PLACE), more than the budget of 10"]
    );
    let p = eval_json("change-budget", &input, &["--set", "max-changes=12"], 0);
    assert_eq!(
        reasons(&p),
        ["12 changes (12 UPDATE_IN_PLACE), within the budget of 12"]
    );

    let run = gatehouse([
        "eval",
        "--policy",
        &policy("change-budget").display().to_string(),
        "--input",
        &input,
        "--set",
        "max-changes=ten",
    ]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr
            .contains("setting 'max-changes': expected a whole number"),
        "{}",
        run.stderr
    );
}

#[test]
fn approval_quorum_advances_stage_by_stage() {
    let groups = [
        "--set",
        "required-groups=tech-lead,on-call",
        "--now",
        "2026-11-22T10:00:00Z",
    ];
    let both = example_release("prod-with-approvals.json");
    let p = eval_json("approval-quorum", &both, &groups, 0);
    assert_eq!(
        reasons(&p),
        [
            "tech-lead: approved by asmith (1 of 1)",
            "on-call: approved by bkumar (1 of 1)"
        ]
    );

    // Only the tech lead has signed: on-call is still owed.
    let one = example_release("prod-delete-database.json");
    let p = eval_json("approval-quorum", &one, &groups, 2);
    assert_eq!(strings(&p["approver_groups"]), ["on-call"]);
    assert_eq!(reasons(&p)[0], "on-call: 0 of 1 approvals");

    // Approvals older than the allowed age do not count, and the policy logs why.
    let stale = [
        "--set",
        "required-groups=tech-lead,on-call",
        "--now",
        "2026-11-22T09:30:00Z",
        "--set",
        "max-age-hours=1",
    ];
    let p = eval_json("approval-quorum", &both, &stale, 2);
    assert_eq!(strings(&p["approver_groups"]), ["tech-lead"]);
    assert!(
        p["logs"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("older than 1 hours")),
        "{p}"
    );

    let run = gatehouse([
        "eval",
        "--policy",
        &policy("approval-quorum").display().to_string(),
        "--input",
        &both,
    ]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr
            .contains("setting 'required-groups': is required"),
        "{}",
        run.stderr
    );
}

/// `ordered=true`: tech lead → pm → on-call, each stage counting only after the
/// previous one was approved; the same approvals pass unordered.
#[test]
fn approval_quorum_ordered_counts_stages_only_in_order() {
    let release = temp_file(
        release_json(
            "prod",
            "PROD",
            &[("service", "api", "services/api", "UPDATE_IN_PLACE")],
        ),
        ".json",
    );
    let input = release.path().display().to_string();
    let approve =
        |who: &str, group: &str, at: &str| json!({"approver": who, "groups": [group], "at": at});
    let alice = approve("alice", "tech-lead", "2026-11-22T09:00:00Z");
    let carol_early = approve("carol", "on-call", "2026-11-22T09:10:00Z");
    let bob = approve("bob", "pm", "2026-11-22T09:20:00Z");
    let carol_again = approve("carol", "on-call", "2026-11-22T09:30:00Z");
    let run = |approvals: &[&Value], ordered: &str, code: i32| {
        let file = temp_file(
            Value::Array(approvals.iter().map(|a| (*a).clone()).collect()).to_string(),
            ".json",
        );
        let path = file.path().display().to_string();
        let ordered = format!("ordered={ordered}");
        let args = [
            "--set",
            "required-groups=tech-lead,pm,on-call",
            "--set",
            &ordered,
            "--now",
            "2026-11-22T10:00:00Z",
            "--approvals",
            &path,
        ];
        eval_json("approval-quorum", &input, &args, code)
    };

    let p = run(&[], "true", 2);
    assert_eq!(
        strings(&p["approver_groups"]),
        ["tech-lead", "pm", "on-call"]
    );
    assert_eq!(
        reasons(&p)[0],
        "stage 1 of 3 (tech-lead) waits for approval"
    );

    // On-call signed before the pm: that approval does not count, and the report says so.
    let p = run(&[&alice, &carol_early, &bob], "true", 2);
    assert_eq!(strings(&p["approver_groups"]), ["on-call"]);
    assert_eq!(
        reasons(&p)[..2],
        [
            "stage 3 of 3 (on-call) waits for approval; pm approved by bob at 2026-11-22T09:20:00Z",
            "on-call approval by carol at 2026-11-22T09:10:00Z came before the pm stage was approved (at 2026-11-22T09:20:00Z); it does not count",
        ]
    );
    // Unordered, the same approvals are enough.
    run(&[&alice, &carol_early, &bob], "false", 0);

    // On-call signs again after the pm: every stage is approved, in order.
    let p = run(&[&alice, &carol_early, &bob, &carol_again], "true", 0);
    assert_eq!(
        reasons(&p),
        [
            "stage 1 of 3 (tech-lead): approved by alice at 2026-11-22T09:00:00Z (1 of 1)",
            "stage 2 of 3 (pm): approved by bob at 2026-11-22T09:20:00Z (1 of 1)",
            "stage 3 of 3 (on-call): approved by carol at 2026-11-22T09:30:00Z (1 of 1)",
        ]
    );

    let bad = gatehouse([
        "eval",
        "--policy",
        &policy("approval-quorum").display().to_string(),
        "--input",
        &input,
        "--set",
        "required-groups=tech-lead,pm",
        "--set",
        "ordered=maybe",
    ]);
    assert_eq!(bad.code, 3, "{bad:#?}");
    assert!(
        bad.stderr
            .contains("setting 'ordered': expected true or false, got \"maybe\""),
        "{}",
        bad.stderr
    );
}

#[test]
fn release_window_uses_the_fixed_evaluation_time() {
    let input = example_release("staging-update.json");
    let settings = [
        "--set",
        "days=mon-fri",
        "--set",
        "hours=09:00-17:00",
        "--set",
        "utc-offset=+01:00",
    ];
    let mut inside = settings.to_vec();
    inside.extend(["--now", "2026-11-23T09:30:00Z"]); // Monday 10:30 at +01:00
    let p = eval_json("release-window", &input, &inside, 0);
    assert_eq!(
        reasons(&p),
        [
            "Mon 2026-11-23 10:30 is inside the release window Mon, Tue, Wed, Thu, Fri 09:00-17:00 (UTC+01:00)"
        ]
    );

    let mut outside = settings.to_vec();
    outside.extend([
        "--now",
        "2026-11-21T12:00:00Z",
        "--set",
        "approver-groups=release-managers",
    ]);
    let p = eval_json("release-window", &input, &outside, 2);
    assert_eq!(
        reasons(&p),
        [
            "Sat 2026-11-21 13:00 is outside the release window Mon, Tue, Wed, Thu, Fri 09:00-17:00 (UTC+01:00); the next window opens Mon 2026-11-23 09:00"
        ]
    );
    assert_eq!(strings(&p["approver_groups"]), ["release-managers"]);

    let run = gatehouse([
        "eval",
        "--policy",
        &policy("release-window").display().to_string(),
        "--input",
        &input,
        "--set",
        "days=someday",
    ]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr
            .contains("setting 'days': unknown day \"someday\""),
        "{}",
        run.stderr
    );
}
