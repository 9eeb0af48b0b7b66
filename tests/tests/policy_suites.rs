//! `gatehouse test` end to end: every example policy's suite passes, the
//! destructive-changes suite passes with each of its twins (Python,
//! JavaScript, C) through `--policy`, a deliberately wrong expectation fails
//! with its diff and exit 1, bad suites are errors naming file and line
//! (exit 3), and the JSON and JUnit reports carry the same counts.

use gatehouse_e2e::twins::example_release;
use gatehouse_e2e::{Run, assert_no_host_panic, gatehouse, policy};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The suite of every Rust example policy, as `gatehouse test` names them.
const SUITES: [&str; 6] = [
    "example-policies/approval-quorum/tests/approval-quorum.test.toml",
    "example-policies/change-budget/tests/change-budget.test.toml",
    "example-policies/change-freeze/tests/change-freeze.test.toml",
    "example-policies/destructive-changes/tests/destructive-changes.test.toml",
    "example-policies/release-window/tests/release-window.test.toml",
    "example-policies/stream-approval/tests/stream-approval.test.toml",
];

const DESTRUCTIVE_SUITE: &str = "example-policies/destructive-changes";

fn test(args: &[&str]) -> Run {
    let mut all = vec!["test"];
    all.extend_from_slice(args);
    let run = gatehouse(&all);
    assert_no_host_panic(&run);
    run
}

/// `(passed, failed)` from the text summary, the last stdout line.
fn summary(run: &Run) -> (usize, usize) {
    let last = run.stdout.lines().last().unwrap_or_default();
    let mut numbers = last
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().expect("a count"));
    let passed = numbers
        .next()
        .unwrap_or_else(|| panic!("no summary: {run:#?}"));
    let failed = numbers
        .next()
        .unwrap_or_else(|| panic!("no summary: {run:#?}"));
    assert_eq!(
        last,
        format!("{passed} passed, {failed} failed"),
        "{run:#?}"
    );
    (passed, failed)
}

fn pass_lines(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .filter(|l| l.starts_with("PASS  "))
        .collect()
}

/// Writes `files` (name, contents) into a fresh temporary directory.
fn suite_dir(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, contents) in files {
        std::fs::write(dir.path().join(name), contents).expect("write suite");
    }
    dir
}

fn path_arg(path: &Path) -> String {
    path.display().to_string()
}

/// A suite with one passing case and one whose expectation is wrong.
fn failing_suite() -> String {
    format!(
        r#"policy = "{policy}"
now = "2026-11-22T10:00:00Z"

[[case]]
name = "deleting a database in prod fails"
input = "{delete}"
expect = "fail"
reasons = ["DELETE of mysql datastores/orders"]

[[case]]
name = "a wrong expectation"
input = "{delete}"
expect = "require-approval"
reasons = ["DELETE of mysql", "check the backups"]
approvers = ["dba"]
"#,
        policy = path_arg(&policy("destructive-changes")),
        delete = example_release("prod-delete-database.json"),
    )
}

#[test]
fn every_example_suite_passes() {
    let run = test(&["example-policies"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let (passed, failed) = summary(&run);
    assert_eq!(failed, 0);
    assert_eq!(pass_lines(&run).len(), passed, "{run:#?}");
    assert_eq!(
        run.stdout.lines().count(),
        passed + 1,
        "only PASS lines and the summary: {run:#?}"
    );
    for suite in SUITES {
        let cases = pass_lines(&run)
            .iter()
            .filter(|l| l.starts_with(&format!("PASS  {suite}  ")))
            .count();
        assert!(cases >= 8, "{suite} has {cases} cases: {run:#?}");
    }
}

#[test]
fn the_twins_pass_the_destructive_changes_suite() {
    let rust = test(&[DESTRUCTIVE_SUITE]);
    assert_eq!(rust.code, 0, "{rust:#?}");
    let (cases, _) = summary(&rust);
    for twin in [
        "destructive-changes-py",
        "destructive-changes-js",
        "destructive-changes-c",
    ] {
        let wasm = path_arg(&policy(twin));
        let run = test(&[DESTRUCTIVE_SUITE, "--policy", &wasm]);
        assert_eq!(run.code, 0, "{twin}: {run:#?}");
        assert_eq!(summary(&run), (cases, 0), "{twin}: {run:#?}");
        // The same cases, in the same order, by name.
        assert_eq!(pass_lines(&run), pass_lines(&rust), "{twin}");
    }
}

#[test]
fn a_wrong_expectation_fails_with_its_diff() {
    let dir = suite_dir(&[("wrong.test.toml", failing_suite())]);
    let suite = dir.path().join("wrong.test.toml");
    let run = test(&[&path_arg(dir.path())]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(summary(&run), (1, 1));
    let out = &run.stdout;
    let fail_line = format!("FAIL  {}  a wrong expectation\n", suite.display());
    let at = out
        .find(&fail_line)
        .unwrap_or_else(|| panic!("no FAIL line: {run:#?}"));
    let diff = &out[at + fail_line.len()..];
    for line in [
        "      expected: require-approval [groups: dba]\n",
        "      actual:   fail\n",
        "      missing reason fragment (not in any reason): \"check the backups\"\n",
        "      actual reasons:\n",
        "        - 1 destructive change to protected resources in environment prod-eu (protected by \"prod*\"); run them through a maintenance change instead\n",
        "        - DELETE of mysql datastores/orders\n",
    ] {
        assert!(diff.contains(line), "the diff lacks {line:?}: {run:#?}");
    }
    assert!(
        !diff.contains("\"DELETE of mysql\""),
        "a fragment that is present is not reported missing: {run:#?}"
    );
    assert!(
        out.contains(&format!(
            "PASS  {}  deleting a database in prod fails\n",
            suite.display()
        )),
        "{run:#?}"
    );
}

#[test]
fn bad_suites_are_errors_naming_file_and_line() {
    let wasm = path_arg(&policy("destructive-changes"));
    let input = example_release("staging-update.json");
    let head = format!("policy = \"{wasm}\"\n[[case]]\nname = \"x\"\n");
    let cases = [
        (
            "unknown-key.test.toml",
            format!("{head}input = \"{input}\"\nexpcet = \"approve\"\n"),
            ":5: unknown field `expcet`, expected one of",
            "`expect`",
        ),
        (
            "missing-expect.test.toml",
            format!("{head}input = \"{input}\"\n"),
            ":2: missing field `expect`",
            "docs/testing-policies.md",
        ),
        (
            "missing-input.test.toml",
            format!("{head}input = \"no-such-release.json\"\nexpect = \"approve\"\n"),
            ":3: case \"x\": input ",
            "no-such-release.json: cannot open the input file",
        ),
        (
            "two-inputs.test.toml",
            format!(
                "{head}input = \"{input}\"\nrelease = {{ environmentName = \"e\", releaseStream = \"s\" }}\nexpect = \"approve\"\n"
            ),
            ":3: case \"x\": gives both input and release",
            "exactly one input source",
        ),
        (
            "not-wasm.test.toml",
            "policy = \"not-wasm.test.toml\"\n[[case]]\nname = \"x\"\ninput = \"INPUT\"\nexpect = \"approve\"\n"
                .replace("INPUT", &input),
            ":3: case \"x\": policy ",
            "not a WebAssembly file",
        ),
    ];
    for (name, contents, located, detail) in cases {
        let dir = suite_dir(&[(name, contents)]);
        let file = dir.path().join(name);
        let run = test(&[&path_arg(&file)]);
        assert_eq!(run.code, 3, "{name}: {run:#?}");
        let expected = format!("{}{located}", file.display());
        assert!(
            run.stdout.contains(&expected),
            "{name}: lacks {expected:?}: {run:#?}"
        );
        assert!(
            run.stdout.contains(detail),
            "{name}: lacks {detail:?}: {run:#?}"
        );
        assert!(run.stdout.contains("ERROR "), "{name}: {run:#?}");
        assert!(
            run.stdout.ends_with(" error\n"),
            "{name}: the summary counts the error: {run:#?}"
        );
    }

    // Nothing to test is an error too: a gate that checks nothing must not pass.
    let empty = tempfile::tempdir().expect("temp dir");
    let run = test(&[&path_arg(empty.path())]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stdout.contains("no suite files (*.test.toml) under"),
        "{run:#?}"
    );
}

#[test]
fn junit_reports_carry_the_counts() {
    let dir = suite_dir(&[("wrong.test.toml", failing_suite())]);
    let junit: PathBuf = dir.path().join("report.xml");
    let run = test(&[
        &path_arg(&dir.path().join("wrong.test.toml")),
        "--junit",
        &path_arg(&junit),
    ]);
    assert_eq!(run.code, 1, "{run:#?}");
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file is written");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gatehouse test\" tests=\"2\" failures=\"1\" errors=\"0\""), "{xml}");
    assert_eq!(xml.matches("<testsuite ").count(), 1, "{xml}");
    assert_eq!(xml.matches("</testsuite>").count(), 1, "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert!(
        xml.contains("<testcase name=\"a wrong expectation\""),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=\"expected require-approval, got fail\" type=\"fail\">expected: require-approval [groups: dba]&#10;"),
        "{xml}"
    );
    // Quotes in the diff are escaped; nothing of the text breaks the markup.
    assert!(xml.contains("&quot;check the backups&quot;"), "{xml}");
    assert!(xml.trim_end().ends_with("</testsuites>"), "{xml}");

    // The examples: one <testsuite> per suite file, no failures.
    let all = dir.path().join("all.xml");
    let run = test(&["example-policies", "--junit", &path_arg(&all)]);
    assert_eq!(run.code, 0, "{run:#?}");
    let (passed, _) = summary(&run);
    let xml = std::fs::read_to_string(&all).expect("the JUnit file is written");
    assert!(
        xml.contains(&format!(
            "<testsuites name=\"gatehouse test\" tests=\"{passed}\" failures=\"0\" errors=\"0\""
        )),
        "{xml}"
    );
    for suite in SUITES {
        assert!(
            xml.contains(&format!("<testsuite name=\"{suite}\"")),
            "{suite}: {xml}"
        );
    }
    assert_eq!(xml.matches("<testcase ").count(), passed);
}

#[test]
fn filter_selects_cases_by_name_or_suite_path() {
    let run = test(&["example-policies", "--filter", "misspelt"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let lines = pass_lines(&run);
    assert_eq!(summary(&run), (lines.len(), 0));
    assert!(lines.len() >= 4, "{run:#?}");
    assert!(lines.iter().all(|l| l.contains("misspelt")), "{run:#?}");

    let run = test(&["example-policies", "--filter", "change-budget/"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        pass_lines(&run)
            .iter()
            .all(|l| l.contains("change-budget.test.toml")),
        "{run:#?}"
    );

    let run = test(&["example-policies", "--filter", "no case has this name"]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(run.stdout.contains("matches no case"), "{run:#?}");
}

#[test]
fn json_output_is_the_versioned_report() {
    let run = test(&["example-policies/stream-approval", "--output", "json"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.json();
    assert_eq!(report["schema"], "gatehouse.test-report/v1");
    let cases = report["cases"].as_array().expect("cases");
    assert!(cases.len() >= 5);
    assert_eq!(report["summary"]["passed"], cases.len());
    assert_eq!(report["summary"]["failed"], 0);
    assert_eq!(report["exit_code"], 0);
    assert!(cases.iter().all(|c| c["status"] == "pass"), "{report}");

    let dir = suite_dir(&[("wrong.test.toml", failing_suite())]);
    let run = test(&[&path_arg(dir.path()), "--output", "json"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let report = run.json();
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["exit_code"], 1);
    let wrong: &Value = report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == "a wrong expectation")
        .expect("the failing case");
    assert_eq!(wrong["status"], "fail");
    assert_eq!(wrong["expected"]["verdict"], "require-approval");
    assert_eq!(wrong["expected"]["approvers"], serde_json::json!(["dba"]));
    assert_eq!(wrong["actual"]["verdict"], "fail");
    assert_eq!(
        wrong["actual"]["reasons"][1],
        "DELETE of mysql datastores/orders"
    );
    assert_eq!(
        wrong["messages"][0],
        "expected: require-approval [groups: dba]"
    );
}
