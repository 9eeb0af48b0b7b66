//! Policy test suites: `*.test.toml` files that state, case by case, which
//! verdict a policy must give for a release (`gatehouse test`, see
//! docs/testing-policies.md).
//!
//! This module is the suite model and its parser. Parsing is strict: an
//! unknown key anywhere is an error naming the file, the line and the valid
//! keys, so a typo never turns a case into one that cannot fail.
//! [`discover`] finds suite files, [`run`] runs their cases, [`report`]
//! renders the results as text or JSON and [`junit`] as JUnit XML.

pub mod discover;
pub mod junit;
pub mod report;
pub mod run;

use crate::release::{Approval, Format};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The file-name suffix of a suite.
pub const SUITE_SUFFIX: &str = ".test.toml";

/// Largest suite file accepted.
const MAX_SUITE_BYTES: u64 = 4 << 20;

/// A parsed, validated suite file.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite file, as found (the name used in every message).
    pub path: PathBuf,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// One `[[case]]`, with the suite's defaults applied and its paths resolved
/// against the suite file's directory.
#[derive(Debug, Clone)]
pub struct Case {
    /// Unique within the suite.
    pub name: String,
    /// The line of the case's `name`, for messages.
    pub line: usize,
    /// The policy file (the case's, else the suite's); `None` when neither
    /// names one, which is fine only with `gatehouse test --policy`.
    pub policy: Option<PathBuf>,
    /// Where the release comes from.
    pub input: Input,
    /// The input format; `None` detects it.
    pub format: Option<Format>,
    /// The evaluation time (Unix seconds); `None` is the real clock.
    pub now: Option<i64>,
    /// Overrides the input's `environmentName`.
    pub environment: Option<String>,
    /// Overrides the input's `releaseStream`.
    pub release_stream: Option<String>,
    /// Settings as text, sorted by key (the suite's, overridden by the case's).
    pub settings: Vec<(String, String)>,
    /// Release metadata to add, like `--meta`.
    pub meta: Vec<(String, String)>,
    /// Approvals to add to the input's, like `--approvals`.
    pub approvals: Vec<Approval>,
    /// What the case must produce.
    pub expect: Expectation,
}

/// Where a case's release comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file in any supported format, resolved against the suite's directory.
    File(PathBuf),
    /// An inline `release` table, converted to release JSON text.
    Inline(String),
}

/// The outcome a case expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expected {
    /// The policy auto-approves.
    #[serde(alias = "auto-approve")]
    Approve,
    /// The policy requires approval.
    RequireApproval,
    /// The policy fails the release.
    Fail,
    /// The evaluation errors (settings rejected, a limit hit, ...).
    Error,
}

impl Expected {
    /// The name a suite uses: `approve`, `require-approval`, `fail`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Expected::Approve => "approve",
            Expected::RequireApproval => "require-approval",
            Expected::Fail => "fail",
            Expected::Error => "error",
        }
    }
}

/// Everything a case checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The verdict, or `error`.
    pub outcome: Expected,
    /// Fragments that must each occur in some reason's message (or, for
    /// `error`, in the error text); case-sensitive.
    pub reasons: Vec<String>,
    /// Exactly these approver groups, as a set (require-approval only).
    pub approvers: Option<Vec<String>>,
}

/// A problem with a suite file: where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteError {
    /// The suite file.
    pub file: String,
    /// The line (1-based), when known.
    pub line: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl SuiteError {
    fn at(file: &Path, line: usize, message: impl Into<String>) -> Self {
        SuiteError {
            file: file.display().to_string(),
            line: Some(line),
            message: message.into(),
        }
    }

    fn whole(file: &Path, message: impl Into<String>) -> Self {
        SuiteError {
            file: file.display().to_string(),
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for SuiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for SuiteError {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    policy: Option<String>,
    now: Option<Spanned<toml::Value>>,
    environment: Option<String>,
    #[serde(rename = "release-stream")]
    release_stream: Option<String>,
    #[serde(default)]
    settings: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    case: Vec<RawCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Spanned<String>,
    input: Option<String>,
    release: Option<Spanned<toml::Table>>,
    format: Option<RawFormat>,
    policy: Option<String>,
    now: Option<Spanned<toml::Value>>,
    environment: Option<String>,
    #[serde(rename = "release-stream")]
    release_stream: Option<String>,
    #[serde(default)]
    settings: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default, rename = "unset-settings")]
    unset_settings: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    meta: BTreeMap<String, Spanned<toml::Value>>,
    approvals: Option<Spanned<Vec<toml::Value>>>,
    expect: Expected,
    #[serde(default)]
    reasons: Vec<String>,
    approvers: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RawFormat {
    Auto,
    Release,
    Terraform,
    Pulumi,
}

impl RawFormat {
    fn format(self) -> Option<Format> {
        match self {
            RawFormat::Auto => None,
            RawFormat::Release => Some(Format::Release),
            RawFormat::Terraform => Some(Format::Terraform),
            RawFormat::Pulumi => Some(Format::Pulumi),
        }
    }
}

/// The 1-based line of a byte offset into `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Reads and parses a suite file; every problem found is returned, each
/// naming the file and, where known, the line.
pub fn load(path: &Path) -> Result<Suite, Vec<SuiteError>> {
    use std::io::Read;
    let whole = |message: String| vec![SuiteError::whole(path, message)];
    let file =
        std::fs::File::open(path).map_err(|e| whole(format!("cannot open the suite file: {e}")))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(whole(format!(
            "is a directory; pass a {SUITE_SUFFIX} file, or the directory as a PATH to search"
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_SUITE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| whole(format!("cannot read the suite file: {e}")))?;
    if bytes.len() as u64 > MAX_SUITE_BYTES {
        return Err(whole(format!(
            "the suite file is larger than {} MiB; split it into several files",
            MAX_SUITE_BYTES >> 20
        )));
    }
    let text =
        String::from_utf8(bytes).map_err(|_| whole("the suite file is not valid UTF-8".into()))?;
    parse(path, &text)
}

/// Parses suite text; `path` names it in messages and locates relative paths.
pub fn parse(path: &Path, text: &str) -> Result<Suite, Vec<SuiteError>> {
    let raw: RawSuite = toml::from_str(text).map_err(|e| {
        let message = format!(
            "{} (see docs/testing-policies.md for the suite format)",
            e.message().trim().replace('\n', " ")
        );
        vec![match e.span() {
            Some(span) => SuiteError::at(path, line_of(text, span.start), message),
            None => SuiteError::whole(path, message),
        }]
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut problems = Vec::new();
    if raw.case.is_empty() {
        problems.push(SuiteError::whole(
            path,
            "no cases; add a [[case]] table with a name, an input or release, and expect",
        ));
    }
    let mut bad = |line: usize, message: String| problems.push(SuiteError::at(path, line, message));
    let suite_now = raw
        .now
        .and_then(|now| parse_now(&now, text).map_err(|(l, m)| bad(l, m)).ok());
    let suite_settings = convert_settings(raw.settings, text, &mut bad);
    let mut cases: Vec<Case> = Vec::with_capacity(raw.case.len());
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for c in raw.case {
        let line = line_of(text, c.name.span().start);
        let name = c.name.into_inner();
        let mut bad_case = |message: String| bad(line, format!("case {name:?}: {message}"));
        if name.trim().is_empty() {
            bad_case("the name is empty; give every case a name that says what it checks".into());
        }
        if let Some(first) = seen.insert(name.clone(), line) {
            bad_case(format!(
                "the name is already used on line {first}; names must be unique within a suite"
            ));
        }
        let input = match (c.input, c.release) {
            (Some(_), Some(_)) => {
                bad_case("gives both input and release; give exactly one input source".into());
                None
            }
            (None, None) => {
                bad_case(
                    "gives no input; add input = \"FILE\" (relative to the suite) or an inline release = { ... } table"
                        .into(),
                );
                None
            }
            (Some(file), None) => {
                if file.trim().is_empty() {
                    bad_case("input is empty; name a file relative to the suite".into());
                }
                Some(Input::File(base.join(file)))
            }
            (None, Some(table)) => {
                if c.format
                    .is_some_and(|f| !matches!(f, RawFormat::Auto | RawFormat::Release))
                {
                    bad_case(
                        "format applies to input files; an inline release is always a release (remove format)"
                            .into(),
                    );
                }
                let release_line = line_of(text, table.span().start);
                match toml_to_json(toml::Value::Table(table.into_inner())) {
                    Ok(json) => Some(Input::Inline(json.to_string())),
                    Err(message) => {
                        bad(release_line, format!("case {name:?}: release: {message}"));
                        None
                    }
                }
            }
        };
        let now = match c.now {
            Some(now) => parse_now(&now, text).map_err(|(l, m)| bad(l, m)).ok(),
            None => suite_now,
        };
        let mut settings = suite_settings.clone();
        let case_settings = convert_settings(c.settings, text, &mut bad);
        if let Some(unset) = c.unset_settings {
            let l = line_of(text, unset.span().start);
            for key in unset.into_inner() {
                if case_settings.contains_key(&key) {
                    bad(
                        l,
                        format!(
                            "case {name:?}: unset-settings names {key:?}, which this case also sets; remove one of them"
                        ),
                    );
                } else if settings.remove(&key).is_none() {
                    let known: Vec<&str> = suite_settings.keys().map(String::as_str).collect();
                    let known = if known.is_empty() {
                        "the suite's [settings] is empty".to_string()
                    } else {
                        format!("the suite sets {}", known.join(", "))
                    };
                    bad(
                        l,
                        format!(
                            "case {name:?}: unset-settings names {key:?}, which the suite's [settings] does not set ({known})"
                        ),
                    );
                }
            }
        }
        settings.extend(case_settings);
        let meta = convert_meta(c.meta, text, &mut bad);
        let approvals = c
            .approvals
            .map(|a| {
                let l = line_of(text, a.span().start);
                convert_approvals(a.into_inner(), path, l).unwrap_or_else(|message| {
                    bad(l, format!("case {name:?}: approvals: {message}"));
                    Vec::new()
                })
            })
            .unwrap_or_default();
        if c.approvers.is_some() && c.expect != Expected::RequireApproval {
            bad(
                line,
                format!(
                    "case {name:?}: approvers applies only to expect = \"require-approval\" (this case expects {:?}); remove it",
                    c.expect.as_str()
                ),
            );
        }
        if c.reasons.iter().any(String::is_empty) {
            bad(
                line,
                format!(
                    "case {name:?}: reasons has an empty fragment, which matches anything; remove it"
                ),
            );
        }
        let Some(input) = input else { continue };
        cases.push(Case {
            name,
            line,
            policy: c
                .policy
                .or_else(|| raw.policy.clone())
                .map(|p| base.join(p)),
            input,
            format: c.format.and_then(RawFormat::format),
            now,
            environment: c.environment.or_else(|| raw.environment.clone()),
            release_stream: c.release_stream.or_else(|| raw.release_stream.clone()),
            settings: settings.into_iter().collect(),
            meta,
            approvals,
            expect: Expectation {
                outcome: c.expect,
                reasons: c.reasons,
                approvers: c.approvers,
            },
        });
    }
    if problems.is_empty() {
        Ok(Suite {
            path: path.to_path_buf(),
            cases,
        })
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// `now`: an RFC 3339 string, or a TOML offset date-time.
fn parse_now(now: &Spanned<toml::Value>, text: &str) -> Result<i64, (usize, String)> {
    let line = line_of(text, now.span().start);
    let value = match now.get_ref() {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        other => {
            return Err((
                line,
                format!(
                    "now is of type {}; give an RFC 3339 time such as \"2026-11-23T10:00:00Z\"",
                    other.type_str()
                ),
            ));
        }
    };
    crate::time::parse_rfc3339(&value).map_err(|e| (line, format!("now: {e}")))
}

/// A setting value as the text a policy receives: strings, numbers and
/// booleans as written; a list becomes comma-separated.
fn setting_text(value: toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s),
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if matches!(item, toml::Value::Array(_) | toml::Value::Table(_)) {
                    return Err(format!(
                        "a list item is of type {}; list items are strings, numbers or booleans",
                        item.type_str()
                    ));
                }
                let text = setting_text(item)?;
                if text.contains(',') {
                    return Err(format!(
                        "the list item {text:?} contains ',', which separates list items; split it"
                    ));
                }
                out.push(text);
            }
            Ok(out.join(","))
        }
        other => Err(format!(
            "is of type {}; settings are strings, numbers, booleans or lists of those",
            other.type_str()
        )),
    }
}

fn convert_settings(
    raw: BTreeMap<String, Spanned<toml::Value>>,
    text: &str,
    bad: &mut impl FnMut(usize, String),
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (key, value) in raw {
        let line = line_of(text, value.span().start);
        if let Err(why) = crate::settings::check_key(&key) {
            bad(line, format!("setting {key:?}: {why}"));
            continue;
        }
        match setting_text(value.into_inner()) {
            Ok(v) => {
                out.insert(key, v);
            }
            Err(why) => bad(line, format!("setting {key:?} {why}")),
        }
    }
    out
}

fn convert_meta(
    raw: BTreeMap<String, Spanned<toml::Value>>,
    text: &str,
    bad: &mut impl FnMut(usize, String),
) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(raw.len());
    for (key, value) in raw {
        let line = line_of(text, value.span().start);
        if let Err(why) = crate::settings::check_key(&key) {
            bad(line, format!("meta {key:?}: {why}"));
            continue;
        }
        match value.into_inner() {
            toml::Value::String(s) => out.push((key, s)),
            other => bad(
                line,
                format!(
                    "meta {key:?} is of type {}; metadata values are strings",
                    other.type_str()
                ),
            ),
        }
    }
    out
}

/// Approvals as the `--approvals` file would give them: the same checks,
/// and an unknown key is an error here, not a warning.
fn convert_approvals(
    raw: Vec<toml::Value>,
    path: &Path,
    line: usize,
) -> Result<Vec<Approval>, String> {
    let json = toml_to_json(toml::Value::Array(raw))?;
    let source = format!("{}:{line}", path.display());
    let (approvals, warnings) =
        crate::release::parse_approvals(json.to_string().as_bytes(), &source).map_err(
            |e| match e.path {
                Some(p) => format!("{p}: {}", e.message),
                None => e.message,
            },
        )?;
    match warnings.first() {
        Some(w) => Err(format!(
            "unknown key {}; an approval has approver, groups and at",
            w.strip_prefix(&format!("{source}: ignored unknown field "))
                .unwrap_or(w)
        )),
        None => Ok(approvals),
    }
}

/// Converts TOML to JSON: date-times become RFC 3339 strings.
pub(crate) fn toml_to_json(value: toml::Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(n) => J::from(n),
        toml::Value::Float(f) => J::Number(
            serde_json::Number::from_f64(f)
                .ok_or_else(|| format!("the number {f} has no JSON form"))?,
        ),
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(
            items
                .into_iter()
                .map(toml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => J::Object(
            table
                .into_iter()
                .map(|(k, v)| toml_to_json(v).map(|v| (k, v)))
                .collect::<Result<_, _>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Suite {
        parse(Path::new("dir/s.test.toml"), text).unwrap_or_else(|e| panic!("parse failed: {e:?}"))
    }

    fn parse_err(text: &str) -> Vec<String> {
        match parse(Path::new("dir/s.test.toml"), text) {
            Ok(s) => panic!("expected an error, parsed {s:?}"),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    const FULL: &str = r#"
policy = "../p.wasm"
now = "2026-11-23T10:00:00Z"
environment = "production"
[settings]
protected-types = ["database", "s3"]
max = 3
flag = true

[[case]]
name = "from a file"
input = "releases/a.json"
format = "release"
settings = { max = 5, extra = "x" }
meta = { commit = "9f2c1e7" }
approvals = [ { approver = "asmith", groups = ["dba"], at = "2026-11-20T11:00:00+01:00" } ]
expect = "require-approval"
reasons = ["database"]
approvers = ["dba"]

[[case]]
name = "inline"
policy = "other.wasm"
now = 2026-11-24T10:00:00Z
release-stream = "main"
expect = "auto-approve"
[case.release]
environmentName = "staging"
releaseStream = "QA"
resources = [ { resourceType = "mysql", resourceName = "o", resourcePath = "d/o", changeType = "DELETE" } ]
"#;

    #[test]
    fn a_full_suite_parses_with_defaults_applied() {
        let suite = parse_ok(FULL);
        assert_eq!(suite.cases.len(), 2);
        let a = &suite.cases[0];
        assert_eq!(a.name, "from a file");
        assert_eq!(a.line, 11);
        assert_eq!(a.policy.as_deref(), Some(Path::new("dir/../p.wasm")));
        assert_eq!(a.input, Input::File(PathBuf::from("dir/releases/a.json")));
        assert_eq!(a.format, Some(Format::Release));
        assert_eq!(a.now, Some(1_795_428_000));
        assert_eq!(a.environment.as_deref(), Some("production"));
        assert_eq!(
            a.settings,
            [
                ("extra".to_string(), "x".to_string()),
                ("flag".into(), "true".into()),
                ("max".into(), "5".into()),
                ("protected-types".into(), "database,s3".into()),
            ]
        );
        assert_eq!(a.meta, [("commit".to_string(), "9f2c1e7".to_string())]);
        assert_eq!(a.approvals.len(), 1);
        assert_eq!(a.approvals[0].at, "2026-11-20T10:00:00Z");
        assert_eq!(
            a.expect,
            Expectation {
                outcome: Expected::RequireApproval,
                reasons: vec!["database".into()],
                approvers: Some(vec!["dba".into()]),
            }
        );
        let b = &suite.cases[1];
        assert_eq!(b.policy.as_deref(), Some(Path::new("dir/other.wasm")));
        assert_eq!(b.now, Some(1_795_428_000 + 86_400));
        assert_eq!(b.release_stream.as_deref(), Some("main"));
        assert_eq!(b.expect.outcome, Expected::Approve);
        let Input::Inline(json) = &b.input else {
            panic!("inline expected");
        };
        let value: serde_json::Value = serde_json::from_str(json).expect("json");
        assert_eq!(value["resources"][0]["changeType"], "DELETE");
    }

    #[test]
    fn unknown_keys_name_the_line_and_the_valid_keys() {
        let errs = parse_err(
            "policy = \"p.wasm\"\n[[case]]\nname = \"a\"\ninput = \"x.json\"\nexpect = \"fail\"\nreason = [\"x\"]\n",
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("dir/s.test.toml:6: unknown field `reason`"),
            "{errs:?}"
        );
        assert!(errs[0].contains("`reasons`"), "{errs:?}");
        let errs = parse_err("polcy = \"p.wasm\"\n");
        assert!(
            errs[0].starts_with("dir/s.test.toml:1: unknown field `polcy`"),
            "{errs:?}"
        );
    }

    #[test]
    fn missing_expect_and_bad_values_are_explained() {
        let errs = parse_err("[[case]]\nname = \"a\"\ninput = \"x.json\"\n");
        assert!(errs[0].contains("missing field `expect`"), "{errs:?}");
        assert!(errs[0].starts_with("dir/s.test.toml:"), "{errs:?}");
        let errs = parse_err("[[case]]\nname = \"a\"\ninput = \"x.json\"\nexpect = \"pass\"\n");
        assert!(
            errs[0].starts_with("dir/s.test.toml:4: unknown variant `pass`"),
            "{errs:?}"
        );
        let errs = parse_err(
            "now = \"tomorrow\"\n[[case]]\nname = \"a\"\ninput = \"x.json\"\nexpect = \"fail\"\n",
        );
        assert!(
            errs[0].starts_with("dir/s.test.toml:1: now: expected an RFC 3339"),
            "{errs:?}"
        );
    }

    #[test]
    fn input_sources_must_be_exactly_one() {
        let errs = parse_err(
            "[[case]]\nname = \"both\"\ninput = \"x.json\"\nrelease = { environmentName = \"e\" }\nexpect = \"fail\"\n\n[[case]]\nname = \"none\"\nexpect = \"fail\"\n",
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].starts_with("dir/s.test.toml:2: case \"both\": gives both input and release"),
            "{errs:?}"
        );
        assert!(
            errs[1].starts_with("dir/s.test.toml:8: case \"none\": gives no input"),
            "{errs:?}"
        );
    }

    #[test]
    fn names_settings_and_approvers_are_checked() {
        let errs = parse_err(
            "[[case]]\nname = \"a\"\ninput = \"x\"\nexpect = \"approve\"\napprovers = [\"dba\"]\nsettings = { bad = { x = 1 }, \"a b\" = \"1\", l = [\"a,b\"] }\n\n[[case]]\nname = \"a\"\ninput = \"x\"\nexpect = \"fail\"\n",
        );
        let all = errs.join("\n");
        assert!(
            all.contains(":2: case \"a\": approvers applies only"),
            "{all}"
        );
        assert!(all.contains("setting \"bad\" is of type table"), "{all}");
        assert!(
            all.contains("setting \"a b\": the key has the character ' '"),
            "{all}"
        );
        assert!(all.contains("contains ','"), "{all}");
        assert!(
            all.contains(":9: case \"a\": the name is already used on line 2"),
            "{all}"
        );
    }

    #[test]
    fn unset_settings_removes_suite_settings_from_one_case() {
        let suite = parse_ok(
            "[settings]\nwindows = \"a\"\nmax = 5\n\n[[case]]\nname = \"without windows\"\ninput = \"x\"\nexpect = \"error\"\nunset-settings = [\"windows\"]\n\n[[case]]\nname = \"with\"\ninput = \"x\"\nexpect = \"approve\"\n",
        );
        assert_eq!(
            suite.cases[0].settings,
            [("max".to_string(), "5".to_string())]
        );
        assert_eq!(suite.cases[1].settings.len(), 2, "other cases keep it");
        let errs = parse_err(
            "[settings]\nwindows = \"a\"\n\n[[case]]\nname = \"a\"\ninput = \"x\"\nexpect = \"approve\"\nunset-settings = [\"window\", \"windows\"]\nsettings = { windows = \"b\" }\n",
        );
        let all = errs.join("\n");
        assert!(
            all.contains(":8: case \"a\": unset-settings names \"window\", which the suite's [settings] does not set (the suite sets windows)"),
            "{all}"
        );
        assert!(
            all.contains(
                "unset-settings names \"windows\", which this case also sets; remove one of them"
            ),
            "{all}"
        );
    }

    #[test]
    fn approvals_are_validated_strictly() {
        let errs = parse_err(
            "[[case]]\nname = \"a\"\ninput = \"x\"\nexpect = \"fail\"\napprovals = [ { approver = \"a\", group = [\"x\"], at = \"2026-11-20T10:00:00Z\" } ]\n",
        );
        assert!(
            errs[0]
                .starts_with("dir/s.test.toml:5: case \"a\": approvals: unknown key $[0].group;"),
            "{errs:?}"
        );
        let errs = parse_err(
            "[[case]]\nname = \"a\"\ninput = \"x\"\nexpect = \"fail\"\napprovals = [ { approver = \"a\", groups = [\"x\"], at = \"yesterday\" } ]\n",
        );
        assert!(errs[0].contains("RFC 3339"), "{errs:?}");
    }

    #[test]
    fn an_empty_suite_is_an_error() {
        let errs = parse_err("policy = \"p.wasm\"\n");
        assert!(errs[0].contains("no cases"), "{errs:?}");
    }
}
