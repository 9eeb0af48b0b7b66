//! The audit trail: `eval --audit-log` appends hash-chained JSON lines (also
//! for errors); `audit verify` finds an edited, a deleted, a swapped and a
//! truncated line; 8 concurrent `eval` processes appending 50 records each
//! leave a valid 400-line chain; `audit replay` reports a verdict that a
//! settings change alters, and finds policies by digest with `--policy-dir`.
//! A file that is not an audit log is never modified (exact bytes kept);
//! a torn tail is repaired only after the chain before it is verified; and
//! the log's final exit code for a decision is the process's, even when the
//! report cannot be delivered (stdout on /dev/full or a broken pipe, an
//! unwritable $GITHUB_OUTPUT).

#![forbid(unsafe_code)]

use gatehouse_e2e::{Run, assert_no_host_panic, gatehouse, policy, release_json, temp_file};
use std::path::Path;

/// A release with `n` service updates on `stream`.
fn release(stream: &str, n: usize) -> tempfile::NamedTempFile {
    let names: Vec<(String, String)> = (0..n)
        .map(|i| (format!("api{i}"), format!("services/api{i}")))
        .collect();
    let resources: Vec<(&str, &str, &str, &str)> = names
        .iter()
        .map(|(name, path)| ("service", name.as_str(), path.as_str(), "UPDATE_IN_PLACE"))
        .collect();
    temp_file(release_json("prod", stream, &resources), ".json")
}

fn eval(log: &Path, input: &Path, policy_name: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "eval".to_string(),
        "--policy".into(),
        policy(policy_name).display().to_string(),
        "--input".into(),
        input.display().to_string(),
        "--now".into(),
        "2026-11-22T10:00:00Z".into(),
        "--audit-log".into(),
        log.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = gatehouse(&args);
    assert_no_host_panic(&run);
    run
}

fn verify(log: &Path) -> Run {
    let run = gatehouse(["audit", "verify", &log.display().to_string()]);
    assert_no_host_panic(&run);
    run
}

fn lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .expect("read the log")
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(log: &Path, lines: &[String]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(log, text).expect("write the log");
}

/// A log of five records with alternating verdicts.
fn five_records() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("audit.jsonl");
    let (prod, qa) = (release("PROD", 1), release("QA", 1));
    for i in 0..5 {
        let input = if i % 2 == 0 { &prod } else { &qa };
        let run = eval(&log, input.path(), "stream-approval", &[]);
        assert_eq!(run.code, if i % 2 == 0 { 2 } else { 0 }, "{run:#?}");
    }
    (dir, log)
}

fn assert_bad_line(run: &Run, line: usize, kind: &str) {
    assert_eq!(run.code, 3, "{run:#?}");
    let expected = format!("line {line} {kind}");
    assert!(
        run.stdout.contains(&expected),
        "expected {expected:?}: {run:#?}"
    );
    assert!(run.stderr.starts_with("gatehouse: error: "), "{run:#?}");
}

#[test]
fn records_are_chained_and_complete() {
    let (_dir, log) = five_records();
    let run = verify(&log);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.starts_with("OK: 5 records, chain intact"),
        "{run:#?}"
    );
    let lines = lines(&log);
    let first: serde_json::Value = serde_json::from_str(&lines[0]).expect("json");
    assert_eq!(first["schema"], "gatehouse.audit/v1");
    assert_eq!(first["seq"], 1);
    assert_eq!(
        first["prev_sha256"],
        gatehouse_e2e::sha256_hex("gatehouse.audit/v1 genesis")
    );
    assert_eq!(first["verdict"], "require-approval");
    assert_eq!(first["exit_code"], 2);
    assert_eq!(first["evaluated_at"], "2026-11-22T10:00:00Z");
    assert_eq!(first["input"]["releaseStream"], "PROD");
    assert_eq!(first["host_version"], env!("CARGO_PKG_VERSION"));
    let p = &first["policies"][0];
    assert_eq!(p["name"], "stream-approval");
    assert_eq!(
        p["wasm_sha256"],
        gatehouse_e2e::sha256_hex(std::fs::read(policy("stream-approval")).expect("wasm"))
    );
    assert_eq!(p["verdict"], "require-approval");
    let second: serde_json::Value = serde_json::from_str(&lines[1]).expect("json");
    assert_eq!(second["seq"], 2);
    assert_eq!(
        second["prev_sha256"],
        gatehouse_e2e::sha256_hex(lines[0].as_bytes())
    );

    let json = gatehouse([
        "audit",
        "verify",
        "--output",
        "json",
        &log.display().to_string(),
    ]);
    assert_eq!(json.code, 0, "{json:#?}");
    let value = json.json();
    assert_eq!(value["records"], 5);
    assert_eq!(
        value["last_sha256"],
        gatehouse_e2e::sha256_hex(lines[4].as_bytes())
    );
}

#[test]
fn errors_are_recorded_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("audit.jsonl");
    let input = release("PROD", 3);
    let run = eval(
        &log,
        input.path(),
        "change-budget",
        &["--set", "max-changes=lots", "--meta", "triggered-by=jdoe"],
    );
    assert_eq!(run.code, 3, "{run:#?}");
    let record: serde_json::Value = serde_json::from_str(&lines(&log)[0]).expect("json");
    assert_eq!(record["verdict"], "error");
    assert_eq!(record["exit_code"], 3);
    assert!(
        record["error"]
            .as_str()
            .is_some_and(|e| e.contains("max-changes")),
        "{record}"
    );
    assert_eq!(record["metadata"]["triggered-by"], "jdoe");
    assert_eq!(verify(&log).code, 0);
}

#[test]
fn verify_detects_an_edited_line() {
    let (_dir, log) = five_records();
    let mut lines = lines(&log);
    lines[2] = lines[2].replace("require-approval", "auto-approve");
    write_lines(&log, &lines);
    assert_bad_line(&verify(&log), 3, "edited");
}

#[test]
fn verify_detects_a_deleted_line() {
    let (_dir, log) = five_records();
    let mut lines = lines(&log);
    lines.remove(1);
    write_lines(&log, &lines);
    assert_bad_line(&verify(&log), 2, "deleted");
}

#[test]
fn verify_detects_a_swapped_pair() {
    let (_dir, log) = five_records();
    let mut lines = lines(&log);
    lines.swap(2, 3);
    write_lines(&log, &lines);
    assert_bad_line(&verify(&log), 3, "reordered");
}

#[test]
fn verify_detects_a_truncated_last_line_and_the_next_append_repairs_it() {
    let (_dir, log) = five_records();
    let text = std::fs::read_to_string(&log).expect("read");
    std::fs::write(&log, &text[..text.len() - 20]).expect("truncate");
    assert_bad_line(&verify(&log), 5, "truncated");

    let input = release("QA", 1);
    let run = eval(&log, input.path(), "stream-approval", &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr.contains("removed a torn last line (")
            && run.stderr.contains(
                "bytes) left by an interrupted gatehouse before appending record 5; the 4 records before it form a valid chain"
            ),
        "{run:#?}"
    );
    let run = verify(&log);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.starts_with("OK: 5 records"), "{run:#?}");
}

#[test]
fn concurrent_writers_leave_a_valid_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("audit.jsonl");
    let input = release("PROD", 1);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..50 {
                    let run = eval(&log, input.path(), "stream-approval", &[]);
                    assert_eq!(run.code, 2, "{run:#?}");
                }
            });
        }
    });
    let run = verify(&log);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.starts_with("OK: 400 records, chain intact"),
        "{run:#?}"
    );
}

#[test]
fn replay_reports_a_verdict_a_settings_change_alters() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("audit.jsonl");
    let (small, large) = (release("PROD", 2), release("PROD", 5));
    let run = eval(
        &log,
        small.path(),
        "change-budget",
        &["--set", "max-changes=3"],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let run = eval(
        &log,
        large.path(),
        "change-budget",
        &["--set", "max-changes=3"],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    let log_arg = log.display().to_string();

    // Unchanged: the recorded policy and settings give the recorded verdicts.
    let run = gatehouse(["audit", "replay", &log_arg]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.contains("2 replayed, 0 differ"), "{run:#?}");

    // The budget raised to 10: the large release would now pass.
    let run = gatehouse(["audit", "replay", &log_arg, "--set", "max-changes=10"]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stdout
            .contains("line 2 (seq 2): recorded require-approval, replayed auto-approve"),
        "{run:#?}"
    );
    assert!(!run.stdout.contains("line 1 "), "{run:#?}");

    // The budget lowered to 1 (scoped to the policy), as JSON, finding the
    // policy by digest in --policy-dir under another name.
    let policies = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        policy("change-budget"),
        policies.path().join("renamed.wasm"),
    )
    .expect("copy the policy");
    let run = gatehouse([
        "audit",
        "replay",
        &log_arg,
        "--policy-dir",
        &policies.path().display().to_string(),
        "--set",
        "change-budget:max-changes=1",
        "--output",
        "json",
    ]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 1, "{run:#?}");
    let value = run.json();
    assert_eq!(value["differences"][0]["line"], 1);
    assert_eq!(value["differences"][0]["replayed"], "require-approval");
    assert_eq!(value["differences"].as_array().map(Vec::len), Some(1));

    // A directory without the recorded digest: exit 3, naming the digest.
    let empty = tempfile::tempdir().expect("temp dir");
    let run = gatehouse([
        "audit",
        "replay",
        &log_arg,
        "--policy-dir",
        &empty.path().display().to_string(),
    ]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(run.stdout.contains("no .wasm file with sha256"), "{run:#?}");
}

/// Runs `eval` of stream-approval on `input` with `--audit-log log`, stdout
/// going to `stdout` (stderr captured), with extra environment variables.
fn eval_with_stdout(
    log: &Path,
    input: &Path,
    stdout: std::process::Stdio,
    extra: &[&str],
    env: &[(&str, &Path)],
) -> Run {
    let mut command = gatehouse_e2e::gatehouse_command();
    command
        .args([
            "eval",
            "--policy",
            &policy("stream-approval").display().to_string(),
            "--input",
            &input.display().to_string(),
            "--now",
            "2026-11-22T10:00:00Z",
            "--audit-log",
            &log.display().to_string(),
        ])
        .args(extra)
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let run: Run = command.output().expect("run gatehouse").into();
    assert_no_host_panic(&run);
    run
}

fn dev_full() -> std::process::Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full")
        .into()
}

fn records(log: &Path) -> Vec<serde_json::Value> {
    lines(log)
        .iter()
        .map(|l| serde_json::from_str(l).expect("a JSON record"))
        .collect()
}

/// The log's last record is the failure to deliver the decision before it:
/// exit 3, naming that decision, the error saying why.
fn assert_final_outcome_is_an_error(log: &Path, why: &str) {
    let records = records(log);
    let [.., decision, outcome] = &records[..] else {
        panic!("two records: {records:#?}")
    };
    assert_eq!(decision["verdict"], "require-approval", "{decision:#}");
    assert_eq!(decision["exit_code"], 2);
    assert_eq!(outcome["verdict"], "error", "{outcome:#}");
    assert_eq!(outcome["exit_code"], 3);
    assert_eq!(outcome["outcome_of"], decision["seq"]);
    assert_eq!(outcome["input_sha256"], decision["input_sha256"]);
    assert_eq!(outcome["release_digest"], decision["release_digest"]);
    let error = outcome["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(&format!(
            "the decision of record {} was not delivered: ",
            decision["seq"]
        )) && error.contains(why),
        "{error}"
    );
}

#[test]
fn a_report_that_cannot_be_delivered_is_recorded_as_the_error_it_is() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("audit.jsonl");
    let input = release("PROD", 1);
    for output in ["text", "json"] {
        let run = eval_with_stdout(&log, input.path(), dev_full(), &["--output", output], &[]);
        assert_eq!(run.code, 3, "{output}: {run:#?}");
        assert!(
            run.stderr
                .contains("cannot write the report to stdout: No space left on device"),
            "{run:#?}"
        );
        assert_final_outcome_is_an_error(&log, "cannot write the report to stdout");
    }
    let count = lines(&log).len();
    assert_eq!(count, 4);

    // verify accepts the log and names the undelivered decisions.
    let run = verify(&log);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.starts_with("OK: 4 records, chain intact"),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains(
            "note: the decision of record 1 was not delivered; its final outcome is record 2 (exit 3)"
        ),
        "{run:#?}"
    );
    let json = gatehouse([
        "audit",
        "verify",
        "--output",
        "json",
        &log.display().to_string(),
    ]);
    assert_eq!(json.code, 0, "{json:#?}");
    assert_eq!(
        json.json()["undelivered"],
        serde_json::json!([{"seq": 1, "outcome_seq": 2}, {"seq": 3, "outcome_seq": 4}])
    );

    // replay re-evaluates the decisions, skips the failure records, and says
    // which decisions were not delivered.
    let run = gatehouse(["audit", "replay", &log.display().to_string()]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .contains("4 records: 2 replayed, 0 differ, 2 skipped"),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains(
            "record 3: its decision was not delivered; the final outcome is record 4 (exit 3)"
        ),
        "{run:#?}"
    );
}

#[test]
fn a_pipe_whose_reader_is_gone_is_an_undelivered_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("audit.jsonl");
    let input = release("PROD", 1);
    let mut child = gatehouse_e2e::gatehouse_command()
        .args([
            "eval",
            "--policy",
            &policy("stream-approval").display().to_string(),
            "--input",
            &input.path().display().to_string(),
            "--audit-log",
            &log.display().to_string(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn gatehouse");
    // Close the read end at once: the report meets a broken pipe (EPIPE).
    drop(child.stdout.take());
    let run: Run = child.wait_with_output().expect("wait").into();
    assert_no_host_panic(&run);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr.contains("cannot write the report to stdout"),
        "{run:#?}"
    );
    assert_final_outcome_is_an_error(&log, "Broken pipe");
    assert_eq!(verify(&log).code, 0);
}

#[test]
fn an_unwritable_github_output_is_an_undelivered_verdict() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("audit.jsonl");
    let summary = dir.path().join("summary.md");
    let input = release("PROD", 1);
    let run = eval_with_stdout(
        &log,
        input.path(),
        std::process::Stdio::piped(),
        &["--output", "github"],
        &[
            ("GITHUB_OUTPUT", Path::new("/dev/full")),
            ("GITHUB_STEP_SUMMARY", &summary),
        ],
    );
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr
            .contains("cannot write the verdict to $GITHUB_OUTPUT (/dev/full)"),
        "{run:#?}"
    );
    assert_final_outcome_is_an_error(&log, "$GITHUB_OUTPUT");
    // The summary the job page shows is the error's, not the verdict's.
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        text.starts_with("## ⛔ Gatehouse: error (exit 3)"),
        "{text}"
    );

    // An unwritable step summary only warns: the verdict stands.
    let outputs = dir.path().join("outputs");
    let run = eval_with_stdout(
        &log,
        input.path(),
        std::process::Stdio::piped(),
        &["--output", "github"],
        &[
            ("GITHUB_OUTPUT", &outputs),
            ("GITHUB_STEP_SUMMARY", Path::new("/dev/full")),
        ],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .contains("warning: cannot append to $GITHUB_STEP_SUMMARY"),
        "{run:#?}"
    );
    let last = records(&log).pop().expect("a record");
    assert_eq!(
        (last["exit_code"].as_i64(), last["outcome_of"].is_null()),
        (Some(2), true)
    );
    assert_eq!(
        std::fs::read_to_string(&outputs).expect("outputs"),
        "verdict=require-approval\nexit-code=2\n"
    );
}

/// Files that are not audit logs, each of which `eval --audit-log` must
/// refuse with exit 3 and leave byte for byte as it was.
fn not_audit_logs() -> Vec<(&'static str, Vec<u8>)> {
    let (_dir, log) = five_records();
    let valid = std::fs::read(&log).expect("read");
    let mut garbage: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    garbage.extend_from_slice(b"\n\x00\xff\xfe");
    let mut broken_chain = lines(&log);
    broken_chain.remove(3);
    let mut broken_chain_torn: Vec<u8> = broken_chain
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect();
    broken_chain_torn.extend_from_slice(b"{\"schema\":\"gatehouse.audit/v1\",\"seq\":5,\"ti");
    let mut note_after_log = valid.clone();
    note_after_log.extend_from_slice(b"TODO: rotate this log");
    vec![
        (
            "text without a final newline",
            b"# notes\nkeep this line\nand this one".to_vec(),
        ),
        (
            "text with a final newline",
            b"# notes\nkeep this line\n".to_vec(),
        ),
        ("one line without a newline", b"precious".to_vec()),
        ("a lone newline", b"\n".to_vec()),
        ("binary garbage", garbage),
        (
            "JSON lines that are not records",
            b"{\"a\":1}\n{\"b\":2}\n{\"c\"".to_vec(),
        ),
        ("an audit log followed by a note", note_after_log),
        ("a damaged chain with a torn tail", broken_chain_torn),
        (
            "a damaged chain at the end",
            broken_chain
                .iter()
                .flat_map(|l| format!("{l}\n").into_bytes())
                .collect(),
        ),
        ("NUL bytes only", vec![0; 64]),
    ]
}

#[test]
fn a_file_that_is_not_an_audit_log_is_never_modified() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = release("QA", 1);
    for (what, bytes) in not_audit_logs() {
        let log = dir.path().join("not-a-log");
        std::fs::write(&log, &bytes).expect("write");
        let run = eval(&log, input.path(), "stream-approval", &[]);
        assert_eq!(run.code, 3, "{what}: {run:#?}");
        assert!(
            run.stderr.contains("refusing to modify it"),
            "{what}: {run:#?}"
        );
        assert!(
            run.stdout.is_empty(),
            "{what}: no verdict is delivered: {run:#?}"
        );
        assert_eq!(
            std::fs::read(&log).expect("read"),
            bytes,
            "{what}: the file was modified"
        );
    }
}

#[test]
fn a_torn_record_is_repaired_only_after_the_chain_before_it_verifies() {
    let (_dir, log) = five_records();
    let text = std::fs::read_to_string(&log).expect("read");
    let lines_before = lines(&log);
    // An interrupted gatehouse wrote the start of record 6, then NULs (what
    // some file systems leave after a crash).
    for torn in [
        "{\"sch".to_string(),
        "{\"schema\":\"gatehouse.audit/v1\",\"seq\":6,\"time\":\"2026".to_string(),
        "{\"schema\":\"gatehouse.audit/v1\",\"seq\":6,\"time\":\"2026\0\0\0\0".to_string(),
    ] {
        std::fs::write(&log, format!("{text}{torn}")).expect("tear");
        let run = eval(&log, release("QA", 1).path(), "stream-approval", &[]);
        assert_eq!(run.code, 0, "{run:#?}");
        assert!(
            run.stderr.contains(&format!(
                "removed a torn last line ({} bytes) left by an interrupted gatehouse before appending record 6; the 5 records before it form a valid chain",
                torn.len()
            )),
            "{run:#?}"
        );
        let now = lines(&log);
        assert_eq!(now[..5], lines_before[..], "the valid records are kept");
        assert_eq!(now.len(), 6);
        assert_eq!(verify(&log).code, 0);
        std::fs::write(&log, &text).expect("restore");
    }
    // The start of a record with the wrong seq is not gatehouse's torn write.
    let forged = format!("{text}{{\"schema\":\"gatehouse.audit/v1\",\"seq\":9,");
    std::fs::write(&log, &forged).expect("write");
    let run = eval(&log, release("QA", 1).path(), "stream-approval", &[]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr.contains("is not the start of record 6"),
        "{run:#?}"
    );
    assert_eq!(std::fs::read_to_string(&log).expect("read"), forged);
}

#[test]
fn records_carry_what_replay_needs_to_reproduce_random() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("audit.jsonl");
    let run = eval(&log, release("PROD", 1).path(), "stream-approval", &[]);
    assert_eq!(run.code, 2, "{run:#?}");
    // The same release again (another file, the same content), then another release.
    assert_eq!(
        eval(&log, release("PROD", 1).path(), "stream-approval", &[]).code,
        2
    );
    assert_eq!(
        eval(&log, release("PROD", 2).path(), "stream-approval", &[]).code,
        2
    );
    let records = records(&log);
    let digests: Vec<&str> = records
        .iter()
        .map(|r| r["release_digest"].as_str().expect("release_digest"))
        .collect();
    for digest in &digests {
        let hex = digest.strip_prefix("sha256:").expect("sha256: prefix");
        assert!(
            hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()),
            "{digest}"
        );
    }
    assert_eq!(digests[0], digests[1]);
    assert_ne!(digests[0], digests[2]);
    let record = &records[0];
    assert_eq!(record["policies"][0]["random_real"], false);
    let seeds: Vec<&str> = records
        .iter()
        .map(|r| {
            r["policies"][0]["random_seed"]
                .as_str()
                .expect("random_seed")
        })
        .collect();
    assert!(
        seeds[0].len() == 64 && seeds[0].chars().all(|c| c.is_ascii_hexdigit()),
        "{seeds:?}"
    );
    assert_eq!(seeds[0], seeds[1], "same release and policy, same stream");
    assert_ne!(seeds[0], seeds[2], "another release, another stream");
    assert_eq!(record["outcome_of"], serde_json::Value::Null);
    assert_eq!(record["nothing_applied"], serde_json::Value::Null);

    // Real randomness is a grant: recorded as such, with no seed to replay.
    assert_eq!(
        eval(
            &log,
            release("PROD", 1).path(),
            "stream-approval",
            &["--allow-random"]
        )
        .code,
        2
    );
    let records = self::records(&log);
    let granted = &records[3]["policies"][0];
    assert_eq!(granted["random_real"], true);
    assert_eq!(granted["random_seed"], serde_json::Value::Null);

    // Replay recomputes each recorded seed from the recorded release.
    let replay = gatehouse(["audit", "replay", log.to_str().expect("utf-8")]);
    assert_eq!(replay.code, 0, "{replay:#?}");
}
