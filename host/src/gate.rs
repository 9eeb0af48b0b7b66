//! Combining the decisions of several policies into one verdict.
//!
//! The rule, fixed and documented: the most restrictive verdict wins
//! (fail > require-approval > auto-approve). No verdict at all is not an
//! approval: [`aggregate`] then returns `None`, and a policy set decides by
//! its `when-nothing-applies` (an error unless the set's author wrote
//! otherwise). An error in any policy stops the run before aggregation
//! (exit 3): the gate fails closed.
//!
//! A policy that asks for approval is settled against the valid signed
//! approvals by [`run_and_settle`], the one path `eval` and `audit replay`
//! both take.

use crate::approvals::{self, Counted, Settlement};
use crate::decision::Verdict;
use crate::error::PolicyError;
use crate::release::Release;
use crate::runtime::{LoadedPolicy, PolicyRun, RunOptions};
use std::sync::Arc;

/// The overall verdict of a set of policy verdicts: the most restrictive,
/// or `None` when there is none (nothing was checked, so nothing is decided).
pub fn aggregate(verdicts: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
    verdicts.into_iter().max()
}

/// Evaluates a policy, then settles its decision against the valid
/// approvals ([`approvals::settle`]): when they meet its request, it is run
/// again on the release without approvals, and only an identical decision
/// lets the host satisfy it.
pub fn run_and_settle(
    policy: &LoadedPolicy,
    release: &Arc<Release>,
    settings: &[(String, String)],
    options: &RunOptions,
    counted: &[Counted],
) -> Result<(PolicyRun, Settlement), PolicyError> {
    let run = policy.evaluate_shared(release, settings, options)?;
    let settlement = approvals::settle(&run.decision, counted, || {
        let mut without = Release::clone(release);
        without.approvals.clear();
        policy
            .evaluate_shared(&Arc::new(without), settings, options)
            .map(|again| again.decision)
    })?;
    Ok((run, settlement))
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
