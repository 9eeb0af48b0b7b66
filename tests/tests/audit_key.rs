//! Keyed audit checkpoints against OpenSSH itself, with keys the test makes
//! with Debian's `ssh-keygen`: `eval --audit-key` signs a checkpoint after
//! each record; `audit verify --allowed-signers` accepts the log, and finds
//! what someone who can write the file but lacks the key can do — an edited
//! record with its tail rehashed, checkpoints re-signed with another key, a
//! signature moved to another checkpoint, a record and its checkpoint
//! deleted and the rest renumbered — naming the line. Truncation back to an
//! earlier checkpoint is not detected (documented: the output gives the
//! anchor that reveals it). A key that cannot sign (ssh-agent refusing) is
//! exit 3 with no verdict delivered and the log's final outcome saying so;
//! `ssh-keygen -Y verify -n gatehouse-audit` accepts a checkpoint over the
//! documented message; concurrent signed writers keep each record next to
//! its checkpoint.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    Run, assert_error, assert_no_host_panic, gatehouse, gatehouse_command, openssh, policy,
    release_json, sha256_hex, temp_file,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The sha256 of `gatehouse.audit/v1 genesis`: the first line's prev_sha256.
const GENESIS: &str = "386ed3cf7c5ff8e4261ddd5a6eb82cbfbee197f0b760a841efbe2c7f5274b11d";

/// Makes an unencrypted key with ssh-keygen (`ed25519` or `ecdsa`); returns
/// the private key path (the public key is `.pub` beside it).
fn keygen(dir: &Path, name: &str, kind: &str) -> PathBuf {
    let path = dir.join(name);
    let out = openssh("ssh-keygen")
        .args(["-q", "-N", "", "-C", "audit@ci", "-t", kind, "-f"])
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .expect("run ssh-keygen");
    assert!(
        out.status.success(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

fn public(key: &Path) -> PathBuf {
    PathBuf::from(format!("{}.pub", key.display()))
}

/// An allowed_signers file listing each key for `audit@ci` in the audit
/// namespace.
fn allowed_signers(dir: &Path, keys: &[&Path]) -> PathBuf {
    let text: String = keys
        .iter()
        .map(|k| {
            let line = std::fs::read_to_string(public(k)).expect("read .pub");
            let mut fields = line.split_whitespace();
            let (kind, data) = (fields.next().expect("type"), fields.next().expect("key"));
            format!("audit@ci namespaces=\"gatehouse-audit\" {kind} {data}\n")
        })
        .collect();
    let path = dir.join(format!("allowed_signers.{}", keys.len()));
    std::fs::write(&path, text).expect("write allowed_signers");
    path
}

/// The `SHA256:…` fingerprint ssh-keygen prints for a key.
fn ssh_fingerprint(key: &Path) -> String {
    let out = openssh("ssh-keygen")
        .arg("-lf")
        .arg(public(key))
        .output()
        .expect("ssh-keygen -l");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .expect("fingerprint")
        .to_string()
}

/// The documented message a checkpoint signs.
fn checkpoint_message(checkpoint: &serde_json::Value) -> String {
    format!(
        "gatehouse-audit-checkpoint/v1\n{}\n{}\n{}\n",
        checkpoint["covers_seq"],
        checkpoint["covers_sha256"].as_str().expect("covers_sha256"),
        checkpoint["time"].as_str().expect("time")
    )
}

/// `eval` of stream-approval with `--audit-log log --audit-key key`, in
/// `dir`, with `SSH_AUTH_SOCK` set to `agent` (or unset).
fn eval_signed(dir: &Path, log: &Path, key: &Path, stream: &str, agent: Option<&Path>) -> Run {
    let input = temp_file(
        release_json(
            "prod",
            stream,
            &[("service", "api", "services/api", "UPDATE_IN_PLACE")],
        ),
        ".json",
    );
    let mut command = gatehouse_command();
    command
        .args(["eval", "--policy"])
        .arg(policy("stream-approval"))
        .arg("--input")
        .arg(input.path())
        .args(["--now", "2026-11-22T10:00:00Z", "--audit-log"])
        .arg(log)
        .arg("--audit-key")
        .arg(key)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("SSH_AUTH_SOCK");
    if let Some(socket) = agent {
        command.env("SSH_AUTH_SOCK", socket);
    }
    let run: Run = command.output().expect("run gatehouse").into();
    assert_no_host_panic(&run);
    run
}

/// `audit verify LOG` with extra flags.
fn verify(log: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "audit".to_string(),
        "verify".into(),
        log.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = gatehouse(&args);
    assert_no_host_panic(&run);
    run
}

/// `audit verify LOG --allowed-signers FILE`.
fn verify_signed(log: &Path, allowed: &Path) -> Run {
    verify(log, &["--allowed-signers", &allowed.display().to_string()])
}

fn lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .expect("read the log")
        .lines()
        .map(str::to_string)
        .collect()
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).expect("a JSON line")
}

fn write_lines(log: &Path, lines: &[String]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(log, text).expect("write the log");
}

/// What someone who can write the file but lacks the key does after an
/// edit: renumber every line from `from` on and recompute its chain link
/// (and a checkpoint's `covers_*`), so that the unkeyed chain is intact.
fn rehash(lines: &mut [String], from: usize) {
    for i in from..lines.len() {
        let prev = if i == 0 {
            GENESIS.to_string()
        } else {
            sha256_hex(&lines[i - 1])
        };
        let mut value = json(&lines[i]);
        value["seq"] = (i as u64 + 1).into();
        value["prev_sha256"] = prev.clone().into();
        if value["schema"] == "gatehouse.audit-checkpoint/v1" {
            value["covers_seq"] = (i as u64).into();
            value["covers_sha256"] = prev.into();
        }
        lines[i] = value.to_string();
    }
}

/// A log of three signed decisions (lines 1-6: record, checkpoint, ...)
/// made with an Ed25519 key; returns the dir, log, key and its allowed_signers.
fn signed_log() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = keygen(dir.path(), "audit", "ed25519");
    let log = dir.path().join("audit.jsonl");
    for stream in ["PROD", "QA", "PROD"] {
        let run = eval_signed(dir.path(), &log, &key, stream, None);
        assert_eq!(run.code, if stream == "QA" { 0 } else { 2 }, "{run:#?}");
    }
    let allowed = allowed_signers(dir.path(), &[&key]);
    (dir, log, key, allowed)
}

fn assert_failed(run: &Run, line: usize, kind: &str, fragments: &[&str]) {
    let message = assert_error(run, &[&format!("line {line}: {kind}: ")]);
    assert!(
        run.stdout
            .starts_with(&format!("FAILED: line {line} {kind}: ")),
        "{run:#?}"
    );
    for fragment in fragments {
        assert!(message.contains(fragment), "lacks {fragment:?}: {message}");
    }
}

#[test]
fn a_signed_log_verifies_and_says_what_is_signed() {
    let (_dir, log, key, allowed) = signed_log();
    let lines = lines(&log);
    assert_eq!(lines.len(), 6);
    let fingerprint = ssh_fingerprint(&key);
    for (i, line) in lines.iter().enumerate() {
        let value = json(line);
        assert_eq!(value["seq"], i as u64 + 1);
        if i % 2 == 1 {
            assert_eq!(
                value["schema"], "gatehouse.audit-checkpoint/v1",
                "{value:#}"
            );
            assert_eq!(value["covers_seq"], i as u64);
            assert_eq!(value["covers_sha256"], sha256_hex(&lines[i - 1]));
            assert_eq!(value["prev_sha256"], value["covers_sha256"]);
            assert_eq!(value["key_fingerprint"], fingerprint.as_str());
        } else {
            assert_eq!(value["schema"], "gatehouse.audit/v1", "{value:#}");
        }
    }

    let run = verify_signed(&log, &allowed);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .starts_with("OK: 3 records and 3 checkpoints (6 lines), chain intact"),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains(&format!(
            "signed: every checkpoint's signature verifies; the 3 records up to line 5 are signed by {fingerprint} (audit@ci; 3 checkpoints)"
        )),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains(&format!(
            "last checkpoint: line 6 signs line 5 (sha256 {})",
            sha256_hex(&lines[4])
        )),
        "{run:#?}"
    );
    assert_eq!(run.stderr, "", "no unsigned tail, no warning");

    // --principal names who must hold the key; another principal fails.
    let run = verify(
        &log,
        &[
            "--allowed-signers",
            &allowed.display().to_string(),
            "--principal",
            "audit@ci",
            "--require-signed",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let run = verify(
        &log,
        &[
            "--allowed-signers",
            &allowed.display().to_string(),
            "--principal",
            "mallory",
        ],
    );
    assert_failed(&run, 2, "unknown-key", &["not for --principal \"mallory\""]);

    // Without --allowed-signers: the chain only, and the output says so.
    let run = verify(&log, &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.contains(
            "note: the checkpoints' signatures were not verified: pass --allowed-signers FILE to check them"
        ),
        "{run:#?}"
    );

    let run = verify(
        &log,
        &[
            "--allowed-signers",
            &allowed.display().to_string(),
            "--output",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let value = run.json();
    assert_eq!(value["schema"], "gatehouse.audit-verify/v1");
    assert_eq!(
        (
            &value["records"],
            &value["checkpoints"],
            &value["lines"],
            &value["signatures"],
            &value["signed_records"],
            &value["unsigned_tail"]
        ),
        (
            &3.into(),
            &3.into(),
            &6.into(),
            &"verified".into(),
            &3.into(),
            &serde_json::Value::Null
        )
    );
    assert_eq!(value["last_checkpoint"]["line"], 6);
    assert_eq!(
        value["last_checkpoint"]["covers_sha256"],
        sha256_hex(&lines[4])
    );
    assert_eq!(value["signers"][0]["key_fingerprint"], fingerprint.as_str());
    assert_eq!(value["signers"][0]["checkpoints"], 3);

    // replay skips the checkpoints.
    let run = gatehouse(["audit", "replay", &log.display().to_string()]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .contains("3 records: 3 replayed, 0 differ, 0 skipped"),
        "{run:#?}"
    );
}

#[test]
fn records_appended_without_the_key_are_an_unsigned_tail() {
    let (dir, log, _key, allowed) = signed_log();
    let input = temp_file(
        release_json(
            "prod",
            "QA",
            &[("service", "api", "services/api", "UPDATE_IN_PLACE")],
        ),
        ".json",
    );
    let run = gatehouse([
        "eval",
        "--policy",
        &policy("stream-approval").display().to_string(),
        "--input",
        &input.path().display().to_string(),
        "--audit-log",
        &log.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    let run = verify_signed(&log, &allowed);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .contains("unsigned tail: 1 record after the last checkpoint (line 7) is not signed"),
        "{run:#?}"
    );
    assert!(
        run.stderr.starts_with("gatehouse: warning: ")
            && run
                .stderr
                .contains("whoever can write the log can change or remove them undetected"),
        "{run:#?}"
    );
    let run = verify(
        &log,
        &[
            "--allowed-signers",
            &allowed.display().to_string(),
            "--require-signed",
        ],
    );
    assert_failed(
        &run,
        7,
        "unsigned",
        &["--require-signed refuses an unsigned tail"],
    );
    drop(dir);
}

#[test]
fn an_edited_record_with_its_tail_rehashed_fails_naming_the_record() {
    let (_dir, log, _key, allowed) = signed_log();
    let mut lines = lines(&log);
    // Record 1 required approval; claim it auto-approved.
    let mut first = json(&lines[0]);
    assert_eq!(first["verdict"], "require-approval");
    first["verdict"] = "auto-approve".into();
    first["exit_code"] = 0.into();
    lines[0] = first.to_string();
    rehash(&mut lines, 1);
    write_lines(&log, &lines);

    // The unkeyed chain cannot tell ...
    assert_eq!(verify(&log, &[]).code, 0);
    // ... the checkpoint after the first edited record can.
    let run = verify_signed(&log, &allowed);
    assert_failed(
        &run,
        2,
        "bad-signature",
        &["record 1 (line 1) was changed after this checkpoint signed it"],
    );

    // An edit further down is named the same way, after the valid part.
    let (_dir, log, _key, allowed) = signed_log();
    let mut lines = self::lines(&log);
    lines[4] = lines[4].replace("\"PROD\"", "\"QA\"");
    rehash(&mut lines, 5);
    write_lines(&log, &lines);
    assert_eq!(verify(&log, &[]).code, 0);
    let run = verify_signed(&log, &allowed);
    assert_failed(
        &run,
        6,
        "bad-signature",
        &[
            "record 5 (line 5) was changed after this checkpoint signed it",
            "the lines up to 4 are covered by the valid checkpoint there",
        ],
    );
}

/// Re-signs every checkpoint from `from` on with `key` through
/// `ssh-keygen -Y sign`, as an attacker with their own key would.
fn resign(dir: &Path, lines: &mut [String], from: usize, key: &Path) {
    for i in from..lines.len() {
        let mut value = json(&lines[i]);
        if value["schema"] != "gatehouse.audit-checkpoint/v1" {
            continue;
        }
        let message = dir.join("message");
        std::fs::write(&message, checkpoint_message(&value)).expect("write message");
        let _ = std::fs::remove_file(dir.join("message.sig"));
        let out = openssh("ssh-keygen")
            .args(["-Y", "sign", "-n", "gatehouse-audit", "-f"])
            .arg(key)
            .arg(&message)
            .stdin(Stdio::null())
            .output()
            .expect("ssh-keygen -Y sign");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let signature = std::fs::read_to_string(dir.join("message.sig")).expect("signature");
        value["signature"] = signature.into();
        value["key_fingerprint"] = ssh_fingerprint(key).into();
        lines[i] = value.to_string();
        rehash(lines, i + 1);
    }
}

#[test]
fn checkpoints_forged_with_another_key_fail() {
    let (dir, log, key, allowed) = signed_log();
    let mallory = keygen(dir.path(), "mallory", "ed25519");
    let mut lines = lines(&log);
    lines[2] = lines[2].replace("\"QA\"", "\"PROD\"");
    rehash(&mut lines, 3);
    resign(dir.path(), &mut lines, 3, &mallory);
    write_lines(&log, &lines);

    let run = verify_signed(&log, &allowed);
    assert_failed(
        &run,
        4,
        "unknown-key",
        &[&format!(
            "the checkpoint is signed by {}, a key that",
            ssh_fingerprint(&mallory)
        )],
    );
    // The forgery is well made: a file that trusted mallory's key too would
    // accept it. Only the allowed_signers file tells the keys apart.
    let both = allowed_signers(dir.path(), &[&key, &mallory]);
    assert_eq!(verify_signed(&log, &both).code, 0);
}

#[test]
fn a_checkpoint_signature_moved_to_another_line_fails() {
    let (_dir, log, _key, allowed) = signed_log();
    let mut lines = lines(&log);
    let donor = json(&lines[1]);
    let mut target = json(&lines[3]);
    target["signature"] = donor["signature"].clone();
    lines[3] = target.to_string();
    rehash(&mut lines, 4);
    write_lines(&log, &lines);
    assert_eq!(verify(&log, &[]).code, 0, "the chain alone cannot tell");
    let run = verify_signed(&log, &allowed);
    assert_failed(
        &run,
        4,
        "bad-signature",
        &["or this checkpoint's time or signature was edited or copied from another line"],
    );
}

#[test]
fn a_deleted_record_and_checkpoint_with_the_rest_renumbered_fails() {
    let (_dir, log, _key, allowed) = signed_log();
    let mut lines = lines(&log);
    lines.drain(2..4);
    rehash(&mut lines, 2);
    write_lines(&log, &lines);
    assert_eq!(verify(&log, &[]).code, 0, "the chain alone cannot tell");
    let run = verify_signed(&log, &allowed);
    assert_failed(&run, 4, "bad-signature", &["record 3 (line 3) was changed"]);
}

/// The one thing checkpoints cannot show: lines removed from the end back
/// to an earlier checkpoint leave a valid, fully signed log. The output
/// gives what to anchor elsewhere to detect it.
#[test]
fn truncation_back_to_a_checkpoint_is_not_detected_without_an_anchor() {
    let (_dir, log, _key, allowed) = signed_log();
    let before = verify_signed(&log, &allowed);
    assert_eq!(before.code, 0, "{before:#?}");
    let anchor = before
        .stdout
        .lines()
        .find(|l| l.starts_with("last checkpoint: "))
        .expect("an anchor line")
        .to_string();
    assert!(
        anchor.starts_with("last checkpoint: line 6 signs line 5"),
        "{anchor}"
    );

    let mut lines = lines(&log);
    lines.truncate(4);
    write_lines(&log, &lines);
    let after = verify(
        &log,
        &[
            "--allowed-signers",
            &allowed.display().to_string(),
            "--require-signed",
        ],
    );
    assert_eq!(after.code, 0, "not detected: {after:#?}");
    assert!(
        after
            .stdout
            .starts_with("OK: 2 records and 2 checkpoints (4 lines)"),
        "{after:#?}"
    );
    // Compared with the anchor kept elsewhere, it shows.
    assert!(
        after.stdout.contains(&format!(
            "last checkpoint: line 4 signs line 3 (sha256 {})",
            sha256_hex(&lines[2])
        )),
        "{after:#?}"
    );
    assert!(!after.stdout.contains(&anchor), "{after:#?}");
}

#[test]
fn ssh_keygen_verifies_a_checkpoint_over_the_documented_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    for kind in ["ed25519", "ecdsa"] {
        let key = keygen(dir.path(), kind, kind);
        let log = dir.path().join(format!("{kind}.jsonl"));
        let run = eval_signed(dir.path(), &log, &key, "QA", None);
        assert_eq!(run.code, 0, "{run:#?}");
        let checkpoint = json(&self::lines(&log)[1]);
        let signature = dir.path().join(format!("{kind}.sig"));
        std::fs::write(
            &signature,
            checkpoint["signature"].as_str().expect("signature"),
        )
        .expect("write");
        let message = dir.path().join(format!("{kind}.message"));
        std::fs::write(&message, checkpoint_message(&checkpoint)).expect("write");
        let allowed = allowed_signers(dir.path(), &[&key]);
        let ssh_verify = |namespace: &str| {
            openssh("ssh-keygen")
                .args(["-Y", "verify", "-n", namespace, "-I", "audit@ci", "-f"])
                .arg(&allowed)
                .arg("-s")
                .arg(&signature)
                .stdin(std::fs::File::open(&message).expect("open"))
                .output()
                .expect("ssh-keygen -Y verify")
        };
        let out = ssh_verify("gatehouse-audit");
        assert!(
            out.status.success(),
            "{kind}: ssh-keygen -Y verify: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Its own namespace: not an approval signature.
        assert!(!ssh_verify("gatehouse-approval").status.success());
        assert_eq!(verify_signed(&log, &allowed).code, 0);
    }
}

/// An `ssh-agent -D -a SOCKET` owned by the test, ended when dropped; it
/// asks `askpass` to confirm each use of a key added with `ssh-add -c`.
struct TestAgent {
    child: Child,
    socket: PathBuf,
}

impl TestAgent {
    fn start(dir: &Path, askpass: &Path) -> TestAgent {
        let socket = dir.join("agent.sock");
        let child = openssh("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .env("SSH_ASKPASS", askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ssh-agent");
        let agent = TestAgent { child, socket };
        let started = Instant::now();
        while !agent.socket.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "ssh-agent did not create its socket"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        agent
    }

    /// `ssh-add [-c] KEY`.
    fn add(&self, key: &Path, confirm: bool) {
        let mut command = openssh("ssh-add");
        if confirm {
            command.arg("-c");
        }
        let out = command
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .stdin(Stdio::null())
            .output()
            .expect("ssh-add");
        assert!(
            out.status.success(),
            "ssh-add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_key_in_ssh_agent_signs_and_one_that_cannot_sign_withholds_the_verdict() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The agent's confirmation prompt always says no.
    let askpass = dir.path().join("deny.sh");
    std::fs::write(&askpass, "#!/bin/sh\nexit 1\n").expect("write askpass");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let agent = TestAgent::start(dir.path(), &askpass);
    let usable = keygen(dir.path(), "usable", "ed25519");
    let refused = keygen(dir.path(), "refused", "ecdsa");
    agent.add(&usable, false);
    agent.add(&refused, true);
    let allowed = allowed_signers(dir.path(), &[&usable, &refused]);
    let log = dir.path().join("audit.jsonl");

    // Through the agent, by its public key.
    let run = eval_signed(
        dir.path(),
        &log,
        &public(&usable),
        "PROD",
        Some(&agent.socket),
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(verify_signed(&log, &allowed).code, 0);

    // The agent holds the key but will not sign: no verdict, exit 3.
    let run = eval_signed(
        dir.path(),
        &log,
        &public(&refused),
        "PROD",
        Some(&agent.socket),
    );
    assert_error(
        &run,
        &[
            "cannot sign the checkpoint of record 3 with --audit-key: the ssh-agent at",
            "the decision was not delivered, and record 4 says so",
        ],
    );
    assert_eq!(run.stdout, "", "the verdict was not delivered: {run:#?}");
    let lines = lines(&log);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let (decision, outcome) = (json(&lines[2]), json(&lines[3]));
    assert_eq!(decision["verdict"], "require-approval");
    assert_eq!(outcome["verdict"], "error");
    assert_eq!(outcome["exit_code"], 3);
    assert_eq!(outcome["outcome_of"], 3);
    let error = outcome["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(
            "the decision of record 3 was not delivered: cannot sign the checkpoint of record 3 with --audit-key: "
        ),
        "{error}"
    );
    // The log is intact; the last two records are its unsigned tail.
    let run = verify_signed(&log, &allowed);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.contains("note: the decision of record 3 was not delivered; its final outcome is record 4 (exit 3)")
            && run.stdout.contains("unsigned tail: 2 records after the last checkpoint (lines 3 to 4) are not signed"),
        "{run:#?}"
    );

    // A key that cannot be used at all is an error of the run, recorded.
    let run = eval_signed(dir.path(), &log, &dir.path().join("missing"), "QA", None);
    assert_error(&run, &["--audit-key ", "missing: cannot open the key file"]);
    let last = json(self::lines(&log).last().expect("a line"));
    assert_eq!(last["verdict"], "error", "{last:#}");
    assert!(
        last["error"]
            .as_str()
            .unwrap_or_default()
            .contains("--audit-key "),
        "{last:#}"
    );
    let run = eval_signed(dir.path(), &log, &public(&usable), "QA", None);
    assert_error(
        &run,
        &[
            "is a public key, so its private half must be in ssh-agent, but SSH_AUTH_SOCK is not set",
        ],
    );
}

#[test]
fn an_undelivered_report_and_its_outcome_are_both_signed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = keygen(dir.path(), "audit", "ed25519");
    let allowed = allowed_signers(dir.path(), &[&key]);
    let log = dir.path().join("audit.jsonl");
    let input = temp_file(
        release_json(
            "prod",
            "PROD",
            &[("service", "api", "services/api", "UPDATE_IN_PLACE")],
        ),
        ".json",
    );
    let full: Stdio = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full")
        .into();
    let run: Run = gatehouse_command()
        .args(["eval", "--policy"])
        .arg(policy("stream-approval"))
        .arg("--input")
        .arg(input.path())
        .arg("--audit-log")
        .arg(&log)
        .arg("--audit-key")
        .arg(&key)
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("run gatehouse")
        .into();
    assert_no_host_panic(&run);
    assert_eq!(run.code, 3, "{run:#?}");
    let lines = lines(&log);
    assert_eq!(lines.len(), 4, "record, checkpoint, outcome, checkpoint");
    assert_eq!(json(&lines[2])["outcome_of"], 1);
    let run = verify(
        &log,
        &[
            "--allowed-signers",
            &allowed.display().to_string(),
            "--require-signed",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
}

/// Concurrent signed writers: each record is followed by its own
/// checkpoint (one lock for both), so the lines alternate and every record
/// is signed.
#[test]
fn concurrent_signed_writers_keep_each_record_with_its_checkpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = keygen(dir.path(), "audit", "ed25519");
    let allowed = allowed_signers(dir.path(), &[&key]);
    let log = dir.path().join("audit.jsonl");
    std::thread::scope(|scope| {
        for stream in ["PROD", "QA", "PROD", "QA"] {
            let (dir, log, key) = (dir.path(), &log, &key);
            scope.spawn(move || {
                for _ in 0..6 {
                    let run = eval_signed(dir, log, key, stream, None);
                    assert_eq!(run.code, if stream == "QA" { 0 } else { 2 }, "{run:#?}");
                }
            });
        }
    });
    let lines = lines(&log);
    assert_eq!(lines.len(), 48);
    for (i, line) in lines.iter().enumerate() {
        let expected = if i % 2 == 0 {
            "gatehouse.audit/v1"
        } else {
            "gatehouse.audit-checkpoint/v1"
        };
        assert_eq!(json(line)["schema"], expected, "line {}", i + 1);
    }
    let run = verify(
        &log,
        &[
            "--allowed-signers",
            &allowed.display().to_string(),
            "--require-signed",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .starts_with("OK: 24 records and 24 checkpoints (48 lines)"),
        "{run:#?}"
    );
}

#[test]
fn bad_flags_and_signer_files_are_clear_errors() {
    let (dir, log, key, _allowed) = signed_log();
    let input = temp_file(
        release_json(
            "prod",
            "QA",
            &[("service", "api", "services/api", "UPDATE_IN_PLACE")],
        ),
        ".json",
    );
    let run = gatehouse([
        "eval",
        "--policy",
        &policy("stream-approval").display().to_string(),
        "--input",
        &input.path().display().to_string(),
        "--audit-key",
        &key.display().to_string(),
    ]);
    assert_error(&run, &["--audit-log"]);
    let run = verify(&log, &["--principal", "audit@ci"]);
    assert_error(&run, &["--allowed-signers"]);
    let broken = dir.path().join("broken_signers");
    std::fs::write(&broken, "audit@ci ssh-ed25519 AAAA-not-base64\n").expect("write");
    let run = verify_signed(&log, &broken);
    assert_error(&run, &["--allowed-signers ", "broken_signers:1: "]);
    let before = std::fs::read(&log).expect("read");
    let run = eval_signed(dir.path(), &log, &broken, "QA", None);
    assert_error(
        &run,
        &[
            "--audit-key ",
            "neither an OpenSSH private key nor a public key",
        ],
    );
    let records = lines(&log);
    assert!(records.len() == 7 && std::fs::read(&log).expect("read").starts_with(&before));
    assert_eq!(
        json(&records[6])["exit_code"],
        3,
        "the failed run is recorded"
    );
}
