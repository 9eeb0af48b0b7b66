//! Parses the native release format (the Facets pre-release hook JSON) into a
//! [`Release`], with errors that name the file, the JSON path and the line.

use super::json_error;
use super::{Approval, ChangeKind, Release, ResourceChange};
use crate::error::InputError;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Values from the command line that fill or override the release's own.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// `--environment`: used when given, else the file's `environmentName`.
    pub environment: Option<String>,
    /// `--release-stream`: used when given, else the file's `releaseStream`.
    pub release_stream: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRelease {
    environment_name: Option<String>,
    release_stream: Option<String>,
    resources: Option<Vec<ObjectOnly<RawResource>>>,
    metadata: Option<StrictStringMap>,
    approvals: Option<Vec<ObjectOnly<RawApproval>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResource {
    resource_type: String,
    resource_name: String,
    resource_path: String,
    change_type: ChangeKind,
    attributes: Option<StrictStringMap>,
}

#[derive(Deserialize)]
struct RawApproval {
    approver: String,
    #[serde(default)]
    groups: Vec<String>,
    at: String,
}

/// The fast path: the same shape as [`RawRelease`], parsed without path
/// tracking and refusing unknown fields. Most inputs are well-formed and
/// carry no unknown fields; for them this is the whole parse (about 5x faster
/// on large releases). Anything else fails here and is parsed again by the
/// instrumented path, which reports warnings and errors with JSON paths.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FastRelease {
    environment_name: Option<String>,
    release_stream: Option<String>,
    resources: Option<FastResources>,
    metadata: Option<StrictStringMap>,
    approvals: Option<Vec<ObjectOnly<FastApproval>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FastResource {
    resource_type: String,
    resource_name: String,
    resource_path: String,
    change_type: ChangeKind,
    attributes: Option<StrictStringMap>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastApproval {
    approver: String,
    #[serde(default)]
    groups: Vec<String>,
    at: String,
}

/// The resources of the fast path, each parsed straight into the model
/// (no intermediate list of raw resources to convert afterwards).
struct FastResources(Vec<ResourceChange>);

impl<'de> Deserialize<'de> for FastResources {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = FastResources;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of resource changes")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                // The hint is the remaining length only for in-memory
                // sequences; JSON gives none, so growth stays amortised.
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(ObjectOnly(r)) = seq.next_element::<ObjectOnly<FastResource>>()? {
                    out.push(ResourceChange {
                        resource_type: r.resource_type,
                        resource_name: r.resource_name,
                        resource_path: r.resource_path,
                        change_type: r.change_type,
                        attributes: r.attributes.map(|m| m.0).unwrap_or_default(),
                    });
                }
                Ok(FastResources(out))
            }
        }
        deserializer.deserialize_seq(ListVisitor)
    }
}

/// Accepts only a JSON object for `T`: serde's derived structs also accept
/// arrays by position, which would let `["prod", "PROD", []]` pass as a release.
pub(super) struct ObjectOnly<T>(pub(super) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(ObjectVisitor(std::marker::PhantomData))
            .map(ObjectOnly)
    }
}

/// A JSON object of string values that refuses duplicate keys (serde's maps
/// would silently keep the last one, which hides mistakes in a gate's input).
struct StrictStringMap(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for StrictStringMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = StrictStringMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object whose values are strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: String = map.next_value()?;
                    if out.contains_key(&key) {
                        return Err(de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    out.insert(key, value);
                }
                Ok(StrictStringMap(out))
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}

/// Parses a release from JSON text. `source` names the input in errors
/// (a file path, or `<stdin>`). Unknown fields are ignored for compatibility
/// with newer Facets payloads and returned as warnings, one JSON path each.
pub fn parse_release(
    text: &[u8],
    source: &str,
    options: &ParseOptions,
) -> Result<(Release, Vec<String>), InputError> {
    if let Some(release) = parse_fast(text, options) {
        return Ok((release, Vec::new()));
    }
    check_depth(text, MAX_DEPTH, "a release needs four")
        .map_err(|message| InputError::at(source, "$".into(), message))?;
    let (raw, ignored) = parse_instrumented(text, source)?;
    finish_release(raw, ignored, source, options)
}

/// The fast path: one pass over a well-formed release that has only known
/// fields and a `resources` list, straight into the model; `None` for
/// anything else, which the instrumented path then reads again to report
/// each problem (or unknown field) with its JSON path. Most inputs take
/// this path alone.
///
/// No depth check is needed first: every known field has a fixed shape at
/// most four levels deep, so anything nested deeper fails here at its first
/// bracket (and is then refused by [`check_depth`] before the instrumented
/// parse). Such a release is what `--format auto` would detect as one (its
/// keys are all release keys and include `resources`), and matches none of
/// the files strangers.rs refuses, so callers may take it before detection.
pub(super) fn parse_fast(text: &[u8], options: &ParseOptions) -> Option<Release> {
    // UTF-8 is checked once for the whole text (fast on ASCII), so that
    // serde_json does not check each of the many short strings again.
    let text = std::str::from_utf8(text).ok()?;
    let ObjectOnly(fast) = serde_json::from_str::<ObjectOnly<FastRelease>>(text).ok()?;
    let FastResources(resources) = fast.resources?;
    let environment_name = options.environment.clone().or(fast.environment_name)?;
    let release_stream = options.release_stream.clone().or(fast.release_stream)?;
    let approvals = fast
        .approvals
        .unwrap_or_default()
        .into_iter()
        .map(|ObjectOnly(a)| {
            Some(Approval {
                at: normalise_timestamp(&a.at).ok()?,
                approver: a.approver,
                groups: a.groups,
            })
        })
        .collect::<Option<Vec<Approval>>>()?;
    Some(Release {
        environment_name,
        release_stream,
        resources,
        metadata: fast.metadata.map(|m| m.0).unwrap_or_default(),
        approvals,
    })
}

/// Parses with JSON-path tracking and unknown-field warnings: the path for
/// input the fast path refused, so every problem is reported precisely.
fn parse_instrumented(text: &[u8], source: &str) -> Result<(RawRelease, Vec<String>), InputError> {
    let mut ignored = Vec::new();
    let mut json = serde_json::Deserializer::from_slice(text);
    let ObjectOnly(raw): ObjectOnly<RawRelease> = {
        let mut on_ignored = |path: serde_ignored::Path<'_>| {
            ignored.push(format!(
                "ignored unknown field {}",
                json_error::ignored_path(&path)
            ));
        };
        let tracked = serde_ignored::Deserializer::new(&mut json, &mut on_ignored);
        serde_path_to_error::deserialize(tracked).map_err(|err| {
            let path = json_error::path(err.path());
            json_error::input_error(source, path, err.inner(), text)
        })?
    };
    json.end()
        .map_err(|err| json_error::input_error(source, "$".into(), &err, text))?;
    Ok((raw, ignored))
}

/// Checks what the JSON shape cannot express and builds the [`Release`].
fn finish_release(
    raw: RawRelease,
    ignored: Vec<String>,
    source: &str,
    options: &ParseOptions,
) -> Result<(Release, Vec<String>), InputError> {
    let environment_name = pick(
        options.environment.clone(),
        raw.environment_name,
        source,
        "environmentName",
        "--environment",
    )?;
    let release_stream = pick(
        options.release_stream.clone(),
        raw.release_stream,
        source,
        "releaseStream",
        "--release-stream",
    )?;
    let resources = raw
        .resources
        .ok_or_else(|| {
            InputError::at(
                source,
                "$".into(),
                "missing required field `resources` (a list of resource changes; use [] for none)"
                    .into(),
            )
        })?
        .into_iter()
        .map(|ObjectOnly(r)| ResourceChange {
            resource_type: r.resource_type,
            resource_name: r.resource_name,
            resource_path: r.resource_path,
            change_type: r.change_type,
            attributes: r.attributes.map(|m| m.0).unwrap_or_default(),
        })
        .collect();
    let approvals = convert_approvals(raw.approvals.unwrap_or_default(), source, "$.approvals")?;
    let release = Release {
        environment_name,
        release_stream,
        resources,
        metadata: raw.metadata.map(|m| m.0).unwrap_or_default(),
        approvals,
    };
    Ok((release, ignored))
}

/// Checks each approval's timestamp and normalises it; `base` is the JSON
/// path of the list (`$.approvals`, or `$` for an approvals file).
fn convert_approvals(
    raw: Vec<ObjectOnly<RawApproval>>,
    source: &str,
    base: &str,
) -> Result<Vec<Approval>, InputError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, ObjectOnly(a))| {
            let at = normalise_timestamp(&a.at)
                .map_err(|message| InputError::at(source, format!("{base}[{i}].at"), message))?;
            Ok(Approval {
                approver: a.approver,
                groups: a.groups,
                at,
            })
        })
        .collect()
}

/// Parses an approvals file (`--approvals FILE`): a JSON list of
/// `{"approver", "groups", "at"}` objects, checked exactly like a release's
/// `approvals`. Unknown fields are ignored and returned as warnings.
pub fn parse_approvals(
    text: &[u8],
    source: &str,
) -> Result<(Vec<Approval>, Vec<String>), InputError> {
    check_depth(text, MAX_DEPTH, "an approvals list needs three")
        .map_err(|message| InputError::at(source, "$".into(), message))?;
    let mut ignored = Vec::new();
    let mut json = serde_json::Deserializer::from_slice(text);
    let raw: Vec<ObjectOnly<RawApproval>> = {
        let mut on_ignored = |path: serde_ignored::Path<'_>| {
            ignored.push(format!(
                "{source}: ignored unknown field {}",
                json_error::ignored_path(&path)
            ));
        };
        let tracked = serde_ignored::Deserializer::new(&mut json, &mut on_ignored);
        serde_path_to_error::deserialize(tracked).map_err(|err| {
            let path = json_error::path(err.path());
            let mut error = json_error::input_error(source, path, err.inner(), text);
            if error.path.as_deref() == Some("$") {
                error.message = error.message.replace(
                    "expected a sequence",
                    "expected a list of approvals such as [{\"approver\": \"asmith\", \"groups\": [\"dba\"], \"at\": \"2026-11-20T10:00:00Z\"}]",
                );
            }
            error
        })?
    };
    json.end()
        .map_err(|err| json_error::input_error(source, "$".into(), &err, text))?;
    Ok((convert_approvals(raw, source, "$")?, ignored))
}

/// Deepest JSON nesting accepted. A release is four levels deep; unknown
/// fields get room to spare, hostile inputs do not.
pub const MAX_DEPTH: usize = 64;

/// Refuses JSON nested deeper than `max` levels with one linear scan, before
/// any parsing, so that not even ignored fields can be arbitrarily deep.
/// `hint` ends the message (how deep the format really needs to be).
pub(super) fn check_depth(text: &[u8], max: usize, hint: &str) -> Result<(), String> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut line, mut column) = (1usize, 0usize);
    for &byte in text {
        // Columns count characters: a UTF-8 continuation byte starts none.
        if byte & 0xC0 != 0x80 {
            column += 1;
        }
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(format!(
                        "JSON nested deeper than {max} levels (line {line}, column {column}); {hint}"
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'\n' => {
                line += 1;
                column = 0;
            }
            _ => {}
        }
    }
    Ok(())
}

fn pick(
    flag: Option<String>,
    from_file: Option<String>,
    source: &str,
    field: &str,
    flag_name: &str,
) -> Result<String, InputError> {
    flag.or(from_file).ok_or_else(|| {
        InputError::at(
            source,
            "$".into(),
            format!("missing required field `{field}` (add it to the input or pass {flag_name})"),
        )
    })
}

/// Parses an RFC 3339 timestamp and renders it in UTC with a `Z` suffix.
pub(crate) fn normalise_timestamp(text: &str) -> Result<String, String> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
        format!("expected an RFC 3339 timestamp such as 2026-11-20T10:00:00Z, got {text:?} ({e})")
    })?;
    Ok(crate::time::format_utc(parsed.unix_timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_and_instrumented_paths_agree() {
        let text = r#"{
            "environmentName": "prod-eu", "releaseStream": "PROD",
            "resources": [{"resourceType": "mysql", "resourceName": "orders",
                "resourcePath": "datastores/orders", "changeType": "DELETE",
                "attributes": {"owner": "payments"}}],
            "metadata": {"commit": "9f2c1e7"},
            "approvals": [{"approver": "asmith", "groups": ["dba"], "at": "2026-11-20T10:00:00Z"}]
        }"#;
        let fast =
            parse_release(text.as_bytes(), "in.json", &ParseOptions::default()).expect("fast path");
        let (raw, ignored) = parse_instrumented(text.as_bytes(), "in.json").expect("slow path");
        let slow =
            finish_release(raw, ignored, "in.json", &ParseOptions::default()).expect("slow path");
        assert_eq!(fast, slow);
        assert!(fast.1.is_empty());

        // An unknown field takes the instrumented path: same release, plus a warning.
        let with_extra = text.replace(
            r#""changeType": "DELETE","#,
            r#""changeType": "DELETE", "colour": "red","#,
        );
        let (release, warnings) =
            parse_release(with_extra.as_bytes(), "in.json", &ParseOptions::default())
                .expect("parses");
        assert_eq!(release, fast.0);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("colour"), "{warnings:?}");
    }

    fn parse(text: &str) -> Result<Release, String> {
        parse_release(text.as_bytes(), "in.json", &ParseOptions::default())
            .map(|(r, _)| r)
            .map_err(|e| e.to_string())
    }

    const GOOD: &str = r#"{
        "environmentName": "prod-eu", "releaseStream": "PROD",
        "resources": [{"resourceType": "mysql", "resourceName": "orders",
                       "resourcePath": "datastores/orders", "changeType": "DELETE"}],
        "metadata": {"commit": "9f2c1e7"},
        "approvals": [{"approver": "asmith", "groups": ["tech-lead"], "at": "2026-11-20T11:00:00+01:00"}]
    }"#;

    #[test]
    fn parses_the_facets_shape() {
        let r = parse(GOOD).expect("valid release");
        assert_eq!(r.environment_name, "prod-eu");
        assert_eq!(r.resources[0].change_type, ChangeKind::Delete);
        assert_eq!(r.metadata["commit"], "9f2c1e7");
        assert_eq!(r.approvals[0].at, "2026-11-20T10:00:00Z");
    }

    #[test]
    fn errors_name_the_path_and_the_problem() {
        let bad_kind = GOOD.replace("\"DELETE\"", "\"DESTROY\"");
        let err = parse(&bad_kind).expect_err("unknown change type");
        assert!(
            err.starts_with("in.json: $.resources[0].changeType: unknown changeType `DESTROY`"),
            "{err}"
        );

        let wrong_type = GOOD.replace("\"prod-eu\"", "42");
        let err = parse(&wrong_type).expect_err("wrong type");
        assert!(
            err.contains("$.environmentName: invalid type: integer `42`, expected a string"),
            "{err}"
        );

        let missing = GOOD.replace("\"resourceName\": \"orders\",", "");
        let err = parse(&missing).expect_err("missing field");
        assert!(
            err.contains("$.resources[0]: missing field `resourceName`"),
            "{err}"
        );

        let err = parse("{").expect_err("truncated");
        assert!(err.contains("invalid JSON"), "{err}");

        let err =
            parse(r#"{"environmentName":"a","releaseStream":"b"}"#).expect_err("no resources");
        assert!(err.contains("missing required field `resources`"), "{err}");

        let err =
            parse(&GOOD.replace("2026-11-20T11:00:00+01:00", "yesterday")).expect_err("bad at");
        assert!(
            err.contains("$.approvals[0].at: expected an RFC 3339 timestamp"),
            "{err}"
        );

        let dup = GOOD.replace("{\"commit\": \"9f2c1e7\"}", "{\"a\": \"1\", \"a\": \"2\"}");
        let err = parse(&dup).expect_err("duplicate metadata key");
        assert!(err.contains("$.metadata: duplicate key `a`"), "{err}");

        let err = parse(&format!("{GOOD} []")).expect_err("trailing data");
        assert!(err.contains("trailing characters"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused_even_in_unknown_fields() {
        let deep = format!(
            r#"{{"environmentName":"a","releaseStream":"b","resources":[],"x":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let err = parse(&deep).expect_err("too deep");
        assert!(
            err.contains("$: JSON nested deeper than 64 levels (line 1, column"),
            "{err}"
        );
        let brackets_in_strings = format!(
            r#"{{"environmentName":"{}","releaseStream":"b","resources":[]}}"#,
            "[{\\\"".repeat(100)
        );
        assert!(
            parse(&brackets_in_strings).is_ok(),
            "brackets inside strings do not nest"
        );
    }

    #[test]
    fn flags_fill_and_override_environment_and_stream() {
        let text = r#"{"resources": []}"#;
        let options = ParseOptions {
            environment: Some("qa".into()),
            release_stream: Some("QA".into()),
        };
        let (r, _) = parse_release(text.as_bytes(), "x", &options).expect("filled by flags");
        assert_eq!(
            (r.environment_name.as_str(), r.release_stream.as_str()),
            ("qa", "QA")
        );
        let err = parse(text).expect_err("no environment");
        assert!(err.contains("pass --environment"), "{err}");
        let (r, _) = parse_release(GOOD.as_bytes(), "x", &options).expect("override");
        assert_eq!(r.release_stream, "QA");
    }

    #[test]
    fn approvals_files_are_checked_like_approvals() {
        let approvals = |text: &str| {
            parse_approvals(text.as_bytes(), "approvals.json").map_err(|e| e.to_string())
        };
        let (list, warnings) = approvals(
            r#"[{"approver": "asmith", "groups": ["dba"], "at": "2026-11-20T11:00:00+01:00", "x": 1}]"#,
        )
        .expect("valid");
        assert_eq!(list[0].at, "2026-11-20T10:00:00Z");
        assert_eq!(
            warnings,
            ["approvals.json: ignored unknown field $[0].x".to_string()]
        );
        assert_eq!(approvals("[]").map(|(l, _)| l.len()), Ok(0));
        let err = approvals(r#"{"approver": "a"}"#).expect_err("object");
        assert!(
            err.starts_with("approvals.json: $: invalid type: map, expected a list of approvals"),
            "{err}"
        );
        let err =
            approvals(r#"[{"approver": "a", "groups": "dba", "at": "2026-11-20T10:00:00Z"}]"#)
                .expect_err("groups");
        assert!(
            err.contains("$[0].groups: invalid type: string \"dba\", expected a sequence"),
            "{err}"
        );
        let err = approvals(r#"[{"approver": "a", "at": "soon"}]"#).expect_err("at");
        assert!(
            err.contains("$[0].at: expected an RFC 3339 timestamp"),
            "{err}"
        );
        let err = approvals("[] []").expect_err("trailing");
        assert!(err.contains("trailing characters"), "{err}");
    }

    #[test]
    fn unknown_fields_are_ignored_with_a_warning() {
        let text = GOOD.replace(
            "\"releaseStream\"",
            "\"extra\": {\"x\": 1}, \"releaseStream\"",
        );
        let (_, warnings) =
            parse_release(text.as_bytes(), "x", &ParseOptions::default()).expect("valid");
        assert_eq!(warnings, vec!["ignored unknown field $.extra".to_string()]);
    }
}
