//! Text that comes from a release or a policy cannot forge lines of the text
//! report: a resource path carrying a newline and a GitHub workflow command
//! is printed escaped, on its reason's line, in `text` and `github` output;
//! the JSON report keeps the text exactly.

use gatehouse_e2e::{gatehouse, policy, temp_file};
use serde_json::{Value, json};

const FORGED: &str = "datastores/orders\n::error::all clear\u{1b}[2J";

fn release() -> tempfile::NamedTempFile {
    let release = json!({
        "environmentName": "prod-eu",
        "releaseStream": "PROD",
        "resources": [{
            "resourceType": "mysql",
            "resourceName": "orders",
            "resourcePath": FORGED,
            "changeType": "DELETE"
        }]
    });
    temp_file(release.to_string(), ".json")
}

fn eval(output: &str) -> gatehouse_e2e::Run {
    let input = release();
    gatehouse([
        "--no-cache",
        "eval",
        "--policy",
        &policy("destructive-changes").display().to_string(),
        "--input",
        &input.path().display().to_string(),
        "--now",
        "2026-11-22T10:00:00Z",
        "--output",
        output,
    ])
}

#[test]
fn text_and_github_output_escape_forged_lines() {
    for output in ["text", "github"] {
        let run = eval(output);
        assert_eq!(run.code, 1, "{output}: {}", run.stderr);
        assert!(
            !run.stdout
                .lines()
                .any(|l| l.starts_with("::error::all clear")),
            "{output}: a forged workflow command reached the log:\n{}",
            run.stdout
        );
        assert!(
            !run.stdout.contains('\u{1b}'),
            "{output}: terminal escape printed"
        );
        assert!(
            run.stdout
                .contains("datastores/orders\\u{a}::error::all clear\\u{1b}[2J"),
            "{output}: {}",
            run.stdout
        );
    }
}

#[test]
fn json_output_keeps_the_text_exactly() {
    let run = eval("json");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let paths: Vec<&str> = report["policies"][0]["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["resource_path"].as_str())
        .collect();
    assert!(paths.contains(&FORGED), "{paths:?}");
}
