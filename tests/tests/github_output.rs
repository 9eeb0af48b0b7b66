//! `--output github`: annotations on stdout, the Markdown summary appended to
//! `$GITHUB_STEP_SUMMARY`, `verdict=` / `exit-code=` appended to
//! `$GITHUB_OUTPUT`, for verdicts and for errors; within GitHub's limits
//! (10 annotations of each kind per step, 1 MiB of summary per step); and
//! none of them forgeable by the `forge-policy` fixture's name, version,
//! reasons, paths or errors (see untrusted_text.rs for the other sinks).
//!
//! | sink | test |
//! |---|---|
//! | annotations | [`annotations_cannot_be_forged`], [`error_annotation_and_summary_escape_a_forged_error`] |
//! | step summary | [`the_step_summary_cannot_be_given_structure`], [`error_annotation_and_summary_escape_a_forged_error`] |
//! | step outputs | [`step_outputs_cannot_be_injected`], [`step_outputs_start_on_a_new_line`] |
//! | limits | [`annotations_stay_within_githubs_per_step_limit`]; the summary's 1 MiB: output_bounds.rs |

#![forbid(unsafe_code)]

use gatehouse_e2e::forge::{REASON, assert_no_forged_commands, assert_no_hidden};
use gatehouse_e2e::{Run, fixture_policy, policy, workspace_root};
use std::process::Stdio;

/// Runs `gatehouse eval --output github` with the GitHub files set; returns
/// the run, the step summary and the step outputs.
fn eval_github(args: &[&str]) -> (Run, String, String) {
    eval_github_after(args, "earlier=1\n")
}

/// [`eval_github`] with `$GITHUB_OUTPUT` holding `earlier` before the run.
fn eval_github_after(args: &[&str], earlier: &str) -> (Run, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs.txt");
    // Earlier steps' content must be kept: the files are appended to.
    std::fs::write(&outputs, earlier).expect("seed outputs");
    let run: Run = gatehouse_e2e::gatehouse_command()
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
            "::error title=Gatehouse destructive-changes%3A fail::DELETE of mysql datastores/orders\n"
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
    // Untrusted text is Markdown-escaped: GitHub shows `destructive-changes`.
    assert!(
        summary.contains("| destructive\\-changes | 0\\.1\\.0 | fail |"),
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
        summary.contains("- Policy stream\\-approval: release\\-managers (1 approval)"),
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

// ---- forge-policy: hostile text aimed at every GitHub sink ----

/// [`eval_github`] of forge-policy on [`gatehouse_e2e::forge::forged_release`]: one reason, its
/// message and path [`REASON`], plus the `extra` settings.
fn forge_github(extra: &[&str]) -> (Run, String, String) {
    let input = gatehouse_e2e::forge::forged_release();
    let policy = fixture_policy("forge-policy").display().to_string();
    let input_path = input.path().display().to_string();
    let message = format!("message={REASON}");
    let path = format!("path={REASON}");
    let mut args = vec![
        "--policy",
        policy.as_str(),
        "--input",
        input_path.as_str(),
        "--set",
        &message,
        "--set",
        &path,
    ];
    args.extend_from_slice(extra);
    eval_github(&args)
}

/// Whether the character at byte `at` is backslash-escaped: an odd number
/// of backslashes before it.
fn escaped(text: &str, at: usize) -> bool {
    text[..at].bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// The lines of a Markdown table (starting with `|`) whose unescaped pipes
/// are not exactly the table's five.
fn rows_with_extra_cells(summary: &str) -> Vec<&str> {
    summary
        .lines()
        .filter(|line| line.starts_with('|'))
        .filter(|line| {
            let unescaped = line
                .match_indices('|')
                .filter(|(at, _)| !escaped(line, *at))
                .count();
            unescaped != 5
        })
        .collect()
}

/// Asserts that a step summary has no structure but its own: one heading
/// (`heading`), no HTML, links, images, workflow commands, extra table
/// cells or hidden characters.
fn assert_summary_unforged(summary: &str, heading: &str) {
    assert_no_hidden("step summary", summary);
    let headings: Vec<&str> = summary
        .lines()
        .filter(|l| l.trim_start().starts_with('#'))
        .collect();
    assert_eq!(headings, [heading], "{summary}");
    for forged in [
        "<details", "<summary", "<img", "](http", "\n::", "\n- [", "\n***",
    ] {
        assert!(!summary.contains(forged), "{forged:?} in:\n{summary}");
    }
    assert!(rows_with_extra_cells(summary).is_empty(), "{summary}");
    // Untrusted text is never in a code span: the only ones hold
    // Gatehouse's own digests (the release digest and the input's sha256).
    let backticks: Vec<usize> = summary
        .match_indices('`')
        .map(|(at, _)| at)
        .filter(|at| !escaped(summary, *at))
        .collect();
    assert!(
        backticks.len() <= 4 && backticks.len().is_multiple_of(2),
        "{summary}"
    );
    for span in backticks.chunks(2) {
        let text = &summary[span[0] + 1..span[1]];
        let hex = text.strip_prefix("sha256:").unwrap_or(text);
        assert!(
            hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()),
            "a code span that is not a digest: {text:?} in:\n{summary}"
        );
    }
}

#[test]
fn annotations_cannot_be_forged() {
    let (run, _, _) = forge_github(&[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_no_hidden("GitHub log", &run.stdout);
    assert_no_forged_commands("GitHub log", &run.stdout, &["::error title=Gatehouse "]);
    let commands: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("::"))
        .collect();
    assert_eq!(commands.len(), 2, "{}", run.stdout);
    assert!(
        commands[0].starts_with(
            "::error title=Gatehouse forge ## ✅ Gatehouse%3A auto-approve (exit 0) %3A%3Aerror%3A%3Ax ##\\u{5b}add-mask]y"
        ),
        "{}",
        commands[0]
    );
    assert!(
        commands[0].contains(
            "%3A fail::forged\\u{a}## ✅ Gatehouse: auto-approve (exit 0)\\u{a}::error::forged"
        ),
        "{}",
        commands[0]
    );
    assert_eq!(
        commands[1],
        "::error title=Gatehouse verdict::fail (exit 1)"
    );
}

#[test]
fn the_step_summary_cannot_be_given_structure() {
    for (verdict, code, heading) in [
        ("fail", 1, "## ❌ Gatehouse: fail (exit 1)"),
        (
            "require-approval",
            2,
            "## ⏸️ Gatehouse: require-approval (exit 2)",
        ),
    ] {
        let verdict_setting = format!("verdict={verdict}");
        let group = format!("group={REASON}");
        let instructions = format!("instructions={REASON}");
        let (run, summary, _) = forge_github(&[
            "--set",
            &verdict_setting,
            "--set",
            &group,
            "--set",
            &instructions,
        ]);
        assert_eq!(run.code, code, "{run:#?}");
        assert_summary_unforged(&summary, heading);
        assert!(
            summary.contains("| forge \\#\\# ✅ Gatehouse\\: auto\\-approve \\(exit 0\\)"),
            "{summary}"
        );
        assert!(
            summary.contains("&lt;details&gt;&lt;summary&gt;"),
            "{summary}"
        );
    }
}

#[test]
fn step_outputs_cannot_be_injected() {
    let (run, _, outputs) = forge_github(&[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(outputs, "earlier=1\nverdict=fail\nexit-code=1\n");
    let (run, _, outputs) = forge_github(&["--set", "verdict=error"]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert_eq!(outputs, "earlier=1\nverdict=error\nexit-code=3\n");
}

#[test]
fn step_outputs_start_on_a_new_line() {
    // An earlier step that left no final newline cannot swallow our outputs.
    let (run, _, outputs) = eval_github_after(
        &[
            "--policy",
            &policy("destructive-changes").display().to_string(),
            "--input",
            &release("prod-delete-database.json"),
        ],
        "earlier=1",
    );
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(outputs, "earlier=1\nverdict=fail\nexit-code=1\n");
}

#[test]
fn error_annotation_and_summary_escape_a_forged_error() {
    let (run, summary, _) = forge_github(&["--set", "verdict=error"]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert_no_hidden("GitHub log", &run.stdout);
    assert_no_forged_commands(
        "GitHub log",
        &run.stdout,
        &["::error title=Gatehouse error::policy 'forge ## ✅"],
    );
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert_summary_unforged(&summary, "## ⛔ Gatehouse: error (exit 3)");
    assert!(
        summary.contains("could not decide\\: forged\\u{a}\\#\\# ✅"),
        "{summary}"
    );
}

#[test]
fn annotations_stay_within_githubs_per_step_limit() {
    // GitHub shows 10 annotations of each kind per step: 25 reasons give
    // 8 annotations, one saying how many more there are, and the verdict.
    let (run, _, _) = forge_github(&["--set", "verdict=approve", "--set", "count=25"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let commands: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(commands.len(), 10, "{}", run.stdout);
    assert!(
        commands.iter().all(|l| l.starts_with("::notice ")),
        "{}",
        run.stdout
    );
    assert!(
        commands[8].contains("::17 more auto-approve annotations left out"),
        "{}",
        commands[8]
    );
    assert_eq!(
        commands[9],
        "::notice title=Gatehouse verdict::auto-approve (exit 0)"
    );
    // The text report above still lists every reason.
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("  - forged"))
            .count(),
        25
    );
}
