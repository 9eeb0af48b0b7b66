//! Signed approvals: statements an approver signs with an SSH key, and
//! their verification against an allowed_signers file.
//!
//! An approval is two files: a statement ([`Statement`], JSON of type
//! `gatehouse.approval/v1` naming the release digest, environment,
//! principal, groups, time and expiry) and its detached signature in
//! OpenSSH's SSHSIG format, namespace [`NAMESPACE`] — exactly what
//! `ssh-keygen -Y sign -n gatehouse-approval -f KEY FILE` produces, so
//! OpenSSH and Gatehouse check each other's approvals.
//!
//! | file | job |
//! |---|---|
//! | `statement.rs` | the statement: strict parsing, writing |
//! | `signature.rs` | SSHSIG files: parsing, armoring, checking; supported keys |
//! | `pattern.rs` | OpenSSH pattern lists (`*`, `?`, `!`) |
//! | `allowed_signers.rs` | the allowed_signers file and [`AllowedSigners::keys_for`] |
//! | `verify.rs` | [`verify`]: statement + signature + allowed signers → [`VerifiedApproval`] or [`Rejection`] |
//! | `files.rs` | [`collect`]: what `eval --approvals` names (statements with their `.sig`, directories, unsigned lists) |
//! | `assess.rs` | [`assess`]: whether each approval counts for this release (digest, environment, time, groups, self-approval, duplicates) |
//! | `satisfy.rs` | [`settle`]: whether valid approvals satisfy a policy's request, and whether the host may say so |
//! | `record.rs` | [`ApprovalsRecord`]: the approvals of an audit record, with their bytes, and their re-check on replay |
//! | `trust.rs` | [`Trust`]: who may approve (a policy set's `[trust]` section, or eval's flags) and the rules it gives |
//! | `signer.rs` | the approver's key: a private key file, or ssh-agent |
//! | `agent.rs` | the ssh-agent client |

mod agent;
mod allowed_signers;
mod assess;
mod ecdsa_key_file;
mod files;
mod pattern;
mod record;
mod satisfy;
mod signature;
mod signer;
mod statement;
pub(crate) mod trust;
mod verify;

pub use agent::Agent;
pub use allowed_signers::{
    AllowedSigners, AllowedSignersError, MAX_ALLOWED_SIGNERS_BYTES, SignerEntry,
};
pub use assess::{Assessed, Counted, ReleaseFacts, Rules, Status, assess};
pub use files::{
    ApprovalFile, Collected, MAX_APPROVAL_FILES, STATEMENT_SUFFIX, UnsignedList, collect,
    signature_path,
};
pub use pattern::{ListMatch, match_list};
pub use record::{ApprovalEntry, ApprovalsRecord, TrustRecord};
pub use satisfy::{ApprovedBy, Settlement, describe, meets, settle};
pub use signature::{
    CheckError, MAX_SIGNATURE_BYTES, NAMESPACE, SignatureError, armor, check as check_signature,
    check_algorithm, fingerprint, parse as parse_signature,
};
pub use signer::Signer;
pub use statement::{
    Decision, MAX_COMMENT_BYTES, MAX_GROUPS, MAX_NAME_BYTES, MAX_STATEMENT_BYTES, STATEMENT_TYPE,
    Statement, StatementError, check_digest, check_name,
};
pub use trust::{DEFAULT_AUTHOR_KEY, SelfApproval, Trust};
pub use verify::{Rejection, VerifiedApproval, verify};
