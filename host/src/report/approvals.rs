//! The approvals part of a report: which approvals counted, which were
//! rejected and why, whether they were verified at all, and the
//! `gatehouse approve` command an approver runs for a release that waits.

use crate::approvals::{Assessed, Status};
use crate::release::Approval;
use serde::Serialize;

/// The approvals of one evaluation (`approvals` in the JSON report).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApprovalsReport {
    /// True when approvals were passed to the policies without any
    /// verification: the unsigned `[{"approver": …}]` lists (or the input's
    /// own `approvals`) of a run without a trust section. Anyone who can
    /// write those files could have written them.
    pub unverified: bool,
    /// Those unverified approvals, as the policies saw them.
    pub unverified_approvals: Vec<Approval>,
    /// The allowed_signers file signed approvals were verified against;
    /// null without a trust section.
    pub allowed_signers: Option<SignersReport>,
    /// The signed approvals that count, in `--approvals` order.
    pub valid: Vec<ValidApproval>,
    /// The signed approvals (or, for `not-in-group`, the claimed groups of
    /// a valid one) that do not count, each with its reason.
    pub rejected: Vec<RejectedApproval>,
}

/// The allowed_signers file, named and pinned by digest.
#[derive(Debug, Clone, Serialize)]
pub struct SignersReport {
    /// The path, as configured.
    pub path: String,
    /// Hex sha256 of its bytes.
    pub sha256: String,
}

/// A signed approval that counts.
#[derive(Debug, Clone, Serialize)]
pub struct ValidApproval {
    /// The statement file.
    pub file: String,
    /// Who approved.
    pub principal: String,
    /// The groups it counts for.
    pub groups: Vec<String>,
    /// When it was given (RFC 3339 UTC).
    pub at: String,
    /// When it stops counting (RFC 3339 UTC).
    pub expires: String,
    /// The signing key's fingerprint (`SHA256:…`).
    pub key_fingerprint: String,
    /// `sha256:` of the signature file.
    pub signature_sha256: String,
}

/// A signed approval that does not count (for `groups`).
#[derive(Debug, Clone, Serialize)]
pub struct RejectedApproval {
    /// The statement file.
    pub file: String,
    /// Its principal, null when the statement cannot be read.
    pub principal: Option<String>,
    /// The machine name of the reason (`bad-signature`, `expired`, …).
    pub reason: &'static str,
    /// What is wrong, for people.
    pub message: String,
    /// The groups the rejection concerns: the statement's groups, or for
    /// `not-in-group` those the principal is not a member of.
    pub groups: Vec<String>,
}

impl ApprovalsReport {
    /// The report of approvals passed without verification.
    pub fn unverified(approvals: &[Approval]) -> Self {
        ApprovalsReport {
            unverified: !approvals.is_empty(),
            unverified_approvals: approvals.to_vec(),
            ..ApprovalsReport::default()
        }
    }

    /// The report of signed approvals assessed against `signers`.
    pub fn verified(path: String, sha256: String, assessed: &[Assessed]) -> Self {
        let mut report = ApprovalsReport {
            allowed_signers: Some(SignersReport { path, sha256 }),
            ..ApprovalsReport::default()
        };
        for a in assessed {
            let principal = a.statement.as_ref().map(|s| s.principal.clone());
            if let (Some(counted), Some(statement)) = (a.counted(), &a.statement) {
                report.valid.push(ValidApproval {
                    file: a.file.name.clone(),
                    principal: counted.principal,
                    groups: counted.groups,
                    at: crate::time::format_utc(statement.time),
                    expires: crate::time::format_utc(statement.expires),
                    key_fingerprint: counted.key_fingerprint,
                    signature_sha256: a.signature_sha256.clone(),
                });
            }
            if let Some(rejection) = a.rejection() {
                let groups = match (&a.status, rejection) {
                    (_, crate::approvals::Rejection::NotInGroup { groups, .. }) => groups.clone(),
                    (Status::Rejected(_), _) => a
                        .statement
                        .as_ref()
                        .map(|s| s.groups.clone())
                        .unwrap_or_default(),
                    (Status::Valid { .. }, _) => Vec::new(),
                };
                report.rejected.push(RejectedApproval {
                    file: a.file.name.clone(),
                    principal,
                    reason: rejection.name(),
                    message: rejection.message(),
                    groups,
                });
            }
        }
        report
    }

    /// Whether there is anything to show.
    pub fn is_empty(&self) -> bool {
        !self.unverified && self.allowed_signers.is_none()
    }
}

/// The `gatehouse approve` command an approver runs to approve this
/// release (digest and environment) for a request of `groups`: with one
/// group named, that group; otherwise `--group GROUP` for the approver to
/// fill in. Shell-quoted where needed; the text is untrusted (environment
/// and group names come from the input and the policy), so escape it for
/// display.
pub fn approve_command(release_digest: &str, environment: &str, groups: &[String]) -> String {
    let group = match groups {
        [one] => shell_word(one),
        _ => "GROUP".to_string(),
    };
    format!(
        "gatehouse approve --digest {release_digest} --environment {} --group {group} --key ~/.ssh/id_ed25519",
        shell_word(environment)
    )
}

/// A word as a POSIX shell reads it: as is when it is plain, else in single
/// quotes (`'` written as `'\''`).
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_approve_command_names_the_release_and_quotes_what_needs_it() {
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            approve_command(&digest, "prod-eu", &["dba".to_string()]),
            format!(
                "gatehouse approve --digest {digest} --environment prod-eu --group dba --key ~/.ssh/id_ed25519"
            )
        );
        let command = approve_command(
            &digest,
            "it's; rm -rf /",
            &["tech-lead".to_string(), "on-call".to_string()],
        );
        assert!(
            command.contains("--environment 'it'\\''s; rm -rf /' --group GROUP "),
            "{command}"
        );
        assert!(approve_command(&digest, "", &[]).contains("--environment '' --group GROUP"));
    }
}
