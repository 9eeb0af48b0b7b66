//! Conversions between the host model and the WIT types: the release going
//! in, the decision coming out (checked against the contract).

use super::bindings::gatehouse::policy::types as wit;
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

/// Lifts a WIT decision, enforcing the contract: require-approval and fail
/// carry at least one reason, and min-approvals is at least 1.
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
    if decision.verdict != Verdict::AutoApprove && decision.reasons.is_empty() {
        return Err(format!(
            "{} without a reason (give at least one, so the approver knows why)",
            decision.verdict.as_str()
        ));
    }
    Ok(decision)
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
