//! Combining the decisions of several policies into one verdict.
//!
//! The rule, fixed and documented: the most restrictive verdict wins
//! (fail > require-approval > auto-approve). No verdict at all is not an
//! approval: [`aggregate`] then returns `None`, and a policy set decides by
//! its `when-nothing-applies` (an error unless the set's author wrote
//! otherwise). An error in any policy stops the run before aggregation
//! (exit 3): the gate fails closed.

use crate::decision::Verdict;

/// The overall verdict of a set of policy verdicts: the most restrictive,
/// or `None` when there is none (nothing was checked, so nothing is decided).
pub fn aggregate(verdicts: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
    verdicts.into_iter().max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::*;

    #[test]
    fn most_restrictive_wins() {
        assert_eq!(aggregate([AutoApprove, AutoApprove]), Some(AutoApprove));
        assert_eq!(
            aggregate([AutoApprove, RequireApproval]),
            Some(RequireApproval)
        );
        assert_eq!(aggregate([Fail, RequireApproval, AutoApprove]), Some(Fail));
    }

    #[test]
    fn no_verdict_is_not_an_approval() {
        assert_eq!(aggregate([]), None);
    }
}
