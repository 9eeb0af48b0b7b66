//! The approvals part of an audit record (`approvals` in docs/audit.md),
//! and re-checking it on `audit replay`.
//!
//! A record keeps, per signed approval, what was decided (status, reason,
//! counted groups, key fingerprint, signature digest) **and the evidence**:
//! the statement's and the signature's exact bytes (base64; at most 64 KiB
//! and 16 KiB each, [`super::MAX_APPROVAL_FILES`] of them), with the
//! trust settings and the sha256 of the allowed_signers file they were
//! verified against. Replay re-verifies the signatures from those bytes
//! against an allowed_signers file whose sha256 matches, so an approval
//! whose recorded signature was tampered with shows as rejected.

use super::allowed_signers::AllowedSigners;
use super::assess::{Assessed, ReleaseFacts, Status, assess};
use super::files::ApprovalFile;
use super::trust::{SelfApproval, Trust};
use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The approvals of one evaluation, as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalsRecord {
    /// True when unsigned approvals were passed to the policies without
    /// verification (no trust section; they are in the record's `input`).
    pub unverified: bool,
    /// The trust settings signed approvals were checked by, null without a
    /// trust section.
    pub trust: Option<TrustRecord>,
    /// Each signed approval, in `--approvals` order.
    pub entries: Vec<ApprovalEntry>,
}

/// The trust settings, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustRecord {
    /// The allowed_signers file's path, as configured.
    pub allowed_signers: String,
    /// Hex sha256 of that file's bytes: replay accepts only this file.
    pub allowed_signers_sha256: String,
    /// Group → member principals.
    pub groups: BTreeMap<String, Vec<String>>,
    /// `forbid` or `allow`.
    pub self_approval: String,
    /// The metadata key naming the release's author.
    pub author_key: String,
}

/// One signed approval, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalEntry {
    /// The statement file.
    pub file: String,
    /// The statement's principal, null when it cannot be read.
    pub principal: Option<String>,
    /// The signing key's fingerprint, null when the signature cannot be read.
    pub key_fingerprint: Option<String>,
    /// Valid: the groups it counted for. Rejected: the statement's groups.
    pub groups: Vec<String>,
    /// Claimed groups a valid approval did not count for (`not-in-group`).
    pub rejected_groups: Vec<String>,
    /// The statement's time (RFC 3339 UTC), null when it cannot be read.
    pub at: Option<String>,
    /// `sha256:` of the signature file's bytes.
    pub signature_sha256: String,
    /// `valid` or `rejected`.
    pub status: String,
    /// The reason's machine name when rejected, else null.
    pub reason: Option<String>,
    /// The reason for people when rejected, else null.
    pub message: Option<String>,
    /// The statement file's bytes, base64.
    pub statement_base64: String,
    /// The signature file's bytes, base64.
    pub signature_base64: String,
}

impl TrustRecord {
    /// The record of `trust`, whose allowed_signers file has `sha256`.
    pub fn new(trust: &Trust, sha256: &str) -> Self {
        TrustRecord {
            allowed_signers: trust.allowed_signers.display().to_string(),
            allowed_signers_sha256: sha256.to_string(),
            groups: trust.groups.clone(),
            self_approval: trust.self_approval.as_str().to_string(),
            author_key: trust.author_key.clone(),
        }
    }

    /// The trust settings again (an unknown `self_approval` reads as
    /// `forbid`, failing closed).
    pub fn to_trust(&self) -> Trust {
        Trust {
            allowed_signers: PathBuf::from(&self.allowed_signers),
            groups: self.groups.clone(),
            self_approval: if self.self_approval == "allow" {
                SelfApproval::Allow
            } else {
                SelfApproval::Forbid
            },
            author_key: self.author_key.clone(),
        }
    }
}

impl ApprovalEntry {
    /// The record of one assessed approval.
    pub fn new(a: &Assessed) -> Self {
        let (status, groups, rejected_groups) = match &a.status {
            Status::Valid {
                groups,
                not_in_group,
            } => {
                let rejected = match not_in_group {
                    Some(super::Rejection::NotInGroup { groups, .. }) => groups.clone(),
                    _ => Vec::new(),
                };
                ("valid", groups.clone(), rejected)
            }
            Status::Rejected(_) => (
                "rejected",
                a.statement
                    .as_ref()
                    .map(|s| s.groups.clone())
                    .unwrap_or_default(),
                Vec::new(),
            ),
        };
        let rejection = match &a.status {
            Status::Rejected(r) => Some(r),
            Status::Valid { .. } => None,
        };
        ApprovalEntry {
            file: a.file.name.clone(),
            principal: a.statement.as_ref().map(|s| s.principal.clone()),
            key_fingerprint: a.key_fingerprint.clone(),
            groups,
            rejected_groups,
            at: a
                .statement
                .as_ref()
                .map(|s| crate::time::format_utc(s.time)),
            signature_sha256: a.signature_sha256.clone(),
            status: status.to_string(),
            reason: rejection.map(|r| r.name().to_string()),
            message: rejection.map(super::Rejection::message),
            statement_base64: Base64::encode_string(&a.file.statement),
            signature_base64: Base64::encode_string(&a.file.signature),
        }
    }

    /// The approval file again, from the recorded bytes.
    pub fn to_file(&self) -> Result<ApprovalFile, String> {
        let decode = |field: &str, text: &str| {
            Base64::decode_vec(text).map_err(|e| {
                format!(
                    "approval {:?}: {field} is not base64 ({e}): the record was edited",
                    self.file
                )
            })
        };
        Ok(ApprovalFile {
            name: self.file.clone(),
            statement: decode("statement_base64", &self.statement_base64)?,
            signature: decode("signature_base64", &self.signature_base64)?,
        })
    }

    /// `valid`, or `rejected (reason)`: what replay compares.
    pub fn outcome(&self) -> String {
        match &self.reason {
            Some(reason) => format!("{} ({reason})", self.status),
            None => self.status.clone(),
        }
    }
}

impl ApprovalsRecord {
    /// The record of signed approvals assessed under `trust`.
    pub fn verified(trust: TrustRecord, assessed: &[Assessed]) -> Self {
        ApprovalsRecord {
            unverified: false,
            trust: Some(trust),
            entries: assessed.iter().map(ApprovalEntry::new).collect(),
        }
    }

    /// Re-assesses the recorded approvals (replay): the recorded bytes,
    /// verified against `signers` (which must be the recorded file: same
    /// sha256) for the release with `metadata`, `digest` and `environment`
    /// at the evaluation time `at`, under the recorded trust settings.
    pub fn reassess(
        &self,
        signers: &AllowedSigners,
        metadata: &BTreeMap<String, String>,
        release: ReleaseFacts<'_>,
    ) -> Result<Vec<Assessed>, String> {
        let Some(trust) = &self.trust else {
            return Ok(Vec::new());
        };
        if signers.sha256() != trust.allowed_signers_sha256 {
            return Err(format!(
                "the allowed_signers file {} has sha256 {}, but the record's approvals were verified against {} with sha256 {}; pass --allowed-signers with that file as it was then",
                signers.source(),
                signers.sha256(),
                trust.allowed_signers,
                trust.allowed_signers_sha256
            ));
        }
        let files = self
            .entries
            .iter()
            .map(ApprovalEntry::to_file)
            .collect::<Result<Vec<_>, _>>()?;
        let trust = trust.to_trust();
        let rules = if files.is_empty() {
            crate::approvals::Rules {
                groups: &trust.groups,
                forbidden_author: None,
            }
        } else {
            trust.rules(metadata)?
        };
        Ok(assess(files, signers, release, rules))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::signature::tests::test_key;
    use crate::approvals::signature::{self, NAMESPACE};
    use crate::approvals::statement::{Decision, Statement};

    const NOW: i64 = 1_796_040_000;
    const DIGEST: &str = "sha256:abababababababababababababababababababababababababababababababab";

    #[test]
    fn a_recorded_approval_replays_and_a_tampered_signature_is_caught() {
        let key = test_key(1);
        let statement = Statement {
            release_digest: DIGEST.into(),
            environment: "prod".into(),
            principal: "alice".into(),
            groups: vec!["dba".into(), "sre".into()],
            decision: Decision::Approve,
            time: NOW - 10,
            expires: NOW + 10,
            comment: None,
        }
        .to_json()
        .expect("valid")
        .into_bytes();
        let sig = key
            .sign(NAMESPACE, signature::SIGNING_HASH, &statement)
            .expect("sign");
        let file = ApprovalFile {
            name: "a.approval.json".into(),
            statement,
            signature: signature::armor(&sig).expect("armor").into_bytes(),
        };
        let signers = AllowedSigners::parse(
            format!(
                "alice {}\n",
                key.public_key().to_openssh().expect("openssh")
            )
            .as_bytes(),
            "allowed_signers",
        )
        .expect("valid");
        let trust = Trust::from_flags(
            Some(std::path::Path::new("allowed_signers")),
            &["dba=alice".to_string()],
            true,
            None,
        )
        .expect("valid")
        .expect("given");
        let release = ReleaseFacts {
            digest: DIGEST,
            environment: "prod",
            at: NOW,
        };
        let metadata = BTreeMap::new();
        let rules = trust.rules(&metadata).expect("rules");
        let assessed = assess(vec![file], &signers, release, rules);
        let record =
            ApprovalsRecord::verified(TrustRecord::new(&trust, signers.sha256()), &assessed);
        let entry = &record.entries[0];
        assert_eq!(
            (entry.status.as_str(), &entry.groups, &entry.rejected_groups),
            ("valid", &vec!["dba".to_string()], &vec!["sre".to_string()])
        );
        // Through JSON and back, it replays to the same outcome.
        let json = serde_json::to_string(&record).expect("json");
        let again: ApprovalsRecord = serde_json::from_str(&json).expect("parse");
        let replayed = again
            .reassess(&signers, &metadata, release)
            .expect("replay");
        assert_eq!(ApprovalEntry::new(&replayed[0]), *entry);
        // A signature byte changed in the record: now a bad signature.
        let mut tampered = again.clone();
        let mut sig = tampered.entries[0].to_file().expect("decode").signature;
        let at = sig.len() / 2;
        sig[at] = if sig[at] == b'A' { b'B' } else { b'A' };
        tampered.entries[0].signature_base64 = Base64::encode_string(&sig);
        let replayed = tampered
            .reassess(&signers, &metadata, release)
            .expect("replay");
        let outcome = ApprovalEntry::new(&replayed[0]).outcome();
        assert!(
            outcome.starts_with("rejected (") && outcome != entry.outcome(),
            "{outcome}"
        );
        // Another allowed_signers file is refused.
        let other = AllowedSigners::parse(b"# nobody\n", "other").expect("valid");
        let err = again
            .reassess(&other, &metadata, release)
            .expect_err("other file");
        assert!(
            err.contains("pass --allowed-signers with that file"),
            "{err}"
        );
    }
}
