//! Keyed audit checkpoints (`eval --audit-log FILE --audit-key KEY`): after
//! each record it appends, gatehouse appends a checkpoint line that signs the
//! sha256 of that record's line with an SSH key, in OpenSSH's SSHSIG format
//! and its own namespace [`NAMESPACE`]. A checkpoint is part of the hash
//! chain like a record (`seq`, `prev_sha256`), so its signature covers every
//! line before it. `gatehouse audit verify --allowed-signers FILE` checks
//! each signature against an allowed_signers file ([`check_signatures`]).
//!
//! The signed message ([`message`]) is documented in docs/audit.md so that
//! `ssh-keygen -Y verify -n gatehouse-audit` can check a checkpoint too.
//! Someone who can write the log but does not hold the key cannot edit,
//! insert or delete a line before the last checkpoint, nor forge a
//! checkpoint; they can remove lines from the end back to an earlier
//! checkpoint, which only an anchor kept outside the file reveals.

use crate::approvals::{
    AllowedSigners, CheckError, ListMatch, Signer, SignerEntry, armor, check_signature, fingerprint,
};
use crate::audit::{Appender, Problem, Verified};
use serde::Serialize;
use ssh_key::PublicKey;

pub use crate::audit::checkpoint::{
    Checkpoint, MESSAGE_HEADER, NAMESPACE, Placed, SCHEMA, message,
};

/// The current wall-clock time as a checkpoint's `time`.
fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| crate::time::format_utc(crate::time::now_unix()))
}

/// Appends a checkpoint signing the log's last line (a record just
/// appended through the same locked `log`) with `signer`; returns its
/// `seq`. Nothing is written when signing fails.
pub fn append(log: &mut Appender, signer: &mut Signer) -> Result<u64, String> {
    let Some((covers_seq, covers_sha256)) = log.last() else {
        return Err("internal: no record to sign".into());
    };
    let covers_sha256 = covers_sha256.to_string();
    let (seq, prev_sha256) = log.next_link();
    let time = now_rfc3339();
    let signature = signer.sign_in(NAMESPACE, &message(covers_seq, &covers_sha256, &time))?;
    let checkpoint = Checkpoint {
        schema: SCHEMA.to_string(),
        seq,
        prev_sha256,
        covers_seq,
        covers_sha256,
        time,
        key_fingerprint: fingerprint(signer.public_key()),
        signature: armor(&signature)?,
    };
    let line = serde_json::to_vec(&checkpoint)
        .map_err(|e| format!("cannot serialise the checkpoint: {e}"))?;
    log.write_line(line)
}

/// A key that signed checkpoints, and who the allowed_signers file says it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignerSeen {
    /// `SHA256:…`.
    pub key_fingerprint: String,
    /// The principals fields of the allowed_signers lines that vouched for it.
    pub principals: Vec<String>,
    /// How many checkpoints it signed.
    pub checkpoints: u64,
}

/// Records after the last checkpoint: nothing signs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnsignedTail {
    /// How many records.
    pub records: u64,
    /// The first line after the last checkpoint (1 without a checkpoint).
    pub first_line: u64,
    /// The last line of the log.
    pub last_line: u64,
}

/// The records after the last checkpoint of a verified chain, if any.
pub fn unsigned_tail(verified: &Verified) -> Option<UnsignedTail> {
    let (after_line, signed) = verified
        .checkpoints
        .last()
        .map_or((0, 0), |c| (c.line, c.records_before));
    let records = verified.records.saturating_sub(signed);
    (records > 0).then_some(UnsignedTail {
        records,
        first_line: after_line + 1,
        last_line: verified.lines,
    })
}

/// Every checkpoint of a chain verified with keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedLog {
    /// Records covered by a valid checkpoint (all those before the last).
    pub signed_records: u64,
    /// The keys that signed, in order of first use.
    pub signers: Vec<SignerSeen>,
}

/// Checks the signature of every checkpoint of a verified chain: it must
/// verify over [`message`] in the [`NAMESPACE`], with a key that `signers`
/// lists (for `principal` when given, else for anyone) with the namespace
/// allowed and valid at the checkpoint's `time`. Returns the first
/// checkpoint that fails, as a [`Problem`] of kind `bad-signature` (the
/// lines it covers changed since it was signed, or it was copied from
/// elsewhere) or `unknown-key` (a key the file does not list: forged).
pub fn check_signatures(
    verified: &Verified,
    signers: &AllowedSigners,
    principal: Option<&str>,
) -> Result<SignedLog, Problem> {
    let mut seen: Vec<SignerSeen> = Vec::new();
    let mut previous_line = 0u64;
    for placed in &verified.checkpoints {
        let checkpoint = &placed.checkpoint;
        let problem = |kind: &'static str, message: String| Problem {
            line: placed.line,
            kind,
            message,
        };
        let signature = checkpoint.sshsig().map_err(|m| problem("invalid", m))?;
        let key =
            check_signature(&signature, NAMESPACE, &checkpoint.message()).map_err(|e| match e {
                CheckError::WrongNamespace(ns) => problem(
                    "invalid",
                    format!(
                        "the signature is for the namespace {:?}, not {NAMESPACE:?}",
                        crate::untrusted::line(&ns)
                    ),
                ),
                CheckError::BadSignature => problem(
                    "bad-signature",
                    bad_signature_message(checkpoint, previous_line),
                ),
            })?;
        let at = crate::time::parse_rfc3339(&checkpoint.time)
            .map_err(|e| problem("invalid", format!("checkpoint time: {e}")))?;
        let vouching = vouching_lines(signers, &key, principal, at);
        if vouching.is_empty() {
            return Err(problem(
                "unknown-key",
                unknown_key_message(signers, &key, principal, at, &checkpoint.time),
            ));
        }
        let fingerprint = fingerprint(&key);
        let principals: Vec<String> = vouching.iter().map(|e| e.principals.clone()).collect();
        match seen.iter_mut().find(|s| s.key_fingerprint == fingerprint) {
            Some(signer) => {
                signer.checkpoints += 1;
                for p in principals {
                    if !signer.principals.contains(&p) {
                        signer.principals.push(p);
                    }
                }
            }
            None => seen.push(SignerSeen {
                key_fingerprint: fingerprint,
                principals,
                checkpoints: 1,
            }),
        }
        previous_line = placed.line;
    }
    Ok(SignedLog {
        signed_records: verified.checkpoints.last().map_or(0, |c| c.records_before),
        signers: seen,
    })
}

/// The allowed_signers lines that let `key` sign checkpoints at `at`:
/// the key, the namespace allowed, valid then, and (when given) listed for
/// `principal`.
fn vouching_lines<'a>(
    signers: &'a AllowedSigners,
    key: &PublicKey,
    principal: Option<&str>,
    at: i64,
) -> Vec<&'a SignerEntry> {
    signers
        .entries()
        .iter()
        .filter(|e| {
            e.key.key_data() == key.key_data()
                && e.allows_namespace(NAMESPACE)
                && e.valid_at(at)
                && principal.is_none_or(|p| e.principal_match(p) == ListMatch::Matched)
        })
        .collect()
}

/// Why a checkpoint's signature does not verify, naming the lines that
/// may have changed: those after the previous valid checkpoint.
fn bad_signature_message(checkpoint: &Checkpoint, previous_line: u64) -> String {
    let first = previous_line + 1;
    let last = checkpoint.covers_seq;
    let changed = if first >= last {
        format!("record {last} (line {last}) was changed after this checkpoint signed it")
    } else {
        format!(
            "one of the records at lines {first} to {last} was changed after this checkpoint signed them"
        )
    };
    let before = if previous_line == 0 {
        String::new()
    } else {
        format!(" (the lines up to {previous_line} are covered by the valid checkpoint there)")
    };
    format!(
        "the signature by {} does not verify over line {last} as the log now holds it (sha256 {}): {changed}{before}, or this checkpoint's time or signature was edited or copied from another line",
        checkpoint.key_fingerprint, checkpoint.covers_sha256
    )
}

/// Why no allowed_signers line vouches for a checkpoint's key: not listed,
/// listed for others, not for this namespace, or not valid at its time.
fn unknown_key_message(
    signers: &AllowedSigners,
    key: &PublicKey,
    principal: Option<&str>,
    at: i64,
    time: &str,
) -> String {
    let fingerprint = fingerprint(key);
    let source = crate::untrusted::line(signers.source()).into_owned();
    let with_key: Vec<&SignerEntry> = signers
        .entries()
        .iter()
        .filter(|e| e.key.key_data() == key.key_data())
        .collect();
    let head = format!("the checkpoint is signed by {fingerprint}, a key that {source}");
    let lines = |entries: &[&SignerEntry]| {
        entries
            .iter()
            .map(|e| e.line.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if with_key.is_empty() {
        return format!(
            "{head} does not list: a checkpoint forged or signed with another key (or the file lacks the audit key's line)"
        );
    }
    let for_principal: Vec<&SignerEntry> = with_key
        .iter()
        .copied()
        .filter(|e| principal.is_none_or(|p| e.principal_match(p) == ListMatch::Matched))
        .collect();
    let Some(principal_text) = principal.map(crate::untrusted::line) else {
        return in_namespace_and_time(&head, &with_key, at, time, &lines);
    };
    if for_principal.is_empty() {
        let listed: Vec<String> = with_key
            .iter()
            .map(|e| {
                format!(
                    "{:?} at line {}",
                    crate::untrusted::line(&e.principals),
                    e.line
                )
            })
            .collect();
        return format!(
            "{head} lists only for {}, not for --principal {principal_text:?}",
            listed.join(", ")
        );
    }
    in_namespace_and_time(&head, &for_principal, at, time, &lines)
}

/// The namespace or validity-window part of [`unknown_key_message`].
fn in_namespace_and_time(
    head: &str,
    entries: &[&SignerEntry],
    at: i64,
    time: &str,
    lines: &dyn Fn(&[&SignerEntry]) -> String,
) -> String {
    let in_namespace: Vec<&SignerEntry> = entries
        .iter()
        .copied()
        .filter(|e| e.allows_namespace(NAMESPACE))
        .collect();
    if in_namespace.is_empty() {
        return format!(
            "{head} lists at line {} with a namespaces= option without {NAMESPACE:?}: that key may not sign audit checkpoints",
            lines(entries)
        );
    }
    let windows: Vec<String> = in_namespace
        .iter()
        .filter(|e| !e.valid_at(at))
        .map(|e| {
            let from = e
                .valid_after
                .map_or("any time".into(), crate::time::format_utc);
            let to = e
                .valid_before
                .map_or("any time".into(), crate::time::format_utc);
            format!("line {}: from {from} to {to}", e.line)
        })
        .collect();
    format!(
        "{head} lists, but not as valid at the checkpoint's time {} ({})",
        crate::untrusted::line(time),
        windows.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::Signer;
    use crate::audit::{self, Appender, Record};
    use ssh_key::PrivateKey;
    use ssh_key::private::{Ed25519Keypair, KeypairData};
    use std::path::{Path, PathBuf};

    fn key(seed: u8) -> PrivateKey {
        let pair = Ed25519Keypair::from_seed(&[seed; 32]);
        PrivateKey::new(KeypairData::Ed25519(pair), "audit@ci").expect("key")
    }

    fn signer(dir: &Path, seed: u8) -> Signer {
        let path = dir.join(format!("key{seed}"));
        let pem = key(seed).to_openssh(ssh_key::LineEnding::LF).expect("pem");
        std::fs::write(&path, pem.as_bytes()).expect("write key");
        Signer::load_for("--audit-key", &path, None).expect("loads")
    }

    fn allowed(line: &str, seed: u8) -> AllowedSigners {
        let public = key(seed).public_key().to_openssh().expect("pub");
        AllowedSigners::parse(format!("{line} {public}\n").as_bytes(), "allowed_signers")
            .expect("valid")
    }

    fn record() -> Record {
        serde_json::from_value(serde_json::json!({
            "schema": audit::SCHEMA, "seq": 0, "time": "2026-11-22T10:00:00Z",
            "evaluated_at": null, "host_version": "0", "input_sha256": null, "input": null,
            "metadata": {}, "config": null, "policies": [], "verdict": "auto-approve",
            "exit_code": 0, "error": null, "limit_hit": null, "prev_sha256": ""
        }))
        .expect("record")
    }

    /// A log of `n` records, each followed by a checkpoint of key `seed`.
    fn signed_log(dir: &Path, n: usize, seed: u8) -> PathBuf {
        let path = dir.join("audit.jsonl");
        let mut signer = signer(dir, seed);
        for _ in 0..n {
            let mut log = Appender::open(&path).expect("open");
            log.append_record(&mut record()).expect("record");
            append(&mut log, &mut signer).expect("checkpoint");
        }
        path
    }

    fn verified(path: &Path) -> Verified {
        audit::verify(path).expect("readable").expect("chain")
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .expect("read")
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_message_is_the_documented_bytes() {
        assert_eq!(
            message(7, "ab", "2026-11-22T10:00:00Z"),
            b"gatehouse-audit-checkpoint/v1\n7\nab\n2026-11-22T10:00:00Z\n"
        );
    }

    #[test]
    fn a_signed_log_verifies_and_counts_its_signed_records() {
        let dir = tempfile::tempdir().expect("dir");
        let path = signed_log(dir.path(), 3, 1);
        let v = verified(&path);
        assert_eq!((v.lines, v.records, v.checkpoints.len()), (6, 3, 3));
        let c = &v.checkpoints[2].checkpoint;
        assert_eq!((c.seq, c.covers_seq), (6, 5));
        assert_eq!(
            c.covers_sha256,
            audit::sha256_hex(lines(&path)[4].as_bytes())
        );
        let signed = check_signatures(&v, &allowed("audit@ci", 1), Some("audit@ci")).expect("ok");
        assert_eq!(signed.signed_records, 3);
        assert_eq!(signed.signers.len(), 1);
        assert_eq!(signed.signers[0].checkpoints, 3);
        assert_eq!(signed.signers[0].principals, ["audit@ci"]);
        assert_eq!(unsigned_tail(&v), None);
    }

    #[test]
    fn records_after_the_last_checkpoint_are_an_unsigned_tail() {
        let dir = tempfile::tempdir().expect("dir");
        let path = signed_log(dir.path(), 2, 1);
        audit::append(&path, &mut record()).expect("unsigned");
        audit::append(&path, &mut record()).expect("unsigned");
        let v = verified(&path);
        assert_eq!(
            unsigned_tail(&v),
            Some(UnsignedTail {
                records: 2,
                first_line: 5,
                last_line: 6
            })
        );
        let signed = check_signatures(&v, &allowed("audit@ci", 1), None).expect("ok");
        assert_eq!(signed.signed_records, 2);
    }

    #[test]
    fn another_key_a_wrong_principal_namespace_or_time_is_an_unknown_key() {
        let dir = tempfile::tempdir().expect("dir");
        let path = signed_log(dir.path(), 1, 1);
        let v = verified(&path);
        let cases = [
            (allowed("audit@ci", 2), None, "does not list"),
            (
                allowed("alice", 1),
                Some("audit@ci"),
                "lists only for \"alice\" at line 1",
            ),
            (
                allowed("audit@ci namespaces=\"gatehouse-approval\"", 1),
                None,
                "with a namespaces= option without \"gatehouse-audit\"",
            ),
            (
                allowed("audit@ci valid-before=\"20200101Z\"", 1),
                None,
                "not as valid at the checkpoint's time",
            ),
        ];
        for (signers, principal, expected) in cases {
            let p = check_signatures(&v, &signers, principal).expect_err("refused");
            assert_eq!((p.line, p.kind), (2, "unknown-key"), "{p:?}");
            assert!(p.message.contains(expected), "{}", p.message);
        }
        // Without --principal any principal listed for the namespace counts.
        assert!(check_signatures(&v, &allowed("alice", 1), None).is_ok());
    }

    #[test]
    fn an_approval_signature_never_serves_as_a_checkpoint() {
        let dir = tempfile::tempdir().expect("dir");
        let path = signed_log(dir.path(), 1, 1);
        let mut lines = lines(&path);
        let mut c: Checkpoint = serde_json::from_str(&lines[1]).expect("checkpoint");
        let sig = signer(dir.path(), 1)
            .sign_in(crate::approvals::NAMESPACE, &c.message())
            .expect("sign");
        c.signature = armor(&sig).expect("armor");
        lines[1] = serde_json::to_string(&c).expect("json");
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let p = audit::verify(&path)
            .expect("readable")
            .expect_err("refused");
        assert_eq!((p.line, p.kind), (2, "invalid"), "{p:?}");
        assert!(p.message.contains("not \"gatehouse-audit\""), "{p:?}");
    }

    #[test]
    fn an_edited_and_rehashed_record_fails_at_the_checkpoint_that_signed_it() {
        let dir = tempfile::tempdir().expect("dir");
        let path = signed_log(dir.path(), 3, 1);
        let mut lines = lines(&path);
        // Edit record 3 and rehash every line after it, as someone without
        // the key can.
        lines[2] = lines[2].replace("auto-approve", "fail");
        for i in 3..lines.len() {
            let prev = audit::sha256_hex(lines[i - 1].as_bytes());
            let mut value: serde_json::Value = serde_json::from_str(&lines[i]).expect("json");
            value["prev_sha256"] = prev.clone().into();
            if value.get("covers_sha256").is_some() {
                value["covers_sha256"] = prev.into();
            }
            lines[i] = serde_json::to_string(&value).expect("json");
        }
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let v = verified(&path);
        let p = check_signatures(&v, &allowed("audit@ci", 1), None).expect_err("refused");
        assert_eq!((p.line, p.kind), (4, "bad-signature"), "{p:?}");
        assert!(
            p.message
                .contains("record 3 (line 3) was changed after this checkpoint signed it"),
            "{p:?}"
        );
        assert!(p.message.contains("the lines up to 2 are covered"), "{p:?}");
    }

    #[test]
    fn a_checkpoint_must_cover_the_record_before_it() {
        let dir = tempfile::tempdir().expect("dir");
        let path = signed_log(dir.path(), 1, 1);
        let lines = lines(&path);
        let c: Checkpoint = serde_json::from_str(&lines[1]).expect("checkpoint");
        let mut moved = c.clone();
        moved.covers_seq = 0;
        assert!(moved.check_form(true).is_err());
        let mut other = c.clone();
        other.key_fingerprint = fingerprint(key(2).public_key());
        let err = other.check_form(true).expect_err("refused");
        assert!(err.contains("is not the key of its signature"), "{err}");
        let err = c.check_form(false).expect_err("refused");
        assert!(err.contains("must follow a record"), "{err}");
        let mut garbled = c;
        garbled.signature = "hello".into();
        assert!(garbled.check_form(true).is_err());
    }

    #[test]
    fn append_integrity_holds_with_checkpoint_lines() {
        let dir = tempfile::tempdir().expect("dir");
        let path = signed_log(dir.path(), 2, 1);
        let valid = std::fs::read(&path).expect("read");
        // A log ending in a checkpoint takes the next record.
        assert_eq!(audit::append(&path, &mut record()).expect("append").seq, 5);
        let with_record = std::fs::read(&path).expect("read");
        // A torn checkpoint after a record is repaired, then re-signed.
        let mut torn = with_record.clone();
        torn.extend_from_slice(b"{\"schema\":\"gatehouse.audit-checkpoint/v1\",\"seq\":6,\"prev");
        std::fs::write(&path, &torn).expect("write");
        let mut log = Appender::open(&path).expect("repaired");
        assert!(log.repaired_bytes() > 0);
        append(&mut log, &mut signer(dir.path(), 1)).expect("checkpoint");
        drop(log);
        let v = verified(&path);
        assert_eq!((v.lines, v.checkpoints.len()), (6, 3));
        assert!(check_signatures(&v, &allowed("audit@ci", 1), None).is_ok());
        // Not a torn checkpoint right after a checkpoint (gatehouse never
        // writes one there): refused, the file untouched.
        let mut bytes = valid.clone();
        bytes.extend_from_slice(b"{\"schema\":\"gatehouse.audit-checkpoint/v1\",\"seq\":5,");
        std::fs::write(&path, &bytes).expect("write");
        let err = Appender::open(&path).expect_err("refused");
        assert!(err.contains("is not the start of record 5"), "{err}");
        assert_eq!(std::fs::read(&path).expect("read"), bytes);
        // A last checkpoint that does not chain: refused, untouched.
        let text = String::from_utf8(valid).expect("utf-8");
        let kept: Vec<&str> = text.lines().collect();
        let bytes = format!("{}\n{}\n", kept[0], kept[3]).into_bytes();
        std::fs::write(&path, &bytes).expect("write");
        let err = Appender::open(&path).expect_err("refused");
        assert!(
            err.contains("its last checkpoint (seq 4) does not chain"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).expect("read"), bytes);
    }

    #[test]
    fn checkpoints_are_not_decisions_and_replay_skips_them() {
        let dir = tempfile::tempdir().expect("dir");
        let path = signed_log(dir.path(), 2, 1);
        let records = audit::read_records(&path).expect("records");
        let lines: Vec<u64> = records.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 3]);
        let mut outcome = record();
        outcome.verdict = "error".into();
        outcome.exit_code = 3;
        outcome.outcome_of = Some(2);
        audit::append(&path, &mut outcome).expect("append");
        let p = audit::verify(&path)
            .expect("readable")
            .expect_err("invalid");
        assert_eq!((p.line, p.kind), (5, "invalid"), "{p:?}");
        assert!(
            p.message.contains("is a checkpoint, not a decision"),
            "{p:?}"
        );
    }

    #[test]
    fn a_checkpoint_as_the_first_line_is_invalid() {
        let dir = tempfile::tempdir().expect("dir");
        let path = signed_log(dir.path(), 1, 1);
        let lines = lines(&path);
        let mut c: Checkpoint = serde_json::from_str(&lines[1]).expect("checkpoint");
        c.seq = 1;
        c.prev_sha256 = audit::genesis();
        std::fs::write(&path, serde_json::to_string(&c).expect("json") + "\n").expect("write");
        let p = audit::verify(&path)
            .expect("readable")
            .expect_err("invalid");
        assert_eq!((p.line, p.kind), (1, "invalid"), "{p:?}");
        assert!(p.message.contains("must follow a record"), "{p:?}");
    }
}
