//! docs/openapi.json, and the check that every answer the serve tests
//! receive conforms to it: the operation exists for the path and method,
//! the status is one the operation declares (no `default`), the content
//! type is the declared one, declared headers are present, and a JSON body
//! validates against the declared schema.
//!
//! The validator is a small one for exactly the subset of JSON Schema
//! 2020-12 the file uses (`type`, `properties`, `required`,
//! `additionalProperties`, `items`, `maxItems`, `enum`, `const`, `allOf`, `oneOf`,
//! `minimum`, `pattern`, `format: date-time`, local `$ref`); a keyword
//! outside it fails the check instead of being ignored, so the file cannot
//! grow a constraint nobody checks. It replaces the `jsonschema` crate
//! (41 crates, and serde_json's `float_roundtrip` turned on for the whole
//! workspace, which rebuilds sqlx and ssh-key for the tests).

use crate::serve::Answer;
use crate::workspace_root;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// docs/openapi.json, parsed once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = workspace_root().join("docs/openapi.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
    })
}

/// The documented path template a concrete path matches
/// (`/v1/decisions/d-1` → `/v1/decisions/{id}`), query string ignored.
pub fn template(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    document()["paths"].as_object()?.keys().find_map(|key| {
        let parts: Vec<&str> = key.split('/').collect();
        let matches = parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()));
        matches.then_some(key.as_str())
    })
}

/// Follows a local `$ref` (`#/components/...`) in the document.
fn resolve(value: &'static Value) -> &'static Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("only local $ref are supported, not {reference}"));
            let target = document()
                .pointer(pointer)
                .unwrap_or_else(|| panic!("docs/openapi.json: dangling $ref {reference}"));
            resolve(target)
        }
        None => value,
    }
}

/// Validates `body` against `schema` (which may `$ref` the document's
/// components): the violations, one line each, empty when it conforms.
pub fn violations(schema: &Value, body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    validate(schema, body, "", &mut out);
    out
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("docs/openapi.json: unknown type {other}"),
    }
}

fn validate(schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let Some(map) = schema.as_object() else {
        if schema != &Value::Bool(true) {
            panic!("docs/openapi.json: a schema is not an object: {schema}");
        }
        return;
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let pointer = reference.strip_prefix('#').unwrap_or(reference);
        let target = document()
            .pointer(pointer)
            .unwrap_or_else(|| panic!("docs/openapi.json: dangling $ref {reference}"));
        validate(target, value, at, out);
    }
    for (keyword, rule) in map {
        match keyword.as_str() {
            "$ref" | "description" | "title" | "examples" => {}
            "type" => {
                let ok = match rule {
                    Value::String(name) => type_matches(name, value),
                    Value::Array(names) => names
                        .iter()
                        .any(|n| type_matches(n.as_str().unwrap_or(""), value)),
                    _ => panic!("docs/openapi.json: bad type {rule}"),
                };
                if !ok {
                    out.push(format!("at {at}: {value} is not of type {rule}"));
                }
            }
            "enum" => {
                let options = rule.as_array().expect("enum is an array");
                if !options.contains(value) {
                    out.push(format!("at {at}: {value} is not one of {rule}"));
                }
            }
            "const" => {
                if rule != value {
                    out.push(format!("at {at}: {value} is not {rule}"));
                }
            }
            "allOf" => {
                for sub in rule.as_array().expect("allOf is an array") {
                    validate(sub, value, at, out);
                }
            }
            "oneOf" => {
                let options = rule.as_array().expect("oneOf is an array");
                let passing = options
                    .iter()
                    .filter(|option| violations(option, value).is_empty())
                    .count();
                if passing != 1 {
                    out.push(format!(
                        "at {at}: {value} matches {passing} of the oneOf options, not exactly one"
                    ));
                }
            }
            "properties" | "required" | "additionalProperties" => {
                if let Some(object) = value.as_object() {
                    object_keyword(map, keyword, object, at, out);
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    for (i, item) in items.iter().enumerate() {
                        validate(rule, item, &format!("{at}/{i}"), out);
                    }
                }
            }
            "maxItems" => {
                let max = rule.as_u64().expect("maxItems is a number");
                if let Some(items) = value.as_array()
                    && items.len() as u64 > max
                {
                    out.push(format!("at {at}: {} items, more than {max}", items.len()));
                }
            }
            "minimum" => {
                let min = rule.as_f64().expect("minimum is a number");
                if let Some(number) = value.as_f64()
                    && number < min
                {
                    out.push(format!("at {at}: {number} is below the minimum {min}"));
                }
            }
            "pattern" => {
                let pattern = rule.as_str().expect("pattern is a string");
                if let Some(text) = value.as_str()
                    && !pattern_matches(pattern, text)
                {
                    out.push(format!("at {at}: {value} does not match {pattern}"));
                }
            }
            "format" => {
                assert_eq!(
                    rule, "date-time",
                    "docs/openapi.json: only format date-time is checked"
                );
                if let Some(text) = value.as_str()
                    && !pattern_matches(
                        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                        text,
                    )
                {
                    out.push(format!("at {at}: {value} is not an RFC 3339 UTC time"));
                }
            }
            other => panic!(
                "docs/openapi.json uses the keyword {other}, which tests/src/openapi.rs does not check: add it there"
            ),
        }
    }
}

/// `properties`, `required` and `additionalProperties` of an object.
fn object_keyword(
    schema: &Map<String, Value>,
    keyword: &str,
    object: &Map<String, Value>,
    at: &str,
    out: &mut Vec<String>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    match keyword {
        "properties" => {
            for (name, sub) in properties.into_iter().flatten() {
                if let Some(v) = object.get(name) {
                    validate(sub, v, &format!("{at}/{name}"), out);
                }
            }
        }
        "required" => {
            for name in schema["required"].as_array().expect("required is an array") {
                let name = name.as_str().expect("required names are strings");
                if !object.contains_key(name) {
                    out.push(format!("at {at}: the required property {name} is missing"));
                }
            }
        }
        _ => {
            let rule = &schema["additionalProperties"];
            for (name, v) in object {
                if properties.is_some_and(|p| p.contains_key(name)) {
                    continue;
                }
                match rule {
                    Value::Bool(false) => {
                        out.push(format!("at {at}: the property {name} is not documented"));
                    }
                    Value::Bool(true) => {}
                    sub => validate(sub, v, &format!("{at}/{name}"), out),
                }
            }
        }
    }
}

/// One element of a pattern: a set of characters and how often.
#[derive(Debug)]
struct Atom {
    negated: bool,
    ranges: Vec<(char, char)>,
    min: usize,
    max: usize,
}

impl Atom {
    fn accepts(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

fn escaped(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        other => other,
    }
}

/// Parses the pattern subset the file uses: `^...$` around literals,
/// escapes (`\n`, `\\`, `\.`), classes (`[0-9a-f]`, `[^\n]`) and the
/// quantifiers `*`, `+`, `?`, `{n}`, `{n,m}`. Anything else panics.
fn parse_pattern(pattern: &str) -> Vec<Atom> {
    let inner = pattern
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .unwrap_or_else(|| panic!("pattern {pattern}: anchor it with ^ and $"));
    let mut chars = inner.chars().peekable();
    let mut atoms = Vec::new();
    while let Some(c) = chars.next() {
        let mut atom = match c {
            '\\' => {
                let e = escaped(chars.next().expect("an escaped character"));
                Atom {
                    negated: false,
                    ranges: vec![(e, e)],
                    min: 1,
                    max: 1,
                }
            }
            '[' => {
                let negated = chars.next_if_eq(&'^').is_some();
                let mut ranges = Vec::new();
                loop {
                    let c = match chars.next().expect("a closing ]") {
                        ']' => break,
                        '\\' => escaped(chars.next().expect("an escaped character")),
                        c => c,
                    };
                    if chars.next_if_eq(&'-').is_some() {
                        let hi = chars.next().expect("a range end");
                        ranges.push((c, hi));
                    } else {
                        ranges.push((c, c));
                    }
                }
                Atom {
                    negated,
                    ranges,
                    min: 1,
                    max: 1,
                }
            }
            '(' | ')' | '|' | '.' | '*' | '+' | '?' | '{' | '^' | '$' => {
                panic!("pattern {pattern}: {c} is outside the supported subset")
            }
            literal => Atom {
                negated: false,
                ranges: vec![(literal, literal)],
                min: 1,
                max: 1,
            },
        };
        match chars.peek() {
            Some('*') => (atom.min, atom.max) = (0, usize::MAX),
            Some('+') => (atom.min, atom.max) = (1, usize::MAX),
            Some('?') => (atom.min, atom.max) = (0, 1),
            Some('{') => {
                let mut spec = String::new();
                chars.next();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    spec.push(c);
                }
                let number = |s: &str| {
                    s.parse::<usize>()
                        .unwrap_or_else(|_| panic!("pattern {pattern}: bad {{{spec}}}"))
                };
                (atom.min, atom.max) = match spec.split_once(',') {
                    Some((lo, hi)) => (number(lo), number(hi)),
                    None => (number(&spec), number(&spec)),
                };
                atoms.push(atom);
                continue;
            }
            _ => {
                atoms.push(atom);
                continue;
            }
        }
        chars.next();
        atoms.push(atom);
    }
    atoms
}

fn match_from(atoms: &[Atom], text: &[char]) -> bool {
    let Some((atom, rest)) = atoms.split_first() else {
        return text.is_empty();
    };
    let mut taken = 0;
    while taken < atom.min {
        match text.get(taken) {
            Some(&c) if atom.accepts(c) => taken += 1,
            _ => return false,
        }
    }
    loop {
        if match_from(rest, &text[taken..]) {
            return true;
        }
        match text.get(taken) {
            Some(&c) if taken < atom.max && atom.accepts(c) => taken += 1,
            _ => return false,
        }
    }
}

/// Whether `text` matches the whole anchored `pattern` (the subset
/// [`parse_pattern`] takes).
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    match_from(&parse_pattern(pattern), &chars)
}

/// Panics unless `answer` to `method` `path` is what docs/openapi.json
/// documents: a declared status, its content type, its headers and its
/// body schema. A path the document does not know must be answered 404
/// with the error body.
pub fn check(method: &str, path: &str, answer: &Answer) {
    let doc = document();
    let status = answer.status;
    let response = match template(path) {
        Some(template) => {
            let operation = &doc["paths"][template][method.to_ascii_lowercase()];
            assert!(
                operation.is_object(),
                "{method} {template} is not in docs/openapi.json"
            );
            let declared = &operation["responses"][status.to_string()];
            assert!(
                declared.is_object(),
                "{method} {path} answered {status}, which docs/openapi.json does not declare for {method} {template}: {answer:#?}"
            );
            resolve(declared)
        }
        None => {
            assert_eq!(status, 404, "{method} {path} is not in docs/openapi.json");
            resolve(&doc["components"]["responses"]["Error"])
        }
    };
    for (name, header) in response["headers"].as_object().into_iter().flatten() {
        if header["required"] == Value::Bool(true) {
            let value = if name.eq_ignore_ascii_case("retry-after") {
                answer.retry_after.as_deref()
            } else {
                None
            };
            assert!(
                value.is_some(),
                "{method} {path} answered {status} without the documented {name} header"
            );
            if let Some(value) = value {
                let parsed: Value = value.parse::<u64>().map_or(Value::Null, Value::from);
                let errors = violations(&header["schema"], &parsed);
                assert!(errors.is_empty(), "{name}: {value}: {errors:?}");
            }
        }
    }
    let Some(content) = response["content"].as_object() else {
        panic!("docs/openapi.json documents no body for {status} to {method} {path}");
    };
    let (media, body) = content.iter().next().expect("one media type");
    let got = answer.content_type.as_deref().unwrap_or("");
    let normal = |t: &str| t.replace(' ', "").to_ascii_lowercase();
    let essence = |t: &str| normal(t.split(';').next().unwrap_or(""));
    assert_eq!(
        essence(got),
        essence(media),
        "{method} {path} answered {status} as {got}, documented as {media}"
    );
    if media.contains(';') {
        assert!(
            normal(got).starts_with(&normal(media)),
            "{method} {path} answered {status} as {got}, documented as {media}"
        );
    }
    let value = if essence(media) == "application/json" {
        serde_json::from_str(&answer.text).unwrap_or_else(|e| {
            panic!(
                "{method} {path} answered {status} with no JSON ({e}): {}",
                answer.text
            )
        })
    } else {
        Value::String(answer.text.clone())
    };
    let errors = violations(&body["schema"], &value);
    assert!(
        errors.is_empty(),
        "{method} {path} answered {status} against docs/openapi.json:\n{}\n{value:#}",
        errors.join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn concrete_paths_find_their_templates() {
        assert_eq!(
            template("/v1/approval-requests/r-1/approvals"),
            Some("/v1/approval-requests/{id}/approvals")
        );
        assert_eq!(template("/v1/decisions?limit=2"), Some("/v1/decisions"));
        assert_eq!(template("/v1/decisions/d-9"), Some("/v1/decisions/{id}"));
        assert_eq!(template("/v2/nothing"), None);
    }

    #[test]
    fn patterns_match_whole_texts_only() {
        let id = "^d-[0-9a-f]{32}$";
        assert!(pattern_matches(id, &format!("d-{}", "a1".repeat(16))));
        assert!(!pattern_matches(id, &format!("d-{}", "a1".repeat(15))));
        assert!(!pattern_matches(id, &format!("d-{}x", "a1".repeat(16))));
        assert!(!pattern_matches(id, &format!("r-{}", "a1".repeat(16))));
        assert!(!pattern_matches(id, &format!("d-{}", "A1".repeat(16))));
        let line = "^[^\\n]*$";
        assert!(pattern_matches(line, "one line, \"quoted\""));
        assert!(pattern_matches(line, ""));
        assert!(!pattern_matches(line, "two\nlines"));
        assert!(pattern_matches("^a+b?c{1,2}$", "aabcc"));
        assert!(!pattern_matches("^a+b?c{1,2}$", "bcc"));
        assert!(!pattern_matches("^a+b?c{1,2}$", "aaccc"));
    }

    #[test]
    #[should_panic(expected = "outside the supported subset")]
    fn an_unsupported_pattern_is_refused_not_ignored() {
        pattern_matches("^(a|b)$", "a");
    }

    #[test]
    #[should_panic(expected = "does not check")]
    fn an_unsupported_keyword_is_refused_not_ignored() {
        violations(&json!({"minLength": 3}), &json!("ab"));
    }

    #[test]
    fn the_schemas_refuse_what_they_do_not_describe() {
        let error = json!({"$ref": "#/components/schemas/Error"});
        assert!(violations(&error, &json!({"error": {"code": "busy", "message": "m"}})).is_empty());
        assert!(!violations(&error, &json!({"error": {"code": "busy"}})).is_empty());
        assert!(
            !violations(&error, &json!({"error": {"code": "nope", "message": "m"}})).is_empty()
        );
        assert!(
            !violations(
                &error,
                &json!({"error": {"code": "busy", "message": "two\nlines"}})
            )
            .is_empty()
        );
        assert!(!violations(&error, &json!({"verdict": "auto-approve"})).is_empty());
        let evaluation = json!({"$ref": "#/components/schemas/Evaluation"});
        assert!(!violations(&evaluation, &json!({"decision_id": "d-1"})).is_empty());
        let decision = json!({"$ref": "#/components/schemas/Decision"});
        let good = json!({
            "decision_id": format!("d-{}", "0".repeat(32)), "seq": 1,
            "time": "2026-11-30T19:00:00Z", "release_digest": null, "environment": null,
            "release_stream": null, "verdict": "fail", "exit_code": 1,
            "approval_request_id": null, "submitted_by": "ci", "approvers": []});
        assert_eq!(violations(&decision, &good), Vec::<String>::new());
        let mut late = good.clone();
        late["time"] = json!("yesterday");
        assert!(!violations(&decision, &late).is_empty());
        let mut extra = good.clone();
        extra["secret"] = json!("x");
        assert!(!violations(&decision, &extra).is_empty());
        let mut zero = good;
        zero["seq"] = json!(0);
        assert!(!violations(&decision, &zero).is_empty());
    }

    #[test]
    fn one_of_needs_exactly_one_match() {
        let schema = json!({"oneOf": [{"type": "string"}, {"type": "null"}]});
        assert!(violations(&schema, &json!("x")).is_empty());
        assert!(violations(&schema, &Value::Null).is_empty());
        assert!(!violations(&schema, &json!(1)).is_empty());
        let both = json!({"oneOf": [{"type": "string"}, {"type": ["string", "null"]}]});
        assert!(!violations(&both, &json!("x")).is_empty());
        let all = json!({"allOf": [{"type": "object"}, {"required": ["a"]}]});
        assert!(violations(&all, &json!({"a": 1})).is_empty());
        assert!(!violations(&all, &json!({"b": 1})).is_empty());
    }
}
