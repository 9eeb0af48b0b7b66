//! `--output github`: annotations on stdout, the Markdown summary appended to
//! `$GITHUB_STEP_SUMMARY`, `verdict=` / `exit-code=` appended to
//! `$GITHUB_OUTPUT`, for verdicts and for errors.

#![forbid(unsafe_code)]

use gatehouse_e2e::{Run, gatehouse_bin, policy, workspace_root};
use std::process::{Command, Stdio};

/// Runs `gatehouse eval --output github` with the GitHub files set; returns
/// the run, the step summary and the step outputs.
fn eval_github(args: &[&str]) -> (Run, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs.txt");
    // Earlier steps' content must be kept: the files are appended to.
    std::fs::write(&outputs, "earlier=1\n").expect("seed outputs");
    let run: Run = Command::new(gatehouse_bin())
        .arg("eval")
        .args(args)
        .args(["--output", "github", "--now", "2026-11-22T10:00:00Z"])
        .current_dir(workspace_root())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .stdin(Stdio::null())
        .output()
        .expect("run gatehouse")
        .into();
    let summary = std::fs::read_to_string(&summary).unwrap_or_default();
    let outputs = std::fs::read_to_string(&outputs).unwrap_or_default();
    (run, summary, outputs)
}

fn release(name: &str) -> String {
    workspace_root()
        .join("example-policies/releases")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn fail_gives_error_annotations_naming_resources() {
    let (run, summary, outputs) = eval_github(&[
        "--policy",
        &policy("destructive-changes").display().to_string(),
        "--input",
        &release("prod-delete-database.json"),
    ]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stdout.contains(
            "::error title=Gatehouse destructive-changes%3A fail::DELETE of mysql datastores/orders [datastores/orders]"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("::error title=Gatehouse verdict::fail (exit 1)")
    );
    assert!(
        run.stdout.starts_with("FAIL (exit 1)"),
        "the text report comes first"
    );
    assert!(
        summary.contains("## ❌ Gatehouse: fail (exit 1)"),
        "{summary}"
    );
    assert!(
        summary.contains("| destructive-changes | 0.1.0 | fail |"),
        "{summary}"
    );
    assert_eq!(outputs, "earlier=1\nverdict=fail\nexit-code=1\n");
}

#[test]
fn require_approval_gives_warnings_and_lists_approvers() {
    let (run, summary, outputs) = eval_github(&[
        "--policy",
        &policy("stream-approval").display().to_string(),
        "--input",
        &release("prod-with-approvals.json"),
        "--set",
        "approver-groups=release-managers",
    ]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stdout
            .contains("::warning title=Gatehouse stream-approval%3A require-approval::release stream PROD requires approval"),
        "{}",
        run.stdout
    );
    assert!(
        summary.contains("- stream-approval: release-managers (1 approval)"),
        "{summary}"
    );
    assert!(
        outputs.ends_with("verdict=require-approval\nexit-code=2\n"),
        "{outputs}"
    );
}

#[test]
fn auto_approve_gives_notices() {
    let (run, _, outputs) = eval_github(&[
        "--policy",
        &policy("stream-approval").display().to_string(),
        "--input",
        &release("staging-update.json"),
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .contains("::notice title=Gatehouse verdict::auto-approve (exit 0)")
    );
    assert!(
        outputs.ends_with("verdict=auto-approve\nexit-code=0\n"),
        "{outputs}"
    );
}

#[test]
fn errors_are_annotated_and_reported_as_outputs() {
    let (run, summary, outputs) = eval_github(&[
        "--policy",
        &policy("stream-approval").display().to_string(),
        "--input",
        "/definitely/missing.json",
    ]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stdout
            .starts_with("::error title=Gatehouse error::/definitely/missing.json: cannot open"),
        "{}",
        run.stdout
    );
    assert!(summary.contains("Gatehouse: error (exit 3)"), "{summary}");
    assert!(
        outputs.ends_with("verdict=error\nexit-code=3\n"),
        "{outputs}"
    );
}
