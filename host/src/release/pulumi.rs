//! The Pulumi adapter: the document `pulumi preview --json` prints (Pulumi's
//! `PreviewDigest`) becomes a release.
//!
//! Every step names a resource by URN (`urn:pulumi:STACK::PROJECT::TYPE::NAME`);
//! the steps of one URN are merged into one resource change, in the order
//! the URNs first appear (see [`classify`] and docs/input-formats.md):
//!
//! - a replacement (`replace`, `create-replacement`, `delete-replaced`,
//!   `import-replacement`) is REPLACE when the new resource is created before
//!   the old one is deleted, RECREATE when the old one is deleted first
//!   (`deleteBeforeReplace`). `pulumi preview --json` shows only the logical
//!   `replace` step unless `--show-replacement-steps` is given; the order is
//!   then unknown and the change counts as RECREATE, the more severe, with a
//!   warning;
//! - `create` → CREATE, `update` → UPDATE_IN_PLACE, `delete` → DELETE,
//!   `delete-replaced` alone (an object left pending deletion by an earlier
//!   replacement) → DELETE, `remove-pending-replace` (the resource leaves the
//!   stack) → DELETE;
//! - `discard` (a read resource leaves the stack; the object itself is not
//!   deleted) → DELETE, like Terraform's `forget`: the resource leaves
//!   management, which a destructive-changes gate must see; `pulumi.ops`
//!   keeps the raw op so a policy can tell it from a real delete;
//! - `same`, `read`, `read-replacement`, `refresh`, `discard-replaced` (the
//!   second half of a `read-replacement`: the resource stays, re-read) and
//!   `import` (adopting an existing object) → NO_OPERATION.
//!
//! A preview that reported an error diagnostic is refused (exit 3): its
//! steps stop where the error happened.

use super::facets::ObjectOnly;
use super::{ChangeKind, Converted, ResourceChange, parse_document};
use crate::error::InputError;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::{BTreeMap, HashMap};

/// Every step op Pulumi writes.
const OPS: [&str; 15] = [
    "same",
    "create",
    "update",
    "delete",
    "replace",
    "create-replacement",
    "delete-replaced",
    "read",
    "read-replacement",
    "refresh",
    "discard",
    "discard-replaced",
    "remove-pending-replace",
    "import",
    "import-replacement",
];

/// The longest diagnostic quoted in an error, in characters.
const DIAGNOSTIC_SHOWN: usize = 300;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPreview {
    steps: Option<Vec<ObjectOnly<RawStep>>>,
    diagnostics: Option<Vec<ObjectOnly<RawDiagnostic>>>,
    change_summary: Option<IgnoredAny>,
    maybe_corrupt: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStep {
    op: String,
    urn: String,
    provider: Option<String>,
    old_state: Option<ObjectOnly<RawState>>,
    new_state: Option<ObjectOnly<RawState>>,
    diff_reasons: Option<Vec<String>>,
    replace_reasons: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawState {
    parent: Option<String>,
    custom: Option<bool>,
    protect: Option<bool>,
    retain_on_delete: Option<bool>,
}

#[derive(Deserialize)]
struct RawDiagnostic {
    message: Option<String>,
    severity: Option<String>,
}

/// The parts of a URN.
#[derive(Debug, PartialEq, Eq)]
struct Urn<'a> {
    stack: &'a str,
    project: &'a str,
    /// The resource's own type token (the last of a `parent$child` chain).
    resource_type: &'a str,
    name: &'a str,
}

fn parse_urn(urn: &str) -> Option<Urn<'_>> {
    let rest = urn.strip_prefix("urn:pulumi:")?;
    let mut parts = rest.splitn(4, "::");
    let (stack, project, qualified_type, name) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let resource_type = qualified_type.rsplit('$').next().unwrap_or(qualified_type);
    if resource_type.is_empty() {
        return None;
    }
    Some(Urn {
        stack,
        project,
        resource_type,
        name,
    })
}

/// The steps of one URN, merged.
struct Group {
    urn: String,
    resource_type: String,
    name: String,
    ops: Vec<String>,
    attributes: BTreeMap<String, String>,
    replace_reasons: Vec<String>,
    diff_reasons: Vec<String>,
}

/// Converts a preview (see the module docs).
pub(super) fn convert(text: &[u8], source: &str) -> Result<Converted, InputError> {
    let ObjectOnly(preview): ObjectOnly<RawPreview> =
        parse_document(text, source, "a Pulumi preview")?;
    if preview.steps.is_none() && preview.change_summary.is_none() {
        return Err(InputError::at(
            source,
            "$".into(),
            "not a Pulumi preview: it has neither `steps` nor `changeSummary`; pass the output of `pulumi preview --json`".into(),
        ));
    }
    for (i, ObjectOnly(d)) in preview.diagnostics.iter().flatten().enumerate() {
        if d.severity.as_deref() == Some("error") {
            let message = d.message.as_deref().unwrap_or("(no message)");
            let mut quoted: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
            if quoted.chars().count() > DIAGNOSTIC_SHOWN {
                quoted = quoted.chars().take(DIAGNOSTIC_SHOWN).collect::<String>() + "...";
            }
            return Err(InputError::at(
                source,
                format!("$.diagnostics[{i}]"),
                format!(
                    "the preview reported an error, so its steps are incomplete: {quoted:?}; fix it and run `pulumi preview --json` again"
                ),
            ));
        }
    }

    let mut groups: Vec<Group> = Vec::new();
    let mut by_urn: HashMap<String, usize> = HashMap::new();
    let mut metadata = BTreeMap::new();
    for (i, ObjectOnly(step)) in preview.steps.unwrap_or_default().into_iter().enumerate() {
        if !OPS.contains(&step.op.as_str()) {
            return Err(InputError::at(
                source,
                format!("$.steps[{i}].op"),
                format!(
                    "unknown step op {:?}; Pulumi's step ops are {}",
                    step.op,
                    OPS.join(", ")
                ),
            ));
        }
        let Some(urn) = parse_urn(&step.urn) else {
            return Err(InputError::at(
                source,
                format!("$.steps[{i}].urn"),
                format!(
                    "not a Pulumi URN: {:?}; expected urn:pulumi:STACK::PROJECT::TYPE::NAME",
                    step.urn
                ),
            ));
        };
        if metadata.is_empty() {
            metadata.insert("pulumi.stack".to_string(), urn.stack.to_string());
            metadata.insert("pulumi.project".to_string(), urn.project.to_string());
        }
        let index = match by_urn.get(&step.urn) {
            Some(&index) => index,
            None => {
                by_urn.insert(step.urn.clone(), groups.len());
                groups.push(Group {
                    urn: step.urn.clone(),
                    resource_type: urn.resource_type.to_string(),
                    name: urn.name.to_string(),
                    ops: Vec::new(),
                    attributes: BTreeMap::new(),
                    replace_reasons: Vec::new(),
                    diff_reasons: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let Some(group) = groups.get_mut(index) else {
            continue;
        };
        merge_step(group, step);
    }

    let mut order_unknown = 0usize;
    let resources = groups
        .into_iter()
        .map(|group| {
            let (change_type, unknown) = classify(&group.ops);
            if unknown {
                order_unknown += 1;
            }
            let mut attributes = group.attributes;
            attributes.insert("pulumi.urn".into(), group.urn.clone());
            attributes.insert("pulumi.ops".into(), group.ops.join(","));
            if !group.replace_reasons.is_empty() {
                attributes.insert(
                    "pulumi.replace_reasons".into(),
                    group.replace_reasons.join(","),
                );
            }
            if !group.diff_reasons.is_empty() {
                attributes.insert("pulumi.diff_reasons".into(), group.diff_reasons.join(","));
            }
            ResourceChange {
                resource_type: group.resource_type,
                resource_name: group.name,
                resource_path: group.urn,
                change_type,
                attributes,
            }
        })
        .collect();

    let mut warnings = Vec::new();
    if order_unknown > 0 {
        warnings.push(format!(
            "{order_unknown} replacement{} without {} replacement steps: whether the new resource is created before the old one is deleted is unknown, so {} counted as RECREATE; run `pulumi preview --json --show-replacement-steps` to tell REPLACE from RECREATE",
            if order_unknown == 1 { "" } else { "s" },
            if order_unknown == 1 { "its" } else { "their" },
            if order_unknown == 1 { "it is" } else { "they are" },
        ));
    }
    if preview.maybe_corrupt == Some(true) {
        warnings.push(
            "the preview says some resources may be corrupt (maybeCorrupt: true); check the stack's state".into(),
        );
    }
    Ok(Converted {
        resources,
        metadata,
        warnings,
    })
}

/// Adds one step's op and detail to its URN's group.
fn merge_step(group: &mut Group, step: RawStep) {
    group.ops.push(step.op);
    let states = [step.new_state, step.old_state];
    let states: Vec<&RawState> = states.iter().flatten().map(|ObjectOnly(s)| s).collect();
    let mut put_once = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            group
                .attributes
                .entry(format!("pulumi.{key}"))
                .or_insert(value);
        }
    };
    put_once("provider", step.provider.filter(|p| !p.is_empty()));
    put_once("parent", states.iter().find_map(|s| s.parent.clone()));
    put_once(
        "custom",
        states.iter().find_map(|s| s.custom).map(|c| c.to_string()),
    );
    if states.iter().any(|s| s.protect == Some(true)) {
        group
            .attributes
            .insert("pulumi.protect".into(), "true".into());
    }
    if states.iter().any(|s| s.retain_on_delete == Some(true)) {
        group
            .attributes
            .insert("pulumi.retain_on_delete".into(), "true".into());
    }
    for (list, from) in [
        (&mut group.replace_reasons, step.replace_reasons),
        (&mut group.diff_reasons, step.diff_reasons),
    ] {
        for reason in from.into_iter().flatten() {
            if !list.contains(&reason) {
                list.push(reason);
            }
        }
    }
}

/// The change type of one URN's steps, in order, and whether it is a
/// replacement whose order had to be assumed (see the module docs).
pub(super) fn classify<S: AsRef<str>>(ops: &[S]) -> (ChangeKind, bool) {
    let ops: Vec<&str> = ops.iter().map(AsRef::as_ref).collect();
    let first = |set: &[&str]| ops.iter().position(|op| set.contains(op));
    let creating = first(&["create", "create-replacement", "import-replacement"]);
    let deleting = first(&["delete", "delete-replaced"]);
    let replacing = first(&["replace", "create-replacement", "import-replacement"]).is_some();
    if replacing || (creating.is_some() && deleting.is_some()) {
        return match (creating, deleting) {
            (Some(c), Some(d)) if c < d => (ChangeKind::Replace, false),
            (Some(_), Some(_)) => (ChangeKind::Recreate, false),
            (Some(_), None) => (ChangeKind::Replace, false),
            (None, Some(_)) => (ChangeKind::Recreate, false),
            (None, None) => (ChangeKind::Recreate, true),
        };
    }
    let kind = ops
        .iter()
        .map(|op| match *op {
            "create" => ChangeKind::Create,
            "update" => ChangeKind::UpdateInPlace,
            // `discard`: see the module docs (alike with Terraform's `forget`).
            "delete" | "delete-replaced" | "remove-pending-replace" | "discard" => {
                ChangeKind::Delete
            }
            _ => ChangeKind::NoOperation,
        })
        .max_by_key(|kind| severity(*kind))
        .unwrap_or(ChangeKind::NoOperation);
    (kind, false)
}

/// Orders change kinds by how much they can break, for the rare URN whose
/// steps disagree.
fn severity(kind: ChangeKind) -> u8 {
    match kind {
        ChangeKind::NoOperation => 0,
        ChangeKind::Create => 1,
        ChangeKind::UpdateInPlace => 2,
        ChangeKind::Replace => 3,
        ChangeKind::Delete => 4,
        ChangeKind::Recreate => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_str(text: &str) -> Result<Converted, String> {
        convert(text.as_bytes(), "preview.json").map_err(|e| e.to_string())
    }

    fn urn(name: &str) -> String {
        format!("urn:pulumi:dev::shop::aws:s3/bucket:Bucket::{name}")
    }

    fn step(op: &str, name: &str) -> String {
        format!(r#"{{"op": "{op}", "urn": "{}"}}"#, urn(name))
    }

    fn preview(steps: &[String]) -> String {
        format!(
            r#"{{"steps": [{}], "changeSummary": {{}}}}"#,
            steps.join(",")
        )
    }

    #[test]
    fn single_ops_map() {
        let cases = [
            ("create", ChangeKind::Create),
            ("update", ChangeKind::UpdateInPlace),
            ("delete", ChangeKind::Delete),
            ("same", ChangeKind::NoOperation),
            ("read", ChangeKind::NoOperation),
            ("refresh", ChangeKind::NoOperation),
            ("discard", ChangeKind::Delete),
            ("discard-replaced", ChangeKind::NoOperation),
            ("read-replacement", ChangeKind::NoOperation),
            ("import", ChangeKind::NoOperation),
            ("remove-pending-replace", ChangeKind::Delete),
            ("delete-replaced", ChangeKind::Delete),
        ];
        for (op, kind) in cases {
            assert_eq!(classify(&[op]), (kind, false), "{op}");
        }
    }

    #[test]
    fn replacement_steps_merge_by_order() {
        assert_eq!(
            classify(&["create-replacement", "replace", "delete-replaced"]),
            (ChangeKind::Replace, false)
        );
        assert_eq!(
            classify(&["delete-replaced", "replace", "create-replacement"]),
            (ChangeKind::Recreate, false)
        );
        assert_eq!(
            classify(&["import-replacement", "replace", "delete-replaced"]),
            (ChangeKind::Replace, false)
        );
        assert_eq!(
            classify(&["create-replacement", "replace"]),
            (ChangeKind::Replace, false)
        );
        assert_eq!(
            classify(&["delete-replaced", "replace"]),
            (ChangeKind::Recreate, false)
        );
        assert_eq!(classify(&["replace"]), (ChangeKind::Recreate, true));
        assert_eq!(
            classify(&["create", "delete"]),
            (ChangeKind::Replace, false)
        );
        assert_eq!(
            classify(&["delete", "create"]),
            (ChangeKind::Recreate, false)
        );
    }

    #[test]
    fn discard_is_delete_with_its_raw_op_kept() {
        // A read resource leaves the stack: DELETE, as Terraform's `forget`;
        // re-reading one (`read-replacement`, `discard-replaced`) changes nothing.
        let text = preview(&[
            step("discard", "external"),
            step("read-replacement", "reread"),
            step("discard-replaced", "reread"),
        ]);
        let c = convert_str(&text).expect("valid");
        let got: Vec<(&str, ChangeKind, &str)> = c
            .resources
            .iter()
            .map(|r| {
                let ops = r.attributes["pulumi.ops"].as_str();
                (r.resource_name.as_str(), r.change_type, ops)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("external", ChangeKind::Delete, "discard"),
                (
                    "reread",
                    ChangeKind::NoOperation,
                    "read-replacement,discard-replaced"
                ),
            ]
        );
        let forget = crate::release::terraform::map_actions(&["forget"]).expect("forget maps");
        assert_eq!(classify(&["discard"]), (forget, false), "alike");
    }

    #[test]
    fn steps_of_one_urn_become_one_change_in_first_seen_order() {
        let text = preview(&[
            step("create-replacement", "logs"),
            step("replace", "logs"),
            step("create", "assets"),
            step("delete-replaced", "db"),
            step("replace", "db"),
            step("create-replacement", "db"),
            step("delete-replaced", "logs"),
            step("same", "static"),
        ]);
        let c = convert_str(&text).expect("valid");
        let got: Vec<(&str, ChangeKind, &str)> = c
            .resources
            .iter()
            .map(|r| {
                (
                    r.resource_name.as_str(),
                    r.change_type,
                    r.attributes["pulumi.ops"].as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "logs",
                    ChangeKind::Replace,
                    "create-replacement,replace,delete-replaced"
                ),
                ("assets", ChangeKind::Create, "create"),
                (
                    "db",
                    ChangeKind::Recreate,
                    "delete-replaced,replace,create-replacement"
                ),
                ("static", ChangeKind::NoOperation, "same"),
            ]
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.metadata["pulumi.stack"], "dev");
        assert_eq!(c.metadata["pulumi.project"], "shop");
    }

    #[test]
    fn a_lone_replace_is_recreate_with_a_warning() {
        let c = convert_str(&preview(&[step("replace", "db")])).expect("valid");
        assert_eq!(c.resources[0].change_type, ChangeKind::Recreate);
        assert_eq!(c.warnings.len(), 1);
        assert!(
            c.warnings[0].contains("--show-replacement-steps"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn urn_parts_and_state_become_attributes() {
        let text = r#"{"steps": [{"op": "delete",
            "urn": "urn:pulumi:prod::shop::my:index:Component$aws:rds/instance:Instance::orders::primary",
            "provider": "urn:pulumi:prod::shop::pulumi:providers:aws::default::id",
            "oldState": {"type": "aws:rds/instance:Instance", "custom": true, "protect": true,
                         "retainOnDelete": true, "parent": "urn:pulumi:prod::shop::my:index:Component::orders"},
            "replaceReasons": ["engine"], "diffReasons": ["engine", "size"]}]}"#;
        let c = convert_str(text).expect("valid");
        let r = &c.resources[0];
        assert_eq!(r.resource_type, "aws:rds/instance:Instance");
        assert_eq!(r.resource_name, "orders::primary");
        assert!(
            r.resource_path
                .starts_with("urn:pulumi:prod::shop::my:index")
        );
        assert_eq!(r.change_type, ChangeKind::Delete);
        for (key, value) in [
            ("pulumi.custom", "true"),
            ("pulumi.protect", "true"),
            ("pulumi.retain_on_delete", "true"),
            (
                "pulumi.parent",
                "urn:pulumi:prod::shop::my:index:Component::orders",
            ),
            (
                "pulumi.provider",
                "urn:pulumi:prod::shop::pulumi:providers:aws::default::id",
            ),
            ("pulumi.replace_reasons", "engine"),
            ("pulumi.diff_reasons", "engine,size"),
            ("pulumi.ops", "delete"),
        ] {
            assert_eq!(r.attributes[key], value, "{key}");
        }
        assert_eq!(r.attributes["pulumi.urn"], r.resource_path);
    }

    #[test]
    fn errors_and_strangers_are_refused() {
        let err = convert_str(&preview(&[step("explode", "db")])).expect_err("op");
        assert!(
            err.starts_with("preview.json: $.steps[0].op: unknown step op \"explode\""),
            "{err}"
        );
        let err =
            convert_str(r#"{"steps": [{"op": "create", "urn": "bucket-1"}]}"#).expect_err("urn");
        assert!(err.contains("$.steps[0].urn: not a Pulumi URN"), "{err}");
        let err = convert_str(r#"{"steps": [{"urn": "x"}]}"#).expect_err("no op");
        assert!(err.contains("$.steps[0]: missing field `op`"), "{err}");
        let err = convert_str(r#"{"steps": {"op": "create"}}"#).expect_err("steps object");
        assert!(
            err.contains("$.steps: invalid type: map, expected a sequence"),
            "{err}"
        );
        let err = convert_str(r#"{"config": {}}"#).expect_err("no steps");
        assert!(err.contains("not a Pulumi preview"), "{err}");
        let failed = r#"{"steps": [], "diagnostics": [
            {"message": "warning only", "severity": "warning"},
            {"urn": "x", "message": "error: could not\n  read credentials", "severity": "error"}]}"#;
        let err = convert_str(failed).expect_err("error diagnostic");
        assert!(
            err.contains("$.diagnostics[1]: the preview reported an error, so its steps are incomplete: \"error: could not read credentials\""),
            "{err}"
        );
    }

    #[test]
    fn an_empty_preview_is_an_empty_release() {
        let c = convert_str(r#"{"changeSummary": {}}"#).expect("valid");
        assert!(c.resources.is_empty());
        assert!(c.metadata.is_empty());
    }
}
