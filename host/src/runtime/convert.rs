//! Conversions between the host model and the WIT types: the release going
//! in, the decision coming out (checked against the contract).

use super::bindings::gatehouse::policy::types as wit;
use super::bindings::v0_2::gatehouse::policy::types as wit2;
use crate::decision::{Decision, Reason, Verdict};
use crate::release::{ChangeKind, Release};

/// Lowers the host release into the WIT record.
pub fn release_to_wit(release: &Release) -> wit::Release {
    wit::Release {
        environment_name: release.environment_name.clone(),
        release_stream: release.release_stream.clone(),
        resources: release
            .resources
            .iter()
            .map(|r| wit::ResourceChange {
                resource_type: r.resource_type.clone(),
                resource_name: r.resource_name.clone(),
                resource_path: r.resource_path.clone(),
                change: change_to_wit(r.change_type),
                attributes: r
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            })
            .collect(),
        metadata: release
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        approvals: release
            .approvals
            .iter()
            .map(|a| wit::Approval {
                approver: a.approver.clone(),
                groups: a.groups.clone(),
                at: a.at.clone(),
            })
            .collect(),
    }
}

fn change_to_wit(kind: ChangeKind) -> wit::ChangeKind {
    match kind {
        ChangeKind::Create => wit::ChangeKind::Create,
        ChangeKind::Delete => wit::ChangeKind::Delete,
        ChangeKind::UpdateInPlace => wit::ChangeKind::UpdateInPlace,
        ChangeKind::Replace => wit::ChangeKind::Replace,
        ChangeKind::Recreate => wit::ChangeKind::Recreate,
        ChangeKind::NoOperation => wit::ChangeKind::NoOperation,
    }
}

fn reasons_from_wit(reasons: Vec<wit::Reason>) -> Vec<Reason> {
    reasons
        .into_iter()
        .map(|r| Reason {
            message: r.message,
            resource_path: r.resource_path,
        })
        .collect()
}

/// Lifts a `gatehouse:policy@0.2.0` decision: the same shape as 0.1.0's,
/// checked by [`decision_from_wit`].
pub fn decision_from_wit_0_2(decision: wit2::Decision) -> Result<Decision, String> {
    let reasons = |reasons: Vec<wit2::Reason>| -> Vec<wit::Reason> {
        reasons
            .into_iter()
            .map(|r| wit::Reason {
                message: r.message,
                resource_path: r.resource_path,
            })
            .collect()
    };
    decision_from_wit(match decision {
        wit2::Decision::AutoApprove(r) => wit::Decision::AutoApprove(reasons(r)),
        wit2::Decision::Fail(r) => wit::Decision::Fail(reasons(r)),
        wit2::Decision::RequireApproval(request) => {
            wit::Decision::RequireApproval(wit::ApprovalRequest {
                reasons: reasons(request.reasons),
                approver_groups: request.approver_groups,
                min_approvals: request.min_approvals,
                instructions: request.instructions,
            })
        }
    })
}

/// Most reasons a decision may carry: enough for one per resource of a very
/// large release, few enough that a report stays readable and bounded.
pub const MAX_REASONS: usize = 100_000;
/// Most text a decision may carry in total (reasons, groups, instructions).
pub const MAX_DECISION_BYTES: usize = 16 << 20;

/// Lifts a WIT decision, enforcing the contract: require-approval and fail
/// carry at least one reason, min-approvals is at least 1, and the decision
/// stays within [`MAX_REASONS`] and [`MAX_DECISION_BYTES`].
pub fn decision_from_wit(decision: wit::Decision) -> Result<Decision, String> {
    let decision = match decision {
        wit::Decision::AutoApprove(reasons) => Decision {
            verdict: Verdict::AutoApprove,
            reasons: reasons_from_wit(reasons),
            approver_groups: Vec::new(),
            min_approvals: None,
            instructions: None,
        },
        wit::Decision::Fail(reasons) => Decision {
            verdict: Verdict::Fail,
            reasons: reasons_from_wit(reasons),
            approver_groups: Vec::new(),
            min_approvals: None,
            instructions: None,
        },
        wit::Decision::RequireApproval(request) => {
            if request.min_approvals == 0 {
                return Err("require-approval with min-approvals 0 (it must be at least 1)".into());
            }
            Decision {
                verdict: Verdict::RequireApproval,
                reasons: reasons_from_wit(request.reasons),
                approver_groups: request.approver_groups,
                min_approvals: Some(request.min_approvals),
                instructions: request.instructions,
            }
        }
    };
    check_size(&decision)?;
    if decision.verdict != Verdict::AutoApprove && decision.reasons.is_empty() {
        return Err(format!(
            "{} without a reason (give at least one, so the approver knows why)",
            decision.verdict.as_str()
        ));
    }
    Ok(decision)
}

fn check_size(decision: &Decision) -> Result<(), String> {
    if decision.reasons.len() > MAX_REASONS {
        return Err(format!(
            "{} reasons, more than the {MAX_REASONS} a decision may carry; summarise them",
            decision.reasons.len()
        ));
    }
    let bytes: usize = decision
        .reasons
        .iter()
        .map(|r| r.message.len() + r.resource_path.as_ref().map_or(0, String::len))
        .chain(decision.approver_groups.iter().map(String::len))
        .chain(decision.instructions.iter().map(String::len))
        .sum();
    if bytes > MAX_DECISION_BYTES {
        return Err(format!(
            "{bytes} bytes of text, more than the {} MiB a decision may carry; shorten the reasons",
            MAX_DECISION_BYTES >> 20
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason() -> wit::Reason {
        wit::Reason {
            message: "m".into(),
            resource_path: None,
        }
    }

    #[test]
    fn oversized_decisions_are_rejected() {
        let many = vec![reason(); MAX_REASONS + 1];
        let err = decision_from_wit(wit::Decision::Fail(many)).expect_err("too many");
        assert!(err.contains("reasons, more than"), "{err}");
        let big = wit::Reason {
            message: "x".repeat(MAX_DECISION_BYTES + 1),
            resource_path: None,
        };
        let err = decision_from_wit(wit::Decision::Fail(vec![big])).expect_err("too big");
        assert!(err.contains("bytes of text"), "{err}");
    }

    #[test]
    fn contract_violations_are_rejected() {
        assert!(decision_from_wit(wit::Decision::Fail(vec![])).is_err());
        assert!(decision_from_wit(wit::Decision::AutoApprove(vec![])).is_ok());
        let request = wit::ApprovalRequest {
            reasons: vec![reason()],
            approver_groups: vec!["dba".into()],
            min_approvals: 0,
            instructions: None,
        };
        assert!(decision_from_wit(wit::Decision::RequireApproval(request.clone())).is_err());
        let ok = decision_from_wit(wit::Decision::RequireApproval(wit::ApprovalRequest {
            min_approvals: 2,
            ..request
        }))
        .expect("valid request");
        assert_eq!(ok.verdict, Verdict::RequireApproval);
        assert_eq!(ok.min_approvals, Some(2));
    }
}
