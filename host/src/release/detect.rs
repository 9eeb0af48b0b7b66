//! `--format auto`: tells the input format from the input's top-level keys.
//!
//! The rule (also in `--help` and docs/input-formats.md):
//! - a Gatehouse / Facets **release** has `resources`, `environmentName` or `releaseStream`;
//! - a Terraform / OpenTofu **plan** (`terraform show -json PLANFILE`) has `format_version`
//!   together with `terraform_version`, `resource_changes` or `planned_values`;
//! - a **Pulumi preview** (`pulumi preview --json`) has `steps` or `changeSummary`.
//!
//! Exactly one of the three must match. Input that is not a JSON object (or not
//! JSON at all) is handed to the native parser, whose errors name the problem
//! and its position; an object that matches none, or more than one, is an
//! error that says what was looked for and suggests `--format`. Known files
//! that are none of the three (Terraform state, ...) are refused before this,
//! by strangers.rs, from the same [`Shape`].

use super::Format;
use crate::error::InputError;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use std::collections::BTreeSet;
use std::fmt;

/// Keys that mark a native release.
const RELEASE_KEYS: [&str; 3] = ["resources", "environmentName", "releaseStream"];
/// Keys that, with `format_version`, mark a Terraform plan.
const TERRAFORM_KEYS: [&str; 3] = ["terraform_version", "resource_changes", "planned_values"];
/// Keys that mark a Pulumi preview.
const PULUMI_KEYS: [&str; 2] = ["steps", "changeSummary"];

/// How many of the keys found are quoted in the error.
const KEYS_SHOWN: usize = 12;

/// What the input is at the top level, read without building any value.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// A JSON object with these keys.
    Object(BTreeSet<String>),
    /// Valid JSON, but not an object (`null`, a list, ...).
    NotObject,
    /// Not valid JSON (or trailing data after it).
    Invalid,
}

impl Shape {
    /// Reads the top level of `text`. Values are skipped without being built
    /// (serde_json skips them iteratively, so depth costs no stack).
    pub(super) fn of(text: &[u8]) -> Shape {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = BTreeSet<String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut keys = BTreeSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.insert(key);
                }
                Ok(keys)
            }
        }
        let mut json = serde_json::Deserializer::from_slice(text);
        match (&mut json).deserialize_map(KeysVisitor) {
            Ok(keys) if json.end().is_ok() => Shape::Object(keys),
            Ok(_) => Shape::Invalid,
            Err(err) if err.classify() == serde_json::error::Category::Data => {
                // Valid JSON of another type, unless the rest is broken too.
                let valid = serde_json::from_slice::<IgnoredAny>(text).is_ok();
                if valid {
                    Shape::NotObject
                } else {
                    Shape::Invalid
                }
            }
            Err(_) => Shape::Invalid,
        }
    }
}

/// Decides the format of an input of this [`Shape`] (see the module docs).
pub(super) fn detect(shape: &Shape, source: &str) -> Result<Format, InputError> {
    let Shape::Object(keys) = shape else {
        // Not a JSON object: the native parser explains what is wrong, in the
        // terms of the default format.
        return Ok(Format::Release);
    };
    let has = |key: &str| keys.contains(key);
    let mut matches: Vec<(Format, String)> = Vec::new();
    let release: Vec<&str> = RELEASE_KEYS.into_iter().filter(|k| has(k)).collect();
    if !release.is_empty() {
        matches.push((Format::Release, quote_keys(&release)));
    }
    if has("format_version") {
        let terraform: Vec<&str> = TERRAFORM_KEYS.into_iter().filter(|k| has(k)).collect();
        if !terraform.is_empty() {
            let mut found = vec!["format_version"];
            found.extend(terraform);
            matches.push((Format::Terraform, quote_keys(&found)));
        }
    }
    let pulumi: Vec<&str> = PULUMI_KEYS.into_iter().filter(|k| has(k)).collect();
    if !pulumi.is_empty() {
        matches.push((Format::Pulumi, quote_keys(&pulumi)));
    }
    match matches.as_slice() {
        [(format, _)] => Ok(*format),
        [] => Err(InputError::at(
            source,
            "$".into(),
            format!(
                "cannot tell the input format from its top-level keys ({}): {}; pass --format to choose",
                describe_found(keys),
                RULE
            ),
        )),
        several => {
            let fits: Vec<String> = several
                .iter()
                .map(|(format, keys)| format!("{} ({keys})", format.describe()))
                .collect();
            Err(InputError::at(
                source,
                "$".into(),
                format!(
                    "ambiguous input: its top-level keys fit {}; pass --format release, terraform or pulumi",
                    fits.join(" and ")
                ),
            ))
        }
    }
}

/// The detection rule in one sentence, for error messages.
const RULE: &str = "expected `resources`, `environmentName` or `releaseStream` for a release, \
`format_version` with `terraform_version`, `resource_changes` or `planned_values` for a \
Terraform/OpenTofu plan (terraform show -json PLANFILE), or `steps` or `changeSummary` for a \
Pulumi preview (pulumi preview --json)";

fn quote_keys(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_found(keys: &BTreeSet<String>) -> String {
    if keys.is_empty() {
        return "the object is empty".to_string();
    }
    let shown: Vec<String> = keys
        .iter()
        .take(KEYS_SHOWN)
        .map(|k| format!("{k:?}"))
        .collect();
    let more = keys.len().saturating_sub(KEYS_SHOWN);
    if more > 0 {
        format!("found {} and {more} more", shown.join(", "))
    } else {
        format!("found {}", shown.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_of(text: &str) -> Result<Format, String> {
        detect(&Shape::of(text.as_bytes()), "in.json").map_err(|e| e.to_string())
    }

    #[test]
    fn each_format_is_told_by_its_keys() {
        assert_eq!(format_of(r#"{"resources": []}"#), Ok(Format::Release));
        assert_eq!(
            format_of(r#"{"environmentName": "a", "x": 1}"#),
            Ok(Format::Release)
        );
        assert_eq!(
            format_of(r#"{"format_version": "1.2", "terraform_version": "1.7.5"}"#),
            Ok(Format::Terraform)
        );
        assert_eq!(
            format_of(r#"{"format_version": "1.2", "resource_changes": []}"#),
            Ok(Format::Terraform)
        );
        assert_eq!(
            format_of(r#"{"format_version": "1.2", "planned_values": {}, "applyable": false}"#),
            Ok(Format::Terraform)
        );
        assert_eq!(format_of(r#"{"steps": []}"#), Ok(Format::Pulumi));
        assert_eq!(
            format_of(r#"{"config": {}, "changeSummary": {"same": 1}}"#),
            Ok(Format::Pulumi)
        );
    }

    #[test]
    fn non_objects_go_to_the_native_parser() {
        for text in ["null", "[1, 2]", "{", "environment: prod", "\"x\"", "{} []"] {
            assert_eq!(format_of(text), Ok(Format::Release), "{text}");
        }
    }

    #[test]
    fn shapes() {
        let shape = |text: &str| Shape::of(text.as_bytes());
        assert_eq!(
            shape(r#"{"b": 1, "a": [{}]}"#),
            Shape::Object(["a".to_string(), "b".to_string()].into())
        );
        for text in ["null", "[1, 2]", "\"x\"", " 12 "] {
            assert_eq!(shape(text), Shape::NotObject, "{text}");
        }
        for text in [
            "{",
            "environment: prod",
            "{} []",
            "[1, 2",
            "[command]/usr/bin/terraform\n{}",
            "",
        ] {
            assert_eq!(shape(text), Shape::Invalid, "{text}");
        }
    }

    #[test]
    fn no_match_says_what_was_looked_for() {
        let err = format_of(r#"{"format_version": "1.0", "values": {}}"#).expect_err("state");
        assert!(
            err.starts_with("in.json: $: cannot tell the input format from its top-level keys (found \"format_version\", \"values\")"),
            "{err}"
        );
        for wanted in ["`resources`", "`terraform_version`", "`steps`", "--format"] {
            assert!(err.contains(wanted), "{wanted}: {err}");
        }
        let err = format_of("{}").expect_err("empty");
        assert!(err.contains("the object is empty"), "{err}");
        let many: Vec<String> = (0..20).map(|i| format!("\"k{i:02}\": 1")).collect();
        let err = format_of(&format!("{{{}}}", many.join(","))).expect_err("many keys");
        assert!(err.contains("and 8 more"), "{err}");
    }

    #[test]
    fn several_matches_are_ambiguous() {
        let err = format_of(r#"{"resources": [], "steps": []}"#).expect_err("ambiguous");
        assert!(
            err.contains("ambiguous input: its top-level keys fit a release (`resources`) and a Pulumi preview (`steps`)"),
            "{err}"
        );
        assert!(err.contains("--format"), "{err}");
    }

    #[test]
    fn deep_values_are_skipped_without_recursion() {
        let deep = format!(
            r#"{{"x": {}{}, "steps": []}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(format_of(&deep), Ok(Format::Pulumi));
    }
}
