//! Whether each signed approval counts for *this* release: [`assess`]
//! verifies every statement against the allowed signers ([`verify`]), then
//! checks it against the release and the trust rules, and says for each
//! approval whether it counts, for which groups, or why not.
//!
//! The checks, in order (the first that fails is the reason):
//!
//! 1. the signature, the key's listing and validity ([`verify`]);
//! 2. `decision` is `approve` (`reject` is reserved): `reject-decision`;
//! 3. the environment is the release's: `other-environment`;
//! 4. the release digest is the release's: `other-release`;
//! 5. not dated after the evaluation time: `not-yet-valid`; not expired at
//!    it (an approval counts while `at < expires`): `expired`;
//! 6. the principal is not the release's author when self-approval is
//!    forbidden: `self-approval`;
//! 7. the principal is a member of a claimed group: `not-in-group` when of
//!    none. An approval counts only for the claimed groups the principal is
//!    a member of; the others are listed as rejected for those groups;
//! 8. no earlier approval (in `--approvals` order, a directory's by file
//!    name) of the same principal counts already: `duplicate-principal`.

use super::allowed_signers::AllowedSigners;
use super::files::ApprovalFile;
use super::statement::{Decision, Statement};
use super::verify::{Rejection, VerifiedApproval, verify};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The release an approval must be for.
#[derive(Debug, Clone, Copy)]
pub struct ReleaseFacts<'a> {
    /// `Release::digest()`.
    pub digest: &'a str,
    /// The release's environment.
    pub environment: &'a str,
    /// The evaluation time, Unix seconds.
    pub at: i64,
}

/// Who may approve, beyond whose keys are listed: the trust settings.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Group → its member principals.
    pub groups: &'a BTreeMap<String, Vec<String>>,
    /// When self-approval is forbidden: the release's author and the
    /// metadata key that named them. `None` when self-approval is allowed.
    pub forbidden_author: Option<(&'a str, &'a str)>,
}

/// One approval file and what became of it.
#[derive(Debug, Clone)]
pub struct Assessed {
    /// The statement and signature as read.
    pub file: ApprovalFile,
    /// The statement, when it parses (also for most rejections).
    pub statement: Option<Statement>,
    /// The signing key's fingerprint, when the signature could be read.
    pub key_fingerprint: Option<String>,
    /// `sha256:<hex>` of the signature file's bytes as read.
    pub signature_sha256: String,
    /// Whether it counts.
    pub status: Status,
}

/// Whether an approval counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It counts for `groups` (the claimed groups the principal is a member
    /// of); `not_in_group` is the [`Rejection::NotInGroup`] for the other
    /// claimed groups, if any.
    Valid {
        /// The groups it counts for, in the statement's order.
        groups: Vec<String>,
        /// The rejection for the claimed groups it does not count for.
        not_in_group: Option<Rejection>,
    },
    /// It does not count at all.
    Rejected(Rejection),
}

/// A valid approval, as satisfaction and policies use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The approver.
    pub principal: String,
    /// The groups it counts for.
    pub groups: Vec<String>,
    /// When it was given (the statement's `time`), Unix seconds.
    pub time: i64,
    /// The signing key's fingerprint.
    pub key_fingerprint: String,
    /// The statement file.
    pub file: String,
}

impl Counted {
    /// The approval as policies see it (the WIT `approval` record):
    /// approver = principal, the groups it counts for, at = its time.
    pub fn to_release_approval(&self) -> crate::release::Approval {
        crate::release::Approval {
            approver: self.principal.clone(),
            groups: self.groups.clone(),
            at: crate::time::format_utc(self.time),
        }
    }
}

impl Assessed {
    /// The approval as counted, when it is valid.
    pub fn counted(&self) -> Option<Counted> {
        match (&self.status, &self.statement, &self.key_fingerprint) {
            (Status::Valid { groups, .. }, Some(statement), Some(key_fingerprint)) => {
                Some(Counted {
                    principal: statement.principal.clone(),
                    groups: groups.clone(),
                    time: statement.time,
                    key_fingerprint: key_fingerprint.clone(),
                    file: self.file.name.clone(),
                })
            }
            _ => None,
        }
    }

    /// The rejections to report: the whole approval's, or the one for the
    /// claimed groups a valid approval does not count for.
    pub fn rejection(&self) -> Option<&Rejection> {
        match &self.status {
            Status::Rejected(r) => Some(r),
            Status::Valid { not_in_group, .. } => not_in_group.as_ref(),
        }
    }
}

/// Assesses every approval file, in order, against the release and rules.
pub fn assess(
    files: Vec<ApprovalFile>,
    signers: &AllowedSigners,
    release: ReleaseFacts<'_>,
    rules: Rules<'_>,
) -> Vec<Assessed> {
    let mut out: Vec<Assessed> = Vec::with_capacity(files.len());
    for file in files {
        let signature_sha256 = format!("sha256:{}", hex::encode(Sha256::digest(&file.signature)));
        let (statement, key_fingerprint, status) =
            match verify(&file.statement, &file.signature, signers, release.at) {
                Err(rejection) => (
                    Statement::parse(&file.statement).ok(),
                    rejection.key_fingerprint().map(str::to_string),
                    Status::Rejected(rejection),
                ),
                Ok(verified) => {
                    let status = check_release(&verified, release, rules);
                    let status = match status {
                        Status::Valid { .. } => {
                            match out.iter().find(|earlier| {
                                earlier
                                    .counted()
                                    .is_some_and(|c| c.principal == verified.statement.principal)
                            }) {
                                Some(first) => Status::Rejected(Rejection::DuplicatePrincipal {
                                    principal: verified.statement.principal.clone(),
                                    first: first.file.name.clone(),
                                }),
                                None => status,
                            }
                        }
                        rejected => rejected,
                    };
                    (
                        Some(verified.statement),
                        Some(verified.key_fingerprint),
                        status,
                    )
                }
            };
        out.push(Assessed {
            file,
            statement,
            key_fingerprint,
            signature_sha256,
            status,
        });
    }
    out
}

/// Checks 2 to 7 on a verified approval.
fn check_release(
    verified: &VerifiedApproval,
    release: ReleaseFacts<'_>,
    rules: Rules<'_>,
) -> Status {
    let s = &verified.statement;
    let reject = Status::Rejected;
    if s.decision == Decision::Reject {
        return reject(Rejection::RejectDecision);
    }
    if s.environment != release.environment {
        return reject(Rejection::OtherEnvironment {
            approved: s.environment.clone(),
            release: release.environment.to_string(),
            other_digest: s.release_digest != release.digest,
        });
    }
    if s.release_digest != release.digest {
        return reject(Rejection::OtherRelease {
            approved: s.release_digest.clone(),
            release: release.digest.to_string(),
        });
    }
    if s.time > release.at {
        return reject(Rejection::NotYetValid {
            time: s.time,
            at: release.at,
        });
    }
    if release.at >= s.expires {
        return reject(Rejection::Expired {
            expires: s.expires,
            at: release.at,
        });
    }
    if let Some((author, key)) = rules.forbidden_author
        && s.principal == author
    {
        return reject(Rejection::SelfApproval {
            principal: s.principal.clone(),
            author_key: key.to_string(),
        });
    }
    let (member, not_member): (Vec<String>, Vec<String>) =
        s.groups.iter().cloned().partition(|group| {
            rules
                .groups
                .get(group)
                .is_some_and(|members| members.contains(&s.principal))
        });
    let not_in_group = (!not_member.is_empty()).then(|| Rejection::NotInGroup {
        principal: s.principal.clone(),
        groups: not_member,
    });
    match (member.is_empty(), not_in_group) {
        (true, Some(rejection)) => reject(rejection),
        (_, not_in_group) => Status::Valid {
            groups: member,
            not_in_group,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::signature::tests::test_key;
    use crate::approvals::signature::{self, NAMESPACE};
    use ssh_key::PrivateKey;

    const NOW: i64 = 1_796_040_000; // 2026-11-30T12:00:00Z
    const DIGEST: &str = "sha256:abababababababababababababababababababababababababababababababab";

    fn statement(principal: &str, edit: impl Fn(&mut Statement)) -> Vec<u8> {
        let mut s = Statement {
            release_digest: DIGEST.into(),
            environment: "prod-eu".into(),
            principal: principal.into(),
            groups: vec!["dba".into()],
            decision: Decision::Approve,
            time: NOW - 60,
            expires: NOW + 3600,
            comment: None,
        };
        edit(&mut s);
        s.to_json().expect("valid").into_bytes()
    }

    fn file(name: &str, key: &PrivateKey, statement: Vec<u8>) -> ApprovalFile {
        let sig = key
            .sign(NAMESPACE, signature::SIGNING_HASH, &statement)
            .expect("sign");
        ApprovalFile {
            name: name.into(),
            signature: signature::armor(&sig).expect("armor").into_bytes(),
            statement,
        }
    }

    fn signers(keys: &[(&str, &PrivateKey)]) -> AllowedSigners {
        let text: String = keys
            .iter()
            .map(|(p, k)| format!("{p} {}\n", k.public_key().to_openssh().expect("openssh")))
            .collect();
        AllowedSigners::parse(text.as_bytes(), "allowed_signers").expect("valid")
    }

    fn groups() -> BTreeMap<String, Vec<String>> {
        BTreeMap::from([
            (
                "dba".to_string(),
                vec!["alice".to_string(), "bob".to_string()],
            ),
            ("sre".to_string(), vec!["carol".to_string()]),
        ])
    }

    fn release() -> ReleaseFacts<'static> {
        ReleaseFacts {
            digest: DIGEST,
            environment: "prod-eu",
            at: NOW,
        }
    }

    /// The reason of each file, or `valid` with its groups.
    fn outcome(assessed: &[Assessed]) -> Vec<String> {
        assessed
            .iter()
            .map(|a| match &a.status {
                Status::Valid { groups, .. } => format!("valid {}", groups.join(",")),
                Status::Rejected(r) => r.name().to_string(),
            })
            .collect()
    }

    #[test]
    fn each_check_against_the_release_has_its_reason() {
        let (alice, bob, carol) = (test_key(1), test_key(2), test_key(3));
        let allowed = signers(&[("alice", &alice), ("bob", &bob), ("carol", &carol)]);
        let groups = groups();
        let rules = Rules {
            groups: &groups,
            forbidden_author: Some(("bob", "author")),
        };
        let other = "sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";
        let files = vec![
            file("1", &alice, statement("alice", |_| {})),
            file(
                "2",
                &alice,
                statement("alice", |s| s.groups.push("sre".into())),
            ),
            file("3", &carol, statement("carol", |_| {})),
            file("4", &bob, statement("bob", |_| {})),
            file(
                "5",
                &carol,
                statement("carol", |s| s.environment = "staging".into()),
            ),
            file(
                "6",
                &carol,
                statement("carol", |s| s.release_digest = other.into()),
            ),
            file("7", &carol, statement("carol", |s| s.time = NOW + 1)),
            file("8", &carol, statement("carol", |s| s.expires = NOW)),
            file(
                "9",
                &carol,
                statement("carol", |s| s.decision = Decision::Reject),
            ),
            file("10", &alice, statement("carol", |_| {})),
        ];
        let assessed = assess(files, &allowed, release(), rules);
        assert_eq!(
            outcome(&assessed),
            [
                "valid dba",
                "duplicate-principal",
                "not-in-group",
                "self-approval",
                "other-environment",
                "other-release",
                "not-yet-valid",
                "expired",
                "reject-decision",
                "unknown-key",
            ]
        );
        let duplicate = assessed[1].rejection().expect("rejected").message();
        assert!(
            duplicate.contains("already approved in \"1\""),
            "{duplicate}"
        );
        let copied = assessed[4].rejection().expect("rejected").message();
        assert!(!copied.contains("another release digest"), "{copied}");
        assert_eq!(assessed[0].counted().expect("valid").principal, "alice");
        assert_eq!(
            assessed[9].key_fingerprint.as_deref(),
            Some(signature::fingerprint(alice.public_key()).as_str())
        );
        assert_eq!(assessed[0].signature_sha256.len(), "sha256:".len() + 64);
        // A valid expiry boundary: one second before it still counts.
        let files = vec![file(
            "e",
            &carol,
            statement("carol", |s| {
                s.groups = vec!["sre".into()];
                s.expires = NOW + 1;
            }),
        )];
        assert_eq!(
            outcome(&assess(files, &allowed, release(), rules)),
            ["valid sre"]
        );
    }

    #[test]
    fn an_approval_counts_only_for_the_groups_of_its_principal() {
        let alice = test_key(1);
        let allowed = signers(&[("alice", &alice)]);
        let groups = groups();
        let rules = Rules {
            groups: &groups,
            forbidden_author: None,
        };
        let files = vec![file(
            "a",
            &alice,
            statement("alice", |s| {
                s.groups = vec!["sre".into(), "dba".into(), "x".into()]
            }),
        )];
        let assessed = assess(files, &allowed, release(), rules);
        let Status::Valid {
            groups,
            not_in_group,
        } = &assessed[0].status
        else {
            panic!("valid for dba: {:?}", assessed[0].status)
        };
        assert_eq!(groups, &["dba"]);
        assert_eq!(
            not_in_group.as_ref().map(Rejection::name),
            Some("not-in-group")
        );
        let message = assessed[0].rejection().expect("partial").message();
        assert!(
            message.contains("not a member of the groups \"sre\", \"x\""),
            "{message}"
        );
    }

    #[test]
    fn self_approval_is_allowed_when_the_rules_say_so_and_a_bad_signature_keeps_its_statement() {
        let bob = test_key(2);
        let allowed = signers(&[("bob", &bob)]);
        let groups = groups();
        let rules = Rules {
            groups: &groups,
            forbidden_author: None,
        };
        let mut edited = file("b", &bob, statement("bob", |_| {}));
        let at = edited.statement.len() - 3;
        edited.statement[at] = b' ';
        let ok = file("ok", &bob, statement("bob", |_| {}));
        let assessed = assess(vec![edited, ok], &allowed, release(), rules);
        assert_eq!(outcome(&assessed), ["bad-signature", "valid dba"]);
        assert_eq!(
            assessed[0].statement.as_ref().map(|s| s.principal.as_str()),
            Some("bob"),
            "a rejected approval still names its principal"
        );
        assert!(assessed[0].counted().is_none());
    }
}
