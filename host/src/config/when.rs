//! `when-nothing-applies`: what a policy set does when none of its policies
//! applies to a release. Nothing was checked then, so the default is an
//! error; any verdict must be written by the set's author.

use crate::decision::Verdict;
use crate::untrusted::quote;

/// What a policy set does when none of its policies applies to a release
/// (top-level key `when-nothing-applies`). Nothing was checked then, so the
/// default is an error (exit 3); any other outcome must be written by the
/// set's author.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WhenNothingApplies {
    /// Exit 3: no decision can be made (the default).
    #[default]
    Error,
    /// Verdict fail (exit 1).
    Fail,
    /// Verdict require-approval (exit 2).
    RequireApproval {
        /// Who may approve; empty means anyone with release rights.
        approver_groups: Vec<String>,
        /// How many approvals (from each group when groups are named).
        min_approvals: u32,
    },
    /// Verdict auto-approve (exit 0); the report says loudly that nothing was checked.
    AutoApprove,
}

/// The key, for messages.
const KEY: &str = "when-nothing-applies";

impl WhenNothingApplies {
    /// The values of `when-nothing-applies` (and of its `verdict` key).
    pub const VALUES: [&str; 4] = ["error", "fail", "require-approval", "auto-approve"];

    /// `error`, `fail`, `require-approval` or `auto-approve`.
    pub fn as_str(&self) -> &'static str {
        match self {
            WhenNothingApplies::Error => "error",
            WhenNothingApplies::Fail => "fail",
            WhenNothingApplies::RequireApproval { .. } => "require-approval",
            WhenNothingApplies::AutoApprove => "auto-approve",
        }
    }

    /// The verdict it gives, or `None` for an error.
    pub fn verdict(&self) -> Option<Verdict> {
        match self {
            WhenNothingApplies::Error => None,
            WhenNothingApplies::Fail => Some(Verdict::Fail),
            WhenNothingApplies::RequireApproval { .. } => Some(Verdict::RequireApproval),
            WhenNothingApplies::AutoApprove => Some(Verdict::AutoApprove),
        }
    }

    /// Parses the value of the `when-nothing-applies` key: a string, or a
    /// table `{verdict, approver-groups, min-approvals}` (the last two only
    /// with `require-approval`). Errors say what is wrong; the caller adds
    /// the file and line.
    pub(super) fn parse(value: toml::Value) -> Result<WhenNothingApplies, String> {
        let mut table = match value {
            toml::Value::String(name) => return named(&name),
            toml::Value::Table(table) => table,
            other => {
                return Err(format!(
                    "{KEY} is of type {}; expected one of {}, or a table {{ verdict = \"require-approval\", approver-groups = [...], min-approvals = N }}",
                    other.type_str(),
                    expected()
                ));
            }
        };
        let verdict = match table.remove("verdict") {
            Some(toml::Value::String(name)) => named(&name)?,
            Some(other) => {
                return Err(format!(
                    "{KEY}.verdict is of type {}; expected one of {}",
                    other.type_str(),
                    expected()
                ));
            }
            None => {
                return Err(format!(
                    "{KEY} has no verdict; add verdict = one of {}",
                    expected()
                ));
            }
        };
        let groups = table.remove("approver-groups");
        let min = table.remove("min-approvals");
        if let Some(unknown) = table.keys().next() {
            return Err(format!(
                "{KEY}: unknown key {}; expected verdict, approver-groups, min-approvals",
                quote(unknown)
            ));
        }
        let WhenNothingApplies::RequireApproval { .. } = verdict else {
            if groups.is_some() || min.is_some() {
                return Err(format!(
                    "{KEY}: approver-groups and min-approvals apply only to verdict = \"require-approval\", not {}",
                    quote(verdict.as_str())
                ));
            }
            return Ok(verdict);
        };
        Ok(WhenNothingApplies::RequireApproval {
            approver_groups: groups.map(approver_groups).transpose()?.unwrap_or_default(),
            min_approvals: min.map(min_approvals).transpose()?.unwrap_or(1),
        })
    }
}

/// The accepted values, quoted, for messages.
fn expected() -> String {
    WhenNothingApplies::VALUES
        .map(|v| format!("\"{v}\""))
        .join(", ")
}

/// The outcome a value names (require-approval: anyone, one approval).
fn named(name: &str) -> Result<WhenNothingApplies, String> {
    match name {
        "error" => Ok(WhenNothingApplies::Error),
        "fail" => Ok(WhenNothingApplies::Fail),
        "require-approval" => Ok(WhenNothingApplies::RequireApproval {
            approver_groups: Vec::new(),
            min_approvals: 1,
        }),
        "auto-approve" => Ok(WhenNothingApplies::AutoApprove),
        other => Err(format!(
            "{KEY} = {}: expected one of {}",
            quote(other),
            expected()
        )),
    }
}

/// `approver-groups`: a non-empty list of distinct group names.
fn approver_groups(value: toml::Value) -> Result<Vec<String>, String> {
    let toml::Value::Array(items) = value else {
        return Err(format!(
            "{KEY}.approver-groups is of type {}; expected a list of group names",
            value.type_str()
        ));
    };
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let toml::Value::String(group) = item else {
            return Err(format!(
                "{KEY}.approver-groups has an entry of type {}; groups are strings",
                item.type_str()
            ));
        };
        if group.trim().is_empty()
            || group.trim() != group
            || group.chars().any(crate::untrusted::needs_escape)
        {
            return Err(format!(
                "{KEY}.approver-groups: {} is not a group name (empty, surrounding spaces or control characters)",
                quote(&group)
            ));
        }
        if out.contains(&group) {
            return Err(format!(
                "{KEY}.approver-groups lists {} twice",
                quote(&group)
            ));
        }
        out.push(group);
    }
    if out.is_empty() {
        return Err(format!(
            "{KEY}.approver-groups is empty; omit it to let anyone with release rights approve"
        ));
    }
    Ok(out)
}

/// `min-approvals`: an integer of at least 1.
fn min_approvals(value: toml::Value) -> Result<u32, String> {
    let toml::Value::Integer(n) = value else {
        return Err(format!(
            "{KEY}.min-approvals is of type {}; expected an integer of at least 1",
            value.type_str()
        ));
    };
    u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
        format!(
            "{KEY}.min-approvals is {n}; it must be between 1 and {}",
            u32::MAX
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PolicySet;
    use std::path::Path;

    fn parse(text: &str) -> Result<PolicySet, Vec<String>> {
        PolicySet::parse(Path::new("conf/gatehouse.toml"), text)
    }

    fn when(text: &str) -> Result<WhenNothingApplies, Vec<String>> {
        parse(&format!(
            "{text}\n[[policy]]\nname = \"a\"\npath = \"a.wasm\"\n"
        ))
        .map(|set| set.when_nothing_applies)
    }

    #[test]
    fn when_nothing_applies_parses_every_form() {
        assert_eq!(when(""), Ok(WhenNothingApplies::Error));
        assert_eq!(
            when("when-nothing-applies = \"error\""),
            Ok(WhenNothingApplies::Error)
        );
        assert_eq!(
            when("when-nothing-applies = \"fail\""),
            Ok(WhenNothingApplies::Fail)
        );
        assert_eq!(
            when("when-nothing-applies = \"auto-approve\""),
            Ok(WhenNothingApplies::AutoApprove)
        );
        assert_eq!(
            when("when-nothing-applies = \"require-approval\""),
            Ok(WhenNothingApplies::RequireApproval {
                approver_groups: Vec::new(),
                min_approvals: 1
            })
        );
        assert_eq!(
            when(
                "when-nothing-applies = { verdict = \"require-approval\", approver-groups = [\"release-managers\", \"sre\"], min-approvals = 2 }"
            ),
            Ok(WhenNothingApplies::RequireApproval {
                approver_groups: vec!["release-managers".into(), "sre".into()],
                min_approvals: 2
            })
        );
        assert_eq!(
            when("[when-nothing-applies]\nverdict = \"fail\""),
            Ok(WhenNothingApplies::Fail)
        );
        for (value, verdict) in [
            ("error", None),
            ("fail", Some(Verdict::Fail)),
            ("require-approval", Some(Verdict::RequireApproval)),
            ("auto-approve", Some(Verdict::AutoApprove)),
        ] {
            let parsed = named(value).expect("a value");
            assert_eq!((parsed.as_str(), parsed.verdict()), (value, verdict));
        }
    }

    #[test]
    fn a_bad_when_nothing_applies_names_its_line() {
        for (text, fragment) in [
            (
                "when-nothing-applies = \"approve\"",
                "when-nothing-applies = \"approve\": expected one of \"error\", \"fail\", \"require-approval\", \"auto-approve\"",
            ),
            (
                "when-nothing-applies = \"Fail\"",
                "\"Fail\": expected one of",
            ),
            ("when-nothing-applies = 3", "is of type integer"),
            ("when-nothing-applies = {}", "has no verdict"),
            (
                "when-nothing-applies = { verdict = 1 }",
                "verdict is of type integer",
            ),
            (
                "when-nothing-applies = { verdict = \"fail\", approver-groups = [\"x\"] }",
                "apply only to verdict = \"require-approval\", not \"fail\"",
            ),
            (
                "when-nothing-applies = { verdict = \"require-approval\", groups = [\"x\"] }",
                "unknown key \"groups\"",
            ),
            (
                "when-nothing-applies = { verdict = \"require-approval\", min-approvals = 0 }",
                "min-approvals is 0",
            ),
            (
                "when-nothing-applies = { verdict = \"require-approval\", min-approvals = \"2\" }",
                "min-approvals is of type string",
            ),
            (
                "when-nothing-applies = { verdict = \"require-approval\", approver-groups = [] }",
                "approver-groups is empty",
            ),
            (
                "when-nothing-applies = { verdict = \"require-approval\", approver-groups = \"dba\" }",
                "approver-groups is of type string",
            ),
            (
                "when-nothing-applies = { verdict = \"require-approval\", approver-groups = [\"a\", \"a\"] }",
                "lists \"a\" twice",
            ),
            (
                "when-nothing-applies = { verdict = \"require-approval\", approver-groups = [\"a\\nb\"] }",
                "\"a\\nb\" is not a group name",
            ),
        ] {
            let errs = when(&format!("\n\n{text}")).expect_err(text);
            assert_eq!(errs.len(), 1, "{text}: {errs:?}");
            assert!(
                errs[0].starts_with("conf/gatehouse.toml: line 3: "),
                "{text}: {errs:?}"
            );
            assert!(errs[0].contains(fragment), "{text}: {errs:?}");
        }
        let errs = parse("when-nothing-applies = \"approve\"\n").expect_err("no policies either");
        assert_eq!(errs.len(), 2, "{errs:?}");
    }
}
