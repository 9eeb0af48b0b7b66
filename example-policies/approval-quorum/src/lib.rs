//! `approval-quorum`: multi-stage sign-off. The release requires approval
//! until the approvals recorded on it hold at least N distinct approvers from
//! each required group (for example a tech lead, then the on-call engineer);
//! then it is auto-approved. Each approval request names only the groups that
//! still owe a sign-off, so the gate advances stage by stage. With `ordered`,
//! the groups are stages that must sign off in the order listed (see
//! [`ordered`]).

pub mod ordered;

use gatehouse_sdk::{
    Approval, Decision, EvaluationError, Policy, PolicyInfo, Reason, Release, Settings,
    SettingsError, Timestamp, export_policy, host,
};

/// The policy.
pub struct ApprovalQuorum;

/// Parsed settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Groups that must each sign off, in stage order.
    pub required_groups: Vec<String>,
    /// Distinct approvers needed from each group.
    pub min_approvals: u32,
    /// Approvals older than this many hours are ignored (none when unset).
    pub max_age_hours: Option<u32>,
    /// The groups are stages in the order listed: a stage's approvals count
    /// only if given strictly after the previous stage was approved.
    pub ordered: bool,
}

impl Policy for ApprovalQuorum {
    type Config = Config;

    fn describe() -> PolicyInfo {
        PolicyInfo::new(
            "approval-quorum",
            env!("CARGO_PKG_VERSION"),
            "Requires approval until every required group has signed off with enough distinct approvers; then auto-approves.",
        )
    }

    fn validate_settings(settings: &Settings) -> Result<Config, SettingsError> {
        let required_groups = settings
            .get_non_empty_list("required-groups")?
            .ok_or_else(|| {
                SettingsError::new(
                    "required-groups",
                    "is required: the groups that must sign off, e.g. --set required-groups=tech-lead,on-call",
                )
            })?;
        let min_approvals = settings.get_u32_at_least("min-approvals", 1, 1)?;
        let max_age_hours = settings.get_u32("max-age-hours")?;
        if max_age_hours == Some(0) {
            return Err(SettingsError::new(
                "max-age-hours",
                "must be at least 1 (leave it unset to accept approvals of any age)",
            ));
        }
        let ordered = settings.get_bool("ordered")?.unwrap_or(false);
        if ordered {
            ordered::check_stages(&required_groups)?;
        }
        Ok(Config {
            required_groups,
            min_approvals,
            max_age_hours,
            ordered,
        })
    }

    fn evaluate(release: &Release, config: &Config) -> Result<Decision, EvaluationError> {
        decide(release, config, host::now())
    }
}

/// The rule itself, testable natively with a fixed `now`: the staged rule
/// when `ordered` is set, otherwise each group counted on its own.
pub fn decide(
    release: &Release,
    config: &Config,
    now: Timestamp,
) -> Result<Decision, EvaluationError> {
    let window = Window::new(config, now);
    if config.ordered {
        return ordered::decide(release, config, &window);
    }
    let mut satisfied = Vec::new();
    let mut missing = Vec::new();
    for group in &config.required_groups {
        let mut approvers: Vec<&str> = Vec::new();
        for approval in release
            .approvals
            .iter()
            .filter(|a| a.groups.contains(group))
        {
            if window.time_of(approval, group)?.is_none() {
                continue;
            }
            if !approvers.contains(&approval.approver.as_str()) {
                approvers.push(&approval.approver);
            }
        }
        let have = approvers.len() as u64;
        let need = u64::from(config.min_approvals);
        if have >= need {
            satisfied.push(Reason::new(format!(
                "{group}: approved by {} ({have} of {need})",
                approvers.join(", ")
            )));
        } else {
            let by = if approvers.is_empty() {
                String::new()
            } else {
                format!(", so far by {}", approvers.join(", "))
            };
            missing.push((
                group.clone(),
                Reason::new(format!("{group}: {have} of {need} approvals{by}")),
            ));
        }
    }
    let groups: Vec<String> = missing.iter().map(|(g, _)| g.clone()).collect();
    let Some(decision) = Decision::require_approval_for(missing.into_iter().map(|(_, r)| r)) else {
        return Ok(Decision::AutoApprove(satisfied));
    };
    Ok(decision
        .with_reasons(satisfied)
        .from_groups(groups)
        .min_approvals(config.min_approvals)
        .instructions(
            "Record your approval on the release; the gate passes once every group has signed off.",
        ))
}

/// Which approval times count at all: not in the future, and not older than
/// `max-age-hours` when that is set. Shared by both rules so that they ignore
/// (and log) exactly the same approvals.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    now: Timestamp,
    oldest: Option<Timestamp>,
    max_age_hours: Option<u32>,
}

impl Window {
    /// The window for `config` at the evaluation time `now`.
    pub fn new(config: &Config, now: Timestamp) -> Self {
        Window {
            now,
            oldest: config
                .max_age_hours
                .map(|hours| now.plus_seconds(-i64::from(hours) * 3600)),
            max_age_hours: config.max_age_hours,
        }
    }

    /// The time of `approval` as an approval for `group`, or `None` (logged)
    /// when it is too old or dated in the future; an unparsable time is an
    /// evaluation error, since the host only passes RFC 3339.
    pub fn time_of(
        &self,
        approval: &Approval,
        group: &str,
    ) -> Result<Option<Timestamp>, EvaluationError> {
        let at = Timestamp::parse_rfc3339(&approval.at).ok_or_else(|| {
            EvaluationError(format!(
                "approval by {} has an invalid time {:?}",
                approval.approver, approval.at
            ))
        })?;
        if self.oldest.is_some_and(|oldest| at < oldest) {
            host::info(&format!(
                "ignoring the {group} approval by {} from {at}: older than {} hours",
                approval.approver,
                self.max_age_hours.unwrap_or_default()
            ));
            return Ok(None);
        }
        if at > self.now {
            host::warn(&format!(
                "ignoring the {group} approval by {} dated in the future ({at})",
                approval.approver
            ));
            return Ok(None);
        }
        Ok(Some(at))
    }
}

export_policy!(ApprovalQuorum);

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_795_343_405); // 2026-11-22T10:30:05Z

    fn approval(who: &str, groups: &[&str], at: &str) -> Approval {
        Approval {
            approver: who.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            at: at.into(),
        }
    }

    fn release(approvals: Vec<Approval>) -> Release {
        Release {
            approvals: approvals.into(),
            ..Release::new("prod", "PROD")
        }
    }

    fn config(pairs: &[(&str, &str)]) -> Config {
        ApprovalQuorum::validate_settings(&Settings::from_pairs(pairs.iter().copied()))
            .expect("valid settings")
    }

    #[test]
    fn stages_advance_until_every_group_signed() {
        let c = config(&[("required-groups", "tech-lead,on-call")]);
        let d = decide(&release(vec![]), &c, NOW).expect("decides");
        let Decision::RequireApproval(r) = &d else {
            panic!("expected require-approval, got {d:?}");
        };
        assert_eq!(r.approver_groups, ["tech-lead", "on-call"]);

        let tl = approval("ann", &["tech-lead"], "2026-11-22T09:00:00Z");
        let d = decide(&release(vec![tl.clone()]), &c, NOW).expect("decides");
        let Decision::RequireApproval(r) = &d else {
            panic!("expected require-approval, got {d:?}");
        };
        assert_eq!(r.approver_groups, ["on-call"]);

        let oc = approval("bob", &["on-call"], "2026-11-22T10:00:00Z");
        let d = decide(&release(vec![tl, oc]), &c, NOW).expect("decides");
        assert!(d.is_approve(), "{d:?}");
        assert_eq!(
            d.reasons()[0].message,
            "tech-lead: approved by ann (1 of 1)"
        );
    }

    #[test]
    fn approvers_count_once_and_stale_or_future_approvals_are_ignored() {
        let c = config(&[
            ("required-groups", "dba"),
            ("min-approvals", "2"),
            ("max-age-hours", "24"),
        ]);
        let twice = vec![
            approval("ann", &["dba"], "2026-11-22T09:00:00Z"),
            approval("ann", &["dba"], "2026-11-22T09:30:00Z"),
        ];
        assert!(
            decide(&release(twice), &c, NOW)
                .expect("decides")
                .is_require_approval()
        );
        let stale = vec![
            approval("ann", &["dba"], "2026-11-22T09:00:00Z"),
            approval("bob", &["dba"], "2026-11-20T09:00:00Z"),
        ];
        assert!(
            decide(&release(stale), &c, NOW)
                .expect("decides")
                .is_require_approval()
        );
        let future = vec![
            approval("ann", &["dba"], "2026-11-22T09:00:00Z"),
            approval("bob", &["dba"], "2026-11-23T09:00:00Z"),
        ];
        assert!(
            decide(&release(future), &c, NOW)
                .expect("decides")
                .is_require_approval()
        );
        let good = vec![
            approval("ann", &["dba"], "2026-11-22T09:00:00Z"),
            approval("bob", &["dba", "sre"], "2026-11-22T10:00:00Z"),
        ];
        assert!(
            decide(&release(good), &c, NOW)
                .expect("decides")
                .is_approve()
        );
    }

    #[test]
    fn settings_are_checked() {
        let err = ApprovalQuorum::validate_settings(&Settings::default()).expect_err("required");
        assert!(err.to_string().contains("required-groups"));
        assert!(
            ApprovalQuorum::validate_settings(&Settings::from_pairs([
                ("required-groups", "a"),
                ("min-approvals", "0")
            ]))
            .is_err()
        );
    }
}
