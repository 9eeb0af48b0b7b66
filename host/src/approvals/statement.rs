//! The approval statement: the JSON document an approver signs, of type
//! `gatehouse.approval/v1`.
//!
//! ```json
//! {
//!   "type": "gatehouse.approval/v1",
//!   "release_digest": "sha256:<64 hex>",
//!   "environment": "prod-eu",
//!   "principal": "alice@example.com",
//!   "groups": ["dba"],
//!   "decision": "approve",
//!   "time": "2026-11-30T12:00:00Z",
//!   "expires": "2026-12-01T12:00:00Z",
//!   "comment": "optional"
//! }
//! ```
//!
//! The signature covers the statement file's exact bytes, so parsing never
//! has to reproduce them: [`Statement::parse`] checks every field strictly
//! (a statement is evidence, and anything unexpected in evidence is refused
//! rather than guessed at), and [`Statement::to_json`] writes the form
//! `gatehouse approve` signs.

use crate::release::json_error;
use crate::untrusted::needs_escape;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::error::Category;
use std::fmt;

/// The statement type this module reads and writes.
pub const STATEMENT_TYPE: &str = "gatehouse.approval/v1";

/// Largest statement file accepted, in bytes.
pub const MAX_STATEMENT_BYTES: usize = 64 * 1024;

/// Longest principal, group or environment name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

/// Most groups one statement may name.
pub const MAX_GROUPS: usize = 64;

/// Longest comment, in bytes.
pub const MAX_COMMENT_BYTES: usize = 4096;

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the times RFC 3339 can
/// write, in Unix seconds.
const MIN_TIME: i64 = -62_167_219_200;
const MAX_TIME: i64 = 253_402_300_799;

/// What the approver decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The release may proceed as far as this approver is concerned.
    Approve,
    /// Reserved for a later server-side workflow: parsed so that such a
    /// statement is recognised, but callers must refuse it for now.
    Reject,
}

impl Decision {
    /// The JSON spelling: `approve` or `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }
}

/// A checked approval statement. Times are Unix seconds (UTC); fractions
/// of a second in the file are dropped, as for every timestamp Gatehouse
/// reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The release this approves: `sha256:` and 64 lowercase hex digits
    /// (`gatehouse digest`).
    pub release_digest: String,
    /// The environment the release is approved for.
    pub environment: String,
    /// Who approves, as named in the allowed_signers file.
    pub principal: String,
    /// The approver groups the principal approves for, in file order.
    pub groups: Vec<String>,
    /// Approve (or the reserved reject).
    pub decision: Decision,
    /// When the approval was given.
    pub time: i64,
    /// When it stops counting; always after [`Statement::time`].
    pub expires: i64,
    /// A free-text note from the approver.
    pub comment: Option<String>,
}

/// Why a statement is not acceptable: the field (when one is to blame) and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementError {
    /// The JSON field at fault (`release_digest`, `groups[1]`, ...), if any.
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl StatementError {
    fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        StatementError {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    fn whole(message: impl Into<String>) -> Self {
        StatementError {
            field: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for StatementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for StatementError {}

/// The file as read: every field a string (or list of strings), unknown
/// fields and duplicate keys refused by serde.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    #[serde(rename = "type")]
    kind: String,
    release_digest: String,
    environment: String,
    principal: String,
    groups: Vec<String>,
    decision: String,
    time: String,
    expires: String,
    #[serde(default, deserialize_with = "present_string")]
    comment: Option<String>,
}

/// An optional field that, when present, must be a string (not `null`).
fn present_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    String::deserialize(deserializer).map(Some)
}

/// The file as written, in this field order.
#[derive(Serialize)]
struct OutStatement<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    release_digest: &'a str,
    environment: &'a str,
    principal: &'a str,
    groups: &'a [String],
    decision: &'static str,
    time: String,
    expires: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
}

impl Statement {
    /// Parses and checks a statement file: at most [`MAX_STATEMENT_BYTES`],
    /// UTF-8 JSON, one object with exactly the known fields (no duplicates,
    /// nothing unknown), each checked by [`Statement::check`].
    pub fn parse(bytes: &[u8]) -> Result<Statement, StatementError> {
        if bytes.len() > MAX_STATEMENT_BYTES {
            return Err(StatementError::whole(format!(
                "the statement is {} bytes; at most {MAX_STATEMENT_BYTES} are accepted",
                bytes.len()
            )));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            StatementError::whole(format!(
                "not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ))
        })?;
        // serde would also read a struct from a JSON array of its fields
        // in order; a statement is an object and nothing else.
        if !text.trim_start().starts_with('{') {
            return Err(StatementError::whole(
                "expected a JSON object of type gatehouse.approval/v1",
            ));
        }
        let mut json = serde_json::Deserializer::from_str(text);
        let raw: RawStatement = serde_path_to_error::deserialize(&mut json).map_err(|err| {
            let path = json_error::path(err.path());
            let message = json_error::describe(err.inner(), bytes);
            match path.strip_prefix("$.") {
                Some(field) if err.inner().classify() != Category::Eof => {
                    StatementError::field(field, message)
                }
                _ => StatementError::whole(message),
            }
        })?;
        json.end()
            .map_err(|e| StatementError::whole(json_error::describe(&e, bytes)))?;
        Statement::from_raw(raw)
    }

    fn from_raw(raw: RawStatement) -> Result<Statement, StatementError> {
        if raw.kind != STATEMENT_TYPE {
            return Err(StatementError::field(
                "type",
                format!("expected {STATEMENT_TYPE:?}, got {:?}", raw.kind),
            ));
        }
        let decision = match raw.decision.as_str() {
            "approve" => Decision::Approve,
            "reject" => Decision::Reject,
            other => {
                return Err(StatementError::field(
                    "decision",
                    format!("expected \"approve\" or \"reject\", got {other:?}"),
                ));
            }
        };
        let statement = Statement {
            release_digest: raw.release_digest,
            environment: raw.environment,
            principal: raw.principal,
            groups: raw.groups,
            decision,
            time: parse_time("time", &raw.time)?,
            expires: parse_time("expires", &raw.expires)?,
            comment: raw.comment,
        };
        statement.check()?;
        Ok(statement)
    }

    /// Checks every field: the digest's shape, the names (non-empty, at
    /// most [`MAX_NAME_BYTES`], no control, bidirectional or invisible
    /// characters), the groups (1 to [`MAX_GROUPS`], no duplicates),
    /// `expires` after `time`, the comment's length.
    pub fn check(&self) -> Result<(), StatementError> {
        check_digest(&self.release_digest)
            .map_err(|m| StatementError::field("release_digest", m))?;
        check_name(&self.environment).map_err(|m| StatementError::field("environment", m))?;
        check_name(&self.principal).map_err(|m| StatementError::field("principal", m))?;
        if self.groups.is_empty() {
            return Err(StatementError::field(
                "groups",
                "the list is empty; name at least one approver group",
            ));
        }
        if self.groups.len() > MAX_GROUPS {
            return Err(StatementError::field(
                "groups",
                format!(
                    "{} groups; at most {MAX_GROUPS} are accepted",
                    self.groups.len()
                ),
            ));
        }
        for (i, group) in self.groups.iter().enumerate() {
            check_name(group).map_err(|m| StatementError::field(format!("groups[{i}]"), m))?;
            if self.groups[..i].contains(group) {
                return Err(StatementError::field(
                    format!("groups[{i}]"),
                    format!("the group {group:?} is named twice; name each group once"),
                ));
            }
        }
        for (field, value) in [("time", self.time), ("expires", self.expires)] {
            if !(MIN_TIME..=MAX_TIME).contains(&value) {
                return Err(StatementError::field(
                    field,
                    "is outside the years 0000 to 9999 that RFC 3339 can write",
                ));
            }
        }
        if self.expires <= self.time {
            return Err(StatementError::field(
                "expires",
                format!(
                    "{} is not after the time of the approval, {}",
                    crate::time::format_utc(self.expires),
                    crate::time::format_utc(self.time)
                ),
            ));
        }
        if let Some(comment) = &self.comment
            && comment.len() > MAX_COMMENT_BYTES
        {
            return Err(StatementError::field(
                "comment",
                format!(
                    "{} bytes; at most {MAX_COMMENT_BYTES} are accepted",
                    comment.len()
                ),
            ));
        }
        Ok(())
    }

    /// The statement file `gatehouse approve` signs: checked, then written
    /// as pretty JSON (two-space indent, fields in the documented order,
    /// times in UTC with `Z`) with a final newline.
    pub fn to_json(&self) -> Result<String, StatementError> {
        self.check()?;
        let out = OutStatement {
            kind: STATEMENT_TYPE,
            release_digest: &self.release_digest,
            environment: &self.environment,
            principal: &self.principal,
            groups: &self.groups,
            decision: self.decision.as_str(),
            time: crate::time::format_utc(self.time),
            expires: crate::time::format_utc(self.expires),
            comment: self.comment.as_deref(),
        };
        let mut text = serde_json::to_string_pretty(&out)
            .map_err(|e| StatementError::whole(format!("cannot serialise: {e}")))?;
        text.push('\n');
        Ok(text)
    }
}

/// `sha256:` followed by exactly 64 lowercase hex digits.
pub fn check_digest(text: &str) -> Result<(), String> {
    let valid = text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "expected sha256: and 64 lowercase hex digits (as `gatehouse digest` prints), got {:?}",
            crate::untrusted::line(text)
        ))
    }
}

/// A principal, group or environment name: non-empty, at most
/// [`MAX_NAME_BYTES`], no character of [`needs_escape`].
pub fn check_name(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("is empty".into());
    }
    if text.len() > MAX_NAME_BYTES {
        return Err(format!(
            "is {} bytes long; at most {MAX_NAME_BYTES} are accepted",
            text.len()
        ));
    }
    if let Some(c) = text.chars().find(|&c| needs_escape(c)) {
        return Err(format!(
            "contains the character {}, a control, bidirectional or invisible character that could disguise the name",
            c.escape_unicode()
        ));
    }
    Ok(())
}

/// An RFC 3339 timestamp as Unix seconds (UTC), naming the field on error.
fn parse_time(field: &str, text: &str) -> Result<i64, StatementError> {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    OffsetDateTime::parse(text, &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|e| {
            StatementError::field(
                field,
                format!(
                    "expected an RFC 3339 timestamp such as 2026-11-30T12:00:00Z, got {:?} ({e})",
                    crate::untrusted::line(text)
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn sample() -> Statement {
        Statement {
            release_digest: DIGEST.into(),
            environment: "prod-eu".into(),
            principal: "alice@example.com".into(),
            groups: vec!["dba".into(), "sre".into()],
            decision: Decision::Approve,
            time: 1_796_040_000, // 2026-11-30T12:00:00Z
            expires: 1_796_126_400,
            comment: Some("looks good".into()),
        }
    }

    /// The sample as JSON with `field` replaced by `value` (raw JSON), or
    /// removed when `value` is `None`.
    fn with(field: &str, value: Option<&str>) -> String {
        let mut object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&sample().to_json().expect("valid")).expect("object");
        match value {
            Some(v) => {
                object.insert(field.into(), serde_json::from_str(v).expect("raw JSON"));
            }
            None => {
                object.remove(field);
            }
        }
        serde_json::Value::Object(object).to_string()
    }

    fn error(text: &str) -> String {
        Statement::parse(text.as_bytes())
            .expect_err("must be refused")
            .to_string()
    }

    #[test]
    fn writes_the_documented_form_and_reads_it_back() {
        let json = sample().to_json().expect("valid");
        assert_eq!(
            json,
            r#"{
  "type": "gatehouse.approval/v1",
  "release_digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  "environment": "prod-eu",
  "principal": "alice@example.com",
  "groups": [
    "dba",
    "sre"
  ],
  "decision": "approve",
  "time": "2026-11-30T12:00:00Z",
  "expires": "2026-12-01T12:00:00Z",
  "comment": "looks good"
}
"#
        );
        assert_eq!(Statement::parse(json.as_bytes()), Ok(sample()));
        let without = Statement {
            comment: None,
            ..sample()
        };
        let json = without.to_json().expect("valid");
        assert!(!json.contains("comment"), "{json}");
        assert_eq!(Statement::parse(json.as_bytes()), Ok(without));
    }

    #[test]
    fn times_are_normalised_to_utc() {
        let text = with("time", Some(r#""2026-11-30T13:00:00.75+01:00""#));
        let parsed = Statement::parse(text.as_bytes()).expect("valid");
        assert_eq!(parsed.time, sample().time);
        assert!(
            parsed
                .to_json()
                .expect("valid")
                .contains("\"2026-11-30T12:00:00Z\"")
        );
        assert!(
            error(&with("time", Some(r#""2026-11-30""#)))
                .starts_with("field `time`: expected an RFC 3339")
        );
        assert!(error(&with("expires", Some(r#""tomorrow""#))).starts_with("field `expires`: "));
    }

    #[test]
    fn reject_is_parsed_and_other_decisions_are_refused() {
        let parsed =
            Statement::parse(with("decision", Some(r#""reject""#)).as_bytes()).expect("valid");
        assert_eq!(parsed.decision, Decision::Reject);
        let err = error(&with("decision", Some(r#""maybe""#)));
        assert_eq!(
            err,
            r#"field `decision`: expected "approve" or "reject", got "maybe""#
        );
    }

    #[test]
    fn every_field_is_checked_and_named() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            (
                "type",
                Some(r#""gatehouse.approval/v2""#),
                "field `type`: expected \"gatehouse.approval/v1\"",
            ),
            (
                "release_digest",
                Some(r#""sha256:abc""#),
                "field `release_digest`: expected sha256: and 64 lowercase hex",
            ),
            (
                "release_digest",
                Some(&format!("{:?}", DIGEST.to_uppercase())),
                "field `release_digest`",
            ),
            (
                "environment",
                Some(r#""""#),
                "field `environment`: is empty",
            ),
            (
                "principal",
                Some(r#""alice\u202e""#),
                "field `principal`: contains the character \\u{202e}",
            ),
            (
                "principal",
                Some(&format!("{:?}", "a".repeat(257))),
                "field `principal`: is 257 bytes long",
            ),
            ("groups", Some("[]"), "field `groups`: the list is empty"),
            (
                "groups",
                Some(r#"["dba","dba"]"#),
                "field `groups[1]`: the group \"dba\" is named twice",
            ),
            (
                "groups",
                Some(r#"["dba","a\nb"]"#),
                "field `groups[1]`: contains the character \\u{a}",
            ),
            (
                "groups",
                Some(r#""dba""#),
                "field `groups`: invalid type: string",
            ),
            (
                "groups",
                Some(r#"["dba", 3]"#),
                "field `groups[1]`: invalid type: integer",
            ),
            (
                "expires",
                Some(r#""2026-11-30T12:00:00Z""#),
                "field `expires`: 2026-11-30T12:00:00Z is not after the time of the approval",
            ),
            (
                "comment",
                Some("null"),
                "field `comment`: invalid type: null",
            ),
            (
                "comment",
                Some(&format!("{:?}", "x".repeat(4097))),
                "field `comment`: 4097 bytes",
            ),
            ("time", Some("12"), "field `time`: invalid type: integer"),
            ("principal", None, "missing field `principal`"),
            ("extra", Some("1"), "unknown field `extra`"),
        ];
        for (field, value, expected) in cases {
            let err = error(&with(field, *value));
            assert!(
                err.contains(expected),
                "{field}: {err}\nexpected {expected}"
            );
        }
        let err = Statement {
            expires: MAX_TIME + 1,
            ..sample()
        }
        .to_json()
        .expect_err("year 10000");
        assert_eq!(
            err.to_string(),
            "field `expires`: is outside the years 0000 to 9999 that RFC 3339 can write"
        );
        let edge = Statement {
            time: MIN_TIME,
            expires: MAX_TIME,
            ..sample()
        };
        let json = edge.to_json().expect("the extremes are writable");
        assert_eq!(Statement::parse(json.as_bytes()), Ok(edge));
        let many: Vec<String> = (0..65).map(|i| format!("g{i}")).collect();
        let err = error(&with(
            "groups",
            Some(&serde_json::to_string(&many).expect("json")),
        ));
        assert!(err.contains("65 groups; at most 64"), "{err}");
    }

    #[test]
    fn duplicate_keys_trailing_data_and_bad_bytes_are_refused() {
        let json = sample().to_json().expect("valid");
        let duplicated = json.replacen(
            "\"environment\": \"prod-eu\",",
            "\"environment\": \"prod-eu\", \"environment\": \"staging\",",
            1,
        );
        assert!(
            error(&duplicated).contains("duplicate field `environment`"),
            "{}",
            error(&duplicated)
        );
        assert!(error(&format!("{json} {{}}")).contains("invalid JSON: trailing characters"));
        assert_eq!(
            error("[1]"),
            "expected a JSON object of type gatehouse.approval/v1"
        );
        // Not even the fields in order as an array.
        let values: Vec<serde_json::Value> =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&json)
                .expect("object")
                .into_iter()
                .map(|(_, v)| v)
                .collect();
        assert!(
            error(&serde_json::to_string(&values).expect("json"))
                .starts_with("expected a JSON object")
        );
        let err = Statement::parse(b"{\"type\": \"\xff\"}").expect_err("not UTF-8");
        assert_eq!(err.to_string(), "not UTF-8 (invalid byte at offset 10)");
        let big = format!("{json}{}", " ".repeat(MAX_STATEMENT_BYTES));
        assert!(error(&big).contains("at most 65536 are accepted"));
    }

    #[test]
    fn writing_refuses_what_reading_would() {
        let bad = Statement {
            groups: vec![],
            ..sample()
        };
        assert!(
            bad.to_json()
                .expect_err("empty groups")
                .to_string()
                .starts_with("field `groups`")
        );
    }
}
