//! Parity with the Facets sample pre-release hook: on every valid release
//! JSON, `gatehouse eval --policy stream-approval.wasm` exits with the same
//! code as `python3 ../shared/reference/facets_pre_release_hook.py` (2 for
//! the stream `PROD`, compared exactly, else 0) — for the example built for
//! `gatehouse:policy@0.2.0`, for the same source built for 0.1.0, and for a
//! 0.1.0 component built before 0.2.0 existed (tests/prebuilt).
//!
//! The cases are generated deterministically: streams that are, almost are,
//! or look like PROD (case, spaces, invisible and look-alike unicode, JSON
//! escapes), assorted environments, every changeType, empty and long
//! resource lists, optional fields and unknown extra fields. Every mismatch
//! is reported in one assertion message.
//!
//! The reference hook lives in `../shared/` beside the repository; without
//! it the comparison skips, saying so on stderr.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    Run, gatehouse, policy, policy_0_1, prebuilt_policy, shared_or_skip, temp_file,
};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const CHANGE_TYPES: [&str; 6] = [
    "CREATE",
    "DELETE",
    "UPDATE_IN_PLACE",
    "REPLACE",
    "RECREATE",
    "NO_OPERATION",
];

const STREAMS: [&str; 18] = [
    "PROD",
    "QA",
    "STAGING",
    "prod",
    "Prod",
    "",
    "PROD ",
    " PROD",
    "PROD\n",
    "\tPROD",
    "PRODUCTION",
    "DEV",
    "PRÖD",
    "ПРОД",         // Cyrillic look-alike letters
    "PR\u{041E}D",  // a Cyrillic O inside otherwise Latin letters
    "PROD\u{200B}", // zero-width space
    "\u{FEFF}PROD", // byte-order mark as a character
    "生产",
];

const ENVIRONMENTS: [&str; 7] = ["prod", "prod-eu", "qa", "staging", "", "dev-ü", "環境"];

/// One resource as Facets sends it.
fn resource(i: usize, change_type: &str) -> Value {
    let resource_type = ["mysql", "redis", "service", "kafka", "s3"][i % 5];
    json!({
        "resourceType": resource_type,
        "resourceName": format!("res-{i}"),
        "resourcePath": format!("group-{}/res-{i}", i % 3),
        "changeType": change_type,
    })
}

/// The resource lists the cases draw from.
fn resource_sets() -> Vec<Vec<Value>> {
    let mut sets = vec![Vec::new()];
    // One resource of each change type.
    for (i, kind) in CHANGE_TYPES.iter().enumerate() {
        sets.push(vec![resource(i, kind)]);
    }
    // Every change type at once.
    sets.push(
        CHANGE_TYPES
            .iter()
            .enumerate()
            .map(|(i, kind)| resource(i, kind))
            .collect(),
    );
    // Many resources.
    sets.push(
        (0..250)
            .map(|i| resource(i, CHANGE_TYPES[(i * 7) % CHANGE_TYPES.len()]))
            .collect(),
    );
    // Unicode, empty strings and source attributes.
    sets.push(vec![
        json!({"resourceType": "mysql", "resourceName": "bestellungen-ü",
               "resourcePath": "datenbanken/bestellungen-ü", "changeType": "DELETE"}),
        json!({"resourceType": "", "resourceName": "", "resourcePath": "",
               "changeType": "NO_OPERATION"}),
        json!({"resourceType": "aws_instance", "resourceName": "web",
               "resourcePath": "module.app.aws_instance.web", "changeType": "RECREATE",
               "attributes": {"terraform.actions": "delete,create"}}),
    ]);
    sets
}

/// One case: a name for the report and the exact file contents.
struct Case {
    name: String,
    text: String,
}

/// At least 40 cases, the same every run.
fn cases() -> Vec<Case> {
    let sets = resource_sets();
    let mut cases = Vec::new();
    // Every stream three times, each time with another environment and resource set.
    for round in 0..3 {
        for (s, stream) in STREAMS.iter().enumerate() {
            let n = round * STREAMS.len() + s;
            let environment = ENVIRONMENTS[(n * 3) % ENVIRONMENTS.len()];
            let set = (n * 5 + round) % sets.len();
            let mut release = json!({
                "environmentName": environment,
                "releaseStream": stream,
                "resources": sets[set],
            });
            if n % 4 == 1 {
                release["metadata"] = json!({"commit": format!("c{n:06x}"), "author": "jdoe"});
            }
            if n % 6 == 2 {
                release["approvals"] = json!([
                    {"approver": "asmith", "groups": ["tech-lead"], "at": "2026-11-20T10:00:00Z"}
                ]);
            }
            if n % 5 == 3 {
                // Newer Facets payloads may carry fields the hook does not know.
                release["releaseId"] = json!(n);
                release["triggeredBy"] = json!({"user": "ci", "tags": ["a", "b"]});
            }
            let text = if n.is_multiple_of(2) {
                release.to_string()
            } else {
                serde_json::to_string_pretty(&release).expect("serialise")
            };
            cases.push(Case {
                name: format!("stream {stream:?}, environment {environment:?}, resource set {set}"),
                text,
            });
        }
    }
    // Hand-written texts: JSON escapes and layouts a serialiser would not produce.
    let raw = [
        (
            "escaped PROD",
            r#"{"environmentName":"prod","releaseStream":"\u0050ROD","resources":[]}"#,
        ),
        (
            "escaped prod",
            r#"{"environmentName":"prod","releaseStream":"\u0070rod","resources":[]}"#,
        ),
        (
            "quoted PROD",
            r#"{"environmentName":"prod","releaseStream":"\"PROD\"","resources":[]}"#,
        ),
        (
            "fields in another order",
            r#"{"resources":[{"changeType":"DELETE","resourcePath":"a/b","resourceName":"b","resourceType":"t"}],"releaseStream":"PROD","environmentName":"prod"}"#,
        ),
        (
            "CRLF and tabs",
            "{\r\n\t\"environmentName\" : \"prod\" ,\r\n\t\"releaseStream\" : \"PROD\" ,\r\n\t\"resources\" : [ ]\r\n}\r\n",
        ),
        (
            "unknown field inside a resource",
            r#"{"environmentName":"qa","releaseStream":"QA","resources":[{"resourceType":"t","resourceName":"n","resourcePath":"p","changeType":"CREATE","flavour":"large"}]}"#,
        ),
        (
            "surrogate pair escape",
            r#"{"environmentName":"\ud83d\ude80","releaseStream":"PROD\ud83d\ude80","resources":[]}"#,
        ),
    ];
    for (name, text) in raw {
        cases.push(Case {
            name: name.to_string(),
            text: text.to_string(),
        });
    }
    cases
}

/// The reference hook's exit code on a file.
fn reference_exit_code(hook: &Path, input: &Path) -> (i32, String) {
    let output = Command::new("python3")
        .arg(hook)
        .arg(input)
        // The hook prints the resources; never let a non-UTF-8 locale make it crash.
        .env("PYTHONIOENCODING", "utf-8")
        .env("PYTHONUTF8", "1")
        .output()
        .expect("run python3 (the reference hook needs Python 3 on PATH)");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn shared_reference_hook_matches_stream_approval() {
    let Some(shared) =
        shared_or_skip("facets_parity::shared_reference_hook_matches_stream_approval")
    else {
        return;
    };
    let hook = shared.path("reference/facets_pre_release_hook.py");
    let builds = [
        ("0.2.0", policy("stream-approval")),
        ("0.1.0 (same source)", policy_0_1("stream-approval")),
        (
            "0.1.0 (built before 0.2.0)",
            prebuilt_policy("stream-approval-0.1.0.wasm"),
        ),
    ];
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());

    let mut mismatches = Vec::new();
    let mut seen = [0usize; 4];
    for case in &cases {
        let file = temp_file(&case.text, ".json");
        let input = file.path().display().to_string();
        let (expected, python_stderr) = reference_exit_code(&hook, file.path());
        for (build, wasm) in &builds {
            let wasm = wasm.display().to_string();
            let run: Run = gatehouse(["eval", "--policy", &wasm, "--input", &input]);
            if let Some(count) = usize::try_from(run.code)
                .ok()
                .and_then(|code| seen.get_mut(code))
            {
                *count += 1;
            }
            if run.code != expected {
                mismatches.push(format!(
                    "- {} ({build}): gatehouse exited {}, the reference hook {expected}\n  gatehouse stderr: {}\n  python stderr: {}\n  input: {}",
                    case.name,
                    run.code,
                    run.stderr.trim(),
                    python_stderr.trim(),
                    case.text.chars().take(300).collect::<String>(),
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} runs of {} cases × {} builds differ from the reference hook:\n{}",
        mismatches.len(),
        cases.len(),
        builds.len(),
        mismatches.join("\n")
    );
    // Guard against a degenerate run (e.g. every case exiting 0 on both sides
    // because the input never reached the check).
    assert!(
        seen[0] >= 10 && seen[2] >= 5,
        "expected both verdicts to occur often: exit 0 ×{}, exit 2 ×{}",
        seen[0],
        seen[2]
    );
}
