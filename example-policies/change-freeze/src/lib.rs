//! `change-freeze`: during a change freeze (date ranges in a setting) a
//! release to a frozen environment (`prod*` by default) fails; at any time,
//! deleting a resource of a protected type needs approval from the `dba`
//! group. The day comes from the host's evaluation time (`--now`) read at a
//! fixed UTC offset (UTC unless `utc-offset` says otherwise).

use gatehouse_sdk::dates::{Date, DateRange};
use gatehouse_sdk::{
    ChangeKind, Decision, EvaluationError, Policy, PolicyInfo, Reason, Release, Settings,
    SettingsError, Timestamp, UtcOffset, export_policy, glob, host,
};

/// The policy.
pub struct ChangeFreeze;

/// Parsed settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The freezes, each inclusive at both ends; may be empty (no freeze).
    pub freeze_windows: Vec<DateRange>,
    /// Environment globs a freeze applies to.
    pub frozen_environments: Vec<String>,
    /// The offset at which `now` is turned into a day.
    pub utc_offset: UtcOffset,
    /// Resource type globs whose deletion needs approval.
    pub protected_types: Vec<String>,
    /// Groups that approve such a deletion.
    pub approver_groups: Vec<String>,
}

const DEFAULT_FROZEN_ENVIRONMENTS: &[&str] = &["prod*"];
const DEFAULT_PROTECTED_TYPES: &[&str] = &["mysql", "postgres", "aws_db_instance"];
const DEFAULT_APPROVER_GROUPS: &[&str] = &["dba"];

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Policy for ChangeFreeze {
    type Config = Config;

    fn describe() -> PolicyInfo {
        PolicyInfo::new(
            "change-freeze",
            env!("CARGO_PKG_VERSION"),
            "Fails releases to frozen environments during a change freeze; deleting a protected resource type needs the DBA group.",
        )
    }

    fn validate_settings(settings: &Settings) -> Result<Config, SettingsError> {
        let freeze_windows = settings.get_date_ranges("freeze-windows")?.ok_or_else(|| {
            SettingsError::new(
                "freeze-windows",
                "is required but was not given; e.g. 2026-12-20..2027-01-03 (an empty value means no freeze)",
            )
        })?;
        Ok(Config {
            freeze_windows,
            frozen_environments: settings
                .get_non_empty_list("frozen-environments")?
                .unwrap_or_else(|| owned(DEFAULT_FROZEN_ENVIRONMENTS)),
            utc_offset: settings
                .get_utc_offset("utc-offset")?
                .unwrap_or(UtcOffset::UTC),
            protected_types: settings
                .get_list("protected-types")?
                .unwrap_or_else(|| owned(DEFAULT_PROTECTED_TYPES)),
            approver_groups: settings
                .get_non_empty_list("approver-groups")?
                .unwrap_or_else(|| owned(DEFAULT_APPROVER_GROUPS)),
        })
    }

    fn evaluate(release: &Release, config: &Config) -> Result<Decision, EvaluationError> {
        Ok(decide(release, config, host::now()))
    }
}

/// The first day after `today` that no freeze covers (overlapping and
/// back-to-back freezes count as one).
pub fn reopening_day(freezes: &[DateRange], today: Date) -> Date {
    let mut day = today;
    while let Some(last) = freezes
        .iter()
        .filter(|r| r.contains(day))
        .map(|r| r.last())
        .max()
    {
        day = last.plus_days(1);
    }
    day
}

/// The rule itself, testable natively with a fixed `now`.
pub fn decide(release: &Release, config: &Config, now: Timestamp) -> Decision {
    let offset = config.utc_offset;
    let today = now.date(offset.minutes());
    let environment = &release.environment_name;
    let freeze = DateRange::find(&config.freeze_windows, today);
    let frozen_by = glob::first_match(&config.frozen_environments, environment);
    if let (Some(freeze), Some(pattern)) = (freeze, frozen_by) {
        return Decision::fail(format!(
            "{today} (UTC{offset}) is inside the change freeze {freeze}; environment {environment} is frozen (matches \"{pattern}\"); releases reopen on {}",
            reopening_day(&config.freeze_windows, today)
        ));
    }
    let freeze_reason = match freeze {
        Some(freeze) => format!(
            "{today} (UTC{offset}) is inside the change freeze {freeze}, but environment {environment} is not frozen"
        ),
        None => format!("{today} (UTC{offset}) is outside every change freeze"),
    };
    let deletions: Vec<Reason> = release
        .changes_of_kind(ChangeKind::Delete)
        .filter(|r| glob::matches_any(&config.protected_types, &r.resource_type))
        .map(|r| {
            Reason::about(
                r,
                format!("DELETE of {} {}", r.resource_type, r.resource_path),
            )
        })
        .collect();
    match Decision::require_approval_for(deletions) {
        Some(decision) => decision
            .from_groups(config.approver_groups.clone())
            .instructions("Confirm a current backup exists for every deleted resource and that the data loss is intended."),
        None => Decision::approve(freeze_reason).because("no DELETE of a protected resource type"),
    }
}

export_policy!(ChangeFreeze);

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_sdk::ResourceChange;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("valid timestamp")
    }

    fn config(pairs: &[(&str, &str)]) -> Result<Config, String> {
        // The given pairs first: the stable sort and dedup keep them over the default.
        let mut all = pairs.to_vec();
        all.push(("freeze-windows", "2026-12-20..2027-01-03"));
        all.sort_by_key(|(k, _)| *k);
        all.dedup_by_key(|(k, _)| *k);
        ChangeFreeze::validate_settings(&Settings::from_pairs(all)).map_err(|e| e.to_string())
    }

    fn release(env: &str, resources: Vec<ResourceChange>) -> Release {
        Release {
            resources: resources.into(),
            ..Release::new(env, "PROD")
        }
    }

    fn messages(d: &Decision) -> Vec<&str> {
        d.reasons().iter().map(|r| r.message.as_str()).collect()
    }

    #[test]
    fn a_freeze_fails_frozen_environments_only() {
        let c = config(&[]).expect("valid");
        let christmas = at("2026-12-24T12:00:00Z");
        let d = decide(&release("prod-eu", vec![]), &c, christmas);
        assert_eq!(
            messages(&d),
            [
                "2026-12-24 (UTC+00:00) is inside the change freeze 2026-12-20..2027-01-03; environment prod-eu is frozen (matches \"prod*\"); releases reopen on 2027-01-04"
            ]
        );
        assert!(d.is_fail());
        let d = decide(&release("staging", vec![]), &c, christmas);
        assert!(d.is_approve());
        assert_eq!(
            messages(&d)[0],
            "2026-12-24 (UTC+00:00) is inside the change freeze 2026-12-20..2027-01-03, but environment staging is not frozen"
        );
    }

    #[test]
    fn both_ends_of_a_freeze_are_frozen_at_the_offset() {
        let c = config(&[]).expect("valid");
        let prod = release("prod", vec![]);
        assert!(decide(&prod, &c, at("2026-12-20T00:00:00Z")).is_fail());
        assert!(decide(&prod, &c, at("2027-01-03T23:59:59Z")).is_fail());
        assert!(decide(&prod, &c, at("2027-01-04T00:00:00Z")).is_approve());
        assert!(decide(&prod, &c, at("2026-12-19T23:59:59Z")).is_approve());
        let tokyo = config(&[("utc-offset", "+09:00")]).expect("valid");
        assert!(decide(&prod, &tokyo, at("2026-12-19T15:00:00Z")).is_fail());
        assert!(decide(&prod, &tokyo, at("2027-01-03T15:00:00Z")).is_approve());
    }

    #[test]
    fn overlapping_freezes_reopen_after_the_last_one() {
        let freezes = DateRange::parse_list(
            "2026-12-20..2026-12-27, 2026-12-26..2027-01-03, 2027-01-04..2027-01-04",
        )
        .expect("valid");
        let today = Date::parse("2026-12-21").expect("valid");
        assert_eq!(reopening_day(&freezes, today).to_string(), "2027-01-05");
    }

    #[test]
    fn protected_deletions_need_the_dba_group() {
        let c = config(&[]).expect("valid");
        let r = release(
            "staging",
            vec![
                ResourceChange::new(ChangeKind::Delete, "mysql", "datastores/orders"),
                ResourceChange::new(ChangeKind::Delete, "service", "services/old"),
                ResourceChange::new(ChangeKind::Replace, "postgres", "datastores/users"),
            ],
        );
        let d = decide(&r, &c, at("2026-11-23T10:00:00Z"));
        assert_eq!(messages(&d), ["DELETE of mysql datastores/orders"]);
        let Decision::RequireApproval(request) = &d else {
            panic!("expected require-approval, got {d:?}");
        };
        assert_eq!(request.approver_groups, ["dba"]);
    }

    #[test]
    fn settings_are_checked() {
        assert_eq!(
            ChangeFreeze::validate_settings(&Settings::from_pairs(Vec::<(String, String)>::new()))
                .map_err(|e| e.to_string()),
            Err("setting 'freeze-windows': is required but was not given; e.g. 2026-12-20..2027-01-03 (an empty value means no freeze)".into())
        );
        assert_eq!(
            config(&[("freeze-windows", "")]).map(|c| c.freeze_windows.len()),
            Ok(0)
        );
        assert!(
            config(&[("freeze-windows", "2027-01-03..2026-12-20")])
                .is_err_and(|e| e.contains("ends before it starts"))
        );
        assert!(config(&[("frozen-environments", " , ")]).is_err_and(|e| {
            e.starts_with("setting 'frozen-environments': expected a comma-separated list")
        }));
        assert!(config(&[("utc-offset", "CET")]).is_err_and(|e| e.contains("expected an offset")));
    }
}
