//! Signed approvals against OpenSSH itself, with keys the test makes with
//! Debian's `ssh-keygen` (Ed25519, ECDSA P-256/384/521; RSA to be refused):
//!
//! - `gatehouse approve` writes a statement and signature that
//!   `ssh-keygen -Y verify` accepts, with a private key file or a key held
//!   by an `ssh-agent` the test starts (also a passphrase-protected one);
//! - a statement signed by `ssh-keygen -Y sign` verifies with Gatehouse's
//!   `approvals::verify`, which reports the fingerprint `ssh-keygen -l` prints;
//! - every rejection reason, each also refused by `ssh-keygen -Y verify`;
//! - allowed_signers patterns, negation, quoting, namespaces and validity
//!   agree with `ssh-keygen` on the same file;
//! - `approve` refuses what it cannot do properly (exit 3, one clear line).

#![forbid(unsafe_code)]

use gatehouse_core::approvals::{AllowedSigners, Statement, verify};
use gatehouse_e2e::{
    Run, assert_error, assert_no_host_panic, gatehouse_command, openssh, release_json,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const DIGEST: &str = "sha256:5f0c2bd1e7a94f3c8d6b0a1e2f3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";

/// Makes a key with ssh-keygen: `kind` is `ed25519`, `ecdsa-256`, ... or
/// `rsa-2048`. Returns the private key path (the public key is `.pub` beside it).
fn keygen(dir: &Path, name: &str, kind: &str, comment: &str, passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    let mut command = openssh("ssh-keygen");
    command
        .args(["-q", "-N", passphrase, "-C", comment, "-f"])
        .arg(&path);
    match kind.split_once('-') {
        Some((t, bits)) => command.args(["-t", t, "-b", bits]),
        None => command.args(["-t", kind]),
    };
    let out = command
        .stdin(Stdio::null())
        .output()
        .expect("run ssh-keygen");
    assert!(
        out.status.success(),
        "ssh-keygen -t {kind}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

fn public(key: &Path) -> PathBuf {
    let mut name = key.as_os_str().to_os_string();
    name.push(".pub");
    PathBuf::from(name)
}

fn sig_of(statement: &Path) -> PathBuf {
    let mut name = statement.as_os_str().to_os_string();
    name.push(".sig");
    PathBuf::from(name)
}

/// The `keytype base64` of a key's .pub file.
fn key_text(key: &Path) -> String {
    let text = std::fs::read_to_string(public(key)).expect("read .pub");
    let mut fields = text.split_whitespace();
    format!(
        "{} {}",
        fields.next().expect("type"),
        fields.next().expect("key")
    )
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

/// `ssh-keygen -Y verify`: whether OpenSSH accepts the signature.
fn ssh_verifies(allowed: &Path, principal: &str, statement: &Path) -> bool {
    let out = openssh("ssh-keygen")
        .args([
            "-Y",
            "verify",
            "-n",
            "gatehouse-approval",
            "-I",
            principal,
            "-f",
        ])
        .arg(allowed)
        .arg("-s")
        .arg(sig_of(statement))
        .stdin(std::fs::File::open(statement).expect("open statement"))
        .output()
        .expect("ssh-keygen -Y verify");
    out.status.success()
}

/// `ssh-keygen -Y sign -n NAMESPACE -f KEY FILE` (writes FILE.sig).
fn ssh_sign(key: &Path, namespace: &str, file: &Path) {
    let _ = std::fs::remove_file(sig_of(file));
    let out = openssh("ssh-keygen")
        .args(["-Y", "sign", "-n", namespace, "-f"])
        .arg(key)
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .expect("ssh-keygen -Y sign");
    assert!(
        out.status.success(),
        "ssh-keygen -Y sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).expect("write");
    path.to_path_buf()
}

/// Runs `gatehouse` in `dir` with `SSH_AUTH_SOCK` set to `agent` (or unset).
fn gatehouse_in(dir: &Path, args: &[&str], agent: Option<&Path>) -> Run {
    let mut command = gatehouse_command();
    command.args(args).current_dir(dir).stdin(Stdio::null());
    command.env_remove("SSH_AUTH_SOCK");
    if let Some(socket) = agent {
        command.env("SSH_AUTH_SOCK", socket);
    }
    let run: Run = command.output().expect("run gatehouse").into();
    assert_no_host_panic(&run);
    run
}

fn approve(dir: &Path, key: &Path, extra: &[&str]) -> Run {
    let key = key.display().to_string();
    let mut args = vec![
        "approve",
        "--digest",
        DIGEST,
        "--environment",
        "prod-eu",
        "--group",
        "dba",
        "--key",
        &key,
        "--now",
        "2026-11-30T12:00:00Z",
    ];
    args.extend_from_slice(extra);
    gatehouse_in(dir, &args, None)
}

/// The current time as Unix seconds (what ssh-keygen verifies at).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A statement for `principal`, valid around the current time.
fn statement_text(principal: &str) -> String {
    Statement {
        release_digest: DIGEST.into(),
        environment: "prod-eu".into(),
        principal: principal.into(),
        groups: vec!["dba".into()],
        decision: gatehouse_core::approvals::Decision::Approve,
        time: now() - 60,
        expires: now() + 3_600,
        comment: Some("signed by ssh-keygen".into()),
    }
    .to_json()
    .expect("valid statement")
}

#[test]
fn an_approval_made_by_gatehouse_verifies_with_ssh_keygen() {
    let dir = tempfile::tempdir().expect("temp dir");
    // P-521 key files: every_p521_key_file_signs_and_ssh_keygen_verifies_it.
    for kind in ["ed25519", "ecdsa-256", "ecdsa-384"] {
        let key = keygen(dir.path(), kind, kind, "laptop", "");
        let out = format!("{kind}.approval.json");
        let run = approve(
            dir.path(),
            &key,
            &[
                "--principal",
                "alice@example.com",
                "--group",
                "sre",
                "-o",
                &out,
                "--comment",
                "ship it",
            ],
        );
        assert_eq!(run.code, 0, "{kind}: {run:#?}");
        assert_eq!(run.stderr, "", "{kind}");
        let fingerprint = ssh_fingerprint(&key);
        let expected = format!(
            "statement: {out}\nsignature: {out}.sig\nrelease: {DIGEST}\nenvironment: prod-eu\nprincipal: alice@example.com\ngroups: dba, sre\nexpires: 2026-12-01T12:00:00Z\nkey: {fingerprint} ("
        );
        assert!(run.stdout.starts_with(&expected), "{kind}: {}", run.stdout);

        let statement = dir.path().join(&out);
        let text = std::fs::read_to_string(&statement).expect("statement");
        assert!(
            text.ends_with("}\n")
                && text.contains("  \"groups\": [\n    \"dba\",\n    \"sre\"\n  ],"),
            "{text}"
        );
        let allowed = write(
            &dir.path().join("allowed_signers"),
            &format!(
                "alice@example.com namespaces=\"gatehouse-approval\" {}\n",
                key_text(&key)
            ),
        );
        assert!(
            ssh_verifies(&allowed, "alice@example.com", &statement),
            "{kind}: ssh-keygen -Y verify refused"
        );
        assert!(
            !ssh_verifies(&allowed, "bob@example.com", &statement),
            "{kind}: another principal"
        );

        // And Gatehouse's own verification agrees, naming the same key.
        let signers = AllowedSigners::load(&allowed).expect("allowed signers");
        let bytes = std::fs::read(&statement).expect("statement");
        let sig = std::fs::read(sig_of(&statement)).expect("sig");
        let verified = verify(&bytes, &sig, &signers, 1_796_040_000).expect("verifies");
        assert_eq!(verified.key_fingerprint, fingerprint);
        assert_eq!(verified.statement.release_digest, DIGEST);
        assert_eq!(verified.statement.groups, ["dba", "sre"]);
        assert_eq!(verified.statement.comment.as_deref(), Some("ship it"));
    }
}

#[test]
fn an_approval_signed_by_ssh_keygen_verifies_with_gatehouse() {
    let dir = tempfile::tempdir().expect("temp dir");
    for kind in ["ed25519", "ecdsa-256", "ecdsa-384"] {
        let key = keygen(dir.path(), kind, kind, "", "");
        let statement = write(
            &dir.path().join(format!("{kind}.approval.json")),
            &statement_text("carol@example.com"),
        );
        ssh_sign(&key, "gatehouse-approval", &statement);
        let allowed = write(
            &dir.path().join("allowed_signers"),
            &format!("carol@example.com {}\n", key_text(&key)),
        );
        let signers = AllowedSigners::load(&allowed).expect("allowed signers");
        let bytes = std::fs::read(&statement).expect("statement");
        let sig = std::fs::read(sig_of(&statement)).expect("sig");
        let verified = verify(&bytes, &sig, &signers, now())
            .unwrap_or_else(|r| panic!("{kind}: {} {r}", r.name()));
        assert_eq!(
            verified.key_fingerprint,
            ssh_fingerprint(&key),
            "{kind}: the fingerprint ssh-keygen -l prints"
        );
        assert_eq!(verified.statement.principal, "carol@example.com");
        assert_eq!(
            verified.signature_sha256,
            format!("sha256:{}", gatehouse_e2e::sha256_hex(&sig))
        );
        assert_eq!(verified.signer_line, 1);
    }
    // SSHSIG's other hash: ssh-keygen -Y sign -O hashalg=sha256.
    let key = keygen(dir.path(), "sha256", "ed25519", "", "");
    let statement = write(
        &dir.path().join("sha256.approval.json"),
        &statement_text("carol@example.com"),
    );
    let out = openssh("ssh-keygen")
        .args([
            "-Y",
            "sign",
            "-n",
            "gatehouse-approval",
            "-O",
            "hashalg=sha256",
            "-f",
        ])
        .arg(&key)
        .arg(&statement)
        .stdin(Stdio::null())
        .output()
        .expect("ssh-keygen -Y sign");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let allowed = write(
        &dir.path().join("allowed_signers"),
        &format!("carol@example.com {}\n", key_text(&key)),
    );
    let signers = AllowedSigners::load(&allowed).expect("allowed signers");
    let bytes = std::fs::read(&statement).expect("statement");
    let sig = std::fs::read(sig_of(&statement)).expect("sig");
    assert!(
        verify(&bytes, &sig, &signers, now()).is_ok(),
        "a SHA-256 SSHSIG verifies"
    );
}

/// An `ssh-agent -D -a SOCKET` owned by the test, ended when dropped.
struct TestAgent {
    child: Child,
    socket: PathBuf,
}

impl TestAgent {
    fn start(dir: &Path) -> TestAgent {
        let socket = dir.join("agent.sock");
        let child = openssh("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
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

    /// `ssh-add KEY`, answering a passphrase prompt through SSH_ASKPASS.
    fn add(&self, dir: &Path, key: &Path, passphrase: &str) {
        let askpass = write(
            &dir.join("askpass.sh"),
            &format!("#!/bin/sh\necho '{passphrase}'\n"),
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let out = openssh("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0")
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

/// OpenSSH writes an ECDSA private scalar one byte shorter when its top
/// byte is zero: half of all P-521 keys (and 1 in 512 P-256 and P-384 keys),
/// which ssh-key 0.6 alone refuses. Every P-521 key file made by ssh-keygen
/// signs, and ssh-keygen verifies each approval; the same key also signs
/// through ssh-agent.
#[test]
fn every_p521_key_file_signs_and_ssh_keygen_verifies_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Each fresh key is short with probability 1/2: 12 keys leave a chance
    // of 2^-12 that the short form is not among them.
    let mut last = None;
    for i in 0..12 {
        let key = keygen(dir.path(), &format!("p521-{i}"), "ecdsa-521", "laptop", "");
        let out = format!("p521-{i}.approval.json");
        let run = approve(
            dir.path(),
            &key,
            &["--principal", "alice@example.com", "-o", &out],
        );
        assert_eq!(run.code, 0, "key {i}: {run:#?}");
        let allowed = write(
            &dir.path().join("allowed_signers"),
            &format!("alice@example.com {}\n", key_text(&key)),
        );
        assert!(
            ssh_verifies(&allowed, "alice@example.com", &dir.path().join(&out)),
            "key {i}"
        );
        last = Some(key);
    }

    // Through ssh-agent, named by its public key.
    let key = last.expect("twelve keys");
    let agent = TestAgent::start(dir.path());
    agent.add(dir.path(), &key, "");
    let public = public(&key).display().to_string();
    let run = gatehouse_in(
        dir.path(),
        &[
            "approve",
            "--digest",
            DIGEST,
            "--environment",
            "prod-eu",
            "--group",
            "dba",
            "--key",
            &public,
            "--principal",
            "alice@example.com",
            "--now",
            "2026-11-30T12:00:00Z",
            "-o",
            "agent-p521.approval.json",
        ],
        Some(&agent.socket),
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let allowed = write(
        &dir.path().join("allowed_signers"),
        &format!("alice@example.com {}\n", key_text(&key)),
    );
    assert!(ssh_verifies(
        &allowed,
        "alice@example.com",
        &dir.path().join("agent-p521.approval.json")
    ));
}

#[test]
fn a_key_held_by_ssh_agent_signs_through_its_public_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let agent = TestAgent::start(dir.path());
    let ed = keygen(dir.path(), "ed", "ed25519", "alice@example.com", "");
    let ec = keygen(dir.path(), "ec", "ecdsa-256", "alice@example.com", "");
    let locked = keygen(
        dir.path(),
        "locked",
        "ed25519",
        "alice@example.com",
        "correct horse",
    );
    let absent = keygen(dir.path(), "absent", "ed25519", "alice@example.com", "");
    agent.add(dir.path(), &ed, "");
    agent.add(dir.path(), &ec, "");
    agent.add(dir.path(), &locked, "correct horse");
    let allowed = write(
        &dir.path().join("allowed_signers"),
        &[&ed, &ec, &locked]
            .iter()
            .map(|k| format!("alice@example.com {}\n", key_text(k)))
            .collect::<String>(),
    );

    let cases = [
        (public(&ed), "ed.approval.json"),
        (public(&ec), "ec.approval.json"),
        // A passphrase-protected private key the agent holds is used through it.
        (locked.clone(), "locked.approval.json"),
    ];
    for (key, out) in &cases {
        let key_arg = key.display().to_string();
        let args = [
            "approve",
            "--digest",
            DIGEST,
            "--environment",
            "prod-eu",
            "--group",
            "dba",
            "--key",
            &key_arg,
            "-o",
            out,
        ];
        let run = gatehouse_in(dir.path(), &args, Some(&agent.socket));
        assert_eq!(run.code, 0, "{out}: {run:#?}");
        assert!(
            run.stdout
                .contains("principal: alice@example.com (from the key's comment)"),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains(", via ssh-agent)"), "{}", run.stdout);
        assert!(
            ssh_verifies(&allowed, "alice@example.com", &dir.path().join(out)),
            "{out}: ssh-keygen -Y verify refused"
        );
    }

    // A public key the agent does not hold, and no agent at all.
    let absent_pub = public(&absent).display().to_string();
    let args = [
        "approve",
        "--digest",
        DIGEST,
        "--environment",
        "prod-eu",
        "--group",
        "dba",
        "--key",
        &absent_pub,
    ];
    let run = gatehouse_in(dir.path(), &args, Some(&agent.socket));
    assert_error(
        &run,
        &["does not hold the key of --key", "add it with ssh-add"],
    );
    let run = gatehouse_in(dir.path(), &args, None);
    assert_error(
        &run,
        &[
            "is a public key, so its private half must be in ssh-agent, but SSH_AUTH_SOCK is not set",
        ],
    );
    let locked_arg = locked.display().to_string();
    let args = [
        "approve",
        "--digest",
        DIGEST,
        "--environment",
        "prod-eu",
        "--group",
        "dba",
        "--key",
        &locked_arg,
        "-o",
        "x.approval.json",
    ];
    let run = gatehouse_in(dir.path(), &args, None);
    assert_error(
        &run,
        &[
            "is protected by a passphrase, which Gatehouse does not read",
            "ssh-add",
        ],
    );
    assert!(!dir.path().join("x.approval.json").exists());
    drop(agent);
}

#[test]
fn approve_signs_the_digest_of_the_release_as_eval_reads_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = keygen(dir.path(), "id", "ed25519", "ci", "");
    let release = write(
        &dir.path().join("release.json"),
        &release_json(
            "staging",
            "PROD",
            &[("db", "orders", "db/orders", "UPDATE_IN_PLACE")],
        ),
    );
    let release_arg = release.display().to_string();
    let key_arg = key.display().to_string();
    let mut digests = Vec::new();
    for (environment, meta) in [
        ("prod-eu", "commit=1"),
        ("prod-eu", "commit=2"),
        ("prod-us", "commit=1"),
    ] {
        let args = [
            "approve",
            "--input",
            &release_arg,
            "--meta",
            meta,
            "--environment",
            environment,
            "--group",
            "dba",
            "--key",
            &key_arg,
            "--principal",
            "alice@example.com",
            "-o",
            "a.approval.json",
            "--force",
        ];
        let run = gatehouse_in(dir.path(), &args, None);
        assert_eq!(run.code, 0, "{run:#?}");
        let printed = run
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("release: "))
            .expect("the digest is printed")
            .to_string();
        // The digest `gatehouse digest` (and eval) computes for the same
        // input and flags.
        let digest = gatehouse_in(
            dir.path(),
            &[
                "digest",
                "--input",
                &release_arg,
                "--meta",
                meta,
                "--environment",
                environment,
            ],
            None,
        );
        assert_eq!(digest.code, 0, "{digest:#?}");
        assert_eq!(digest.stdout.lines().next(), Some(printed.as_str()));
        let statement = Statement::parse(
            &std::fs::read(dir.path().join("a.approval.json")).expect("statement"),
        )
        .expect("valid");
        assert_eq!(statement.release_digest, printed);
        assert_eq!(statement.environment, environment);
        digests.push(printed);
    }
    assert_ne!(digests[0], digests[1], "metadata is part of the release");
    assert_ne!(digests[0], digests[2], "so is the environment");
}

#[test]
fn approve_refuses_what_it_cannot_do_properly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = keygen(dir.path(), "id", "ed25519", "root@buildbox", "");
    let rsa = keygen(dir.path(), "rsa", "rsa-2048", "alice@example.com", "");
    let p = ["--principal", "alice@example.com"];

    // The default file name, then no overwriting without --force.
    let run = approve(dir.path(), &key, &p);
    assert_eq!(run.code, 0, "{run:#?}");
    let default = dir
        .path()
        .join("alice@example.com-5f0c2bd1e7a9.approval.json");
    let first = std::fs::read(&default).expect("default name");
    let first_sig = std::fs::read(sig_of(&default)).expect("signature");
    let run = approve(
        dir.path(),
        &key,
        &["--principal", "alice@example.com", "--comment", "again"],
    );
    assert_error(
        &run,
        &["alice@example.com-5f0c2bd1e7a9.approval.json exists; pass --force"],
    );
    assert_eq!(std::fs::read(&default).expect("kept"), first);
    std::fs::remove_file(&default).expect("remove the statement only");
    let run = approve(
        dir.path(),
        &key,
        &["--principal", "alice@example.com", "--comment", "again"],
    );
    assert_error(&run, &[".approval.json.sig exists; pass --force"]);
    assert!(
        !default.exists(),
        "nothing written when the signature cannot be"
    );
    assert_eq!(std::fs::read(sig_of(&default)).expect("kept"), first_sig);
    let run = approve(
        dir.path(),
        &key,
        &[
            "--principal",
            "alice@example.com",
            "--comment",
            "again",
            "--force",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        std::fs::read_to_string(&default)
            .expect("replaced")
            .contains("\"again\"")
    );

    let run = approve(dir.path(), &rsa, &["--principal", "alice"]);
    assert_error(
        &run,
        &["ssh-rsa keys are not supported", "Ed25519 or ECDSA"],
    );
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec![], vec!["pass --principal NAME", "root@buildbox"]),
        (
            vec!["--principal", "alice", "--expires-in", "31d"],
            vec!["--expires-in 31d is longer than the 30d maximum"],
        ),
        (
            vec!["--principal", "alice", "--expires-in", "1w"],
            vec!["expected a number of minutes, hours or days"],
        ),
        (
            vec!["--principal", "al\u{202e}ice"],
            vec!["--principal contains the character \\u{202e}"],
        ),
        (
            vec!["--principal", "alice", "--group", ""],
            vec!["--group is empty"],
        ),
        (
            vec!["--principal", "alice", "--group", "dba"],
            vec!["--group the group \"dba\" is named twice"],
        ),
    ];
    for (extra, fragments) in cases {
        let run = approve(dir.path(), &key, &extra);
        assert_error(&run, &fragments);
    }
    let key_arg = key.display().to_string();
    for (args, fragments) in [
        (
            vec![
                "approve",
                "--environment",
                "prod",
                "--group",
                "dba",
                "--key",
                &key_arg,
            ],
            vec!["--input", "--digest"],
        ),
        (
            vec![
                "approve",
                "--digest",
                "sha256:abc",
                "--environment",
                "prod",
                "--group",
                "dba",
                "--key",
                &key_arg,
            ],
            vec!["--digest: expected sha256: and 64 lowercase hex digits"],
        ),
        (
            vec![
                "approve",
                "--digest",
                DIGEST,
                "--input",
                "r.json",
                "--environment",
                "prod",
                "--group",
                "dba",
                "--key",
                &key_arg,
            ],
            vec!["cannot be used with"],
        ),
        (
            vec![
                "approve",
                "--digest",
                DIGEST,
                "--environment",
                "prod",
                "--key",
                &key_arg,
            ],
            vec!["--group"],
        ),
        (
            vec![
                "approve",
                "--digest",
                DIGEST,
                "--environment",
                "prod",
                "--group",
                "dba",
                "--key",
                &key_arg,
                "--principal",
                "alice",
                "--now",
                "yesterday",
            ],
            vec!["--now: expected an RFC 3339 timestamp"],
        ),
    ] {
        assert_error(&gatehouse_in(dir.path(), &args, None), &fragments);
    }
    // A name that does not end in .approval.json is written, with a warning.
    let run = approve(
        dir.path(),
        &key,
        &["--principal", "alice", "-o", "approval.txt"],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr
            .starts_with("gatehouse: warning: approval.txt does not end in .approval.json"),
        "{}",
        run.stderr
    );
}

/// Signs a fresh statement for `principal` with ssh-keygen in `namespace`.
fn signed_statement(
    dir: &Path,
    name: &str,
    key: &Path,
    principal: &str,
    namespace: &str,
) -> (Vec<u8>, Vec<u8>, PathBuf) {
    let path = write(&dir.join(name), &statement_text(principal));
    ssh_sign(key, namespace, &path);
    (
        std::fs::read(&path).expect("statement"),
        std::fs::read(sig_of(&path)).expect("sig"),
        path,
    )
}

/// (rejection name, statement, signature, allowed signers file, principal
/// for ssh-keygen).
type RejectionCase = (&'static str, Vec<u8>, Vec<u8>, PathBuf, &'static str);

#[test]
fn every_rejection_reason_is_reported_and_ssh_keygen_agrees() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let alice = keygen(d, "alice", "ed25519", "", "");
    let bob = keygen(d, "bob", "ecdsa-256", "", "");
    let rsa = keygen(d, "rsa", "rsa-2048", "", "");
    let allowed_at = |name: &str, text: String| -> (PathBuf, AllowedSigners) {
        let path = write(&d.join(name), &text);
        let signers = AllowedSigners::load(&path).unwrap_or_else(|e| panic!("{e}"));
        (path, signers)
    };
    let (listed, signers) = allowed_at(
        "listed",
        format!(
            "alice@example.com {}\nbob@example.com {}\n",
            key_text(&alice),
            key_text(&bob)
        ),
    );
    let (statement, sig, path) = signed_statement(
        d,
        "ok.approval.json",
        &alice,
        "alice@example.com",
        "gatehouse-approval",
    );
    assert!(verify(&statement, &sig, &signers, now()).is_ok());
    assert!(ssh_verifies(&listed, "alice@example.com", &path));

    let mut cases: Vec<RejectionCase> = Vec::new();

    let edited = String::from_utf8(statement.clone())
        .expect("utf8")
        .replacen("prod-eu", "prod-eU", 1);
    cases.push((
        "bad-signature",
        edited.into_bytes(),
        sig.clone(),
        listed.clone(),
        "alice@example.com",
    ));

    let (s, g, _) = signed_statement(d, "git.approval.json", &alice, "alice@example.com", "git");
    cases.push(("wrong-namespace", s, g, listed.clone(), "alice@example.com"));

    // Bob's valid key, listed for bob, signing as alice.
    let (s, g, _) = signed_statement(
        d,
        "bob.approval.json",
        &bob,
        "alice@example.com",
        "gatehouse-approval",
    );
    cases.push(("unknown-key", s, g, listed.clone(), "alice@example.com"));

    let (git_only, _) = allowed_at(
        "git-only",
        format!(
            "alice@example.com namespaces=\"git,file\" {}\n",
            key_text(&alice)
        ),
    );
    cases.push((
        "key-not-for-namespace",
        statement.clone(),
        sig.clone(),
        git_only,
        "alice@example.com",
    ));

    let (expired, _) = allowed_at(
        "expired",
        format!(
            "alice@example.com valid-before=\"20200101Z\" {}\n",
            key_text(&alice)
        ),
    );
    cases.push((
        "key-not-valid-at-time",
        statement.clone(),
        sig.clone(),
        expired,
        "alice@example.com",
    ));

    let (s, g, _) = signed_statement(
        d,
        "rsa.approval.json",
        &rsa,
        "alice@example.com",
        "gatehouse-approval",
    );
    cases.push(("unsupported-key", s, g, listed.clone(), "alice@example.com"));

    cases.push((
        "malformed-signature",
        statement.clone(),
        b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n".to_vec(),
        listed.clone(),
        "alice@example.com",
    ));

    let mut malformed = String::from_utf8(statement.clone()).expect("utf8");
    malformed.insert_str(1, "\"extra\": 1, ");
    let malformed_path = write(&d.join("malformed.approval.json"), &malformed);
    ssh_sign(&alice, "gatehouse-approval", &malformed_path);
    let malformed_sig = std::fs::read(sig_of(&malformed_path)).expect("sig");
    cases.push((
        "malformed-statement",
        malformed.into_bytes(),
        malformed_sig,
        listed.clone(),
        "alice@example.com",
    ));

    for (name, statement, sig, allowed, principal) in cases {
        let signers = AllowedSigners::load(&allowed).expect("allowed signers");
        let rejection = verify(&statement, &sig, &signers, now()).expect_err(name);
        assert_eq!(rejection.name(), name, "{rejection}");
        assert!(!rejection.message().is_empty());
        // OpenSSH refuses each too, except a malformed statement: a valid
        // signature over bytes that are not a statement, which only
        // Gatehouse reads.
        let file = write(
            &d.join("case.approval.json"),
            &String::from_utf8_lossy(&statement),
        );
        std::fs::write(sig_of(&file), &sig).expect("write sig");
        let openssh_accepts = ssh_verifies(&allowed, principal, &file);
        let openssh_should_accept = name == "malformed-statement";
        assert_eq!(
            openssh_accepts, openssh_should_accept,
            "{name}: ssh-keygen -Y verify"
        );
    }
}

#[test]
fn allowed_signers_lookups_agree_with_ssh_keygen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let key = keygen(d, "k", "ed25519", "", "");
    let k = key_text(&key);
    let allowed = write(
        &d.join("allowed_signers"),
        &format!(
            "# patterns, negation, quoting, options, comments\n\
             *@example.com,!mallory@example.com {k} team\n\
             \"carol smith,dave?\" namespaces=\"gatehouse-*\" {k}\n\
             erin@example.org NAMESPACES=\"git\" {k}\n\
             frank@example.org valid-after=\"20200101Z\",valid-before=\"20991231235959Z\" {k}\n\
             grace@example.org valid-before=\"20200101Z\" {k}\n"
        ),
    );
    let signers = AllowedSigners::load(&allowed).expect("allowed signers");
    let cases = [
        ("alice@example.com", true),
        ("mallory@example.com", false),
        ("alice@example.org", false),
        ("carol smith", true),
        ("carol", false),
        ("dave1", true),
        ("dave12", false),
        ("erin@example.org", false),
        ("frank@example.org", true),
        ("grace@example.org", false),
    ];
    for (principal, expected) in cases {
        let (statement, sig, path) =
            signed_statement(d, "s.approval.json", &key, principal, "gatehouse-approval");
        let ours = verify(&statement, &sig, &signers, now());
        assert_eq!(ours.is_ok(), expected, "{principal}: {ours:?}");
        assert_eq!(
            ssh_verifies(&allowed, principal, &path),
            expected,
            "{principal}: ssh-keygen disagrees"
        );
        assert_eq!(
            !signers
                .keys_for(principal, "gatehouse-approval", now())
                .is_empty(),
            expected,
            "{principal}: keys_for"
        );
    }

    // Lines OpenSSH accepts but Gatehouse refuses, each named by file and line.
    for (text, fragment) in [
        (
            format!("* cert-authority {k}\n"),
            "allowed_signers:1: cert-authority",
        ),
        (
            format!("# ok\nalice valid-after=\"20260101\" {k}\n"),
            "allowed_signers:2: valid-after=\"20260101\": a time without Z",
        ),
    ] {
        write(&d.join("allowed_signers"), &text);
        let err = AllowedSigners::load(&d.join("allowed_signers"))
            .expect_err("refused")
            .to_string();
        assert!(err.contains(fragment), "{err}");
    }
}
