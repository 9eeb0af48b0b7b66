//! `destructive-changes`: deleting, replacing or recreating a protected
//! resource needs approval from the configured groups, and fails outright in
//! protected environments. Every reason names the resource.

use gatehouse_sdk::glob;
use gatehouse_sdk::{
    ChangeKind, Decision, EvaluationError, Policy, PolicyInfo, Reason, Release, Settings,
    SettingsError, export_policy,
};

/// The policy.
pub struct DestructiveChanges;

/// Parsed settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Resource type globs that are protected (`mysql`, `aws_db_*`).
    pub protected_types: Vec<String>,
    /// Resource path globs that are protected regardless of type (`datastores/**`).
    pub protected_paths: Vec<String>,
    /// Change kinds that count as destructive.
    pub change_kinds: Vec<ChangeKind>,
    /// Environment globs where a destructive change fails the release.
    pub fail_environments: Vec<String>,
    /// Groups that may approve.
    pub approver_groups: Vec<String>,
    /// Approvals needed.
    pub min_approvals: u32,
}

/// Defaults match the reference Rego rule in `shared/reference/rego/`.
const DEFAULT_TYPES: &[&str] = &["mysql", "postgres", "aws_db_instance", "s3"];
const DEFAULT_FAIL_ENVIRONMENTS: &[&str] = &["prod*"];

impl Policy for DestructiveChanges {
    type Config = Config;

    fn describe() -> PolicyInfo {
        PolicyInfo::new(
            "destructive-changes",
            env!("CARGO_PKG_VERSION"),
            "Deleting, replacing or recreating a protected resource needs approval; in protected environments it fails the release.",
        )
    }

    fn validate_settings(settings: &Settings) -> Result<Config, SettingsError> {
        let owned = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let change_kinds = match settings.get_non_empty_list("change-types")? {
            None => vec![ChangeKind::Delete, ChangeKind::Replace, ChangeKind::Recreate],
            Some(names) => names
                .iter()
                .map(|name| {
                    ChangeKind::parse(name).ok_or_else(|| {
                        SettingsError::new(
                            "change-types",
                            format!(
                                "unknown change type {name:?}; expected some of CREATE, DELETE, UPDATE_IN_PLACE, REPLACE, RECREATE, NO_OPERATION"
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let config = Config {
            protected_types: settings
                .get_list("protected-types")?
                .unwrap_or_else(|| owned(DEFAULT_TYPES)),
            protected_paths: settings.get_list("protected-paths")?.unwrap_or_default(),
            change_kinds,
            fail_environments: settings
                .get_list("fail-environments")?
                .unwrap_or_else(|| owned(DEFAULT_FAIL_ENVIRONMENTS)),
            approver_groups: settings.get_list("approver-groups")?.unwrap_or_default(),
            min_approvals: settings.get_u32_at_least("min-approvals", 1, 1)?,
        };
        if config.protected_types.is_empty() && config.protected_paths.is_empty() {
            return Err(SettingsError::new(
                "protected-types",
                "protected-types and protected-paths are both empty, so nothing is protected; give at least one",
            ));
        }
        Ok(config)
    }

    fn evaluate(release: &Release, config: &Config) -> Result<Decision, EvaluationError> {
        Ok(decide(release, config))
    }
}

/// The rule itself, testable natively. Only the resources changed in one of
/// the configured ways are read (the host filters them under
/// `gatehouse:policy@0.2.0`), in input order.
pub fn decide(release: &Release, config: &Config) -> Decision {
    let reasons: Vec<Reason> = release
        .changes_of_kinds(&config.change_kinds)
        .filter(|r| {
            glob::matches_any(&config.protected_types, &r.resource_type)
                || glob::matches_any(&config.protected_paths, &r.resource_path)
        })
        .map(|r| {
            Reason::about(
                r,
                format!("{} of {} {}", r.change, r.resource_type, r.resource_path),
            )
        })
        .collect();
    let environment = &release.environment_name;
    if !reasons.is_empty()
        && let Some(pattern) = glob::first_match(&config.fail_environments, environment)
    {
        let count = reasons.len();
        return Decision::fail(format!(
            "{count} destructive change{} to protected resources in environment {environment} (protected by {pattern:?}); run them through a maintenance change instead",
            if count == 1 { "" } else { "s" }
        ))
        .with_reasons(reasons);
    }
    match Decision::require_approval_for(reasons) {
        None => Decision::approve("no destructive change to a protected resource"),
        Some(decision) => decision
            .from_groups(config.approver_groups.clone())
            .min_approvals(config.min_approvals)
            .instructions("Confirm a current backup or snapshot exists for every resource listed, and that the data loss is intended."),
    }
}

export_policy!(DestructiveChanges);

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_sdk::ResourceChange;

    fn resource(kind: ChangeKind, ty: &str, path: &str) -> ResourceChange {
        ResourceChange::new(kind, ty, path)
    }

    fn release(env: &str, resources: Vec<ResourceChange>) -> Release {
        Release {
            resources: resources.into(),
            ..Release::new(env, "PROD")
        }
    }

    fn config(pairs: &[(&str, &str)]) -> Result<Config, SettingsError> {
        DestructiveChanges::validate_settings(&Settings::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn defaults_follow_the_reference_rule() {
        let c = config(&[]).expect("defaults");
        let resources = vec![
            resource(ChangeKind::Delete, "mysql", "datastores/orders"),
            resource(ChangeKind::Recreate, "redis", "caches/session"),
            resource(ChangeKind::Replace, "s3", "buckets/logs"),
            resource(ChangeKind::UpdateInPlace, "postgres", "datastores/users"),
        ];
        let d = decide(&release("staging", resources.clone()), &c);
        assert!(d.is_require_approval());
        let messages: Vec<&str> = d.reasons().iter().map(|r| r.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "DELETE of mysql datastores/orders",
                "REPLACE of s3 buckets/logs"
            ]
        );
        let d = decide(&release("prod-eu", resources), &c);
        assert!(d.is_fail());
        assert_eq!(d.reasons().len(), 3);
        assert!(decide(&release("prod", vec![]), &c).is_approve());
    }

    #[test]
    fn paths_kinds_and_groups_are_configurable() {
        let c = config(&[
            ("protected-types", ""),
            ("protected-paths", "datastores/**"),
            ("change-types", "delete"),
            ("fail-environments", ""),
            ("approver-groups", "dba,sre"),
            ("min-approvals", "2"),
        ])
        .expect("valid");
        let d = decide(
            &release(
                "prod",
                vec![
                    resource(ChangeKind::Delete, "anything", "datastores/eu/orders"),
                    resource(ChangeKind::Recreate, "anything", "datastores/eu/users"),
                ],
            ),
            &c,
        );
        let Decision::RequireApproval(r) = d else {
            panic!("expected require-approval");
        };
        assert_eq!(r.reasons.len(), 1);
        assert_eq!(
            r.reasons[0].resource_path.as_deref(),
            Some("datastores/eu/orders")
        );
        assert_eq!(r.approver_groups, ["dba", "sre"]);
        assert_eq!(r.min_approvals, 2);
    }

    #[test]
    fn bad_settings_are_explained() {
        let err = config(&[("change-types", "DESTROY")]).expect_err("bad kind");
        assert!(err.to_string().contains("unknown change type \"DESTROY\""));
        assert!(config(&[("min-approvals", "0")]).is_err());
        assert!(config(&[("protected-types", "")]).is_err());
    }
}
