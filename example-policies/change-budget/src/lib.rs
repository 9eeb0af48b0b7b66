//! `change-budget`: a release that changes more resources than a budget
//! (everything but NO_OPERATION counts) needs approval: big-bang releases get
//! a second pair of eyes.

use gatehouse_sdk::{
    Decision, EvaluationError, Policy, PolicyInfo, Release, Settings, SettingsError, export_policy,
};

/// The policy.
pub struct ChangeBudget;

/// Parsed settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Changes allowed without approval.
    pub max_changes: u32,
    /// Groups that may approve.
    pub approver_groups: Vec<String>,
    /// Approvals needed.
    pub min_approvals: u32,
}

/// Budget when `max-changes` is not set.
pub const DEFAULT_MAX_CHANGES: u32 = 10;

impl Policy for ChangeBudget {
    type Config = Config;

    fn describe() -> PolicyInfo {
        PolicyInfo::new(
            "change-budget",
            env!("CARGO_PKG_VERSION"),
            "Requires approval when a release changes more resources than the budget (max-changes, default 10).",
        )
    }

    fn validate_settings(settings: &Settings) -> Result<Config, SettingsError> {
        let min_approvals = settings.get_u32_at_least("min-approvals", 1, 1)?;
        Ok(Config {
            max_changes: settings
                .get_u32("max-changes")?
                .unwrap_or(DEFAULT_MAX_CHANGES),
            approver_groups: settings.get_list("approver-groups")?.unwrap_or_default(),
            min_approvals,
        })
    }

    fn evaluate(release: &Release, config: &Config) -> Result<Decision, EvaluationError> {
        Ok(decide(release, config))
    }
}

/// The rule itself, testable natively.
pub fn decide(release: &Release, config: &Config) -> Decision {
    let changed = release.changed_resources().count();
    let breakdown: Vec<String> = release
        .count_by_kind()
        .into_iter()
        .filter(|(kind, _)| kind.is_change())
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    let breakdown = if breakdown.is_empty() {
        String::new()
    } else {
        format!(" ({})", breakdown.join(", "))
    };
    let noun = if changed == 1 { "change" } else { "changes" };
    if changed as u64 <= u64::from(config.max_changes) {
        return Decision::approve(format!(
            "{changed} {noun}{breakdown}, within the budget of {}",
            config.max_changes
        ));
    }
    Decision::require_approval(format!(
        "{changed} {noun}{breakdown}, more than the budget of {}",
        config.max_changes
    ))
    .from_groups(config.approver_groups.clone())
    .min_approvals(config.min_approvals)
    .instructions(
        "Consider splitting the release; otherwise review every change listed in the plan.",
    )
}

export_policy!(ChangeBudget);

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_sdk::{ChangeKind, ResourceChange};

    fn release(kinds: &[ChangeKind]) -> Release {
        Release {
            resources: kinds
                .iter()
                .enumerate()
                .map(|(i, kind)| ResourceChange::new(*kind, "service", format!("services/s{i}")))
                .collect(),
            ..Release::new("prod", "PROD")
        }
    }

    fn config(max: &str) -> Config {
        ChangeBudget::validate_settings(&Settings::from_pairs([("max-changes", max)]))
            .expect("valid")
    }

    #[test]
    fn no_operations_do_not_count() {
        use ChangeKind::*;
        let r = release(&[Create, NoOperation, NoOperation, Delete]);
        let d = decide(&r, &config("2"));
        assert!(d.is_approve());
        assert_eq!(
            d.reasons()[0].message,
            "2 changes (1 CREATE, 1 DELETE), within the budget of 2"
        );
        let d = decide(&r, &config("1"));
        assert!(d.is_require_approval());
        assert_eq!(
            d.reasons()[0].message,
            "2 changes (1 CREATE, 1 DELETE), more than the budget of 1"
        );
        assert!(decide(&release(&[]), &config("0")).is_approve());
    }

    #[test]
    fn bad_budget_is_explained() {
        let err = ChangeBudget::validate_settings(&Settings::from_pairs([("max-changes", "-1")]))
            .expect_err("negative");
        assert!(
            err.to_string()
                .starts_with("setting 'max-changes': expected a whole number")
        );
    }
}
