//! Decision builders: what a policy answers, with reasons an approver can act on.

use crate::bindings::gatehouse::policy::types;
use crate::release::ResourceChange;

/// Why a policy decided what it decided, optionally about one resource.
pub use types::Reason;

impl Reason {
    /// A reason not tied to a resource.
    pub fn new(message: impl Into<String>) -> Self {
        Reason {
            message: message.into(),
            resource_path: None,
        }
    }

    /// A reason about one resource. The text report shows its path after the
    /// message (`message [path]`) unless the message already contains the
    /// path, so `format!("DELETE of {}", r.resource_path)` is not shown twice.
    pub fn about(resource: &ResourceChange, message: impl Into<String>) -> Self {
        Reason {
            message: message.into(),
            resource_path: Some(resource.resource_path.clone()),
        }
    }
}

impl From<&str> for Reason {
    fn from(message: &str) -> Self {
        Reason::new(message)
    }
}

impl From<String> for Reason {
    fn from(message: String) -> Self {
        Reason::new(message)
    }
}

/// What a human must do before the release proceeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    /// Why approval is needed.
    pub reasons: Vec<Reason>,
    /// Groups whose members may approve; empty means anyone with release rights.
    pub approver_groups: Vec<String>,
    /// Approvals needed (from each group when groups are named); at least 1.
    pub min_approvals: u32,
    /// What the approver should check.
    pub instructions: Option<String>,
}

/// A policy's verdict, built fluently:
///
/// ```
/// use gatehouse_sdk::Decision;
/// let d = Decision::require_approval("mysql 'orders' is deleted")
///     .from_groups(["dba", "sre"])
///     .min_approvals(2)
///     .instructions("Check the last backup first.");
/// assert_eq!(d.verdict(), "require-approval");
/// assert!(Decision::fail("no").is_fail());
/// assert!(Decision::approve("nothing risky").is_approve());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The release proceeds; reasons are informative.
    AutoApprove(Vec<Reason>),
    /// The release waits for a human decision.
    RequireApproval(ApprovalRequest),
    /// The release must not proceed.
    Fail(Vec<Reason>),
}

impl Decision {
    /// Auto-approve, with a reason for the report.
    pub fn approve(reason: impl Into<Reason>) -> Self {
        Decision::AutoApprove(vec![reason.into()])
    }

    /// Require approval by anyone with release rights (narrow it with
    /// [`Decision::from_groups`]), one approval unless [`Decision::min_approvals`] says more.
    pub fn require_approval(reason: impl Into<Reason>) -> Self {
        Decision::RequireApproval(ApprovalRequest {
            reasons: vec![reason.into()],
            approver_groups: Vec::new(),
            min_approvals: 1,
            instructions: None,
        })
    }

    /// Require approval for every reason in `reasons` (in order), or `None`
    /// when there are none: the usual "collect what is risky, ask if anything
    /// is" shape, without inventing a placeholder first reason. The host
    /// refuses a require-approval without reasons, so this never builds one.
    ///
    /// ```
    /// use gatehouse_sdk::{Decision, Reason};
    /// let risky: Vec<Reason> = vec!["mysql 'orders' is deleted".into()];
    /// let d = Decision::require_approval_for(risky)
    ///     .map(|d| d.from_groups(["dba"]))
    ///     .unwrap_or_else(|| Decision::approve("nothing risky"));
    /// assert!(d.is_require_approval());
    /// assert!(Decision::require_approval_for(Vec::<Reason>::new()).is_none());
    /// ```
    pub fn require_approval_for<R: Into<Reason>>(
        reasons: impl IntoIterator<Item = R>,
    ) -> Option<Self> {
        let mut reasons = reasons.into_iter();
        let first = reasons.next()?;
        Some(Decision::require_approval(first).with_reasons(reasons))
    }

    /// Fail the release.
    pub fn fail(reason: impl Into<Reason>) -> Self {
        Decision::Fail(vec![reason.into()])
    }

    /// Adds a reason to any decision.
    pub fn because(mut self, reason: impl Into<Reason>) -> Self {
        self.reasons_mut().push(reason.into());
        self
    }

    /// Adds several reasons to any decision.
    pub fn with_reasons<R: Into<Reason>>(mut self, reasons: impl IntoIterator<Item = R>) -> Self {
        self.reasons_mut()
            .extend(reasons.into_iter().map(Into::into));
        self
    }

    /// Names the groups whose members may approve (require-approval only;
    /// other decisions are returned unchanged).
    pub fn from_groups<G: Into<String>>(mut self, groups: impl IntoIterator<Item = G>) -> Self {
        if let Decision::RequireApproval(request) = &mut self {
            request
                .approver_groups
                .extend(groups.into_iter().map(Into::into));
        }
        self
    }

    /// Sets how many approvals are needed, at least 1 (require-approval only).
    pub fn min_approvals(mut self, count: u32) -> Self {
        if let Decision::RequireApproval(request) = &mut self {
            request.min_approvals = count.max(1);
        }
        self
    }

    /// Tells the approver what to check (require-approval only).
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        if let Decision::RequireApproval(request) = &mut self {
            request.instructions = Some(text.into());
        }
        self
    }

    /// The reasons of any decision.
    pub fn reasons(&self) -> &[Reason] {
        match self {
            Decision::AutoApprove(reasons) | Decision::Fail(reasons) => reasons,
            Decision::RequireApproval(request) => &request.reasons,
        }
    }

    fn reasons_mut(&mut self) -> &mut Vec<Reason> {
        match self {
            Decision::AutoApprove(reasons) | Decision::Fail(reasons) => reasons,
            Decision::RequireApproval(request) => &mut request.reasons,
        }
    }

    /// `auto-approve`, `require-approval` or `fail`, as in reports.
    pub fn verdict(&self) -> &'static str {
        match self {
            Decision::AutoApprove(_) => "auto-approve",
            Decision::RequireApproval(_) => "require-approval",
            Decision::Fail(_) => "fail",
        }
    }

    /// True for auto-approve.
    pub fn is_approve(&self) -> bool {
        matches!(self, Decision::AutoApprove(_))
    }

    /// True for require-approval.
    pub fn is_require_approval(&self) -> bool {
        matches!(self, Decision::RequireApproval(_))
    }

    /// True for fail.
    pub fn is_fail(&self) -> bool {
        matches!(self, Decision::Fail(_))
    }
}

impl From<Decision> for types::Decision {
    fn from(decision: Decision) -> Self {
        match decision {
            Decision::AutoApprove(reasons) => types::Decision::AutoApprove(reasons),
            Decision::Fail(reasons) => types::Decision::Fail(reasons),
            Decision::RequireApproval(r) => {
                types::Decision::RequireApproval(types::ApprovalRequest {
                    reasons: r.reasons,
                    approver_groups: r.approver_groups,
                    min_approvals: r.min_approvals,
                    instructions: r.instructions,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_fill_the_request() {
        let d = Decision::require_approval("a")
            .because("b")
            .from_groups(["dba"])
            .from_groups(vec!["sre".to_string()])
            .min_approvals(0)
            .instructions("check");
        let Decision::RequireApproval(r) = &d else {
            panic!("expected require-approval, got {d:?}");
        };
        assert_eq!(r.reasons.len(), 2);
        assert_eq!(r.approver_groups, ["dba", "sre"]);
        assert_eq!(r.min_approvals, 1, "min approvals is at least one");
        assert_eq!(r.instructions.as_deref(), Some("check"));
    }

    #[test]
    fn require_approval_for_keeps_every_reason_in_order() {
        let d = Decision::require_approval_for(["a", "b", "c"]).expect("reasons given");
        let messages: Vec<&str> = d.reasons().iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages, ["a", "b", "c"]);
        assert_eq!(d, Decision::require_approval("a").because("b").because("c"));
        assert_eq!(Decision::require_approval_for(Vec::<Reason>::new()), None);
    }

    #[test]
    fn approval_only_options_leave_other_verdicts_alone() {
        let d = Decision::fail("x").from_groups(["dba"]).min_approvals(3);
        assert_eq!(d, Decision::fail("x"));
        assert_eq!(d.reasons().len(), 1);
    }
}
