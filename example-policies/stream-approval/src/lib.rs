//! `stream-approval`: the Facets sample pre-release hook as a policy. A
//! release on one of the configured streams (default `PROD`) requires
//! approval; every other release is auto-approved.

use gatehouse_sdk::{
    Decision, EvaluationError, Policy, PolicyInfo, Release, Settings, SettingsError, export_policy,
};

/// The policy.
pub struct StreamApproval;

/// Parsed settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Streams that need approval, compared exactly (case-sensitive, like Facets).
    pub streams: Vec<String>,
    /// Groups that may approve; empty means anyone with release rights.
    pub approver_groups: Vec<String>,
}

impl Policy for StreamApproval {
    type Config = Config;

    fn describe() -> PolicyInfo {
        PolicyInfo::new(
            "stream-approval",
            env!("CARGO_PKG_VERSION"),
            "Requires approval for releases on the configured release streams (default PROD), like the Facets sample pre-release hook.",
        )
    }

    fn validate_settings(settings: &Settings) -> Result<Config, SettingsError> {
        Ok(Config {
            streams: settings
                .get_non_empty_list("streams")?
                .unwrap_or_else(|| vec!["PROD".to_string()]),
            approver_groups: settings.get_list("approver-groups")?.unwrap_or_default(),
        })
    }

    fn evaluate(release: &Release, config: &Config) -> Result<Decision, EvaluationError> {
        Ok(decide(release, config))
    }
}

/// The rule itself, apart from the export glue so it can be unit-tested natively.
pub fn decide(release: &Release, config: &Config) -> Decision {
    let stream = &release.release_stream;
    if config.streams.iter().any(|s| s == stream) {
        Decision::require_approval(format!(
            "release stream {stream} requires approval (streams needing approval: {})",
            config.streams.join(", ")
        ))
        .from_groups(config.approver_groups.clone())
    } else {
        Decision::approve(format!("release stream {stream:?} does not need approval"))
    }
}

export_policy!(StreamApproval);

#[cfg(test)]
mod tests {
    use super::*;

    fn release(stream: &str) -> Release {
        Release::new("env", stream)
    }

    fn config(pairs: &[(&str, &str)]) -> Config {
        StreamApproval::validate_settings(&Settings::from_pairs(pairs.iter().copied()))
            .expect("valid settings")
    }

    #[test]
    fn prod_requires_approval_by_default() {
        assert!(decide(&release("PROD"), &config(&[])).is_require_approval());
        assert!(decide(&release("QA"), &config(&[])).is_approve());
        assert!(
            decide(&release("prod"), &config(&[])).is_approve(),
            "case-sensitive like Facets"
        );
    }

    #[test]
    fn streams_and_groups_are_configurable() {
        let c = config(&[
            ("streams", "PROD, STAGING"),
            ("approver-groups", "release-managers"),
        ]);
        let d = decide(&release("STAGING"), &c);
        let Decision::RequireApproval(r) = d else {
            panic!("expected require-approval");
        };
        assert_eq!(r.approver_groups, ["release-managers"]);
        assert!(
            StreamApproval::validate_settings(&Settings::from_pairs([("streams", " , ")])).is_err()
        );
    }
}
