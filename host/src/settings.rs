//! Policy settings from the command line: `--set KEY=VALUE` for every policy,
//! `--set POLICY:KEY=VALUE` for the policy whose file name (without `.wasm`) is POLICY.

use std::collections::BTreeMap;

/// One `--set` flag, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The policy file stem it is limited to, if any.
    pub scope: Option<String>,
    /// The setting key.
    pub key: String,
    /// The value, as text.
    pub value: String,
}

/// Parses `KEY=VALUE` or `POLICY:KEY=VALUE`; keys are letters, digits, `-`, `_` and `.`.
pub fn parse_assignment(text: &str) -> Result<Assignment, String> {
    let bad = |why: &str| {
        format!(
            "--set {text:?}: {why}; expected KEY=VALUE or POLICY:KEY=VALUE, e.g. --set max-changes=10"
        )
    };
    let (target, value) = text.split_once('=').ok_or_else(|| bad("no '='"))?;
    let (scope, key) = match target.split_once(':') {
        Some((scope, key)) => (Some(scope.trim()), key.trim()),
        None => (None, target.trim()),
    };
    if key.is_empty() {
        return Err(bad("the key is empty"));
    }
    check_key(key).map_err(|why| bad(&why))?;
    if scope.is_some_and(str::is_empty) {
        return Err(bad("the policy name before ':' is empty"));
    }
    Ok(Assignment {
        scope: scope.map(str::to_string),
        key: key.to_string(),
        value: value.to_string(),
    })
}

/// Checks a setting or metadata key: letters, digits, `-`, `_` and `.`.
pub fn check_key(key: &str) -> Result<(), String> {
    match key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        Some(c) => Err(format!(
            "the key has the character {c:?}; keys use letters, digits, '-', '_' and '.'"
        )),
        None => Ok(()),
    }
}

/// Checks that every scope names one of the policies and no key is set twice
/// for the same policy.
pub fn check_assignments(
    assignments: &[Assignment],
    policy_stems: &[String],
) -> Result<(), String> {
    for a in assignments {
        if let Some(scope) = &a.scope
            && !policy_stems.iter().any(|s| s == scope)
        {
            return Err(format!(
                "--set {scope}:{}=...: no policy file is named {scope:?} (policies: {})",
                a.key,
                policy_stems.join(", ")
            ));
        }
    }
    for stem in policy_stems {
        settings_for(assignments, stem)?;
    }
    Ok(())
}

/// The settings one policy receives, sorted by key.
pub fn settings_for(
    assignments: &[Assignment],
    stem: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut out = BTreeMap::new();
    for a in assignments {
        if a.scope.as_deref().is_some_and(|s| s != stem) {
            continue;
        }
        if out.insert(a.key.clone(), a.value.clone()).is_some() {
            return Err(format!(
                "--set: setting {:?} is given twice for policy {stem:?}; give each key once (lists are comma-separated)",
                a.key
            ));
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scoped_and_unscoped() {
        let a = parse_assignment("max-changes=10").expect("valid");
        assert_eq!(
            (a.scope, a.key.as_str(), a.value.as_str()),
            (None, "max-changes", "10")
        );
        let a = parse_assignment("budget:max=a=b").expect("valid");
        assert_eq!(
            (a.scope.as_deref(), a.value.as_str()),
            (Some("budget"), "a=b")
        );
        assert!(parse_assignment("novalue").is_err());
        assert!(parse_assignment("=x").is_err());
        assert!(parse_assignment("a b=x").is_err());
        assert!(parse_assignment(":k=v").is_err());
    }

    #[test]
    fn scopes_and_duplicates_are_checked() {
        let set = |s: &str| parse_assignment(s).expect("valid");
        let stems = vec!["a".to_string(), "b".to_string()];
        assert!(check_assignments(&[set("a:k=1"), set("b:k=2")], &stems).is_ok());
        assert!(check_assignments(&[set("c:k=1")], &stems).is_err());
        assert!(check_assignments(&[set("k=1"), set("a:k=2")], &stems).is_err());
        assert_eq!(
            settings_for(&[set("z=1"), set("a:k=2"), set("b:k=3")], "a"),
            Ok(vec![("k".into(), "2".into()), ("z".into(), "1".into())])
        );
    }
}
