//! The release change under decision: one typed model that every input format
//! is converted into, and that policies see through the WIT `release` record.
//!
//! Input formats (docs/input-formats.md): the native Facets release JSON
//! ([`parse_release`], facets.rs), Terraform / OpenTofu `show -json` plans
//! (terraform.rs) and Pulumi `preview --json` output (pulumi.rs).
//! [`read_release`] tells them apart (detect.rs), refuses files that are
//! none of them with a message that says what they are (strangers.rs) and
//! fills what a source lacks from the command line. Parse errors name a JSON
//! path and a 1-based line and column (json_error.rs).

mod detect;
pub mod digest;
mod facets;
pub(crate) mod json_error;
mod pulumi;
mod strangers;
mod terraform;

pub use facets::{ParseOptions, parse_approvals, parse_release};

use crate::error::InputError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An input format (`--format`; `auto` is `None` in [`InputOptions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The native Facets release JSON.
    Release,
    /// A Terraform / OpenTofu plan from `terraform show -json PLANFILE`.
    Terraform,
    /// A Pulumi preview from `pulumi preview --json`.
    Pulumi,
}

impl Format {
    /// The name used by `--format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Release => "release",
            Format::Terraform => "terraform",
            Format::Pulumi => "pulumi",
        }
    }

    /// What an input of this format is, for messages ("a Terraform plan").
    pub fn describe(self) -> &'static str {
        match self {
            Format::Release => "a release",
            Format::Terraform => "a Terraform plan",
            Format::Pulumi => "a Pulumi preview",
        }
    }
}

/// How to read an input, from the command line.
#[derive(Debug, Clone, Default)]
pub struct InputOptions {
    /// `--format`; `None` detects it from the top-level keys.
    pub format: Option<Format>,
    /// `--environment`: overrides a release's `environmentName`; required for
    /// plans and previews, which name none.
    pub environment: Option<String>,
    /// `--release-stream`: likewise for `releaseStream`.
    pub release_stream: Option<String>,
    /// `--meta KEY=VALUE` entries, each key once. They add to (or, for a
    /// release, override) its metadata; for a plan or preview, keys under
    /// `terraform.` and `pulumi.` are reserved for the adapters.
    pub meta: Vec<(String, String)>,
    /// Approvals from `--approvals FILE`, appended to the input's own.
    pub approvals: Vec<Approval>,
}

/// Metadata prefixes reserved for what the Terraform and Pulumi adapters derive
/// from a plan or preview: `--meta` may not set any key under them for such an
/// input, even one the source did not produce (`terraform.complete` on a plan
/// that has no `complete` field), so policies can trust every key there.
const RESERVED_META_PREFIXES: [&str; 2] = ["terraform.", "pulumi."];

/// Whether `--meta` may not set `key` for a plan or preview.
fn is_reserved_meta_key(key: &str) -> bool {
    RESERVED_META_PREFIXES
        .iter()
        .any(|prefix| key.starts_with(prefix))
}

/// What an adapter makes of its source: everything but what the flags give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Converted {
    /// The resources, in source order.
    resources: Vec<ResourceChange>,
    /// Metadata derived from the source (`terraform.version`, ...).
    metadata: BTreeMap<String, String>,
    /// Things the report should show (incomplete plan, drift, ...).
    warnings: Vec<String>,
}

/// The UTF-8 byte-order mark, which some Windows tools write before JSON
/// (RFC 8259 lets a parser ignore it; it is not part of the content).
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a release from any supported format (see [`InputOptions`]) and
/// returns it with the warnings the report should show. `source` names the
/// input in errors (a file path, or `<stdin>`).
///
/// A UTF-8 byte-order mark is skipped. Files that are not an input but are
/// often passed as one (Terraform state, a CI wrapper's log, ...) are refused
/// whatever `--format` says, with a message naming them (strangers.rs).
pub fn read_release(
    text: &[u8],
    source: &str,
    options: &InputOptions,
) -> Result<(Release, Vec<String>), InputError> {
    let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    // A well-formed native release (the common case) is read in one pass,
    // before detection: it can only be detected as a release.
    if matches!(options.format, None | Some(Format::Release)) {
        let parse_options = ParseOptions {
            environment: options.environment.clone(),
            release_stream: options.release_stream.clone(),
        };
        if let Some(release) = facets::parse_fast(text, &parse_options) {
            return Ok((with_flags(release, options), Vec::new()));
        }
    }
    let shape = detect::Shape::of(text);
    let stranger = match &shape {
        detect::Shape::Invalid => strangers::by_bytes(text).map(|m| InputError::whole(source, m)),
        detect::Shape::Object(keys) => {
            strangers::by_keys(keys).map(|m| InputError::at(source, "$".into(), m))
        }
        detect::Shape::NotObject => None,
    };
    if let Some(err) = stranger {
        return Err(err);
    }
    let format = match options.format {
        Some(format) => format,
        None => detect::detect(&shape, source)?,
    };
    let converted = match format {
        Format::Release => {
            let parse_options = ParseOptions {
                environment: options.environment.clone(),
                release_stream: options.release_stream.clone(),
            };
            let (release, warnings) = parse_release(text, source, &parse_options)?;
            return Ok((with_flags(release, options), warnings));
        }
        Format::Terraform => terraform::convert(text, source)?,
        Format::Pulumi => pulumi::convert(text, source)?,
    };
    let (environment_name, release_stream) = match (&options.environment, &options.release_stream) {
        (Some(environment), Some(stream)) => (environment.clone(), stream.clone()),
        (environment, stream) => {
            let missing: Vec<&str> = [
                environment.is_none().then_some("--environment"),
                stream.is_none().then_some("--release-stream"),
            ]
            .into_iter()
            .flatten()
            .collect();
            return Err(InputError::whole(
                source,
                format!(
                    "{} names no environment or release stream; pass {} (a plan needs both, e.g. --environment prod-eu --release-stream PROD)",
                    capitalise(format.describe()),
                    missing.join(" and ")
                ),
            ));
        }
    };
    let mut metadata = converted.metadata;
    for (key, value) in &options.meta {
        if metadata.contains_key(key) || is_reserved_meta_key(key) {
            return Err(InputError::whole(
                source,
                format!(
                    "--meta {key}: keys starting with `terraform.` or `pulumi.` are derived from {} and cannot be set or overridden; choose another key",
                    format.describe()
                ),
            ));
        }
        metadata.insert(key.clone(), value.clone());
    }
    let release = Release {
        environment_name,
        release_stream,
        resources: converted.resources,
        metadata,
        approvals: options.approvals.clone(),
    };
    Ok((release, converted.warnings))
}

/// A native release with what the flags add: `--meta` entries (overriding
/// the release's own) and approvals from `--approvals` files.
fn with_flags(mut release: Release, options: &InputOptions) -> Release {
    release.metadata.extend(options.meta.iter().cloned());
    release.approvals.extend(options.approvals.iter().cloned());
    release
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Deepest JSON nesting accepted in a plan or a preview: their resource
/// values nest far deeper than a release, hostile inputs deeper still.
const MAX_SOURCE_DEPTH: usize = 256;

/// Deserialises a whole plan or preview document into `T`, with errors that
/// name the JSON path, the line and the column; trailing data is refused.
fn parse_document<T: serde::de::DeserializeOwned>(
    text: &[u8],
    source: &str,
    what: &str,
) -> Result<T, InputError> {
    facets::check_depth(
        text,
        MAX_SOURCE_DEPTH,
        &format!("{what} is not nested this deep"),
    )
    .map_err(|message| InputError::at(source, "$".into(), message))?;
    // Valid UTF-8 (nearly always) is checked once here rather than per
    // string by serde_json; invalid UTF-8 is read byte-wise, for its error.
    match std::str::from_utf8(text) {
        Ok(utf8) => deserialize_tracked(serde_json::Deserializer::from_str(utf8), text, source),
        Err(_) => deserialize_tracked(serde_json::Deserializer::from_slice(text), text, source),
    }
}

/// Deserialises the whole of `json` (read from `text`) with the JSON path
/// of the first problem; trailing data is refused.
fn deserialize_tracked<'de, R: serde_json::de::Read<'de>, T: serde::de::DeserializeOwned>(
    mut json: serde_json::Deserializer<R>,
    text: &[u8],
    source: &str,
) -> Result<T, InputError> {
    let value = serde_path_to_error::deserialize(&mut json).map_err(|err| {
        let path = json_error::path(err.path());
        json_error::input_error(source, path, err.inner(), text)
    })?;
    json.end()
        .map_err(|err| json_error::input_error(source, "$".into(), &err, text))?;
    Ok(value)
}

/// How one resource changes, spelled as Facets spells it in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeKind {
    /// The resource is created.
    Create,
    /// The resource is destroyed.
    Delete,
    /// The resource is modified in place.
    UpdateInPlace,
    /// Created before the old one is destroyed (Terraform `create,delete`).
    Replace,
    /// Destroyed before the new one is created (Terraform `delete,create`).
    Recreate,
    /// Nothing changes.
    NoOperation,
}

impl ChangeKind {
    /// Every kind, in WIT order.
    pub const ALL: [ChangeKind; 6] = [
        ChangeKind::Create,
        ChangeKind::Delete,
        ChangeKind::UpdateInPlace,
        ChangeKind::Replace,
        ChangeKind::Recreate,
        ChangeKind::NoOperation,
    ];

    /// The Facets spelling, e.g. `UPDATE_IN_PLACE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Create => "CREATE",
            ChangeKind::Delete => "DELETE",
            ChangeKind::UpdateInPlace => "UPDATE_IN_PLACE",
            ChangeKind::Replace => "REPLACE",
            ChangeKind::Recreate => "RECREATE",
            ChangeKind::NoOperation => "NO_OPERATION",
        }
    }
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resource touched by the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceChange {
    /// The kind of resource, e.g. `mysql`.
    pub resource_type: String,
    /// The resource's name, e.g. `orders`.
    pub resource_name: String,
    /// Where the resource lives, e.g. `datastores/orders`.
    pub resource_path: String,
    /// What happens to it.
    pub change_type: ChangeKind,
    /// Source detail kept by adapters (e.g. `terraform.actions`), sorted by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// An approval already given to the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Who approved.
    pub approver: String,
    /// The groups the approver signed for.
    pub groups: Vec<String>,
    /// When, RFC 3339 normalised to UTC (`2026-11-20T10:00:00Z`).
    pub at: String,
}

/// The release change under decision, in the native (Facets) shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    /// The target environment, e.g. `prod-eu`.
    pub environment_name: String,
    /// The release stream, e.g. `PROD`.
    pub release_stream: String,
    /// Every resource the release touches, in input order.
    pub resources: Vec<ResourceChange>,
    /// Free-form pipeline context, sorted by key.
    pub metadata: BTreeMap<String, String>,
    /// Approvals already recorded.
    pub approvals: Vec<Approval>,
}

impl Release {
    /// The release's digest, `sha256:<64 lowercase hex>`: SHA-256 of the
    /// canonical (RFC 8785) encoding of what policies see, approvals left
    /// out ([`digest`], docs/approvals.md "Release digest"). Approvals sign
    /// it, audit records carry it and it seeds the policies' deterministic
    /// `wasi:random` ([`crate::runtime::random_seed`]); compute it once per
    /// run. This is the one way to compute it.
    pub fn digest(&self) -> String {
        digest::digest(self)
    }

    /// How many resources change in each way, for reports.
    pub fn change_counts(&self) -> BTreeMap<ChangeKind, usize> {
        let mut counts = BTreeMap::new();
        for resource in &self.resources {
            *counts.entry(resource.change_type).or_insert(0) += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"{"format_version": "1.2", "terraform_version": "1.9.0",
        "planned_values": {}, "resource_changes": [{"address": "null_resource.a",
        "mode": "managed", "type": "null_resource", "name": "a",
        "change": {"actions": ["delete", "create"]}}]}"#;
    const PREVIEW: &str = r#"{"steps": [{"op": "create",
        "urn": "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::logs"}]}"#;
    const RELEASE: &str = r#"{"environmentName": "prod", "releaseStream": "PROD",
        "resources": [], "metadata": {"commit": "abc", "author": "jdoe"}}"#;

    #[test]
    fn a_plan_with_invalid_utf8_is_refused_with_its_position() {
        let mut bytes = PLAN.as_bytes().to_vec();
        let at = PLAN.find("null_resource.a").expect("there");
        bytes[at] = 0xff;
        let options = InputOptions {
            environment: Some("prod".into()),
            release_stream: Some("PROD".into()),
            format: Some(Format::Terraform),
            ..InputOptions::default()
        };
        let err = read_release(&bytes, "plan.json", &options).expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("line 2"), "{text}");
        // The same plan in valid UTF-8 reads (the one-check path).
        assert!(read_release(PLAN.as_bytes(), "plan.json", &options).is_ok());
    }

    #[test]
    fn the_one_pass_read_gives_what_detection_and_the_instrumented_parser_give() {
        let text = r#"{"environmentName": "prod", "releaseStream": "PROD",
            "resources": [{"resourceType": "mysql", "resourceName": "orders",
                "resourcePath": "datastores/orders", "changeType": "DELETE",
                "attributes": {"owner": "payments \u00e9"}}],
            "metadata": {"commit": "abc"},
            "approvals": [{"approver": "asmith", "groups": ["dba"], "at": "2026-11-20T11:00:00+01:00"}]}"#;
        let options = InputOptions {
            meta: vec![("commit".into(), "def".into())],
            ..InputOptions::default()
        };
        let fast = facets::parse_fast(text.as_bytes(), &ParseOptions::default()).expect("fast");
        let (read, warnings) = read_release(text.as_bytes(), "in.json", &options).expect("reads");
        assert!(warnings.is_empty());
        let forced = InputOptions {
            format: Some(Format::Release),
            ..options.clone()
        };
        assert_eq!(
            read_release(text.as_bytes(), "in.json", &forced)
                .expect("reads")
                .0,
            read
        );
        // The flags apply on the fast path as on the others.
        assert_eq!(read.metadata["commit"], "def");
        assert_eq!(read.resources, fast.resources);
        assert_eq!(read.resources[0].attributes["owner"], "payments \u{e9}");
        assert_eq!(read.approvals[0].at, "2026-11-20T10:00:00Z");
        // What the fast path refuses goes the long way: an unknown field
        // (a warning), invalid UTF-8, a bad timestamp (an error with a path).
        let unknown = text.replace(r#""metadata""#, r#""colour": "red", "metadata""#);
        assert!(facets::parse_fast(unknown.as_bytes(), &ParseOptions::default()).is_none());
        let (same, warnings) =
            read_release(unknown.as_bytes(), "in.json", &options).expect("reads");
        assert_eq!(same, read);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let mut bytes = text.as_bytes().to_vec();
        let at = text.find("orders").expect("there");
        bytes[at] = 0xff;
        assert!(facets::parse_fast(&bytes, &ParseOptions::default()).is_none());
        assert!(read_release(&bytes, "in.json", &options).is_err());
        let stamp = text.replace("2026-11-20T11:00:00+01:00", "yesterday");
        let err = read_release(stamp.as_bytes(), "in.json", &options).expect_err("refused");
        assert_eq!(err.path.as_deref(), Some("$.approvals[0].at"), "{err:?}");
    }

    fn approval() -> Approval {
        Approval {
            approver: "asmith".into(),
            groups: vec!["dba".into()],
            at: "2026-11-20T10:00:00Z".into(),
        }
    }

    fn flags() -> InputOptions {
        InputOptions {
            environment: Some("staging".into()),
            release_stream: Some("QA".into()),
            meta: vec![("commit".into(), "9f2c1e7".into())],
            approvals: vec![approval()],
            ..InputOptions::default()
        }
    }

    fn read(text: &str, options: &InputOptions) -> Result<Release, String> {
        read_release(text.as_bytes(), "in.json", options)
            .map(|(r, _)| r)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_digest_is_the_canonical_one_whatever_the_source() {
        let release = read(RELEASE, &InputOptions::default()).expect("release");
        assert_eq!(release.digest(), digest::digest(&release));
        // The same release written another way, with approvals: same digest.
        let respaced = r#"{"metadata":{"author":"jdoe","commit":"abc"},
            "releaseStream":"PROD","resources":[],"environmentName":"prod"}"#;
        let options = InputOptions {
            approvals: vec![approval()],
            ..InputOptions::default()
        };
        assert_eq!(
            read(respaced, &options).expect("release").digest(),
            release.digest()
        );
        let mut other = release.clone();
        other.environment_name = "prod-eu".into();
        assert_ne!(other.digest(), release.digest());
    }

    #[test]
    fn auto_dispatches_and_flags_fill_every_format() {
        let plan = read(PLAN, &flags()).expect("plan");
        assert_eq!(plan.resources[0].change_type, ChangeKind::Recreate);
        assert_eq!(
            (plan.environment_name.as_str(), plan.release_stream.as_str()),
            ("staging", "QA")
        );
        assert_eq!(plan.metadata["commit"], "9f2c1e7");
        assert_eq!(plan.metadata["terraform.version"], "1.9.0");
        assert_eq!(plan.approvals, [approval()]);

        let preview = read(PREVIEW, &flags()).expect("preview");
        assert_eq!(preview.resources[0].resource_type, "aws:s3/bucket:Bucket");
        assert_eq!(preview.metadata["pulumi.stack"], "dev");

        let release = read(RELEASE, &flags()).expect("release");
        assert_eq!(release.environment_name, "staging");
        assert_eq!(release.metadata["commit"], "9f2c1e7", "--meta overrides");
        assert_eq!(release.metadata["author"], "jdoe");
        assert_eq!(release.approvals, [approval()]);
    }

    #[test]
    fn an_explicit_format_is_used_as_given() {
        let options = InputOptions {
            format: Some(Format::Pulumi),
            ..flags()
        };
        let err = read(PLAN, &options).expect_err("a plan is not a preview");
        assert!(err.contains("not a Pulumi preview"), "{err}");
        let options = InputOptions {
            format: Some(Format::Release),
            ..flags()
        };
        let err = read(PREVIEW, &options).expect_err("a preview is not a release");
        assert!(err.contains("missing required field `resources`"), "{err}");
    }

    #[test]
    fn strangers_are_refused_whatever_the_format() {
        // An empty .tfstate would otherwise pass as an empty release.
        let tfstate = r#"{"version": 4, "terraform_version": "1.9.0", "serial": 3,
            "lineage": "abc", "outputs": {}, "resources": []}"#;
        let wrapper = format!("[command]/usr/bin/terraform show -json plan.out\n{PLAN}");
        for format in [
            None,
            Some(Format::Release),
            Some(Format::Terraform),
            Some(Format::Pulumi),
        ] {
            let options = InputOptions { format, ..flags() };
            let err = read(tfstate, &options).expect_err("state");
            assert!(
                err.starts_with("in.json: $: this is a Terraform state file"),
                "{format:?}: {err}"
            );
            let err = read(&wrapper, &options).expect_err("wrapper");
            assert!(
                err.starts_with(
                    "in.json: this is the log of hashicorp/setup-terraform's terraform wrapper"
                ),
                "{format:?}: {err}"
            );
        }
    }

    #[test]
    fn a_utf8_byte_order_mark_is_skipped() {
        let with_bom = format!("\u{feff}{RELEASE}");
        assert_eq!(
            read(&with_bom, &InputOptions::default()),
            read(RELEASE, &InputOptions::default())
        );
        let err = read("\u{feff}{\"resources\": 1}", &InputOptions::default()).expect_err("bad");
        assert!(
            err.contains("(line 1, column 15)"),
            "columns after the mark: {err}"
        );
    }

    #[test]
    fn plans_need_both_flags_and_keep_their_own_metadata() {
        let err = read(PLAN, &InputOptions::default()).expect_err("no flags");
        assert_eq!(
            err,
            "in.json: A Terraform plan names no environment or release stream; pass --environment and --release-stream (a plan needs both, e.g. --environment prod-eu --release-stream PROD)"
        );
        let options = InputOptions {
            release_stream: None,
            ..flags()
        };
        let err = read(PREVIEW, &options).expect_err("no stream");
        assert!(
            err.ends_with(
                "A Pulumi preview names no environment or release stream; pass --release-stream (a plan needs both, e.g. --environment prod-eu --release-stream PROD)"
            ),
            "{err}"
        );
        let options = InputOptions {
            meta: vec![("terraform.complete".into(), "true".into())],
            ..flags()
        };
        let plan = PLAN.replace(
            "\"planned_values\"",
            "\"complete\": false, \"planned_values\"",
        );
        let err = read(&plan, &options).expect_err("override");
        assert!(
            err.contains("--meta terraform.complete: keys starting with `terraform.` or `pulumi.` are derived from a Terraform plan and cannot be set or overridden"),
            "{err}"
        );
        // Reserved even when the source did not produce the key: a policy
        // reading `terraform.complete` must never see a value --meta forged.
        assert!(
            !PLAN.contains("\"complete\""),
            "the sample plan has no `complete`"
        );
        for key in ["terraform.complete", "pulumi.stack"] {
            let options = InputOptions {
                meta: vec![(key.into(), "true".into())],
                ..flags()
            };
            let err = read(PLAN, &options).expect_err("reserved prefix");
            assert!(
                err.contains(&format!("--meta {key}: keys starting with")),
                "{err}"
            );
        }
        let options = InputOptions {
            meta: vec![("terraformish.note".into(), "ok".into())],
            ..flags()
        };
        assert!(
            read(PLAN, &options).is_ok(),
            "only the exact prefixes are reserved"
        );
    }
}
