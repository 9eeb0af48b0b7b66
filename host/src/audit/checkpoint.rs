//! The checkpoint line's format: what a checkpoint holds, the exact message
//! its signature signs, and the checks that need no key. Writing
//! checkpoints and verifying their signatures against an allowed_signers
//! file is [`crate::audit_checkpoint`]; the hash chain reads checkpoint lines
//! through this module only.

use crate::approvals::{SignatureError, fingerprint, parse_signature};
use serde::{Deserialize, Serialize};
use ssh_key::{PublicKey, SshSig};

/// The schema identifier of a checkpoint line.
pub const SCHEMA: &str = "gatehouse.audit-checkpoint/v1";

/// The SSHSIG namespace of checkpoint signatures: an approval signature
/// (`gatehouse-approval`) never counts as a checkpoint, nor the reverse.
pub const NAMESPACE: &str = "gatehouse-audit";

/// The first line of the signed message ([`message`]).
pub const MESSAGE_HEADER: &str = "gatehouse-audit-checkpoint/v1";

/// One checkpoint line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Its 1-based position in the file, as a record's.
    pub seq: u64,
    /// Hex sha256 of the previous line, as a record's.
    pub prev_sha256: String,
    /// The `seq` of the line it signs: always `seq - 1`, a record.
    pub covers_seq: u64,
    /// Hex sha256 of that line: always `prev_sha256`.
    pub covers_sha256: String,
    /// When it was signed, RFC 3339 UTC (wall clock); signed too, and the
    /// time at which the key's allowed_signers validity is checked.
    pub time: String,
    /// The signing key's fingerprint (`SHA256:…`, as `ssh-keygen -l`
    /// prints it); must be the key the signature names.
    pub key_fingerprint: String,
    /// The armored SSHSIG signature of [`message`], namespace [`NAMESPACE`].
    pub signature: String,
}

/// A checkpoint and where it is in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placed {
    /// Its line number (its `seq`).
    pub line: u64,
    /// The number of records before it.
    pub records_before: u64,
    /// The checkpoint.
    pub checkpoint: Checkpoint,
}

/// The exact bytes a checkpoint signs:
/// `gatehouse-audit-checkpoint/v1\n<covers_seq>\n<covers_sha256>\n<time>\n`
/// (decimal seq, lowercase hex sha256, the `time` field as written).
pub fn message(covers_seq: u64, covers_sha256: &str, time: &str) -> Vec<u8> {
    format!("{MESSAGE_HEADER}\n{covers_seq}\n{covers_sha256}\n{time}\n").into_bytes()
}

impl Checkpoint {
    /// The message this checkpoint's signature must sign.
    pub fn message(&self) -> Vec<u8> {
        message(self.covers_seq, &self.covers_sha256, &self.time)
    }

    /// Checks what can be checked without keys, once the chain link
    /// (`seq`, `prev_sha256`) is known to be right: it follows a record
    /// (`follows_record`) and covers exactly that line, its time is RFC
    /// 3339, and its signature is an SSHSIG of the audit namespace by the key
    /// `key_fingerprint` names. Not whether the signature verifies, nor
    /// whose key it is: that is
    /// [`check_signatures`](crate::audit_checkpoint::check_signatures).
    pub fn check_form(&self, follows_record: bool) -> Result<(), String> {
        if !follows_record {
            return Err(
                "a checkpoint must follow a record (gatehouse writes one after each record it signs): the line was moved, inserted or forged".into(),
            );
        }
        if self.covers_seq.saturating_add(1) != self.seq || self.covers_sha256 != self.prev_sha256 {
            return Err(format!(
                "the checkpoint covers line {} (sha256 {}), not the line before it: the line was edited or moved",
                self.covers_seq,
                crate::untrusted::line(&self.covers_sha256)
            ));
        }
        crate::time::parse_rfc3339(&self.time).map_err(|e| format!("checkpoint time: {e}"))?;
        let signature = self.sshsig()?;
        let named = fingerprint(&PublicKey::new(signature.public_key().clone(), ""));
        if named != self.key_fingerprint {
            return Err(format!(
                "key_fingerprint {} is not the key of its signature ({named}): the line was edited",
                crate::untrusted::line(&self.key_fingerprint)
            ));
        }
        if signature.namespace() != NAMESPACE {
            return Err(format!(
                "the signature is for the namespace {:?}, not {NAMESPACE:?}: it is not a checkpoint signature",
                crate::untrusted::line(signature.namespace())
            ));
        }
        Ok(())
    }

    /// The parsed signature.
    pub(crate) fn sshsig(&self) -> Result<SshSig, String> {
        parse_signature(self.signature.as_bytes()).map_err(|e| match e {
            SignatureError::Malformed(m) => format!("checkpoint signature: {m}"),
            SignatureError::UnsupportedKey(m) => format!("checkpoint signature: {m}"),
        })
    }
}
