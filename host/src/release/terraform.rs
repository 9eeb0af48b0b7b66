//! The Terraform / OpenTofu adapter: a plan from `terraform show -json PLANFILE`
//! (or `tofu show -json`), JSON plan format 0.x and 1.x, becomes a release.
//!
//! Each `resource_changes[]` entry is one resource; `change.actions` decides
//! its change type (see [`map_actions`] and docs/input-formats.md):
//!
//! | actions | change type |
//! |---|---|
//! | `no-op`, `read` | NO_OPERATION (data-source reads included) |
//! | `create` | CREATE |
//! | `update` | UPDATE_IN_PLACE |
//! | `delete` | DELETE |
//! | `delete,create` | RECREATE (destroy first: an outage window) |
//! | `create,delete` | REPLACE (create before destroy) |
//! | `forget` | DELETE |
//! | `create,forget`, `forget,create` | REPLACE |
//!
//! `forget` (a `removed` block with `destroy = false`) leaves the object in
//! the cloud but takes it out of Terraform's state: the release stops
//! managing it. Gatehouse counts that as DELETE because a gate must not
//! under-state a change: a resource leaving management is invisible to a
//! policy that only sees NO_OPERATION, while a policy that knows better can
//! read `terraform.actions = forget` and relax. Pulumi's `discard` (a read
//! resource leaving the stack) is treated alike (DELETE, see the Pulumi
//! adapter). Nothing is destroyed, so no
//! outage window follows: `create,forget` and OpenTofu's `forget,create`
//! (the new object created, the old one only let go) are REPLACE, never
//! RECREATE.
//!
//! Refused (exit 3): `errored: true` (planning failed, so the plan is
//! partial), an unknown major `format_version`, unknown actions or
//! combinations, and wrong types. `applyable: false` without `errored` is a
//! plan with nothing to change: an empty release. `complete: false`,
//! `deferred_changes`, `resource_drift` and `output_changes` are carried into
//! the metadata and reported as warnings, not gated; so are Terraform 1.14's
//! `action_invocations` (provider actions run on apply, beside the resource
//! changes), whose count policies see as `terraform.action_invocations`.

use super::facets::ObjectOnly;
use super::strangers::SHOW_JSON_STATE;
use super::{ChangeKind, Converted, ResourceChange, parse_document};
use crate::error::InputError;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// The JSON plan format majors this adapter understands.
const SUPPORTED_MAJORS: [u64; 2] = [0, 1];

/// How many deferred changes or action invocations a warning names before
/// it says "and N more".
const NAMES_SHOWN: usize = 5;

/// The part of a plan read before anything else: what decides whether the
/// rest can be trusted at all.
#[derive(Deserialize)]
struct Header {
    format_version: String,
    errored: Option<bool>,
    resource_changes: Option<IgnoredAny>,
    planned_values: Option<IgnoredAny>,
    values: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct RawPlan {
    format_version: String,
    terraform_version: Option<String>,
    applyable: Option<bool>,
    complete: Option<bool>,
    timestamp: Option<String>,
    resource_changes: Option<Vec<ObjectOnly<RawResourceChange>>>,
    resource_drift: Option<Vec<IgnoredAny>>,
    output_changes: Option<BTreeMap<String, ObjectOnly<RawOutputChange>>>,
    deferred_changes: Option<Vec<ObjectOnly<RawDeferredChange>>>,
    action_invocations: Option<Vec<ObjectOnly<RawActionInvocation>>>,
}

#[derive(Deserialize)]
struct RawResourceChange {
    address: String,
    previous_address: Option<String>,
    module_address: Option<String>,
    mode: Option<String>,
    #[serde(rename = "type")]
    resource_type: String,
    name: String,
    index: Option<serde_json::Value>,
    provider_name: Option<String>,
    deposed: Option<String>,
    change: ObjectOnly<RawChange>,
    action_reason: Option<String>,
}

#[derive(Deserialize)]
struct RawChange {
    actions: Actions,
    importing: Option<ObjectOnly<RawImporting>>,
    replace_paths: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawImporting {
    id: Option<String>,
    identity: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawOutputChange {
    actions: Actions,
}

#[derive(Deserialize)]
struct RawDeferredChange {
    reason: Option<String>,
    resource_change: Option<ObjectOnly<RawDeferredResource>>,
}

#[derive(Deserialize)]
struct RawDeferredResource {
    address: Option<String>,
}

/// One `action_invocations[]` entry (Terraform 1.14 actions).
#[derive(Deserialize)]
struct RawActionInvocation {
    address: Option<String>,
}

/// `change.actions`: a list of strings, with an error that says so.
struct Actions(Vec<String>);

impl<'de> Deserialize<'de> for Actions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ActionsVisitor;
        impl<'de> Visitor<'de> for ActionsVisitor {
            type Value = Actions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a list of actions such as ["delete", "create"]"#)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Actions, A::Error> {
                let mut actions = Vec::new();
                while let Some(action) = seq.next_element::<String>()? {
                    actions.push(action);
                }
                Ok(Actions(actions))
            }
        }
        deserializer.deserialize_seq(ActionsVisitor)
    }
}

/// Converts a plan (see the module docs).
pub(super) fn convert(text: &[u8], source: &str) -> Result<Converted, InputError> {
    let what = "a Terraform plan";
    let ObjectOnly(header): ObjectOnly<Header> = parse_document(text, source, what)?;
    check_format_version(&header.format_version)
        .map_err(|message| InputError::at(source, "$.format_version".into(), message))?;
    if header.errored == Some(true) {
        return Err(InputError::at(
            source,
            "$.errored".into(),
            "the plan is incomplete because planning failed (errored: true); fix the errors `terraform plan` reported and plan again: a partial plan cannot be gated".into(),
        ));
    }
    if header.resource_changes.is_none() && header.planned_values.is_none() {
        let message = if header.values.is_some() {
            format!(
                "{SHOW_JSON_STATE}; run `terraform plan -out=PLANFILE` and pass the output of `terraform show -json PLANFILE`"
            )
        } else {
            "not a Terraform plan: it has neither `resource_changes` nor `planned_values`; pass the output of `terraform show -json PLANFILE`".into()
        };
        return Err(InputError::at(source, "$".into(), message));
    }

    let ObjectOnly(plan): ObjectOnly<RawPlan> = parse_document(text, source, what)?;
    let resources = plan
        .resource_changes
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, ObjectOnly(raw))| convert_resource(raw, &format!("$.resource_changes[{i}]")))
        .collect::<Result<Vec<_>, (String, String)>>()
        .map_err(|(path, message)| InputError::at(source, path, message))?;

    let mut metadata = BTreeMap::new();
    let mut warnings = Vec::new();
    metadata.insert("terraform.format_version".into(), plan.format_version);
    if let Some(version) = plan.terraform_version {
        metadata.insert("terraform.version".into(), version);
    }
    if let Some(applyable) = plan.applyable {
        metadata.insert("terraform.applyable".into(), applyable.to_string());
    }
    if let Some(complete) = plan.complete {
        metadata.insert("terraform.complete".into(), complete.to_string());
        if !complete {
            warnings.push(
                "the plan is incomplete (complete: false): it lacks changes the configuration needs (deferred changes or -target), so at least one more plan and apply will follow; this release covers only what this plan applies".into(),
            );
        }
    }
    if let Some(timestamp) = plan.timestamp {
        metadata.insert("terraform.timestamp".into(), timestamp);
    }

    let deferred = plan.deferred_changes.unwrap_or_default();
    metadata.insert(
        "terraform.deferred_changes".into(),
        deferred.len().to_string(),
    );
    if !deferred.is_empty() {
        let mut named: Vec<String> = deferred
            .iter()
            .take(NAMES_SHOWN)
            .map(|ObjectOnly(d)| {
                let address = d
                    .resource_change
                    .as_ref()
                    .and_then(|ObjectOnly(r)| r.address.clone())
                    .unwrap_or_else(|| "(no address)".into());
                match &d.reason {
                    Some(reason) => format!("{address} ({reason})"),
                    None => address,
                }
            })
            .collect();
        if deferred.len() > NAMES_SHOWN {
            named.push(format!("and {} more", deferred.len() - NAMES_SHOWN));
        }
        warnings.push(format!(
            "{} deferred change{} (deferred_changes), not part of this release and not gated: {}",
            deferred.len(),
            plural(deferred.len()),
            named.join(", ")
        ));
    }

    if let Some(actions) = plan.action_invocations {
        metadata.insert(
            "terraform.action_invocations".into(),
            actions.len().to_string(),
        );
        if !actions.is_empty() {
            let mut named: Vec<String> = actions
                .iter()
                .take(NAMES_SHOWN)
                .map(|ObjectOnly(a)| a.address.clone().unwrap_or_else(|| "(no address)".into()))
                .collect();
            if actions.len() > NAMES_SHOWN {
                named.push(format!("and {} more", actions.len() - NAMES_SHOWN));
            }
            warnings.push(format!(
                "{} action invocation{} (action_invocations) will run when this plan is applied, beside the resource changes: {}; reported, not gated (policies see the count as terraform.action_invocations)",
                actions.len(),
                plural(actions.len()),
                named.join(", ")
            ));
        }
    }

    let drift = plan.resource_drift.map_or(0, |d| d.len());
    metadata.insert("terraform.drift".into(), drift.to_string());
    if drift > 0 {
        warnings.push(format!(
            "{drift} resource{} changed outside Terraform since the last apply (resource_drift): reported, not gated",
            plural(drift)
        ));
    }

    let outputs = plan
        .output_changes
        .unwrap_or_default()
        .values()
        .filter(|ObjectOnly(o)| o.actions.0 != ["no-op"])
        .count();
    metadata.insert("terraform.output_changes".into(), outputs.to_string());
    if outputs > 0 {
        warnings.push(format!(
            "{outputs} output{} change (output_changes): reported, not gated",
            plural(outputs)
        ));
    }

    Ok(Converted {
        resources,
        metadata,
        warnings,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Accepts `MAJOR.MINOR` with a supported major.
fn check_format_version(version: &str) -> Result<(), String> {
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return Err(format!(
            "malformed format_version {version:?}; expected MAJOR.MINOR such as \"1.2\""
        ));
    }
    match major.parse::<u64>() {
        Ok(m) if SUPPORTED_MAJORS.contains(&m) => Ok(()),
        _ => Err(format!(
            "unsupported format_version {version:?}: Gatehouse reads the Terraform JSON plan format 0.x and 1.x; a new major version may change what the fields mean, so the plan is refused rather than guessed at"
        )),
    }
}

/// One `resource_changes[]` entry (at JSON path `path`) as a resource change;
/// errors are (JSON path, message).
fn convert_resource(
    raw: RawResourceChange,
    path: &str,
) -> Result<ResourceChange, (String, String)> {
    let ObjectOnly(change) = raw.change;
    let change_type =
        map_actions(&change.actions.0).map_err(|m| (format!("{path}.change.actions"), m))?;
    let mut attributes = BTreeMap::new();
    attributes.insert("terraform.actions".to_string(), change.actions.0.join(","));
    let index = match raw.index {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::String(key)) => Some(serde_json::Value::String(key).to_string()),
        Some(other) => {
            return Err((
                format!("{path}.index"),
                format!(
                    "expected a number (count) or a string (for_each key), got {}",
                    json_kind(&other)
                ),
            ));
        }
    };
    let resource_name = match &index {
        Some(index) => format!("{}[{index}]", raw.name),
        None => raw.name,
    };
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            attributes.insert(format!("terraform.{key}"), value);
        }
    };
    put("index", index);
    put("mode", raw.mode);
    put("provider", raw.provider_name);
    put("module_address", raw.module_address);
    put("action_reason", raw.action_reason);
    put("previous_address", raw.previous_address);
    put("deposed", raw.deposed);
    put(
        "replace_paths",
        change
            .replace_paths
            .filter(|v| !v.is_null())
            .map(|v| v.to_string()),
    );
    if let Some(ObjectOnly(importing)) = change.importing {
        put("importing", Some("true".into()));
        put("importing_id", importing.id);
        put(
            "importing_identity",
            importing
                .identity
                .filter(|v| !v.is_null())
                .map(|v| v.to_string()),
        );
    }
    Ok(ResourceChange {
        resource_type: raw.resource_type,
        resource_name,
        resource_path: raw.address,
        change_type,
        attributes,
    })
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The actions Terraform and OpenTofu write.
const KNOWN_ACTIONS: [&str; 6] = ["no-op", "create", "read", "update", "delete", "forget"];

/// Maps `change.actions` to a change type (table in the module docs).
pub(super) fn map_actions<S: AsRef<str>>(actions: &[S]) -> Result<ChangeKind, String> {
    let actions: Vec<&str> = actions.iter().map(AsRef::as_ref).collect();
    if let Some(unknown) = actions.iter().find(|a| !KNOWN_ACTIONS.contains(a)) {
        return Err(format!(
            "unknown action {unknown:?}; Terraform's actions are {}",
            KNOWN_ACTIONS.join(", ")
        ));
    }
    Ok(match actions.as_slice() {
        ["no-op"] | ["read"] => ChangeKind::NoOperation,
        ["create"] => ChangeKind::Create,
        ["update"] => ChangeKind::UpdateInPlace,
        ["delete"] | ["forget"] => ChangeKind::Delete,
        ["delete", "create"] => ChangeKind::Recreate,
        ["create", "delete"] | ["create", "forget"] | ["forget", "create"] => ChangeKind::Replace,
        [] => {
            return Err(r#"the list of actions is empty; expected e.g. ["create"]"#.into());
        }
        other => {
            return Err(format!(
                "unsupported combination of actions {}; expected one action, or [\"delete\", \"create\"], [\"create\", \"delete\"], [\"create\", \"forget\"] or [\"forget\", \"create\"]",
                serde_json::Value::from(other.to_vec())
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_str(text: &str) -> Result<Converted, String> {
        convert(text.as_bytes(), "plan.json").map_err(|e| e.to_string())
    }

    /// A minimal plan around some resource_changes entries.
    fn plan(changes: &str) -> String {
        format!(
            r#"{{"format_version": "1.2", "terraform_version": "1.9.0", "planned_values": {{}},
                "resource_changes": [{changes}], "applyable": true, "complete": true, "errored": false}}"#
        )
    }

    fn change(address: &str, actions: &str) -> String {
        let (ty, name) = address.split_once('.').unwrap_or(("t", address));
        format!(
            r#"{{"address": "{address}", "mode": "managed", "type": "{ty}", "name": "{name}",
                "provider_name": "registry.terraform.io/hashicorp/null", "change": {{"actions": {actions}}}}}"#
        )
    }

    #[test]
    fn every_action_combination_maps() {
        let cases: [(&[&str], ChangeKind); 11] = [
            (&["no-op"], ChangeKind::NoOperation),
            (&["read"], ChangeKind::NoOperation),
            (&["create"], ChangeKind::Create),
            (&["update"], ChangeKind::UpdateInPlace),
            (&["delete"], ChangeKind::Delete),
            (&["delete", "create"], ChangeKind::Recreate),
            (&["create", "delete"], ChangeKind::Replace),
            (&["forget"], ChangeKind::Delete),
            (&["create", "forget"], ChangeKind::Replace),
            (&["forget", "create"], ChangeKind::Replace),
            (&["read"], ChangeKind::NoOperation),
        ];
        for (actions, kind) in cases {
            assert_eq!(map_actions(actions), Ok(kind), "{actions:?}");
        }
    }

    #[test]
    fn unknown_and_unsupported_actions_are_refused() {
        let err = map_actions(&["destroy"]).expect_err("unknown");
        assert!(err.starts_with("unknown action \"destroy\""), "{err}");
        let err = map_actions(&["update", "delete"]).expect_err("combination");
        assert!(
            err.starts_with(r#"unsupported combination of actions ["update","delete"]"#),
            "{err}"
        );
        assert!(map_actions(&["create", "create"]).is_err());
        assert!(map_actions(&["delete", "forget"]).is_err());
        let err = map_actions::<&str>(&[]).expect_err("empty");
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn forget_keeps_the_raw_actions() {
        let c = convert_str(&plan(
            &[
                change("aws_instance.kept", r#"["forget"]"#),
                change("aws_instance.swapped", r#"["create", "forget"]"#),
                change("aws_instance.tofu", r#"["forget", "create"]"#),
            ]
            .join(","),
        ))
        .expect("valid");
        let got: Vec<(ChangeKind, &str)> = c
            .resources
            .iter()
            .map(|r| (r.change_type, r.attributes["terraform.actions"].as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (ChangeKind::Delete, "forget"),
                (ChangeKind::Replace, "create,forget"),
                (ChangeKind::Replace, "forget,create"),
            ]
        );
    }

    #[test]
    fn source_detail_becomes_attributes() {
        let entry = r#"{"address": "module.poc.aws_iam_role.r6[\"p1\"]", "previous_address": "aws_iam_role.old",
            "module_address": "module.poc", "mode": "managed", "type": "aws_iam_role", "name": "r6",
            "index": "p1", "provider_name": "registry.terraform.io/hashicorp/aws", "deposed": "00000001",
            "action_reason": "replace_because_tainted",
            "change": {"actions": ["delete", "create"], "replace_paths": [["name"]],
                       "importing": {"id": "role-1", "identity": {"name": "r"}},
                       "before": {"huge": [1, 2, 3]}, "after": null}}"#;
        let c = convert_str(&plan(entry)).expect("valid");
        let r = &c.resources[0];
        assert_eq!(r.resource_type, "aws_iam_role");
        assert_eq!(r.resource_name, "r6[\"p1\"]");
        assert_eq!(r.resource_path, "module.poc.aws_iam_role.r6[\"p1\"]");
        assert_eq!(r.change_type, ChangeKind::Recreate);
        let expected: BTreeMap<String, String> = [
            ("terraform.actions", "delete,create"),
            ("terraform.action_reason", "replace_because_tainted"),
            ("terraform.deposed", "00000001"),
            ("terraform.importing", "true"),
            ("terraform.importing_id", "role-1"),
            ("terraform.importing_identity", r#"{"name":"r"}"#),
            ("terraform.index", "\"p1\""),
            ("terraform.mode", "managed"),
            ("terraform.module_address", "module.poc"),
            ("terraform.previous_address", "aws_iam_role.old"),
            ("terraform.provider", "registry.terraform.io/hashicorp/aws"),
            ("terraform.replace_paths", r#"[["name"]]"#),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(r.attributes, expected);

        let counted = change("null_resource.baz", r#"["create"]"#)
            .replace("\"change\"", "\"index\": 2, \"change\"");
        let c = convert_str(&plan(&counted)).expect("valid");
        assert_eq!(c.resources[0].resource_name, "baz[2]");
        assert_eq!(c.resources[0].attributes["terraform.index"], "2");
    }

    #[test]
    fn data_source_reads_are_no_operation() {
        let entry = change("data.aws_ami.ubuntu", r#"["read"]"#).replace("managed", "data");
        let c = convert_str(&plan(&entry)).expect("valid");
        assert_eq!(c.resources[0].change_type, ChangeKind::NoOperation);
        assert_eq!(c.resources[0].attributes["terraform.mode"], "data");
    }

    #[test]
    fn errored_plans_are_refused() {
        let text = plan(&change("null_resource.a", r#"["create"]"#))
            .replace("\"errored\": false", "\"errored\": true");
        let err = convert_str(&text).expect_err("errored");
        assert!(
            err.starts_with("plan.json: $.errored: the plan is incomplete because planning failed"),
            "{err}"
        );
        // Refused even when the rest is malformed: errored is read first.
        let text = text.replace(r#"["create"]"#, "42");
        let err = convert_str(&text).expect_err("errored");
        assert!(err.contains("$.errored"), "{err}");
    }

    #[test]
    fn format_versions() {
        for ok in ["0.1", "0.2", "1.0", "1.2", "1.10"] {
            let text = plan("").replace("\"1.2\"", &format!("{ok:?}"));
            assert!(convert_str(&text).is_ok(), "{ok}");
        }
        let err = convert_str(&plan("").replace("\"1.2\"", "\"2.0\"")).expect_err("2.0");
        assert!(
            err.starts_with("plan.json: $.format_version: unsupported format_version \"2.0\""),
            "{err}"
        );
        let err = convert_str(&plan("").replace("\"1.2\"", "\"one\"")).expect_err("one");
        assert!(err.contains("malformed format_version \"one\""), "{err}");
        let err = convert_str(&plan("").replace("\"1.2\"", "1.2")).expect_err("number");
        assert!(
            err.contains("$.format_version: invalid type: floating point `1.2`, expected a string"),
            "{err}"
        );
        let err =
            convert_str(&plan("").replace("\"format_version\": \"1.2\",", "")).expect_err("none");
        assert!(err.contains("$: missing field `format_version`"), "{err}");
    }

    #[test]
    fn a_plan_with_nothing_to_change_is_empty() {
        let text = r#"{"format_version": "1.2", "terraform_version": "1.7.5",
            "planned_values": {"root_module": {}}, "applyable": false, "complete": true, "errored": false}"#;
        let c = convert_str(text).expect("no-change plan");
        assert!(c.resources.is_empty());
        assert_eq!(c.metadata["terraform.applyable"], "false");
        assert_eq!(c.metadata["terraform.complete"], "true");
        assert_eq!(c.metadata["terraform.drift"], "0");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn state_and_strangers_are_not_plans() {
        let err =
            convert_str(r#"{"format_version": "1.0", "terraform_version": "1.7.5", "values": {}}"#)
                .expect_err("state");
        assert!(
            err.contains("this is Terraform state (`terraform show -json` without a plan file"),
            "{err}"
        );
        let err = convert_str(r#"{"format_version": "1.0"}"#).expect_err("no plan keys");
        assert!(err.contains("not a Terraform plan"), "{err}");
        let err = convert_str("[1]").expect_err("array");
        assert!(
            err.contains("$: invalid type: sequence, expected a JSON object"),
            "{err}"
        );
    }

    #[test]
    fn malformed_entries_name_their_path() {
        let missing =
            change("null_resource.a", r#"["create"]"#).replace(r#"{"actions": ["create"]}"#, "{}");
        let err = convert_str(&plan(&missing)).expect_err("no actions");
        assert!(
            err.contains("$.resource_changes[0].change: missing field `actions`"),
            "{err}"
        );
        let err = convert_str(&plan(&change("null_resource.a", r#""create""#)))
            .expect_err("string actions");
        assert!(
            err.contains(r#"$.resource_changes[0].change.actions: invalid type: string "create", expected a list of actions such as ["delete", "create"]"#),
            "{err}"
        );
        let err = convert_str(&plan(&change("null_resource.a", "[1]"))).expect_err("number action");
        assert!(
            err.contains("$.resource_changes[0].change.actions[0]: invalid type: integer `1`, expected a string"),
            "{err}"
        );
        let two = [
            change("null_resource.a", r#"["create"]"#),
            change("null_resource.b", r#"["explode"]"#),
        ]
        .join(",");
        let err = convert_str(&plan(&two)).expect_err("unknown action");
        assert!(
            err.contains("$.resource_changes[1].change.actions: unknown action \"explode\""),
            "{err}"
        );
        let bad_index = change("null_resource.a", r#"["create"]"#)
            .replace("\"change\"", "\"index\": [0], \"change\"");
        let err = convert_str(&plan(&bad_index)).expect_err("list index");
        assert!(
            err.contains("$.resource_changes[0].index: expected a number (count) or a string (for_each key), got a list"),
            "{err}"
        );
        let no_address = change("null_resource.a", r#"["create"]"#)
            .replace(r#""address": "null_resource.a","#, "");
        let err = convert_str(&plan(&no_address)).expect_err("no address");
        assert!(
            err.contains("$.resource_changes[0]: missing field `address`"),
            "{err}"
        );
    }

    #[test]
    fn action_invocations_are_counted_and_reported() {
        let text = plan("").replace(
            "\"errored\": false",
            r#""errored": false, "action_invocations": [
                {"address": "action.aws_lambda_invoke.notify", "type": "aws_lambda_invoke", "name": "notify"},
                {"type": "local_command", "name": "x"}]"#,
        );
        let c = convert_str(&text).expect("valid");
        assert!(c.resources.is_empty());
        assert_eq!(c.metadata["terraform.action_invocations"], "2");
        assert_eq!(
            c.warnings,
            [
                "2 action invocations (action_invocations) will run when this plan is applied, beside the resource changes: action.aws_lambda_invoke.notify, (no address); reported, not gated (policies see the count as terraform.action_invocations)"
            ]
        );
        // Absent field, absent key: plans from before Terraform 1.14 keep
        // their metadata (and their release digest).
        let c = convert_str(&plan("")).expect("valid");
        assert_eq!(c.metadata.get("terraform.action_invocations"), None);
        let c = convert_str(&plan("").replace(
            "\"errored\": false",
            "\"errored\": false, \"action_invocations\": []",
        ))
        .expect("valid");
        assert_eq!(c.metadata["terraform.action_invocations"], "0");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn incomplete_plans_drift_outputs_and_deferrals_are_reported() {
        let text = plan(&change("null_resource.a", r#"["create"]"#))
            .replace("\"complete\": true", "\"complete\": false")
            .replace(
                "\"errored\": false",
                r#""errored": false,
                   "resource_drift": [{"mode": "managed", "change": {"actions": ["update"]}}],
                   "output_changes": {"a": {"actions": ["create"]}, "b": {"actions": ["no-op"]}},
                   "deferred_changes": [{"reason": "provider_config_unknown",
                                         "resource_change": {"address": "kubernetes_namespace.ns"}}]"#,
            );
        let c = convert_str(&text).expect("valid");
        assert_eq!(c.resources.len(), 1);
        assert_eq!(c.metadata["terraform.complete"], "false");
        assert_eq!(c.metadata["terraform.deferred_changes"], "1");
        assert_eq!(c.metadata["terraform.drift"], "1");
        assert_eq!(c.metadata["terraform.output_changes"], "1");
        assert_eq!(c.metadata["terraform.version"], "1.9.0");
        assert_eq!(c.metadata["terraform.format_version"], "1.2");
        assert_eq!(c.warnings.len(), 4, "{:?}", c.warnings);
        assert!(
            c.warnings[0].contains("complete: false"),
            "{:?}",
            c.warnings
        );
        assert!(
            c.warnings[1].contains("kubernetes_namespace.ns (provider_config_unknown)"),
            "{:?}",
            c.warnings
        );
        assert!(c.warnings[2].contains("resource_drift"), "{:?}", c.warnings);
        assert!(
            c.warnings[3].starts_with("1 output change"),
            "{:?}",
            c.warnings
        );
    }
}
