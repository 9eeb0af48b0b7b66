//! Both policy worlds, end to end: the five Rust examples built for
//! `gatehouse:policy@0.2.0` (target/policies, the default) and for 0.1.0
//! (target/policies-0.1, the SDK's feature `wit-0-1`, built from the same
//! source by scripts/build-policies.sh) are told apart by the host, pass
//! their suites, and give identical verdicts and reasons on the example
//! releases and on generated ones (Facets streams, every change kind, large
//! releases). The 0.1.0 builds are the proof that the host still runs 0.1.0
//! components; the Python, JavaScript and C twins (on 0.2.0 too) are
//! checked by their own tests.

use gatehouse_e2e::{Run, assert_no_host_panic, gatehouse, temp_file, workspace_root};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The Rust examples, with the settings an evaluation needs.
const EXAMPLES: [(&str, &[&str]); 5] = [
    ("approval-quorum", &["--set", "required-groups=tech-lead"]),
    ("change-budget", &[]),
    ("destructive-changes", &[]),
    ("release-window", &[]),
    ("stream-approval", &[]),
];

/// The example releases, example-policies/releases/*.json, sorted.
fn example_releases() -> Vec<PathBuf> {
    let releases = workspace_root().join("example-policies/releases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&releases)
        .expect("example releases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// A fixed evaluation time (a Tuesday inside the default release window).
const NOW: &str = "2026-11-24T10:00:00Z";

/// The example built for `version` (`0.1` or `0.2`).
fn build(name: &str, version: &str) -> PathBuf {
    let dir = if version == "0.1" {
        "target/policies-0.1"
    } else {
        "target/policies"
    };
    let path = workspace_root().join(dir).join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: build it with `bash scripts/build-policies.sh --rust-only`",
        path.display()
    );
    path
}

/// The `gatehouse:policy` versions `inspect` reads off a component.
fn policy_versions(file: &Path) -> Value {
    let run = gatehouse([
        "inspect".as_ref(),
        file.as_os_str(),
        "--output".as_ref(),
        "json".as_ref(),
    ]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    let json: Value = serde_json::from_str(&run.stdout).expect("inspect JSON");
    assert_eq!(json["load"]["ok"], true, "{}", file.display());
    json["world"]["policy_versions"].clone()
}

/// A run's exit code and output with what legitimately differs between two
/// builds removed: the policy's path and each policy line's time and fuel.
fn comparable(run: &Run, wasm: &Path) -> (i32, String, String) {
    let path = wasm.display().to_string();
    let strip = |text: &str| -> String {
        text.replace(&path, "POLICY")
            .lines()
            .map(
                |line| match (line.starts_with("policy "), line.rfind(" (")) {
                    (true, Some(at)) if line.ends_with(" fuel)") => &line[..at],
                    _ => line,
                },
            )
            .collect::<Vec<_>>()
            .join("\n")
    };
    (run.code, strip(&run.stdout), strip(&run.stderr))
}

fn resource(i: usize, change: &str, ty: &str) -> Value {
    json!({
        "resourceType": ty,
        "resourceName": format!("r{i}"),
        "resourcePath": format!("datastores/r{i}"),
        "changeType": change,
    })
}

/// Releases across streams, environments, change kinds, metadata,
/// approvals and sizes up to 3,000 resources (several host pages).
fn generated_releases() -> Vec<(String, String)> {
    const KINDS: [&str; 6] = [
        "CREATE",
        "DELETE",
        "UPDATE_IN_PLACE",
        "REPLACE",
        "RECREATE",
        "NO_OPERATION",
    ];
    let mut releases = Vec::new();
    for (n, (stream, environment)) in [
        ("PROD", "prod-eu"),
        ("QA", "staging"),
        ("PROD", "dev"),
        ("RELEASE", "prod-us"),
    ]
    .into_iter()
    .enumerate()
    {
        for size in [0usize, 1, 7, 40, 3_000] {
            let resources: Vec<Value> = (0..size)
                .map(|i| {
                    let ty = if (i + n) % 3 == 0 { "mysql" } else { "service" };
                    resource(i, KINDS[(i * 7 + n + size) % KINDS.len()], ty)
                })
                .collect();
            let mut release = json!({
                "environmentName": environment,
                "releaseStream": stream,
                "resources": resources,
            });
            if size % 2 == 1 {
                release["metadata"] = json!({"commit": format!("c{n}{size}"), "author": "jdoe"});
                release["approvals"] = json!([
                    {"approver": "asmith", "groups": ["tech-lead"], "at": "2026-11-24T09:00:00Z"}
                ]);
            }
            releases.push((
                format!("{stream} to {environment}, {size} resources"),
                release.to_string(),
            ));
        }
    }
    releases
}

#[test]
fn the_host_tells_the_two_builds_apart() {
    for (name, _) in EXAMPLES {
        assert_eq!(
            policy_versions(&build(name, "0.1")),
            json!(["0.1.0"]),
            "{name}"
        );
        assert_eq!(
            policy_versions(&build(name, "0.2")),
            json!(["0.2.0"]),
            "{name}"
        );
    }
}

#[test]
fn both_builds_pass_every_example_suite_case_for_case() {
    for (name, _) in EXAMPLES {
        let suite = format!("example-policies/{name}/tests/{name}.test.toml");
        let mut outcomes = Vec::new();
        for version in ["0.1", "0.2"] {
            let wasm = build(name, version);
            let wasm_arg = wasm.display().to_string();
            let run = gatehouse(["test", &suite, "--policy", &wasm_arg]);
            assert_no_host_panic(&run);
            assert_eq!(run.code, 0, "{name} {version}: {run:#?}");
            outcomes.push(comparable(&run, &wasm));
        }
        assert_eq!(outcomes[0], outcomes[1], "{name}: 0.1.0 vs 0.2.0");
        assert!(outcomes[0].1.contains("PASS"), "{name}: {:?}", outcomes[0]);
    }
}

#[test]
fn both_builds_give_identical_verdicts_and_reasons() {
    let mut inputs: Vec<(String, PathBuf, Option<tempfile::NamedTempFile>)> = Vec::new();
    let files = example_releases();
    for file in files {
        inputs.push((file.display().to_string(), file, None));
    }
    for (name, text) in generated_releases() {
        let file = temp_file(&text, ".json");
        inputs.push((name, file.path().to_path_buf(), Some(file)));
    }

    let mut seen_codes = std::collections::BTreeSet::new();
    for (name, settings) in EXAMPLES {
        for (what, input, _keep) in &inputs {
            let mut outcomes = Vec::new();
            for version in ["0.1", "0.2"] {
                let wasm = build(name, version);
                let mut args: Vec<String> = [
                    "--no-cache",
                    "eval",
                    "--policy",
                    &wasm.display().to_string(),
                    "--input",
                    &input.display().to_string(),
                    "--now",
                    NOW,
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                args.extend(settings.iter().map(|s| s.to_string()));
                let run = gatehouse(&args);
                assert_no_host_panic(&run);
                outcomes.push(comparable(&run, &wasm));
            }
            assert_eq!(
                outcomes[0], outcomes[1],
                "{name} on {what}: 0.1.0 (left) vs 0.2.0 (right)"
            );
            seen_codes.insert(outcomes[0].0);
        }
    }
    // Not a degenerate run: approvals, requests and failures all occur.
    for code in [0, 1, 2] {
        assert!(
            seen_codes.contains(&code),
            "exit {code} never occurred: {seen_codes:?}"
        );
    }
}

/// A 0.1.0 component built before `gatehouse:policy@0.2.0` existed (checked
/// in: tests/prebuilt/README.md) is still told apart as 0.1.0, passes
/// its example suite case for case like today's 0.2.0 build, and decides the
/// example releases exactly as it does.
#[test]
fn a_component_built_before_0_2_0_still_runs_and_decides_the_same() {
    let old = gatehouse_e2e::prebuilt_policy("stream-approval-0.1.0.wasm");
    let old_arg = old.display().to_string();
    let inspect = gatehouse(["inspect", "--output", "json", &old_arg]);
    assert_eq!(inspect.code, 0, "{inspect:#?}");
    let json: Value = serde_json::from_str(&inspect.stdout).expect("inspect JSON");
    assert_eq!(json["world"]["policy_versions"], json!(["0.1.0"]), "{json}");

    let suite = "example-policies/stream-approval/tests/stream-approval.test.toml";
    let new = build("stream-approval", "0.2");
    let mut outcomes = Vec::new();
    for wasm in [&old, &new] {
        let wasm_arg = wasm.display().to_string();
        let run = gatehouse(["test", suite, "--policy", &wasm_arg]);
        assert_no_host_panic(&run);
        assert_eq!(run.code, 0, "{}: {run:#?}", wasm.display());
        outcomes.push(comparable(&run, wasm));
    }
    assert_eq!(outcomes[0], outcomes[1], "built before 0.2.0 vs 0.2.0");

    let files = example_releases();
    assert!(!files.is_empty());
    for file in files {
        let input = file.display().to_string();
        let mut answers = Vec::new();
        for wasm in [&old, &new] {
            let wasm_arg = wasm.display().to_string();
            let run = gatehouse([
                "eval", "--policy", &wasm_arg, "--input", &input, "--now", NOW,
            ]);
            assert_no_host_panic(&run);
            answers.push(comparable(&run, wasm));
        }
        assert_eq!(answers[0], answers[1], "{input}");
    }
}
