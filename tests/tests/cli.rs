//! The `gatehouse eval` command line on real policies: several `--policy`
//! flags (the most restrictive verdict wins, scoped `--set`), the text
//! report (verdict line, reasons, approvers), the JSON report fields
//! (schema, verdict, exit code, input digest, evaluation time, policy digest,
//! name, version, fuel), `--now` normalised to UTC, `--environment` and
//! `--release-stream` overriding or supplying the input's values, and
//! deterministic fuel use.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    Run, assert_no_host_panic, fixture_policy, gatehouse, gatehouse_with_stdin, policy,
    release_json, sha256_hex, temp_file, workspace_root,
};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Runs `gatehouse eval` with the given policies, input file and extra arguments.
fn eval(policies: &[&Path], input: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["eval".to_string()];
    for p in policies {
        args.push("--policy".into());
        args.push(p.display().to_string());
    }
    args.push("--input".into());
    args.push(input.display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = gatehouse(&args);
    assert_no_host_panic(&run);
    run
}

/// A release on `stream` with two resources.
fn release_file(stream: &str) -> tempfile::NamedTempFile {
    temp_file(
        release_json(
            "prod-eu",
            stream,
            &[
                ("mysql", "orders", "datastores/orders", "DELETE"),
                ("service", "api", "services/api", "UPDATE_IN_PLACE"),
            ],
        ),
        ".json",
    )
}

/// Copies stream-approval under the given file names into a fresh directory.
fn stream_approval_copies(names: &[&str]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = names
        .iter()
        .map(|name| {
            let path = dir.path().join(format!("{name}.wasm"));
            std::fs::copy(policy("stream-approval"), &path).expect("copy the policy");
            path
        })
        .collect();
    (dir, paths)
}

#[test]
fn the_most_restrictive_verdict_wins() {
    let (_dir, copies) = stream_approval_copies(&["a", "b"]);
    let policies = [copies[0].as_path(), copies[1].as_path()];
    let scoped = [
        "--set",
        "a:streams=QA",
        "--set",
        "b:streams=PROD",
        "--output",
        "json",
    ];

    // PROD: a approves, b requires approval.
    let prod = release_file("PROD");
    let run = eval(&policies, prod.path(), &scoped);
    assert_eq!(run.code, 2, "{run:#?}");
    let report = run.json();
    assert_eq!(report["verdict"], "require-approval");
    assert_eq!(report["policies"][0]["verdict"], "auto-approve");
    assert_eq!(report["policies"][0]["settings"]["streams"], "QA");
    assert_eq!(report["policies"][1]["verdict"], "require-approval");
    assert_eq!(report["policies"][1]["settings"]["streams"], "PROD");
    assert_eq!(
        report["required_approvals"].as_array().map(Vec::len),
        Some(1)
    );

    // QA: a requires approval, b approves. The order of the flags does not matter.
    let qa = release_file("QA");
    let run = eval(&policies, qa.path(), &scoped);
    assert_eq!(run.code, 2, "{run:#?}");
    let report = run.json();
    assert_eq!(report["policies"][0]["verdict"], "require-approval");
    assert_eq!(report["policies"][1]["verdict"], "auto-approve");

    // DEV: both approve.
    let dev = release_file("DEV");
    let run = eval(&policies, dev.path(), &scoped);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.json()["verdict"], "auto-approve");

    // Both require approval: one entry per policy.
    let both = [
        "--set",
        "a:streams=PROD",
        "--set",
        "b:streams=PROD",
        "--output",
        "json",
    ];
    let run = eval(&policies, prod.path(), &both);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(
        run.json()["required_approvals"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn fail_beats_require_approval() {
    let prod = release_file("PROD");
    let policies = [policy("stream-approval"), fixture_policy("trap-policy")];
    let policies: Vec<&Path> = policies.iter().map(PathBuf::as_path).collect();
    let run = eval(
        &policies,
        prod.path(),
        &["--set", "trap-policy:mode=fail", "--output", "json"],
    );
    assert_eq!(run.code, 1, "{run:#?}");
    let report = run.json();
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["policies"][0]["verdict"], "require-approval");
    assert_eq!(report["policies"][1]["verdict"], "fail");
    // An unscoped setting goes to every policy: stream-approval rejects `mode`.
    let run = eval(&policies, prod.path(), &["--set", "mode=fail"]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr.contains("policy 'stream-approval'")
            && run.stderr.contains("setting 'mode': unknown setting"),
        "{run:#?}"
    );
}

#[test]
fn text_report_shows_verdict_reasons_and_approvers() {
    let prod = release_file("PROD");
    let run = eval(
        &[&policy("stream-approval")],
        prod.path(),
        &[
            "--set",
            "streams=PROD,STAGING",
            "--set",
            "approver-groups=dba, release-managers",
            "--now",
            "2026-11-22T10:00:00Z",
        ],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"REQUIRE APPROVAL (exit 2)"),
        "{run:#?}"
    );
    for expected in [
        "release: environment prod-eu, stream PROD, 2 resources (1 DELETE, 1 UPDATE_IN_PLACE)",
        &format!("input: {} (sha256 ", prod.path().display()),
        "evaluated at: 2026-11-22T10:00:00Z",
        "policy stream-approval 0.1.0: require-approval",
        "  - release stream PROD requires approval (streams needing approval: PROD, STAGING)",
        "  approvers: dba, release-managers (1 approval from each group)",
    ] {
        assert!(
            run.stdout.contains(expected),
            "lacks {expected:?}:\n{}",
            run.stdout
        );
    }
    assert!(run.stderr.is_empty(), "{run:#?}");

    let qa = release_file("QA");
    let run = eval(&[&policy("stream-approval")], qa.path(), &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.starts_with("AUTO-APPROVE (exit 0)\n"),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains("  - release stream \"QA\" does not need approval"),
        "{run:#?}"
    );
    assert!(!run.stdout.contains("approvers:"), "{run:#?}");
}

#[test]
fn json_report_fields() {
    let input = release_file("PROD");
    let input_bytes = std::fs::read(input.path()).expect("read input");
    let wasm = policy("stream-approval");
    let wasm_bytes = std::fs::read(&wasm).expect("read policy");
    let run = eval(
        &[&wasm],
        input.path(),
        &[
            "--output",
            "json",
            "--now",
            "2026-11-22T10:30:05Z",
            "--set",
            "approver-groups=dba",
        ],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.is_empty(), "{run:#?}");
    let report = run.json();
    assert_eq!(report["schema"], "gatehouse.report/v1");
    assert_eq!(report["verdict"], "require-approval");
    assert_eq!(report["exit_code"], 2);
    assert_eq!(report["evaluated_at"], "2026-11-22T10:30:05Z");

    let summary = &report["input"];
    assert_eq!(summary["source"], input.path().display().to_string());
    assert_eq!(summary["sha256"], sha256_hex(&input_bytes));
    assert_eq!(summary["environment"], "prod-eu");
    assert_eq!(summary["release_stream"], "PROD");
    assert_eq!(summary["resources"], 2);
    assert_eq!(summary["changes"]["DELETE"], 1);
    assert_eq!(summary["changes"]["UPDATE_IN_PLACE"], 1);
    assert_eq!(summary["warnings"].as_array().map(Vec::len), Some(0));

    let approvals = &report["required_approvals"];
    assert_eq!(approvals[0]["policy"], "stream-approval");
    assert_eq!(approvals[0]["approver_groups"][0], "dba");
    assert_eq!(approvals[0]["min_approvals"], 1);

    let section = &report["policies"][0];
    assert_eq!(section["name"], "stream-approval");
    assert_eq!(section["version"], "0.1.0");
    assert!(
        section["description"]
            .as_str()
            .is_some_and(|d| d.contains("PROD")),
        "{section}"
    );
    assert_eq!(section["path"], wasm.display().to_string());
    assert_eq!(section["wasm_sha256"], sha256_hex(&wasm_bytes));
    assert_eq!(section["settings"]["approver-groups"], "dba");
    assert_eq!(section["verdict"], "require-approval");
    assert_eq!(
        section["reasons"][0]["message"],
        "release stream PROD requires approval (streams needing approval: PROD)"
    );
    assert!(section["reasons"][0]["resource_path"].is_null());
    assert_eq!(section["min_approvals"], 1);
    assert!(
        section["fuel_used"].as_u64().is_some_and(|f| f > 0),
        "{section}"
    );
    assert!(section["duration_ms"].as_f64().is_some(), "{section}");
    assert_eq!(section["logs"].as_array().map(Vec::len), Some(0));
    assert_eq!(section["logs_dropped"], 0);
}

#[test]
fn json_report_for_stdin_digests_the_bytes_read() {
    let text = release_json("qa", "QA", &[]);
    let run = gatehouse_with_stdin(
        [
            "eval",
            "--policy",
            &policy("stream-approval").display().to_string(),
            "--input",
            "-",
            "--output",
            "json",
        ],
        text.as_bytes(),
    );
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.json();
    assert_eq!(report["input"]["source"], "<stdin>");
    assert_eq!(report["input"]["sha256"], sha256_hex(text.as_bytes()));
}

#[test]
fn now_with_an_offset_is_normalised_to_utc() {
    let input = release_file("QA");
    let run = eval(
        &[&policy("stream-approval")],
        input.path(),
        &["--output", "json", "--now", "2026-11-22T10:00:00+01:00"],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.json()["evaluated_at"], "2026-11-22T09:00:00Z");

    let run = eval(
        &[&policy("stream-approval")],
        input.path(),
        &["--now", "2026-11-22T23:30:00-05:00"],
    );
    assert!(
        run.stdout.contains("evaluated at: 2026-11-23T04:30:00Z"),
        "{run:#?}"
    );
}

#[test]
fn environment_and_stream_flags_override_the_input() {
    let qa = release_file("QA");
    let run = eval(
        &[&policy("stream-approval")],
        qa.path(),
        &[
            "--release-stream",
            "PROD",
            "--environment",
            "prod-us",
            "--output",
            "json",
        ],
    );
    assert_eq!(
        run.code, 2,
        "the flag's stream PROD is decided on: {run:#?}"
    );
    let report = run.json();
    assert_eq!(report["input"]["release_stream"], "PROD");
    assert_eq!(report["input"]["environment"], "prod-us");

    let prod = release_file("PROD");
    let run = eval(
        &[&policy("stream-approval")],
        prod.path(),
        &["--release-stream", "QA"],
    );
    assert_eq!(run.code, 0, "the flag overrides PROD: {run:#?}");
}

#[test]
fn environment_and_stream_flags_supply_missing_fields() {
    let input = temp_file(
        r#"{"resources": [{"resourceType": "s3", "resourceName": "logs",
            "resourcePath": "buckets/logs", "changeType": "CREATE"}]}"#,
        ".json",
    );
    let run = eval(
        &[&policy("stream-approval")],
        input.path(),
        &[
            "--environment",
            "qa",
            "--release-stream",
            "PROD",
            "--output",
            "json",
        ],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    let report = run.json();
    assert_eq!(report["input"]["environment"], "qa");
    assert_eq!(report["input"]["release_stream"], "PROD");
}

#[test]
fn fuel_use_is_deterministic() {
    let input = release_file("PROD");
    let fuel = || {
        let run = eval(
            &[&policy("stream-approval")],
            input.path(),
            &["--output", "json", "--now", "2026-11-22T10:00:00Z"],
        );
        assert_eq!(run.code, 2, "{run:#?}");
        run.json()["policies"][0]["fuel_used"]
            .as_u64()
            .expect("fuel_used is a number")
    };
    let first = fuel();
    let second = fuel();
    assert!(first > 0);
    assert_eq!(
        first, second,
        "the same policy on the same input uses the same fuel"
    );

    // The number is real: 200 more resources cost the 0.1.0 build, which has
    // them lowered into it, more fuel; the 0.2.0 build never reads a
    // resource (it asks the host for the stream), so it pays nothing for them.
    let big: Vec<(String, String)> = (0..200)
        .map(|i| (format!("r{i}"), format!("group/r{i}")))
        .collect();
    let resources: Vec<(&str, &str, &str, &str)> = big
        .iter()
        .map(|(n, p)| ("mysql", n.as_str(), p.as_str(), "CREATE"))
        .collect();
    let big_input = temp_file(release_json("prod-eu", "PROD", &resources), ".json");
    let fuel_of = |wasm: &Path, input: &Path| {
        let run = eval(
            &[wasm],
            input,
            &["--output", "json", "--now", "2026-11-22T10:00:00Z"],
        );
        assert_eq!(run.code, 2, "{run:#?}");
        run.json()["policies"][0]["fuel_used"]
            .as_u64()
            .expect("fuel_used is a number")
    };
    let v0_1 = workspace_root().join("target/policies-0.1/stream-approval.wasm");
    let small_0_1 = fuel_of(&v0_1, input.path());
    let big_0_1 = fuel_of(&v0_1, big_input.path());
    assert!(big_0_1 > small_0_1, "{big_0_1} <= {small_0_1}");
    let big_fuel = fuel_of(&policy("stream-approval"), big_input.path());
    assert_eq!(big_fuel, first, "0.2.0 pays nothing per unread resource");
}

#[test]
fn the_same_policy_file_twice_is_evaluated_twice() {
    let prod = release_file("PROD");
    let wasm = policy("stream-approval");
    let run = eval(&[&wasm, &wasm], prod.path(), &["--output", "json"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(run.json()["policies"].as_array().map(Vec::len), Some(2));
}

#[test]

fn closed_stdout_is_an_error_not_a_panic() {
    // `gatehouse eval ... | head -c0` in CI: the reader is gone before the report is written.
    let input = release_file("PROD");
    let (reader, writer) = std::io::pipe().expect("create a pipe");
    drop(reader);
    let output = gatehouse_e2e::gatehouse_command()
        .args(["eval", "--policy"])
        .arg(policy("stream-approval"))
        .arg("--input")
        .arg(input.path())
        .args(["--output", "json"])
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run gatehouse");
    let run = Run::from(output);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr
            .starts_with("gatehouse: error: cannot write the report"),
        "{run:#?}"
    );
}
