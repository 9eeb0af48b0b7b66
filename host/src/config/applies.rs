//! Whether a policy of a set applies to a release: its conditions matched,
//! case-sensitively, against the release's environment and stream. A
//! case-only match is refused, and so is a release nothing applies to
//! unless the set says otherwise ([`PolicySet::refusal`]).

use super::{PolicyEntry, PolicySet, WhenNothingApplies};
use crate::untrusted::quote;

/// Whether a policy of a set applies to a release, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applicability {
    /// It applies; why (e.g. `environment "prod-eu" matches "prod*"; any release stream`).
    Applies(String),
    /// It does not apply, even when case is ignored; why.
    Skipped(String),
    /// It would apply only if case were ignored: the release is refused; why.
    CaseMismatch(String),
}

/// One condition (environments or release streams) against the release's value.
enum Condition<'a> {
    /// The policy has no such condition.
    Any,
    /// The value matches this entry exactly.
    Exact(&'a str),
    /// The value matches this entry only when case is ignored.
    Folded(&'a str),
    /// The value matches no entry, even when case is ignored.
    NoMatch,
}

/// Matches `value` against a condition's entries, with `matches` the
/// case-sensitive comparison. Ignoring case means comparing after full
/// Unicode lower-casing of both sides, or after full upper-casing (which
/// catches `ß`/`SS` and the like that lower-casing alone misses).
fn condition<'a>(
    entries: Option<&'a [String]>,
    value: &str,
    matches: impl Fn(&str, &str) -> bool,
) -> Condition<'a> {
    let Some(entries) = entries else {
        return Condition::Any;
    };
    if let Some(hit) = entries.iter().find(|e| matches(e, value)) {
        return Condition::Exact(hit);
    }
    let (lower, upper) = (value.to_lowercase(), value.to_uppercase());
    match entries
        .iter()
        .find(|e| matches(&e.to_lowercase(), &lower) || matches(&e.to_uppercase(), &upper))
    {
        Some(hit) => Condition::Folded(hit),
        None => Condition::NoMatch,
    }
}

/// Entries as a quoted, comma-separated list.
fn quote_all(entries: &[String]) -> String {
    entries
        .iter()
        .map(|e| quote(e))
        .collect::<Vec<_>>()
        .join(", ")
}

impl PolicySet {
    /// Each policy, in file order, with whether it applies to a release with
    /// this environment and stream ([`PolicyEntry::applicability`]).
    pub fn applicability(
        &self,
        environment: &str,
        release_stream: &str,
    ) -> Vec<(&PolicyEntry, Applicability)> {
        self.policies
            .iter()
            .map(|e| (e, e.applicability(environment, release_stream)))
            .collect()
    }

    /// Why this set cannot decide on the release, as a one-line error:
    /// a policy matches it only when case is ignored, or no policy applies
    /// and the set does not say what to do then. `None` when some policy
    /// applies or `when-nothing-applies` gives a verdict.
    pub fn refusal(
        &self,
        environment: &str,
        release_stream: &str,
        matched: &[(&PolicyEntry, Applicability)],
    ) -> Option<String> {
        let name = self.path.display();
        let refused: Vec<String> = matched
            .iter()
            .filter_map(|(entry, a)| match a {
                Applicability::CaseMismatch(why) => Some(format!("policy '{}': {why}", entry.name)),
                _ => None,
            })
            .collect();
        if !refused.is_empty() {
            return Some(format!(
                "{name}: refusing the release: {}; environment and stream names match case-sensitively: use the exact name, or add this spelling to the policy's environments or release_streams",
                refused.join("; ")
            ));
        }
        let nothing = !matched
            .iter()
            .any(|(_, a)| matches!(a, Applicability::Applies(_)));
        if !nothing || self.when_nothing_applies != WhenNothingApplies::Error {
            return None;
        }
        let skipped: Vec<String> = matched
            .iter()
            .map(|(entry, a)| match a {
                Applicability::Skipped(why)
                | Applicability::CaseMismatch(why)
                | Applicability::Applies(why) => format!("policy '{}': {why}", entry.name),
            })
            .collect();
        Some(format!(
            "{name}: no policy applies to environment {}, release stream {}, so nothing would be checked: {}; add a policy that applies, correct the environment or stream, or set when-nothing-applies (\"fail\", \"require-approval\" or \"auto-approve\") in the policy set",
            quote(environment),
            quote(release_stream),
            skipped.join("; ")
        ))
    }
}

impl PolicyEntry {
    /// Whether the policy applies to a release with this environment and
    /// stream. Matching is case-sensitive: environments are globs in
    /// Gatehouse's one dialect ([`gatehouse_glob::matches`], the SDK's too:
    /// `*` stays within a `/`-separated segment, `**` spans segments),
    /// streams exact names. A release that matches every
    /// condition, but one or more only when case is ignored (e.g. `Prod-eu`
    /// against `prod*`, `prod` against `PROD`), gets
    /// [`Applicability::CaseMismatch`].
    pub fn applicability(&self, environment: &str, release_stream: &str) -> Applicability {
        let env = condition(
            self.environments.as_deref(),
            environment,
            gatehouse_glob::matches,
        );
        let stream = condition(self.release_streams.as_deref(), release_stream, |a, b| {
            a == b
        });
        let env_what = format!("environment {}", quote(environment));
        let stream_what = format!("release stream {}", quote(release_stream));
        if let Condition::NoMatch = env {
            let globs = self.environments.as_deref().unwrap_or_default();
            return Applicability::Skipped(format!(
                "{env_what} matches none of {}",
                quote_all(globs)
            ));
        }
        if let Condition::NoMatch = stream {
            let streams = self.release_streams.as_deref().unwrap_or_default();
            return Applicability::Skipped(format!(
                "{stream_what} is not one of {}",
                quote_all(streams)
            ));
        }
        let mut folded = Vec::new();
        if let Condition::Folded(glob) = env {
            folded.push(format!(
                "{env_what} matches environments glob {} only when case is ignored",
                quote(glob)
            ));
        }
        if let Condition::Folded(name) = stream {
            folded.push(format!(
                "{stream_what} matches release_streams entry {} only when case is ignored",
                quote(name)
            ));
        }
        if !folded.is_empty() {
            return Applicability::CaseMismatch(format!(
                "{} (matching is case-sensitive)",
                folded.join(" and ")
            ));
        }
        let env_why = match env {
            Condition::Exact(glob) => format!("{env_what} matches {}", quote(glob)),
            _ => "any environment".to_string(),
        };
        let stream_why = match stream {
            Condition::Exact(name) => format!("{stream_what} is {}", quote(name)),
            _ => "any release stream".to_string(),
        };
        Applicability::Applies(format!("{env_why}; {stream_why}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Limits;
    use std::path::PathBuf;

    fn entry(environments: Option<&[&str]>, streams: Option<&[&str]>) -> PolicyEntry {
        let list = |v: Option<&[&str]>| v.map(|v| v.iter().map(|s| s.to_string()).collect());
        PolicyEntry {
            name: "p".into(),
            path: "p.wasm".into(),
            sha256: None,
            environments: list(environments),
            release_streams: list(streams),
            settings: Vec::new(),
            limits: Limits::default(),
            read_dirs: Vec::new(),
            env: Vec::new(),
            random: false,
        }
    }

    fn is_case_mismatch(a: &Applicability) -> bool {
        matches!(a, Applicability::CaseMismatch(_))
    }

    #[test]
    fn matching_is_case_sensitive_and_a_case_only_match_is_refused() {
        let prod = entry(Some(&["prod*"]), Some(&["PROD"]));
        assert_eq!(
            prod.applicability("prod-eu", "PROD"),
            Applicability::Applies(
                "environment \"prod-eu\" matches \"prod*\"; release stream \"PROD\" is \"PROD\""
                    .into()
            )
        );
        let refused = prod.applicability("Prod-eu", "PROD");
        assert_eq!(
            refused,
            Applicability::CaseMismatch(
                "environment \"Prod-eu\" matches environments glob \"prod*\" only when case is ignored \
                 (matching is case-sensitive)"
                    .into()
            )
        );
        let refused = prod.applicability("prod-eu", "prod");
        let Applicability::CaseMismatch(why) = &refused else {
            panic!("{refused:?}")
        };
        assert!(
            why.starts_with(
                "release stream \"prod\" matches release_streams entry \"PROD\" only when case is ignored"
            ),
            "{why}"
        );
        let both = prod.applicability("PROD-EU", "Prod");
        let Applicability::CaseMismatch(why) = &both else {
            panic!("{both:?}")
        };
        assert!(
            why.contains("glob \"prod*\"") && why.contains("entry \"PROD\""),
            "{why}"
        );
        // Only where the other conditions match: a policy that would not run
        // anyway is skipped, not refused.
        assert!(matches!(
            prod.applicability("Prod-eu", "QA"),
            Applicability::Skipped(_)
        ));
        assert!(matches!(
            prod.applicability("dev", "prod"),
            Applicability::Skipped(_)
        ));
        // An exact match on any entry wins over a case-only match on another.
        let both_spellings = entry(Some(&["prod*", "Prod-legacy"]), None);
        assert!(matches!(
            both_spellings.applicability("Prod-legacy", "X"),
            Applicability::Applies(_)
        ));
        assert!(is_case_mismatch(
            &both_spellings.applicability("PROD-LEGACY", "X")
        ));
        assert_eq!(
            entry(None, None).applicability("anything", "ANY"),
            Applicability::Applies("any environment; any release stream".into())
        );
    }

    #[test]
    fn environment_globs_are_the_sdk_dialect() {
        let applies = |glob: &str, environment: &str| {
            matches!(
                entry(Some(&[glob]), None).applicability(environment, "S"),
                Applicability::Applies(_)
            )
        };
        // Unchanged: globs without `/` on environments without `/`.
        assert!(applies("prod*", "prod-eu"));
        assert!(applies("eu-?", "eu-1"));
        assert!(applies("*", "staging"));
        // `*` and `?` stay within a `/`-separated segment, as in the SDK.
        assert!(applies("team-a/*", "team-a/prod"));
        assert!(!applies("team-a/*", "team-a/prod/eu"));
        assert!(!applies("prod*", "prod/eu"));
        assert!(!applies("*", "team-a/prod"));
        assert!(!applies("team?prod", "team/prod"));
        // `**` spans segments.
        assert!(applies("team-a/**", "team-a/prod/eu"));
        assert!(applies("**/prod", "team-a/eu/prod"));
        assert!(applies("prod*/**", "prod/eu"));
        // `?` is one character, not one byte.
        assert!(applies("prod-?", "prod-é"));
        // A case-only match is still refused across segments.
        assert!(is_case_mismatch(
            &entry(Some(&["team-a/**"]), None).applicability("Team-A/prod", "S")
        ));
    }

    #[test]
    fn case_is_compared_with_full_unicode_case_mapping() {
        for (glob, environment) in [
            ("prod-é*", "PROD-É1"),  // Latin-1, not ASCII
            ("straße", "STRASSE"),   // ß upper-cases to SS
            ("σας", "ΣΑΣ"),          // final sigma
            ("kiev", "\u{212a}IEV"), // KELVIN SIGN lower-cases to k
            ("ПРОД*", "прод-eu"),    // Cyrillic
        ] {
            let e = entry(Some(&[glob]), None);
            assert!(
                is_case_mismatch(&e.applicability(environment, "S")),
                "{glob} vs {environment}: {:?}",
                e.applicability(environment, "S")
            );
        }
        // Different letters are different, whatever their case.
        let latin = entry(Some(&["prod"]), None);
        assert!(matches!(
            latin.applicability("\u{440}rod", "S"),
            Applicability::Skipped(_)
        ));
    }

    #[test]
    fn messages_escape_untrusted_names() {
        let e = entry(Some(&["prod\n::error::x"]), None);
        let Applicability::Skipped(why) = e.applicability("dev\u{202e}ved\r", "S") else {
            panic!("skipped")
        };
        assert_eq!(
            why,
            "environment \"dev\\u{202e}ved\\r\" matches none of \"prod\\n::error::x\""
        );
        assert!(!why.chars().any(crate::untrusted::needs_escape));
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("\u{2028}\u{061c}"), "\"\\u{2028}\\u{61c}\"");
    }

    fn set(when_nothing_applies: WhenNothingApplies) -> PolicySet {
        let mut streams = entry(None, Some(&["PROD"]));
        streams.name = "streams".into();
        let mut prod = entry(Some(&["prod*"]), None);
        prod.name = "prod".into();
        PolicySet {
            path: PathBuf::from("gatehouse.toml"),
            policies: vec![streams, prod],
            cache_dir: None,
            when_nothing_applies,
            trust: None,
        }
    }

    fn refusal(set: &PolicySet, environment: &str, stream: &str) -> Option<String> {
        let matched = set.applicability(environment, stream);
        set.refusal(environment, stream, &matched)
    }

    #[test]
    fn a_set_refuses_case_only_matches_and_nothing_applying() {
        let default = set(WhenNothingApplies::Error);
        assert_eq!(refusal(&default, "prod-eu", "QA"), None);
        assert_eq!(refusal(&default, "dev", "PROD"), None);
        assert_eq!(
            refusal(&default, "dev", "QA").as_deref(),
            Some(
                "gatehouse.toml: no policy applies to environment \"dev\", release stream \"QA\", so nothing would be checked: \
                 policy 'streams': release stream \"QA\" is not one of \"PROD\"; \
                 policy 'prod': environment \"dev\" matches none of \"prod*\"; \
                 add a policy that applies, correct the environment or stream, or set when-nothing-applies \
                 (\"fail\", \"require-approval\" or \"auto-approve\") in the policy set"
            )
        );
        // A case-only match is refused even when another policy applies.
        let message = refusal(&default, "Prod-eu", "PROD").expect("refused");
        assert!(
            message.starts_with(
                "gatehouse.toml: refusing the release: policy 'prod': environment \"Prod-eu\" matches environments glob \"prod*\" only when case is ignored"
            ),
            "{message}"
        );
        assert!(!message.contains("'streams'"), "{message}");
        // An explicit when-nothing-applies decides instead of the error, but
        // never overrides a case-only match.
        for when in [
            WhenNothingApplies::Fail,
            WhenNothingApplies::AutoApprove,
            WhenNothingApplies::RequireApproval {
                approver_groups: Vec::new(),
                min_approvals: 1,
            },
        ] {
            let explicit = set(when);
            assert_eq!(refusal(&explicit, "dev", "QA"), None);
            assert!(refusal(&explicit, "Prod-eu", "QA").is_some());
        }
    }
}
