//! A policy's decision as the host models it, independent of the WIT bindings.

use serde::Serialize;

/// The three outcomes, ordered from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The release proceeds (exit 0).
    AutoApprove,
    /// The release waits for a human decision (exit 2).
    RequireApproval,
    /// The release must not proceed (exit 1).
    Fail,
}

impl Verdict {
    /// The process exit code for this verdict (README.md, "exit code" table).
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::AutoApprove => 0,
            Verdict::RequireApproval => 2,
            Verdict::Fail => 1,
        }
    }

    /// `auto-approve`, `require-approval` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::AutoApprove => "auto-approve",
            Verdict::RequireApproval => "require-approval",
            Verdict::Fail => "fail",
        }
    }
}

/// Why a policy decided what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// A sentence an approver can act on.
    pub message: String,
    /// The resource it concerns, if any.
    pub resource_path: Option<String>,
}

impl Reason {
    /// The path a text report shows after the message (`message [path]`):
    /// the resource path, unless the message already contains it, so
    /// `Reason::about(r, "DELETE of {path}")` is not printed with its path twice.
    pub fn path_to_show(&self) -> Option<&str> {
        self.resource_path
            .as_deref()
            .filter(|path| !self.message.contains(path))
    }
}

/// A validated decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The outcome.
    pub verdict: Verdict,
    /// Why.
    pub reasons: Vec<Reason>,
    /// Who may approve (require-approval only; empty means anyone with release rights).
    pub approver_groups: Vec<String>,
    /// How many approvals are needed (require-approval only).
    pub min_approvals: Option<u32>,
    /// What the approver should check (require-approval only).
    pub instructions: Option<String>,
}
