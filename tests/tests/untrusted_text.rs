//! Text that comes from a release or a policy cannot forge output. The
//! `forge-policy` fixture's name, version, reasons, resource paths, log
//! lines and errors (and a release's environment, stream and paths) try to
//! forge a verdict heading, workflow commands (`::error::`, `::add-mask::`,
//! `##[error]`), HTML, Markdown structure, reversed text (U+202E, U+2067,
//! U+061C) and line breaks (LF, CR, U+2028, U+2029, NEL): every text sink
//! shows them escaped, on their own line, and the JSON report keeps them
//! exactly. The GitHub sinks are in github_output.rs.
//!
//! | sink | test |
//! |---|---|
//! | text report | [`text_report_escapes_forged_names_reasons_and_releases`] |
//! | stderr error lines | [`stderr_error_lines_escape_a_forged_error`], [`usage_errors_escape_the_arguments_they_quote`] |
//! | stderr warning lines (compile cache) | [`cache_warnings_escape_the_path_they_quote`] |
//! | `gatehouse test` output and JUnit | [`test_output_and_junit_escape_forged_cases`] |
//! | `inspect` | [`inspect_escapes_a_forged_describe_answer`] |
//! | JSON (exact text) | [`json_keeps_forged_text_exactly`] |

#![forbid(unsafe_code)]

use gatehouse_e2e::forge::{
    NAME, REASON, VERSION, assert_no_forged_commands, assert_no_hidden, toml_string,
};
use gatehouse_e2e::{Run, fixture_policy, gatehouse, policy, temp_file, workspace_root};
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

// ---- forge-policy: a hostile name, version, reasons, paths, logs, errors ----

/// `gatehouse eval` of forge-policy on [`gatehouse_e2e::forge::forged_release`]: fail (or what
/// `extra` sets) with one reason and one log line, all [`REASON`].
fn forge_eval(output: &str, extra: &[&str]) -> Run {
    let input = gatehouse_e2e::forge::forged_release();
    let message = format!("message={REASON}");
    let path = format!("path={REASON}");
    let log = format!("log={REASON}");
    let mut args = vec!["--no-cache", "eval", "--policy"];
    let policy = fixture_policy("forge-policy").display().to_string();
    let input_path = input.path().display().to_string();
    args.extend([
        policy.as_str(),
        "--input",
        input_path.as_str(),
        "--now",
        "2026-11-22T10:00:00Z",
        "--output",
        output,
        "--set",
        &message,
        "--set",
        &path,
        "--set",
        &log,
    ]);
    args.extend_from_slice(extra);
    gatehouse(args)
}

#[test]
fn json_keeps_forged_text_exactly() {
    let run = forge_eval("json", &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    let report = run.json();
    let policy = &report["policies"][0];
    // Also keeps tests/src/forge.rs in step with the fixture.
    assert_eq!(policy["name"], NAME);
    assert_eq!(policy["version"], VERSION);
    assert_eq!(policy["reasons"][0]["message"], REASON);
    assert_eq!(policy["reasons"][0]["resource_path"], REASON);
    assert_eq!(policy["logs"][0]["message"], REASON);
    assert_eq!(report["input"]["environment"], REASON);
}

#[test]
fn text_report_escapes_forged_names_reasons_and_releases() {
    let run = forge_eval("text", &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    let out = &run.stdout;
    assert_no_hidden("text report", out);
    assert_no_forged_commands("text report", out, &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "FAIL (exit 1)", "{out}");
    // Exactly the report's own lines, each starting with its own words.
    let prefixes = [
        "FAIL (exit 1)",
        "release: environment forged\\u{a}## ✅ Gatehouse",
        "input: ",
        "release digest: sha256:",
        "evaluated at: ",
        "",
        "policy forge ## ✅ Gatehouse: auto-approve (exit 0) ::error::x ##\\u{5b}add-mask]y",
        "  - forged\\u{a}## ✅ Gatehouse",
        "  log warn: forged\\u{a}",
    ];
    assert_eq!(lines.len(), prefixes.len(), "{out}");
    for (line, prefix) in lines.iter().zip(prefixes) {
        assert!(
            line.starts_with(prefix),
            "{line:?} does not start with {prefix:?}"
        );
    }
    for escaped in [
        "\\u{202e}desrever\\u{2067}x\\u{61c}y\\u{2028}z\\u{2029}w\\u{85}v\\u{1b}[31m\\u{7}",
        "# h *** \\u{200b}\\u{feff}\\u{2060}\\u{e0041} `c` 0.1.0 <details> `c` & ## h \\u{200b}\\u{ad}: fail",
        "##\\u{5b}error]v1",
    ] {
        assert!(out.contains(escaped), "{escaped:?} not in:\n{out}");
    }
}

#[test]
fn stderr_error_lines_escape_a_forged_error() {
    for output in ["text", "json"] {
        let run = forge_eval(output, &["--set", "verdict=error"]);
        assert_eq!(run.code, 3, "{run:#?}");
        assert_no_hidden("stderr", &run.stderr);
        assert_no_forged_commands("stderr", &run.stderr, &[]);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{run:#?}");
        assert!(
            lines[0].starts_with(
                "gatehouse: error: policy 'forge ## ✅ Gatehouse: auto-approve (exit 0) ::error::x ##\\u{5b}add-mask]y"
            ),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains("could not decide: forged\\u{a}## ✅ Gatehouse"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains("\\u{2028}z\\u{2029}w\\u{85}v"),
            "{}",
            lines[0]
        );
        if output == "json" {
            // The JSON error object keeps the message exactly.
            let error = run.json()["error"].as_str().unwrap_or_default().to_string();
            assert!(error.contains(REASON) && error.contains(NAME), "{error}");
        }
    }
}

#[test]
fn usage_errors_escape_the_arguments_they_quote() {
    // clap quotes the unknown argument; main.rs reports it as every error.
    let run = gatehouse(["eval", "--bogus\u{2028}::error::x\u{202e}"]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert_no_hidden("stderr", &run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
    assert!(
        run.stderr.starts_with(
            "gatehouse: error: unexpected argument '--bogus\\u{2028}::error::x\\u{202e}'"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn cache_warnings_escape_the_path_they_quote() {
    // A cache "directory" that is a file: eval warns, naming the path, and
    // compiles without a cache.
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache\u{1b}[2J\u{7}\u{2028}\u{202e}x");
    std::fs::write(&cache, "not a directory").expect("write the file");
    let run = gatehouse([
        "--cache-dir".as_ref(),
        cache.as_os_str(),
        "eval".as_ref(),
        "--policy".as_ref(),
        policy("stream-approval").as_os_str(),
        "--input".as_ref(),
        workspace_root()
            .join("example-policies/releases/staging-update.json")
            .as_os_str(),
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_no_hidden("stderr", &run.stderr);
    assert!(
        run.stderr.starts_with("gatehouse: warning: compile cache ")
            && run
                .stderr
                .contains("cache\\u{1b}[2J\\u{7}\\u{2028}\\u{202e}x"),
        "{}",
        run.stderr
    );
}

#[test]
fn test_output_and_junit_escape_forged_cases() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = fixture_policy("forge-policy");
    let release = r#"{ environmentName = "prod", releaseStream = "PROD", resources = [] }"#;
    // A case that fails with forged reasons, one whose policy errs with a
    // forged message, and one that cannot run (its forged input is missing).
    let suite = format!(
        "policy = {}\nnow = \"2026-11-22T10:00:00Z\"\n\n\
         [[case]]\nname = {name}\nexpect = \"approve\"\nsettings = {{ message = {reason}, path = {reason} }}\nrelease = {release}\n\n\
         [[case]]\nname = {name_2}\nexpect = \"approve\"\nsettings = {{ verdict = \"error\", message = {reason} }}\nrelease = {release}\n\n\
         [[case]]\nname = {name_3}\nexpect = \"approve\"\ninput = {reason}\n",
        toml_string(&policy.display().to_string()),
        name = toml_string(REASON),
        name_2 = toml_string(&format!("{REASON} 2")),
        name_3 = toml_string(&format!("{REASON} 3")),
        reason = toml_string(REASON),
    );
    std::fs::write(dir.path().join("forged.test.toml"), suite).expect("write the suite");
    let junit = dir.path().join("junit.xml");
    let run = gatehouse([
        "--no-cache",
        "test",
        &dir.path().display().to_string(),
        "--junit",
        &junit.display().to_string(),
    ]);
    // A case that cannot run makes the run an error.
    assert_eq!(run.code, 3, "{run:#?}");

    // The text output: one line per case and per message, all escaped.
    let out = &run.stdout;
    assert_no_hidden("gatehouse test output", out);
    assert_no_forged_commands("gatehouse test output", out, &[]);
    for line in out.lines() {
        assert!(
            ["FAIL  ", "ERROR ", "      ", "0 passed, 2 failed, 1 error"]
                .iter()
                .any(|p| line.starts_with(p)),
            "a line the report did not write: {line:?}\n{out}"
        );
    }
    assert!(
        out.contains("  forged\\u{a}## ✅ Gatehouse: auto-approve (exit 0)\\u{a}::error::forged"),
        "{out}"
    );
    assert!(out.contains("        - forged\\u{a}## ✅"), "{out}");

    // The JUnit report: no raw markup or hidden characters from the cases.
    let xml = std::fs::read_to_string(&junit).expect("JUnit written");
    assert_no_hidden("JUnit", &xml);
    for forged in ["<details>", "<summary>", "<img", "\n## ", "\n::"] {
        assert!(!xml.contains(forged), "{forged:?} in:\n{xml}");
    }
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 2, "{xml}");
    assert_eq!(xml.matches("<error ").count(), 1, "{xml}");
    assert!(
        xml.contains("forged\\u{a}## ✅ Gatehouse: auto-approve (exit 0)\\u{a}::error::forged\\u{a}::add-mask::fail ##[error]v1 &lt;details&gt;"),
        "{xml}"
    );
    assert!(
        xml.contains("\\u{202e}desrever\\u{2067}x\\u{61c}y\\u{2028}z"),
        "{xml}"
    );
}

#[test]
fn inspect_escapes_a_forged_describe_answer() {
    let run = gatehouse([
        "--no-cache",
        "inspect",
        &fixture_policy("forge-policy").display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    let out = &run.stdout;
    assert_no_hidden("inspect", out);
    assert_no_forged_commands("inspect", out, &[]);
    assert!(
        !out.lines()
            .any(|l| l.starts_with("## ") || l.starts_with("# h")),
        "{out}"
    );
    assert!(
        out.contains(
            "  name         forge ## ✅ Gatehouse: auto-approve (exit 0) ::error::x ##\\u{5b}add-mask]y <img src=x> |a|b| [l](http://x) # h *** \\u{200b}\\u{feff}\\u{2060}\\u{e0041} `c`\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("  version      0.1.0 <details> `c` & ## h \\u{200b}\\u{ad}\n"),
        "{out}"
    );
}
