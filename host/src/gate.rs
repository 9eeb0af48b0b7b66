//! Combining the decisions of several policies into one verdict.
//!
//! The rule, fixed and documented: the most restrictive verdict wins
//! (fail > require-approval > auto-approve); no policy means auto-approve.
//! An error in any policy stops the run before aggregation (exit 3): the
//! gate fails closed.

use crate::decision::Verdict;

/// The overall verdict of a set of policy verdicts.
pub fn aggregate(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    verdicts.into_iter().max().unwrap_or(Verdict::AutoApprove)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::*;

    #[test]
    fn most_restrictive_wins() {
        assert_eq!(aggregate([]), AutoApprove);
        assert_eq!(aggregate([AutoApprove, AutoApprove]), AutoApprove);
        assert_eq!(aggregate([AutoApprove, RequireApproval]), RequireApproval);
        assert_eq!(aggregate([Fail, RequireApproval, AutoApprove]), Fail);
    }
}
