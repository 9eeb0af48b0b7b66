//! The audit trail: `eval --audit-log` appends hash-chained JSON lines (also
//! for errors); `audit verify` finds an edited, a deleted, a swapped and a
//! truncated line; 8 concurrent `eval` processes appending 50 records each
//! leave a valid 400-line chain; `audit replay` reports a verdict that a
//! settings change alters, and finds policies by digest with `--policy-dir`.
//! A file that is not an audit log is never modified (exact bytes kept);
//! a torn tail is repaired only after the chain before it is verified.

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
