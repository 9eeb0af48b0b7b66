//! The approval loop as CI runs it, end to end: keys made by the test with
//! Debian's `ssh-keygen`, approvals signed by `gatehouse approve` and by
//! `ssh-keygen -Y sign`, a policy set with a `[trust]` section, and the real
//! binary on the compiled example policies.
//!
//! - a release waits (exit 2, with the digest and the `gatehouse approve`
//!   command), passes once the right people signed it (exit 0, naming who),
//!   and waits again when it changes by one resource;
//! - every rejection reason has its own test, and unsigned approvals are
//!   refused under a trust section and marked unverified without one;
//! - the host satisfies a policy that ignores approvals (destructive-changes)
//!   and never overrides one that counts them itself (approval-quorum with
//!   `ordered`);
//! - the audit record lists each approval with its key fingerprint, and
//!   `audit replay` verifies the recorded signatures again.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    Run, assert_error, assert_no_host_panic, gatehouse, gatehouse_command, openssh,
};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// When the approvals are signed, and when eval decides (an hour later).
const SIGNED_AT: &str = "2026-11-30T12:00:00Z";
const EVAL_AT: &str = "2026-11-30T13:00:00Z";

/// The principals with keys in the allowed_signers file, and `eve`, whose
/// key is listed nowhere.
const PEOPLE: [&str; 6] = ["alice", "bob", "carol", "dave", "mallory", "eve"];

fn principal(who: &str) -> String {
    format!("{who}@example.com")
}

fn sig_of(statement: &Path) -> PathBuf {
    let mut name = statement.as_os_str().to_os_string();
    name.push(".sig");
    PathBuf::from(name)
}

/// A release: a mysql database deleted in `environment`, by erin.
fn release(environment: &str, extra_resource: bool) -> String {
    let mut resources = vec![serde_json::json!({
        "resourceType": "mysql", "resourceName": "orders",
        "resourcePath": "datastores/orders", "changeType": "DELETE"})];
    if extra_resource {
        resources.push(serde_json::json!({
            "resourceType": "service", "resourceName": "api",
            "resourcePath": "services/api", "changeType": "UPDATE_IN_PLACE"}));
    }
    serde_json::json!({
        "environmentName": environment,
        "releaseStream": "PROD",
        "resources": resources,
        "metadata": {"author": principal("erin")},
    })
    .to_string()
}

/// A working directory with keys, an allowed_signers file, releases and
/// policy sets.
struct Loop {
    dir: tempfile::TempDir,
}

impl Loop {
    fn new() -> Loop {
        let dir = tempfile::tempdir().expect("temp dir");
        let this = Loop { dir };
        let mut allowed = String::from("# who may sign approvals\n");
        for who in PEOPLE {
            let key = this.path(who);
            let out = openssh("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", &principal(who), "-f"])
                .arg(&key)
                .output()
                .expect("run ssh-keygen");
            assert!(out.status.success(), "ssh-keygen: {out:?}");
            if who != "eve" {
                let public =
                    std::fs::read_to_string(this.path(&format!("{who}.pub"))).expect("read .pub");
                allowed.push_str(&format!(
                    "{} namespaces=\"gatehouse-approval\" {public}",
                    principal(who)
                ));
            }
        }
        this.write("allowed_signers", &allowed);
        this.write("release.json", &release("prod-eu", false));
        this.write("changed.json", &release("prod-eu", true));
        this.write("staging.json", &release("staging", false));
        std::fs::create_dir(this.path("approvals")).expect("mkdir");
        this.set("gatehouse.toml", "", &destructive(1));
        this
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    /// Writes a policy set with the trust section (plus `trust_extra`
    /// lines) and `policies`.
    fn set(&self, name: &str, trust_extra: &str, policies: &str) -> PathBuf {
        self.write(
            name,
            &format!(
                "[trust]\nallowed-signers = \"allowed_signers\"\n{trust_extra}\n[trust.groups]\ndba = [\"{}\", \"{}\"]\ntech-lead = [\"{}\"]\non-call = [\"{}\"]\n\n{policies}",
                principal("alice"),
                principal("bob"),
                principal("carol"),
                principal("dave"),
            ),
        )
    }

    /// `gatehouse approve --input INPUT` by `who`, into approvals/OUT.
    fn approve(
        &self,
        who: &str,
        input: &str,
        environment: &str,
        group: &str,
        extra: &[&str],
    ) -> PathBuf {
        let out = self.path(&format!(
            "approvals/{who}-{group}-{environment}.approval.json"
        ));
        let input = self.path(input);
        let key = self.path(who);
        let mut args: Vec<&std::ffi::OsStr> = Vec::new();
        let strings = [
            "approve",
            "--environment",
            environment,
            "--group",
            group,
            "--principal",
            &principal(who),
            "--now",
            SIGNED_AT,
        ]
        .map(String::from);
        args.extend(strings.iter().map(std::ffi::OsStr::new));
        args.extend([
            "--input".as_ref(),
            input.as_os_str(),
            "--key".as_ref(),
            key.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        let run: Run = gatehouse_command()
            .args(&args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run gatehouse approve")
            .into();
        assert_eq!(run.code, 0, "gatehouse approve: {run:#?}");
        out
    }

    /// `gatehouse eval --config SET --input INPUT --approvals approvals/`
    /// plus `extra`, at `--now EVAL_AT` unless `extra` gives `--now`.
    fn eval(&self, set: &str, input: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "eval".to_string(),
            "--config".into(),
            self.path(set).display().to_string(),
            "--input".into(),
            self.path(input).display().to_string(),
            "--approvals".into(),
            self.path("approvals").display().to_string(),
        ];
        if !extra.contains(&"--now") {
            args.extend(["--now".to_string(), EVAL_AT.to_string()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let run = gatehouse(&args);
        assert_no_host_panic(&run);
        run
    }

    /// The same as [`Loop::eval`] with `--output json`, parsed.
    fn eval_json(&self, set: &str, input: &str, extra: &[&str]) -> (i32, serde_json::Value) {
        let mut extra = extra.to_vec();
        extra.extend(["--output", "json"]);
        let run = self.eval(set, input, &extra);
        (run.code, run.json())
    }

    /// The release digest `gatehouse digest` prints for an input.
    fn digest(&self, input: &str) -> String {
        let run = gatehouse([
            "digest".to_string(),
            "--input".into(),
            self.path(input).display().to_string(),
        ]);
        assert_eq!(run.code, 0, "{run:#?}");
        run.stdout.lines().next().expect("a digest").to_string()
    }

    /// `ssh-keygen -l`'s fingerprint of `who`'s key.
    fn fingerprint(&self, who: &str) -> String {
        let out = openssh("ssh-keygen")
            .arg("-lf")
            .arg(self.path(&format!("{who}.pub")))
            .output()
            .expect("ssh-keygen -l");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .expect("fingerprint")
            .to_string()
    }

    /// Writes a statement by hand (as another tool would) and signs it
    /// with `ssh-keygen -Y sign -n NAMESPACE`.
    fn ssh_signed(&self, name: &str, who: &str, statement: &str, namespace: &str) -> PathBuf {
        let path = self.write(&format!("approvals/{name}.approval.json"), statement);
        // ssh-keygen does not replace a signature file.
        let _ = std::fs::remove_file(sig_of(&path));
        let out = openssh("ssh-keygen")
            .args(["-Y", "sign", "-n", namespace, "-f"])
            .arg(self.path(who))
            .arg(&path)
            .output()
            .expect("ssh-keygen -Y sign");
        assert!(out.status.success(), "ssh-keygen -Y sign: {out:?}");
        path
    }

    /// A statement for this release's digest, written as another tool might
    /// (compact, fields in another order).
    fn statement(&self, who: &str, group: &str) -> String {
        format!(
            "{{\"principal\":\"{}\",\"type\":\"gatehouse.approval/v1\",\"environment\":\"prod-eu\",\"release_digest\":\"{}\",\"groups\":[\"{group}\"],\"decision\":\"approve\",\"time\":\"{SIGNED_AT}\",\"expires\":\"2026-12-01T00:00:00Z\"}}",
            principal(who),
            self.digest("release.json")
        )
    }
}

/// destructive-changes asking `min` approvals from dba, never failing.
fn destructive(min: u32) -> String {
    format!(
        "[[policy]]\nname = \"destructive-changes\"\npath = \"{}\"\n[policy.settings]\napprover-groups = \"dba\"\nmin-approvals = {min}\nfail-environments = \"nowhere\"\n",
        gatehouse_e2e::policy("destructive-changes").display()
    )
}

/// The rejected approvals of a JSON report: `(file name, reason)`.
fn rejected(report: &serde_json::Value) -> Vec<(String, String)> {
    report["approvals"]["rejected"]
        .as_array()
        .expect("approvals.rejected")
        .iter()
        .map(|r| {
            let file = r["file"].as_str().expect("file");
            let name = Path::new(file).file_name().expect("name").to_string_lossy();
            (
                name.into_owned(),
                r["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect()
}

/// Asserts that the only approval was rejected with `reason`, the release
/// waits (exit 2), and returns the rejection's message.
fn only_rejection(l: &Loop, reason: &str, extra: &[&str]) -> String {
    let (code, report) = l.eval_json("gatehouse.toml", "release.json", extra);
    assert_eq!(code, 2, "{report:#}");
    let rejections = rejected(&report);
    assert_eq!(rejections.len(), 1, "{report:#}");
    assert_eq!(rejections[0].1, reason, "{report:#}");
    assert_eq!(
        report["approvals"]["valid"],
        serde_json::json!([]),
        "{report:#}"
    );
    assert_eq!(report["policies"][0]["approved_by"], serde_json::json!([]));
    report["approvals"]["rejected"][0]["message"]
        .as_str()
        .expect("message")
        .to_string()
}

#[test]
fn a_release_waits_for_the_right_signatures_and_again_when_it_changes() {
    let l = Loop::new();
    let digest = l.digest("release.json");

    // No approvals: exit 2, with the digest and the command to run.
    let run = l.eval("gatehouse.toml", "release.json", &[]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stdout.contains(&format!("release digest: {digest}")),
        "{}",
        run.stdout
    );
    let command = format!(
        "gatehouse approve --digest {digest} --environment prod-eu --group dba --key ~/.ssh/id_ed25519"
    );
    assert!(
        run.stdout.contains(&format!("  approve: {command}\n")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("approvals: 0 valid, 0 rejected"),
        "{}",
        run.stdout
    );
    let (_, report) = l.eval_json("gatehouse.toml", "release.json", &[]);
    assert_eq!(
        report["required_approvals"][0]["approve_command"],
        command.as_str()
    );

    // Alice (dba) signs with gatehouse approve: exit 0, naming her.
    let alice = l.approve("alice", "release.json", "prod-eu", "dba", &[]);
    let run = l.eval("gatehouse.toml", "release.json", &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.contains(&format!(
            "  approved by alice@example.com (dba) at {SIGNED_AT}\n"
        )),
        "{}",
        run.stdout
    );
    let (code, report) = l.eval_json("gatehouse.toml", "release.json", &[]);
    assert_eq!(code, 0);
    let policy = &report["policies"][0];
    assert_eq!(policy["verdict"], "auto-approve");
    assert_eq!(
        policy["approved_by"],
        serde_json::json!([{
            "principal": "alice@example.com", "groups": ["dba"], "at": SIGNED_AT,
            "key_fingerprint": l.fingerprint("alice")
        }])
    );
    assert_eq!(report["required_approvals"], serde_json::json!([]));
    assert_eq!(report["approvals"]["unverified"], false);
    assert_eq!(
        report["approvals"]["valid"][0]["file"],
        alice.display().to_string()
    );

    // The release changes by one resource: the approval is for another
    // release, and it waits again.
    let (code, report) = l.eval_json("gatehouse.toml", "changed.json", &[]);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(
        rejected(&report),
        [(
            "alice-dba-prod-eu.approval.json".to_string(),
            "other-release".to_string()
        )]
    );
    let message = report["approvals"]["rejected"][0]["message"]
        .as_str()
        .expect("message");
    assert!(
        message.contains(&format!(
            "approves the release {digest}, not this release sha256:"
        )),
        "{message}"
    );
}

#[test]
fn approvals_by_gatehouse_approve_and_by_ssh_keygen_count_together() {
    let l = Loop::new();
    l.set("two.toml", "", &destructive(2));
    l.approve("alice", "release.json", "prod-eu", "dba", &[]);
    let run = l.eval("two.toml", "release.json", &[]);
    assert_eq!(run.code, 2, "one of two approvals: {run:#?}");
    // Bob's statement is written by hand and signed by OpenSSH itself.
    l.ssh_signed(
        "bob",
        "bob",
        &l.statement("bob", "dba"),
        "gatehouse-approval",
    );
    let (code, report) = l.eval_json("two.toml", "release.json", &[]);
    assert_eq!(code, 0, "{report:#}");
    let by: Vec<&str> = report["policies"][0]["approved_by"]
        .as_array()
        .expect("approved_by")
        .iter()
        .map(|a| a["principal"].as_str().expect("principal"))
        .collect();
    assert_eq!(by, ["alice@example.com", "bob@example.com"]);
    assert_eq!(
        report["approvals"]["valid"][1]["key_fingerprint"],
        l.fingerprint("bob").as_str()
    );
}

#[test]
fn flags_give_the_trust_section_without_a_policy_set() {
    let l = Loop::new();
    l.approve("alice", "release.json", "prod-eu", "dba", &[]);
    let run = gatehouse([
        "eval".to_string(),
        "--policy".into(),
        gatehouse_e2e::policy("destructive-changes")
            .display()
            .to_string(),
        "--set".into(),
        "approver-groups=dba".into(),
        "--set".into(),
        "fail-environments=nowhere".into(),
        "--input".into(),
        l.path("release.json").display().to_string(),
        "--approvals".into(),
        l.path("approvals").display().to_string(),
        "--allowed-signers".into(),
        l.path("allowed_signers").display().to_string(),
        "--group".into(),
        "dba=alice@example.com,bob@example.com".into(),
        "--now".into(),
        EVAL_AT.into(),
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.contains("approved by alice@example.com (dba)"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_approval_copied_from_staging_to_production_is_rejected() {
    let l = Loop::new();
    // Alice approves the same change for staging; someone copies it over.
    l.approve("alice", "staging.json", "staging", "dba", &[]);
    let message = only_rejection(&l, "other-environment", &[]);
    assert!(
        message.contains("approved for the environment \"staging\", but this release is for \"prod-eu\" (and for another release digest)"),
        "{message}"
    );
    // It still counts where it was given.
    let (code, _) = l.eval_json("gatehouse.toml", "staging.json", &[]);
    assert_eq!(code, 0);
}

#[test]
fn this_release_approved_for_another_environment_is_rejected() {
    let l = Loop::new();
    // The production digest, signed as an approval for staging.
    let digest = l.digest("release.json");
    let out = l.path("approvals/alice.approval.json");
    let run = gatehouse([
        "approve".to_string(),
        "--digest".into(),
        digest,
        "--environment".into(),
        "staging".into(),
        "--group".into(),
        "dba".into(),
        "--key".into(),
        l.path("alice").display().to_string(),
        "--principal".into(),
        principal("alice"),
        "--now".into(),
        SIGNED_AT.into(),
        "-o".into(),
        out.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    let message = only_rejection(&l, "other-environment", &[]);
    assert!(!message.contains("another release digest"), "{message}");
}

#[test]
fn an_approval_of_another_release_is_rejected() {
    let l = Loop::new();
    l.approve("alice", "changed.json", "prod-eu", "dba", &[]);
    only_rejection(&l, "other-release", &[]);
}

#[test]
fn a_statement_edited_by_one_byte_is_a_bad_signature() {
    let l = Loop::new();
    let statement = l.approve("alice", "release.json", "prod-eu", "dba", &[]);
    let text = std::fs::read_to_string(&statement).expect("read");
    // Still a valid statement, one byte different: a day more to count.
    let edited = text.replacen("\"expires\": \"2026-12-01", "\"expires\": \"2026-12-02", 1);
    assert_ne!(edited, text);
    std::fs::write(&statement, edited).expect("write");
    let message = only_rejection(&l, "bad-signature", &[]);
    assert!(message.contains(&l.fingerprint("alice")), "{message}");
}

#[test]
fn a_valid_key_whose_principal_is_not_in_the_group_is_rejected() {
    let l = Loop::new();
    // Mallory's key is in allowed_signers, but mallory is not a dba.
    l.approve("mallory", "release.json", "prod-eu", "dba", &[]);
    let message = only_rejection(&l, "not-in-group", &[]);
    assert!(
        message.contains("\"mallory@example.com\" is not a member of the group \"dba\""),
        "{message}"
    );
}

#[test]
fn a_key_listed_nowhere_is_rejected() {
    let l = Loop::new();
    l.approve("eve", "release.json", "prod-eu", "dba", &[]);
    let message = only_rejection(&l, "unknown-key", &[]);
    assert!(
        message.contains("the key is not listed for anyone"),
        "{message}"
    );
}

#[test]
fn a_key_pretending_to_be_another_principal_is_rejected() {
    let l = Loop::new();
    // Mallory signs a statement naming alice.
    l.ssh_signed(
        "forged",
        "mallory",
        &l.statement("alice", "dba"),
        "gatehouse-approval",
    );
    let message = only_rejection(&l, "unknown-key", &[]);
    assert!(
        message.contains("the key is listed only for \"mallory@example.com\""),
        "{message}"
    );
}

#[test]
fn an_expired_approval_is_rejected() {
    let l = Loop::new();
    l.approve(
        "alice",
        "release.json",
        "prod-eu",
        "dba",
        &["--expires-in", "30m"],
    );
    let message = only_rejection(&l, "expired", &[]);
    assert!(
        message.contains("expired at 2026-11-30T12:30:00Z"),
        "{message}"
    );
}

#[test]
fn an_approval_dated_after_the_evaluation_is_rejected() {
    let l = Loop::new();
    l.approve("alice", "release.json", "prod-eu", "dba", &[]);
    let message = only_rejection(&l, "not-yet-valid", &["--now", "2026-11-30T11:59:59Z"]);
    assert!(message.contains("dated 2026-11-30T12:00:00Z"), "{message}");
}

#[test]
fn a_principal_counts_once() {
    let l = Loop::new();
    l.set("two.toml", "", &destructive(2));
    l.approve("alice", "release.json", "prod-eu", "dba", &[]);
    // A second statement by alice (sorted after the first).
    l.ssh_signed(
        "zz-alice-again",
        "alice",
        &l.statement("alice", "dba"),
        "gatehouse-approval",
    );
    let (code, report) = l.eval_json("two.toml", "release.json", &[]);
    assert_eq!(code, 2, "two approvals by one person are one: {report:#}");
    assert_eq!(
        rejected(&report),
        [(
            "zz-alice-again.approval.json".to_string(),
            "duplicate-principal".to_string()
        )]
    );
    assert_eq!(
        report["approvals"]["valid"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn the_author_cannot_approve_their_own_release_unless_the_set_allows_it() {
    let l = Loop::new();
    l.approve(
        "alice",
        "release.json",
        "prod-eu",
        "dba",
        &["--meta", "author=alice@example.com"],
    );
    let extra = ["--meta", "author=alice@example.com"];
    let message = only_rejection(&l, "self-approval", &extra);
    assert!(
        message.contains("\"alice@example.com\" is the release's author (metadata author)"),
        "{message}"
    );
    l.set("allow.toml", "self-approval = \"allow\"", &destructive(1));
    let (code, report) = l.eval_json("allow.toml", "release.json", &extra);
    assert_eq!(code, 0, "{report:#}");
    // Without an author to check, a set that forbids self-approval cannot
    // decide: exit 3, saying what to pass.
    let mut release: serde_json::Value =
        serde_json::from_str(&release("prod-eu", false)).expect("json");
    release["metadata"] = serde_json::json!({});
    l.write("anonymous.json", &release.to_string());
    let run = l.eval("gatehouse.toml", "anonymous.json", &[]);
    assert_error(&run, &["self-approval is forbidden", "--meta author=NAME"]);
}

#[test]
fn a_malformed_statement_is_rejected() {
    let l = Loop::new();
    let text = l
        .statement("alice", "dba")
        .replace("\"decision\":\"approve\",", "");
    l.ssh_signed("broken", "alice", &text, "gatehouse-approval");
    let message = only_rejection(&l, "malformed-statement", &[]);
    assert!(message.contains("missing field `decision`"), "{message}");
}

#[test]
fn a_signature_for_another_namespace_is_rejected() {
    let l = Loop::new();
    l.ssh_signed("git", "alice", &l.statement("alice", "dba"), "git");
    let message = only_rejection(&l, "wrong-namespace", &[]);
    assert!(message.contains("namespace \"git\""), "{message}");
}

#[test]
fn a_statement_without_its_signature_is_an_error_saying_how_to_sign() {
    let l = Loop::new();
    let statement = l.approve("alice", "release.json", "prod-eu", "dba", &[]);
    std::fs::remove_file(sig_of(&statement)).expect("remove .sig");
    let run = l.eval("gatehouse.toml", "release.json", &[]);
    assert_error(
        &run,
        &["no signature", ".approval.json.sig", "gatehouse approve"],
    );
}

#[test]
fn unsigned_approvals_are_refused_under_a_trust_section() {
    let l = Loop::new();
    let list = l.write(
        "unsigned.json",
        r#"[{"approver": "alice@example.com", "groups": ["dba"], "at": "2026-11-30T12:00:00Z"}]"#,
    );
    let list = list.display().to_string();
    let run = l.eval("gatehouse.toml", "release.json", &["--approvals", &list]);
    let digest = l.digest("release.json");
    assert_error(
        &run,
        &[
            "an unsigned approvals list",
            &format!("gatehouse approve --digest {digest} --environment prod-eu --group GROUP"),
        ],
    );
    // Nor may the input carry its own.
    let mut release: serde_json::Value =
        serde_json::from_str(&release("prod-eu", false)).expect("json");
    release["approvals"] =
        serde_json::json!([{"approver": "alice@example.com", "groups": ["dba"], "at": SIGNED_AT}]);
    l.write("carrying.json", &release.to_string());
    let run = l.eval("gatehouse.toml", "carrying.json", &[]);
    assert_error(&run, &["the input carries 1 unsigned approval"]);
}

#[test]
fn without_a_trust_section_unsigned_approvals_are_marked_unverified() {
    let l = Loop::new();
    let list = l.write(
        "unsigned.json",
        r#"[{"approver": "mallory", "groups": ["tech-lead"], "at": "2026-11-30T12:00:00Z"},
            {"approver": "mallory2", "groups": ["on-call"], "at": "2026-11-30T12:05:00Z"}]"#,
    );
    let args = |output: &str| {
        vec![
            "eval".to_string(),
            "--policy".into(),
            gatehouse_e2e::policy("approval-quorum")
                .display()
                .to_string(),
            "--set".into(),
            "required-groups=tech-lead,on-call".into(),
            "--input".into(),
            l.path("release.json").display().to_string(),
            "--approvals".into(),
            list.display().to_string(),
            "--now".into(),
            EVAL_AT.into(),
            "--output".into(),
            output.into(),
        ]
    };
    let run = gatehouse(args("text"));
    // What the policy decides with them stands, but every report says
    // nobody verified them.
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .contains("approvals: 2 UNVERIFIED (unsigned, and no trust section"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  unverified: mallory (tech-lead) at 2026-11-30T12:00:00Z")
    );
    let report = gatehouse(args("json")).json();
    assert_eq!(report["approvals"]["unverified"], true);
    assert_eq!(
        report["approvals"]["unverified_approvals"][1]["approver"],
        "mallory2"
    );
    assert_eq!(report["policies"][0]["approved_by"], serde_json::json!([]));
    // A signed approval without a trust section: nothing to verify it against.
    l.approve("alice", "release.json", "prod-eu", "dba", &[]);
    let mut signed = args("text");
    signed[8] = l.path("approvals").display().to_string();
    let run = gatehouse(signed);
    assert_error(
        &run,
        &[
            "a signed approval",
            "no allowed-signers to verify it against",
        ],
    );
}

#[test]
fn the_host_does_not_override_a_policy_that_counts_approvals_itself() {
    let l = Loop::new();
    let quorum = format!(
        "[[policy]]\nname = \"approval-quorum\"\npath = \"{}\"\n[policy.settings]\nrequired-groups = \"tech-lead,on-call\"\nordered = true\n",
        gatehouse_e2e::policy("approval-quorum").display()
    );
    l.set("quorum.toml", "", &quorum);
    // On-call signs first, the tech lead an hour later: out of order.
    let early = l
        .statement("dave", "on-call")
        .replace(SIGNED_AT, "2026-11-30T11:00:00Z");
    l.ssh_signed("dave", "dave", &early, "gatehouse-approval");
    l.ssh_signed(
        "carol",
        "carol",
        &l.statement("carol", "tech-lead"),
        "gatehouse-approval",
    );
    let (code, report) = l.eval_json("quorum.toml", "release.json", &[]);
    // Both approvals are valid, and dave's meets the request for on-call
    // the policy makes; but without approvals the policy asks for both
    // stages: it decides with approvals, so its verdict stands.
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(
        report["approvals"]["valid"].as_array().map(Vec::len),
        Some(2)
    );
    let policy = &report["policies"][0];
    assert_eq!(policy["approver_groups"], serde_json::json!(["on-call"]));
    assert_eq!(policy["verdict"], "require-approval");
    assert_eq!(policy["counts_approvals_itself"], true);
    assert_eq!(policy["approved_by"], serde_json::json!([]));
    let run = l.eval("quorum.toml", "release.json", &[]);
    assert!(
        run.stdout.contains("this policy counts approvals itself"),
        "{}",
        run.stdout
    );
    // In order (on-call after the tech lead), the policy approves by itself.
    let late = l
        .statement("dave", "on-call")
        .replace(SIGNED_AT, "2026-11-30T12:30:00Z");
    l.ssh_signed("dave", "dave", &late, "gatehouse-approval");
    let (code, report) = l.eval_json("quorum.toml", "release.json", &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["policies"][0]["approved_by"], serde_json::json!([]));
}

#[test]
fn the_audit_record_lists_approvals_and_replay_verifies_them_again() {
    let l = Loop::new();
    l.approve("alice", "release.json", "prod-eu", "dba", &[]);
    l.approve("mallory", "release.json", "prod-eu", "dba", &[]);
    let log = l.path("audit.jsonl");
    let log_arg = log.display().to_string();
    let run = l.eval("gatehouse.toml", "release.json", &["--audit-log", &log_arg]);
    assert_eq!(run.code, 0, "{run:#?}");
    let line = std::fs::read_to_string(&log).expect("log");
    let record: serde_json::Value = serde_json::from_str(line.trim_end()).expect("record");
    let approvals = &record["approvals"];
    let signers = std::fs::read(l.path("allowed_signers")).expect("read");
    assert_eq!(
        approvals["trust"]["allowed_signers_sha256"],
        gatehouse_e2e::sha256_hex(&signers).as_str()
    );
    let alice = &approvals["entries"][0];
    assert_eq!(alice["principal"], "alice@example.com");
    assert_eq!(alice["key_fingerprint"], l.fingerprint("alice").as_str());
    assert_eq!(alice["groups"], serde_json::json!(["dba"]));
    assert_eq!(alice["at"], SIGNED_AT);
    assert_eq!(alice["status"], "valid");
    let sig = std::fs::read(l.path("approvals/alice-dba-prod-eu.approval.json.sig")).expect("sig");
    assert_eq!(
        alice["signature_sha256"],
        format!("sha256:{}", gatehouse_e2e::sha256_hex(&sig)).as_str()
    );
    let mallory = &approvals["entries"][1];
    assert_eq!(
        (&mallory["status"], &mallory["reason"]),
        (
            &serde_json::json!("rejected"),
            &serde_json::json!("not-in-group")
        )
    );
    assert_eq!(
        mallory["key_fingerprint"],
        l.fingerprint("mallory").as_str()
    );
    assert_eq!(
        record["policies"][0]["approved_by"][0]["principal"],
        "alice@example.com"
    );

    let policies = gatehouse_e2e::workspace_root().join("target/policies");
    let replay = |log: &Path, signers: &Path| {
        let run = gatehouse([
            "audit".to_string(),
            "replay".into(),
            log.display().to_string(),
            "--policy-dir".into(),
            policies.display().to_string(),
            "--allowed-signers".into(),
            signers.display().to_string(),
        ]);
        assert_no_host_panic(&run);
        run
    };
    let run = replay(&log, &l.path("allowed_signers"));
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.contains("1 replayed, 0 differ"),
        "{}",
        run.stdout
    );

    // A recorded signature changed (the chain rewritten too): replay
    // verifies it again and reports the approval and the verdict.
    let mut tampered = record.clone();
    let encoded = tampered["approvals"]["entries"][0]["signature_base64"]
        .as_str()
        .expect("base64")
        .to_string();
    let at = encoded.len() / 2;
    let swapped = if &encoded[at..=at] == "A" { "B" } else { "A" };
    tampered["approvals"]["entries"][0]["signature_base64"] =
        format!("{}{swapped}{}", &encoded[..at], &encoded[at + 1..]).into();
    let forged_log = l.write("forged.jsonl", &format!("{tampered}\n"));
    let run = replay(&forged_log, &l.path("allowed_signers"));
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stdout
            .contains("recorded auto-approve, replayed require-approval")
            && run.stdout.contains("approval ")
            && run
                .stdout
                .contains("alice-dba-prod-eu.approval.json: valid -> rejected ("),
        "{}",
        run.stdout
    );

    // Another allowed_signers file is refused: exit 3, naming the digest.
    let other = l.write("other_signers", "# nobody may sign\n");
    let run = replay(&log, &other);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stdout
            .contains("pass --allowed-signers with that file as it was then"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_github_summary_gives_the_approve_command_then_who_approved() {
    let l = Loop::new();
    let summary = |name: &str| {
        let path = l.path(name);
        let run: Run = gatehouse_command()
            .args([
                "eval",
                "--config",
                &l.path("gatehouse.toml").display().to_string(),
                "--input",
                &l.path("release.json").display().to_string(),
                "--approvals",
                &l.path("approvals").display().to_string(),
                "--now",
                EVAL_AT,
                "--output",
                "github",
            ])
            .env("GITHUB_STEP_SUMMARY", &path)
            .env_remove("GITHUB_OUTPUT")
            .stdin(Stdio::null())
            .output()
            .expect("run gatehouse")
            .into();
        assert_no_host_panic(&run);
        (run, std::fs::read_to_string(&path).expect("summary"))
    };
    let (run, waiting) = summary("waiting.md");
    assert_eq!(run.code, 2, "{run:#?}");
    let digest = l.digest("release.json");
    assert!(
        waiting.contains(&format!(
            "approve with: `gatehouse approve --digest {digest} --environment prod-eu --group dba --key ~/.ssh/id_ed25519`"
        )),
        "{waiting}"
    );
    assert!(
        run.stdout.contains("  approve: gatehouse approve --digest"),
        "{}",
        run.stdout
    );
    l.approve("alice", "release.json", "prod-eu", "dba", &[]);
    l.approve("mallory", "release.json", "prod-eu", "dba", &[]);
    let (run, approved) = summary("approved.md");
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        approved.contains("**Approvals**: 1 valid, 1 rejected"),
        "{approved}"
    );
    assert!(
        approved.contains("| auto-approve | approved by alice\\@example\\.com \\(dba\\)"),
        "{approved}"
    );
    assert!(
        approved.contains("- rejected: ") && approved.contains("`not-in-group`"),
        "{approved}"
    );
}

#[test]
fn check_and_eval_refuse_a_broken_allowed_signers_file() {
    let l = Loop::new();
    let check = || {
        gatehouse([
            "check".to_string(),
            "--config".into(),
            l.path("gatehouse.toml").display().to_string(),
        ])
    };
    let run = check();
    assert_eq!(run.code, 0, "{run:#?}");
    let mut text = std::fs::read_to_string(l.path("allowed_signers")).expect("read");
    text.push_str("carol@example.com ssh-foo AAAA\n");
    l.write("allowed_signers", &text);
    let run = check();
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr.contains("[trust] allowed-signers: "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("allowed_signers:7: "), "{}", run.stderr);
    // eval reads it on every run, approvals or not: exit 3, never a verdict.
    let run = l.eval("gatehouse.toml", "release.json", &[]);
    assert_error(&run, &["allowed_signers:7: ", "ssh-foo"]);
}

#[test]
fn signed_approvals_satisfy_a_sets_request_when_nothing_applies() {
    let l = Loop::new();
    let skipped = format!(
        "[[policy]]\nname = \"elsewhere\"\npath = \"{}\"\nenvironments = [\"nowhere\"]\n",
        gatehouse_e2e::policy("destructive-changes").display()
    );
    // The trust section's table ends at [[policy]]; the top-level key goes first.
    let text = format!(
        "when-nothing-applies = {{ verdict = \"require-approval\", approver-groups = [\"dba\"] }}\n{}",
        std::fs::read_to_string(l.set("nothing.toml", "", &skipped)).expect("read")
    );
    l.write("nothing.toml", &text);
    let run = l.eval("nothing.toml", "release.json", &[]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stdout.contains("  approve: gatehouse approve --digest"),
        "{}",
        run.stdout
    );
    l.approve("bob", "release.json", "prod-eu", "dba", &[]);
    let run = l.eval("nothing.toml", "release.json", &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .starts_with("AUTO-APPROVE (exit 0): NOTHING WAS CHECKED\n")
            && run.stdout.contains(&format!(
                "  approved by bob@example.com (dba) at {SIGNED_AT}"
            )),
        "{}",
        run.stdout
    );
    let (_, report) = l.eval_json("nothing.toml", "release.json", &[]);
    assert_eq!(
        report["nothing_applied"]["approved_by"][0]["principal"],
        "bob@example.com"
    );
    assert_eq!(report["required_approvals"], serde_json::json!([]));
}
