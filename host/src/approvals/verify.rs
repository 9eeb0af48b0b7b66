//! Verifying one approval: a statement file, its detached signature and the
//! allowed_signers file that says whose keys count.
//!
//! [`verify`] answers one question — did a key listed for the statement's
//! principal, valid now and allowed in the approval namespace, sign exactly
//! these bytes? — and says precisely why not when it did not. Whether the
//! approval is *for this release* (its digest, environment, expiry, the
//! principal's groups, separation of duties, a `reject` decision) is for
//! the caller to check on [`VerifiedApproval::statement`].
//!
//! Messages quote the statement's principal and the signature's namespace,
//! which come from the approval files: print them through
//! [`crate::untrusted`] like every untrusted text.

use super::allowed_signers::{AllowedSigners, SignerEntry};
use super::pattern::ListMatch;
use super::signature::{self, CheckError, NAMESPACE, SignatureError};
use super::statement::{Statement, StatementError};
use sha2::{Digest, Sha256};
use std::fmt;

/// An approval whose signature verified against the allowed signers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedApproval {
    /// The statement, parsed and checked.
    pub statement: Statement,
    /// The signing key's fingerprint, `SHA256:…` as `ssh-keygen -l` prints it.
    pub key_fingerprint: String,
    /// The signing key's type, e.g. `ssh-ed25519`.
    pub key_algorithm: String,
    /// `sha256:<hex>` of the signature file's bytes as read (what
    /// `sha256sum FILE.sig` prints): names the evidence in audit records.
    pub signature_sha256: String,
    /// The allowed_signers line that authorised the key.
    pub signer_line: usize,
}

/// Why an approval does not count. Each variant has a stable machine name
/// ([`Rejection::name`]) for reports and audit records, and a message
/// ([`Rejection::message`], also its `Display`) for people. More reasons
/// will be added (the release checks of the integration), hence
/// `non_exhaustive`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The statement file is not a valid `gatehouse.approval/v1` statement.
    MalformedStatement(StatementError),
    /// The signature file is not a usable armored SSHSIG signature.
    MalformedSignature(String),
    /// The signature was made with a key type Gatehouse does not verify.
    UnsupportedKey(String),
    /// The signature is for another SSHSIG namespace (e.g. `git`, `file`).
    WrongNamespace {
        /// The namespace the signature was made for.
        namespace: String,
    },
    /// The signature does not verify over the statement's bytes: the
    /// statement was changed after signing, or the signature belongs to
    /// another statement.
    BadSignature {
        /// The fingerprint of the key the signature names.
        key_fingerprint: String,
    },
    /// No allowed_signers line lists this key for this principal.
    UnknownKey {
        /// The statement's principal.
        principal: String,
        /// The signing key's fingerprint.
        key_fingerprint: String,
        /// The lines listing this key for other principals (empty when the
        /// key is not listed at all), with their principals field.
        listed_for: Vec<(usize, String)>,
    },
    /// The key is listed for the principal only with a `namespaces=` that
    /// excludes `gatehouse-approval`.
    KeyNotForNamespace {
        /// The statement's principal.
        principal: String,
        /// The signing key's fingerprint.
        key_fingerprint: String,
        /// The lines listing the key for the principal.
        lines: Vec<usize>,
    },
    /// The key is listed for the principal and namespace, but not valid at
    /// the verification time (`valid-after` / `valid-before`).
    KeyNotValidAtTime {
        /// The statement's principal.
        principal: String,
        /// The signing key's fingerprint.
        key_fingerprint: String,
        /// The verification time, Unix seconds.
        at: i64,
        /// Each line's window: (line, valid-after, valid-before).
        windows: Vec<(usize, Option<i64>, Option<i64>)>,
    },
    /// The statement's `decision` is `reject`: reserved, refused for now.
    RejectDecision,
    /// The statement is for another environment (and so, the digest
    /// covering the environment, usually for another release too).
    OtherEnvironment {
        /// The statement's environment.
        approved: String,
        /// The release's environment.
        release: String,
        /// Whether the statement's release digest differs as well.
        other_digest: bool,
    },
    /// The statement is for another release digest, in this environment.
    OtherRelease {
        /// The statement's release digest.
        approved: String,
        /// The release's digest.
        release: String,
    },
    /// The statement is dated after the evaluation time.
    NotYetValid {
        /// The statement's `time`.
        time: i64,
        /// The evaluation time.
        at: i64,
    },
    /// The statement expired at or before the evaluation time.
    Expired {
        /// The statement's `expires`.
        expires: i64,
        /// The evaluation time.
        at: i64,
    },
    /// The principal is the release's author, and the trust settings
    /// forbid self-approval.
    SelfApproval {
        /// The statement's principal.
        principal: String,
        /// The metadata key naming the author.
        author_key: String,
    },
    /// The principal is not a member of these groups the statement claims
    /// (per the trust settings' groups).
    NotInGroup {
        /// The statement's principal.
        principal: String,
        /// The claimed groups the principal is not a member of.
        groups: Vec<String>,
    },
    /// An earlier approval (by name order) of the same principal counts
    /// already; one principal counts once.
    DuplicatePrincipal {
        /// The statement's principal.
        principal: String,
        /// The file of the approval that counts.
        first: String,
    },
}

impl Rejection {
    /// The stable machine name: `malformed-statement`, `malformed-signature`,
    /// `unsupported-key`, `wrong-namespace`, `bad-signature`, `unknown-key`,
    /// `key-not-for-namespace`, `key-not-valid-at-time`; and for the checks
    /// against a release: `reject-decision`, `other-environment`,
    /// `other-release`, `not-yet-valid`, `expired`, `self-approval`,
    /// `not-in-group`, `duplicate-principal`.
    pub fn name(&self) -> &'static str {
        match self {
            Rejection::MalformedStatement(_) => "malformed-statement",
            Rejection::MalformedSignature(_) => "malformed-signature",
            Rejection::UnsupportedKey(_) => "unsupported-key",
            Rejection::WrongNamespace { .. } => "wrong-namespace",
            Rejection::BadSignature { .. } => "bad-signature",
            Rejection::UnknownKey { .. } => "unknown-key",
            Rejection::KeyNotForNamespace { .. } => "key-not-for-namespace",
            Rejection::KeyNotValidAtTime { .. } => "key-not-valid-at-time",
            Rejection::RejectDecision => "reject-decision",
            Rejection::OtherEnvironment { .. } => "other-environment",
            Rejection::OtherRelease { .. } => "other-release",
            Rejection::NotYetValid { .. } => "not-yet-valid",
            Rejection::Expired { .. } => "expired",
            Rejection::SelfApproval { .. } => "self-approval",
            Rejection::NotInGroup { .. } => "not-in-group",
            Rejection::DuplicatePrincipal { .. } => "duplicate-principal",
        }
    }

    /// The fingerprint of the signing key, when the rejection names one.
    pub fn key_fingerprint(&self) -> Option<&str> {
        match self {
            Rejection::BadSignature { key_fingerprint }
            | Rejection::UnknownKey {
                key_fingerprint, ..
            }
            | Rejection::KeyNotForNamespace {
                key_fingerprint, ..
            }
            | Rejection::KeyNotValidAtTime {
                key_fingerprint, ..
            } => Some(key_fingerprint),
            _ => None,
        }
    }

    /// What is wrong, for people (one line, untrusted text unescaped).
    pub fn message(&self) -> String {
        match self {
            Rejection::MalformedStatement(e) => format!("malformed statement: {e}"),
            Rejection::MalformedSignature(m) => format!("malformed signature: {m}"),
            Rejection::UnsupportedKey(m) => format!("unsupported key: {m}"),
            Rejection::WrongNamespace { namespace } => format!(
                "the signature is for the namespace {namespace:?}, not {NAMESPACE:?}; sign with ssh-keygen -Y sign -n {NAMESPACE} or gatehouse approve"
            ),
            Rejection::BadSignature { key_fingerprint } => format!(
                "bad signature: the signature by {key_fingerprint} does not match the statement's bytes (changed after signing, or the signature of another statement)"
            ),
            Rejection::UnknownKey {
                principal,
                key_fingerprint,
                listed_for,
            } => {
                let known = if listed_for.is_empty() {
                    "the key is not listed for anyone".to_string()
                } else {
                    let lines: Vec<String> = listed_for
                        .iter()
                        .map(|(line, principals)| format!("{principals:?} at line {line}"))
                        .collect();
                    format!("the key is listed only for {}", lines.join(", "))
                };
                format!(
                    "unknown key: no allowed_signers line lists {key_fingerprint} for the principal {principal:?} ({known})"
                )
            }
            Rejection::KeyNotForNamespace {
                principal,
                key_fingerprint,
                lines,
            } => format!(
                "the key {key_fingerprint} of {principal:?} may not sign approvals: its allowed_signers {} {} a namespaces= option without {NAMESPACE:?}",
                plural(lines.len(), "line", "lines"),
                join_lines(lines)
            ),
            Rejection::KeyNotValidAtTime {
                principal,
                key_fingerprint,
                at,
                windows,
            } => {
                let windows: Vec<String> = windows
                    .iter()
                    .map(|(line, after, before)| {
                        let after = after.map_or("any time".into(), crate::time::format_utc);
                        let before = before.map_or("any time".into(), crate::time::format_utc);
                        format!("line {line}: from {after} to {before}")
                    })
                    .collect();
                format!(
                    "the key {key_fingerprint} of {principal:?} is not valid at {} ({})",
                    crate::time::format_utc(*at),
                    windows.join("; ")
                )
            }
            Rejection::RejectDecision => {
                "the statement's decision is \"reject\", which is reserved: only \"approve\" statements are accepted today".to_string()
            }
            Rejection::OtherEnvironment {
                approved,
                release,
                other_digest,
            } => format!(
                "approved for the environment {approved:?}, but this release is for {release:?}{}; an approval counts only for the environment it names: approve this release with gatehouse approve --environment {release:?}",
                if *other_digest {
                    " (and for another release digest)"
                } else {
                    ""
                }
            ),
            Rejection::OtherRelease { approved, release } => format!(
                "approves the release {approved}, not this release {release}: the release changed after it was approved (or the approval is for another one); approve {release}"
            ),
            Rejection::NotYetValid { time, at } => format!(
                "dated {}, after the evaluation time {}: an approval counts from its time on (is the approver's clock ahead?)",
                crate::time::format_utc(*time),
                crate::time::format_utc(*at)
            ),
            Rejection::Expired { expires, at } => format!(
                "expired at {}, before the evaluation time {}: approve again",
                crate::time::format_utc(*expires),
                crate::time::format_utc(*at)
            ),
            Rejection::SelfApproval {
                principal,
                author_key,
            } => format!(
                "{principal:?} is the release's author (metadata {author_key}) and the trust settings forbid self-approval: someone else must approve"
            ),
            Rejection::NotInGroup { principal, groups } => {
                let groups: Vec<String> = groups.iter().map(|g| format!("{g:?}")).collect();
                format!(
                    "{principal:?} is not a member of {} {} in the trust settings' groups, so the approval does not count for {}",
                    plural(groups.len(), "the group", "the groups"),
                    groups.join(", "),
                    plural(groups.len(), "it", "them")
                )
            }
            Rejection::DuplicatePrincipal { principal, first } => format!(
                "{principal:?} has already approved in {first:?}, which counts; a principal counts once (sign one statement naming every group)"
            ),
        }
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

fn join_lines(lines: &[usize]) -> String {
    let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
    format!("{} has", lines.join(", "))
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Rejection {}

/// Verifies an approval: `statement_bytes` (the statement file exactly as
/// read) signed by `signature_bytes` (its armored `.sig` file), with a key
/// that `signers` lists for the statement's principal, for the
/// `gatehouse-approval` namespace, and valid at `at` (Unix seconds; pass
/// the evaluation time, as `ssh-keygen -Y verify` checks at the current
/// time). The signature is checked before the key's listing, so a changed
/// byte is always a [`Rejection::BadSignature`].
pub fn verify(
    statement_bytes: &[u8],
    signature_bytes: &[u8],
    signers: &AllowedSigners,
    at: i64,
) -> Result<VerifiedApproval, Rejection> {
    let statement = Statement::parse(statement_bytes).map_err(Rejection::MalformedStatement)?;
    let sshsig = signature::parse(signature_bytes).map_err(|e| match e {
        SignatureError::Malformed(m) => Rejection::MalformedSignature(m),
        SignatureError::UnsupportedKey(m) => Rejection::UnsupportedKey(m),
    })?;
    let embedded = ssh_key::PublicKey::new(sshsig.public_key().clone(), "");
    let key_fingerprint = signature::fingerprint(&embedded);
    let key = signature::check(&sshsig, NAMESPACE, statement_bytes).map_err(|e| match e {
        CheckError::WrongNamespace(namespace) => Rejection::WrongNamespace { namespace },
        CheckError::BadSignature => Rejection::BadSignature {
            key_fingerprint: key_fingerprint.clone(),
        },
    })?;
    let principal = &statement.principal;
    let with_key: Vec<&SignerEntry> = signers
        .entries()
        .iter()
        .filter(|e| e.key.key_data() == key.key_data())
        .collect();
    let for_principal: Vec<&SignerEntry> = with_key
        .iter()
        .copied()
        .filter(|e| e.principal_match(principal) == ListMatch::Matched)
        .collect();
    if for_principal.is_empty() {
        return Err(Rejection::UnknownKey {
            principal: principal.clone(),
            key_fingerprint,
            listed_for: with_key
                .iter()
                .map(|e| (e.line, e.principals.clone()))
                .collect(),
        });
    }
    let in_namespace: Vec<&SignerEntry> = for_principal
        .iter()
        .copied()
        .filter(|e| e.allows_namespace(NAMESPACE))
        .collect();
    if in_namespace.is_empty() {
        return Err(Rejection::KeyNotForNamespace {
            principal: principal.clone(),
            key_fingerprint,
            lines: for_principal.iter().map(|e| e.line).collect(),
        });
    }
    let Some(authorising) = in_namespace.iter().find(|e| e.valid_at(at)) else {
        return Err(Rejection::KeyNotValidAtTime {
            principal: principal.clone(),
            key_fingerprint,
            at,
            windows: in_namespace
                .iter()
                .map(|e| (e.line, e.valid_after, e.valid_before))
                .collect(),
        });
    };
    Ok(VerifiedApproval {
        key_algorithm: key.algorithm().as_str().to_string(),
        key_fingerprint,
        signature_sha256: format!("sha256:{}", hex::encode(Sha256::digest(signature_bytes))),
        signer_line: authorising.line,
        statement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::signature::tests::{test_key, test_p256_key};
    use crate::approvals::statement::Decision;
    use ssh_key::PrivateKey;

    const NOW: i64 = 1_796_040_000; // 2026-11-30T12:00:00Z

    fn statement(principal: &str) -> Vec<u8> {
        Statement {
            release_digest: format!("sha256:{}", "ab".repeat(32)),
            environment: "prod-eu".into(),
            principal: principal.into(),
            groups: vec!["dba".into()],
            decision: Decision::Approve,
            time: NOW,
            expires: NOW + 86_400,
            comment: None,
        }
        .to_json()
        .expect("valid")
        .into_bytes()
    }

    fn sign(key: &PrivateKey, namespace: &str, message: &[u8]) -> Vec<u8> {
        let sig = key
            .sign(namespace, signature::SIGNING_HASH, message)
            .expect("sign");
        signature::armor(&sig).expect("armor").into_bytes()
    }

    fn line(principals: &str, options: &str, key: &PrivateKey) -> String {
        format!(
            "{principals} {options} {}\n",
            key.public_key().to_openssh().expect("openssh")
        )
    }

    fn signers(text: &str) -> AllowedSigners {
        AllowedSigners::parse(text.as_bytes(), "allowed_signers").expect("valid")
    }

    #[test]
    fn a_listed_key_verifies_and_names_the_evidence() {
        for key in [test_key(1), test_p256_key()] {
            let message = statement("alice@example.com");
            let sig = sign(&key, NAMESPACE, &message);
            let allowed = signers(&format!(
                "# team\n{}",
                line(
                    "*@example.com,!mallory@example.com",
                    "namespaces=\"gatehouse-approval\"",
                    &key
                )
            ));
            let verified = verify(&message, &sig, &allowed, NOW).expect("verifies");
            assert_eq!(verified.statement.principal, "alice@example.com");
            assert_eq!(
                verified.key_fingerprint,
                signature::fingerprint(key.public_key())
            );
            assert_eq!(verified.key_algorithm, key.algorithm().as_str());
            assert_eq!(
                verified.signature_sha256,
                format!("sha256:{}", hex::encode(Sha256::digest(&sig)))
            );
            assert_eq!(verified.signer_line, 2);
        }
    }

    #[test]
    fn every_rejection_has_its_name() {
        let key = test_key(1);
        let other = test_key(2);
        let message = statement("alice@example.com");
        let sig = sign(&key, NAMESPACE, &message);
        let listed = signers(&line("alice@example.com", "", &key));
        let reject = |statement: &[u8], sig: &[u8], allowed: &AllowedSigners, at: i64| {
            verify(statement, sig, allowed, at).expect_err("must be rejected")
        };

        let r = reject(b"{}", &sig, &listed, NOW);
        assert_eq!(r.name(), "malformed-statement");
        assert!(
            r.message()
                .starts_with("malformed statement: missing field"),
            "{r}"
        );

        let r = reject(
            &message,
            b"-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n",
            &listed,
            NOW,
        );
        assert_eq!(r.name(), "malformed-signature", "{r}");

        let r = reject(&message, &sign(&key, "git", &message), &listed, NOW);
        assert_eq!(r.name(), "wrong-namespace");
        assert!(r.message().contains("namespace \"git\""), "{r}");

        // One byte changed, still a valid statement: another environment.
        let edited = String::from_utf8(message.clone())
            .expect("utf8")
            .replacen("prod-eu", "prod-eU", 1)
            .into_bytes();
        assert!(Statement::parse(&edited).is_ok());
        let r = reject(&edited, &sig, &listed, NOW);
        assert_eq!(r.name(), "bad-signature");
        assert!(
            r.message()
                .contains(&signature::fingerprint(key.public_key())),
            "{r}"
        );

        let r = reject(
            &message,
            &sig,
            &signers(&line("alice@example.com", "", &other)),
            NOW,
        );
        assert_eq!(r.name(), "unknown-key");
        assert!(
            r.message().contains("the key is not listed for anyone"),
            "{r}"
        );

        let r = reject(
            &message,
            &sig,
            &signers(&format!(
                "{}{}",
                line("bob@example.com", "", &key),
                line("alice@example.com", "", &other)
            )),
            NOW,
        );
        assert_eq!(r.name(), "unknown-key");
        assert!(
            r.message()
                .contains("the key is listed only for \"bob@example.com\" at line 1"),
            "{r}"
        );

        let r = reject(
            &message,
            &sig,
            &signers(&line("*@example.com,!alice@example.com", "", &key)),
            NOW,
        );
        assert_eq!(r.name(), "unknown-key", "a negated principal is not listed");

        let r = reject(
            &message,
            &sig,
            &signers(&line("alice@example.com", "namespaces=\"git\"", &key)),
            NOW,
        );
        assert_eq!(r.name(), "key-not-for-namespace");
        assert!(
            r.message().contains("line 1 has a namespaces= option"),
            "{r}"
        );

        let windowed = signers(&line(
            "alice@example.com",
            "valid-after=\"20261201Z\"",
            &key,
        ));
        let r = reject(&message, &sig, &windowed, NOW);
        assert_eq!(r.name(), "key-not-valid-at-time");
        assert!(r.message().contains("is not valid at 2026-11-30T12:00:00Z (line 1: from 2026-12-01T00:00:00Z to any time)"), "{r}");
        assert!(
            verify(&message, &sig, &windowed, NOW + 86_400).is_ok(),
            "valid from December on"
        );

        let r = reject(
            &message,
            &sig,
            &signers(&line(
                "alice@example.com",
                "valid-before=\"20261130Z\"",
                &key,
            )),
            NOW,
        );
        assert_eq!(r.name(), "key-not-valid-at-time");
    }

    #[test]
    fn an_unsupported_key_is_named() {
        // An SSHSIG made by ssh-keygen with an RSA key: rejected before any check.
        let rsa = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQAAAJcAAAAHc3NoLXJzYQAAAAMBAAEAAACBAOP2em5XXHiY783ZdUx9sk\nK3eMF9hyxIelHZ/Nfsd4qQi2PtmygiqiRZpU402uKM9BW23/5PIApDaJ92dxslBjDLABuU\nj9sbLCRgmKFM2tNeyJxx4fWnpdLgy0Drt+tqNbFX9nd+qaelbIc5vfgJ8LsyZI8pt9Jw8m\nnClXzCIWApAAAAEmdhdGVob3VzZS1hcHByb3ZhbAAAAAAAAAAGc2hhNTEyAAAAlAAAAAxy\nc2Etc2hhMi01MTIAAACAo/+M9rgOOGgYRWZZoMECPWirBoOu2YU0SHik/jyXaa88HJ/Gg7\n9lkruwItiNElHjjIaN0ILu+vp0XwYq2QZtb0kLCAEPtCBkNGxRX6/vfuh9X8UtXLD0wKxH\nQyN7ZFKgI6d4Q8B62tZ3kRgLD7cdwqduIUcPf1UEX4cxcD+jMgc=\n-----END SSH SIGNATURE-----\n";
        let message = statement("alice@example.com");
        let r = verify(&message, rsa.as_bytes(), &signers(""), NOW).expect_err("rsa");
        assert_eq!(r.name(), "unsupported-key", "{r}");
        assert!(
            r.message().contains("ssh-rsa keys are not supported"),
            "{r}"
        );
    }

    #[test]
    fn a_reject_decision_verifies_for_the_caller_to_refuse() {
        let key = test_key(1);
        let text = String::from_utf8(statement("alice"))
            .expect("utf8")
            .replace("\"approve\"", "\"reject\"");
        let sig = sign(&key, NAMESPACE, text.as_bytes());
        let verified = verify(
            text.as_bytes(),
            &sig,
            &signers(&line("alice", "", &key)),
            NOW,
        )
        .expect("verifies");
        assert_eq!(verified.statement.decision, Decision::Reject);
    }
}
