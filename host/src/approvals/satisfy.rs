//! When valid approvals satisfy a policy's request for approval, and when
//! the host may say so.
//!
//! A request (`approver-groups`, `min-approvals`) is **met** when valid
//! approvals come from at least `min-approvals` distinct principals in each
//! named group (an approval counts for a group only if its principal is a
//! member); with no group named, from any `min-approvals` valid principals.
//!
//! Meeting the request is not enough for the host to turn the policy's
//! verdict into auto-approve: a policy that counts approvals itself
//! (`approval-quorum`, with ordering and age rules the host does not know)
//! decided *with* those approvals in view, and overriding it would accept
//! an approval the policy deliberately refused. So [`settle`] re-evaluates
//! the policy with no approvals: only when that decision is identical —
//! verdict, reasons, groups, min-approvals and instructions — does the
//! policy's decision not depend on approvals, and the host satisfies it.
//! Evaluations are deterministic (frozen clock, seeded randomness: the seed
//! is the release digest, which approvals are not part of), so a difference
//! comes from the approvals, or from a policy granted real randomness or
//! files; either way the policy's own verdict stands.

use super::assess::Counted;
use crate::decision::{Decision, Verdict};
use serde::{Deserialize, Serialize};

/// One approval that satisfied a request, as reports and audit records
/// show it: "approved by alice (dba) at 2026-…".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedBy {
    /// The approver.
    pub principal: String,
    /// The requested groups it counted for (all its groups when the
    /// request names none).
    pub groups: Vec<String>,
    /// When it was given, RFC 3339 UTC.
    pub at: String,
    /// The signing key's fingerprint (`SHA256:…`).
    pub key_fingerprint: String,
}

/// What became of a policy's decision once approvals were counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Not a request for approval: nothing to satisfy.
    NotRequested,
    /// The valid approvals do not meet the request.
    Unmet,
    /// Met, and the decision does not depend on approvals: the host
    /// satisfies it (the policy's verdict becomes auto-approve).
    Satisfied(Vec<ApprovedBy>),
    /// Met, but the policy decides differently without approvals: it counts
    /// them itself, and its own verdict stands.
    DecidedByPolicy,
}

/// The approvals that meet a request for `groups` (empty: anyone) and
/// `min` distinct principals, or `None` when they do not meet it.
pub fn meets(groups: &[String], min: u32, approvals: &[Counted]) -> Option<Vec<ApprovedBy>> {
    let min = usize::try_from(min.max(1)).unwrap_or(usize::MAX);
    let distinct = |group: Option<&String>| {
        let mut principals: Vec<&str> = Vec::new();
        for a in approvals {
            if group.is_none_or(|g| a.groups.contains(g))
                && !principals.contains(&a.principal.as_str())
            {
                principals.push(&a.principal);
            }
        }
        principals.len()
    };
    let met = if groups.is_empty() {
        distinct(None) >= min
    } else {
        groups.iter().all(|g| distinct(Some(g)) >= min)
    };
    if !met {
        return None;
    }
    Some(
        approvals
            .iter()
            .filter_map(|a| {
                let counted: Vec<String> = if groups.is_empty() {
                    a.groups.clone()
                } else {
                    a.groups
                        .iter()
                        .filter(|g| groups.contains(g))
                        .cloned()
                        .collect()
                };
                (!counted.is_empty()).then(|| ApprovedBy {
                    principal: a.principal.clone(),
                    groups: counted,
                    at: crate::time::format_utc(a.time),
                    key_fingerprint: a.key_fingerprint.clone(),
                })
            })
            .collect(),
    )
}

/// Settles a policy's `decision` against the valid `approvals`:
/// `reevaluate` runs the same policy on the same release with no approvals
/// (called only when the request is met). Its error is the caller's: a
/// policy that fails on the second run fails the gate, as any policy error.
pub fn settle<E>(
    decision: &Decision,
    approvals: &[Counted],
    reevaluate: impl FnOnce() -> Result<Decision, E>,
) -> Result<Settlement, E> {
    if decision.verdict != Verdict::RequireApproval {
        return Ok(Settlement::NotRequested);
    }
    let Some(approved_by) = meets(
        &decision.approver_groups,
        decision.min_approvals.unwrap_or(1),
        approvals,
    ) else {
        return Ok(Settlement::Unmet);
    };
    if &reevaluate()? == decision {
        Ok(Settlement::Satisfied(approved_by))
    } else {
        Ok(Settlement::DecidedByPolicy)
    }
}

/// One line for people: `alice (dba) at 2026-…; bob (dba, sre) at …`.
pub fn describe(approved_by: &[ApprovedBy]) -> String {
    approved_by
        .iter()
        .map(|a| format!("{} ({}) at {}", a.principal, a.groups.join(", "), a.at))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Reason;

    fn counted(principal: &str, groups: &[&str]) -> Counted {
        Counted {
            principal: principal.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            time: 1_796_040_000,
            key_fingerprint: format!("SHA256:{principal}"),
            file: format!("{principal}.approval.json"),
        }
    }

    fn request(groups: &[&str], min: u32) -> Decision {
        Decision {
            verdict: Verdict::RequireApproval,
            reasons: vec![Reason {
                message: "DELETE of mysql datastores/orders".into(),
                resource_path: Some("datastores/orders".into()),
            }],
            approver_groups: groups.iter().map(|g| g.to_string()).collect(),
            min_approvals: Some(min),
            instructions: None,
        }
    }

    fn owned(groups: &[&str]) -> Vec<String> {
        groups.iter().map(|g| g.to_string()).collect()
    }

    #[test]
    fn a_request_is_met_by_enough_distinct_principals_of_each_group() {
        let a = counted("alice", &["dba"]);
        let b = counted("bob", &["dba", "sre"]);
        let c = counted("carol", &["sre"]);
        assert!(meets(&owned(&["dba"]), 1, std::slice::from_ref(&a)).is_some());
        assert!(meets(&owned(&["dba"]), 2, std::slice::from_ref(&a)).is_none());
        assert!(meets(&owned(&["dba"]), 2, &[a.clone(), a.clone()]).is_none());
        assert!(meets(&owned(&["dba", "sre"]), 1, std::slice::from_ref(&a)).is_none());
        let by = meets(&owned(&["dba", "sre"]), 1, &[a.clone(), c.clone()]).expect("met");
        assert_eq!(
            describe(&by),
            "alice (dba) at 2026-11-30T12:00:00Z; carol (sre) at 2026-11-30T12:00:00Z"
        );
        // Bob counts for both groups; only the requested ones are named.
        let by = meets(&owned(&["sre"]), 2, &[a.clone(), b.clone(), c.clone()]).expect("met");
        assert_eq!(
            by.iter()
                .map(|x| (x.principal.as_str(), x.groups.clone()))
                .collect::<Vec<_>>(),
            [("bob", owned(&["sre"])), ("carol", owned(&["sre"]))]
        );
        // No group named: any distinct principals.
        assert!(meets(&[], 2, &[a.clone(), c]).is_some());
        assert!(meets(&[], 2, &[a.clone(), a]).is_none());
        assert!(meets(&[], 1, &[]).is_none(), "nothing meets a request");
    }

    #[test]
    fn the_host_satisfies_only_a_decision_that_does_not_depend_on_approvals() {
        let approvals = [counted("alice", &["dba"])];
        let decision = request(&["dba"], 1);
        let same = || Ok::<_, ()>(request(&["dba"], 1));
        match settle(&decision, &approvals, same) {
            Ok(Settlement::Satisfied(by)) => assert_eq!(by[0].principal, "alice"),
            other => panic!("satisfied: {other:?}"),
        }
        // Without approvals the policy asks for more: it counts them itself.
        let more = || Ok::<_, ()>(request(&["dba", "sre"], 1));
        assert_eq!(
            settle(&decision, &approvals, more),
            Ok(Settlement::DecidedByPolicy)
        );
        // Any difference counts, even in the instructions alone.
        let worded = || {
            let mut d = request(&["dba"], 1);
            d.instructions = Some("x".into());
            Ok::<_, ()>(d)
        };
        assert_eq!(
            settle(&decision, &approvals, worded),
            Ok(Settlement::DecidedByPolicy)
        );
        let never = || -> Result<Decision, ()> { panic!("not re-evaluated when unmet") };
        assert_eq!(
            settle(&request(&["sre"], 1), &approvals, never),
            Ok(Settlement::Unmet)
        );
        let mut approve = request(&[], 1);
        approve.verdict = Verdict::AutoApprove;
        assert_eq!(
            settle(&approve, &approvals, never),
            Ok(Settlement::NotRequested)
        );
        assert_eq!(settle(&decision, &approvals, || Err("trap")), Err("trap"));
    }
}
