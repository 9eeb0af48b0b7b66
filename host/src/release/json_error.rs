//! JSON parse errors in the user's terms: a JSON path without unknown parts,
//! a 1-based line and character column pointing into the problem, and a
//! truncated file called what it is.
//!
//! serde_json counts columns in bytes read so far on the line: 1-based at the
//! last byte it consumed, but 0 when it stopped before the first byte of a
//! line, and one short when it stopped just before a list or object it only
//! peeked at. [`position`] turns that into the 1-based column, in characters,
//! of a character that belongs to the problem, the way an editor counts.
//! serde_path_to_error writes `?` for a map key not yet read; [`path`] stops
//! at the last segment it knows.

use crate::error::InputError;
use serde_json::error::Category;

/// A 1-based line and character column in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters (invalid UTF-8 counts a byte each).
    pub column: usize,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// The JSON path of a serde_path_to_error path: `$`, `$.resources[2].changeType`,
/// `$.attributes["terraform.actions"]`. Segments after an unknown one (a key
/// not read yet) are left out, so the path never shows `?`.
pub(crate) fn path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::from("$");
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => push_key(&mut out, key),
            Segment::Enum { variant } => push_key(&mut out, variant),
            Segment::Unknown => break,
        }
    }
    out
}

/// The JSON path of a field serde_ignored reports, spelled like [`path`].
pub(crate) fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => "$".to_string(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let mut out = ignored_path(parent);
            push_key(&mut out, key);
            out
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

/// Appends `.key`, or `["key"]` when the key is not a plain identifier (a
/// dot or a bracket in it would make the path ambiguous).
fn push_key(out: &mut String, key: &str) {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        out.push('.');
        out.push_str(key);
    } else {
        out.push('[');
        out.push_str(&serde_json::Value::from(key).to_string());
        out.push(']');
    }
}

/// An [`InputError`] for a serde_json error at JSON path `path` of `text`.
/// Input that ends early is an error about the whole file: it says so, where,
/// and that the file is probably truncated.
pub(crate) fn input_error(
    source: &str,
    path: String,
    err: &serde_json::Error,
    text: &[u8],
) -> InputError {
    if err.classify() == Category::Eof {
        return InputError::whole(source, truncated(err, &path, text));
    }
    // The one enum of the inputs is a release's changeType.
    let message = describe(err, text).replace("unknown variant", "unknown changeType");
    InputError::at(source, path, message)
}

/// serde_json's message, reworded where it helps, with a 1-based position
/// (input that ends early: the truncation message, without a JSON path).
pub(crate) fn describe(err: &serde_json::Error, text: &[u8]) -> String {
    if err.classify() == Category::Eof {
        return truncated(err, "$", text);
    }
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    let message = match err.classify() {
        Category::Syntax => format!("invalid JSON: {message}"),
        _ => message.to_string(),
    };
    match position(err, text) {
        Some(at) => format!("{message} ({at})"),
        None => message,
    }
}

/// The message for input that ends before its JSON does.
fn truncated(err: &serde_json::Error, path: &str, text: &[u8]) -> String {
    let inside = err.to_string();
    let open = if inside.starts_with("EOF while parsing a list") {
        "a list"
    } else if inside.starts_with("EOF while parsing an object") {
        "an object"
    } else if inside.starts_with("EOF while parsing a string") {
        "a string"
    } else {
        "a value"
    };
    let place = if path == "$" {
        String::new()
    } else {
        format!(" at {path}")
    };
    let last = last_character(text)
        .map(|at| format!(", after {at}"))
        .unwrap_or_default();
    format!(
        "invalid JSON: the input ends early{last}, in the middle of {open}{place}; the file is probably truncated: produce it again and check that the command writing it finished"
    )
}

/// Where the last non-whitespace character of `text` is.
fn last_character(text: &[u8]) -> Option<Position> {
    let end = text.iter().rposition(|b| !b.is_ascii_whitespace())?;
    Some(at_offset(text, end))
}

/// The position of the problem serde_json reports (see the module docs), or
/// `None` when the error has no position.
pub(crate) fn position(err: &serde_json::Error, text: &[u8]) -> Option<Position> {
    if err.line() == 0 {
        return None;
    }
    let start = line_start(text, err.line())?;
    let consumed = start.saturating_add(err.column()).min(text.len());
    // The byte the problem is at: the last one read, unless the reader stopped
    // before a value it only peeked at (nothing read on the line yet, or the
    // last byte read is one no value ends with).
    let peeked = match consumed.checked_sub(1).and_then(|i| text.get(i)) {
        _ if consumed == start => true,
        Some(b) => {
            err.classify() == Category::Data
                && matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b':' | b',' | b'[' | b'{')
        }
        None => true,
    };
    let offset = if peeked {
        consumed
    } else {
        consumed.saturating_sub(1)
    };
    Some(at_offset(text, offset.min(text.len())))
}

/// The byte offset where 1-based `line` starts, if the text has that line.
fn line_start(text: &[u8], line: usize) -> Option<usize> {
    if line == 1 {
        return Some(0);
    }
    text.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(line - 2)
        .map(|(i, _)| i + 1)
}

/// The 1-based line and character column of byte `offset` (the end of the
/// text counts as one past its last character).
pub(crate) fn at_offset(text: &[u8], offset: usize) -> Position {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|b| **b == b'\n').count();
    let column = 1 + characters(before.get(line_start..).unwrap_or_default());
    Position { line, column }
}

/// How many characters `bytes` holds: UTF-8 continuation bytes do not start
/// one (so an invalid byte counts as one character).
pub(crate) fn characters(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Doc {
        a: String,
        b: Option<Vec<u8>>,
        c: Option<std::collections::BTreeMap<String, String>>,
    }

    fn error_of(text: &str) -> serde_json::Error {
        serde_json::from_str::<Doc>(text).expect_err("invalid")
    }

    fn at(text: &str) -> (usize, usize) {
        let p = position(&error_of(text), text.as_bytes()).expect("a position");
        (p.line, p.column)
    }

    #[test]
    fn columns_point_into_the_problem_one_based() {
        // A list or object only peeked at: serde_json says the column before.
        assert_eq!(at(r#"{"a": [1]}"#), (1, 7));
        assert_eq!(at(r#"{"a":[1]}"#), (1, 6));
        assert_eq!(at("{\"a\":\n  {}}"), (2, 3));
        // Nothing read on the line yet: serde_json says column 0.
        let wrapper = "[command]/usr/bin/terraform show -json plan.out\n{}";
        let err = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(wrapper)
            .expect_err("a list");
        assert_eq!(err.column(), 0, "serde_json's own convention");
        let p = position(&err, wrapper.as_bytes()).expect("position");
        assert_eq!((p.line, p.column), (1, 1));
        // Scalars read whole: the column of their last character.
        assert_eq!(at(r#"{"a": 1}"#), (1, 7));
        assert_eq!(at("[1]\n"), (1, 2));
        assert_eq!(at(r#"{"a": "x", "b": [1, "q"]}"#), (1, 23));
        // Syntax errors: the offending character.
        assert_eq!(at(r#"{"a" x"#), (1, 6));
        assert_eq!(at("  {\"a\": tru }"), (1, 12));
        assert_eq!(at("{\"a\": \"x\"} x"), (1, 12));
        // Characters, not bytes: "é" is two bytes.
        assert_eq!(at(r#"{"a": "éé", "b": 5}"#), (1, 18));
    }

    #[test]
    fn truncated_input_says_so_with_the_last_character() {
        let text = "{\n  \"a\": \"x\",\n  \"c\": {\"k\": \"v\"\n";
        let err = error_of(text);
        let e = input_error("plan.json", "$.c".into(), &err, text.as_bytes());
        assert_eq!(e.path, None, "about the whole file");
        assert_eq!(
            e.to_string(),
            "plan.json: invalid JSON: the input ends early, after line 3, column 16, in the middle of an object at $.c; the file is probably truncated: produce it again and check that the command writing it finished"
        );
        let e = input_error("x", "$".into(), &error_of("{\n"), b"{\n");
        assert!(
            e.message
                .contains("ends early, after line 1, column 1, in the middle of an object;"),
            "{e}"
        );
        let text = r#"{"a": "unfinished"#;
        let e = input_error("x", "$.a".into(), &error_of(text), text.as_bytes());
        assert!(
            e.message.contains("in the middle of a string at $.a"),
            "{e}"
        );
        let text = r#"{"b": [1, 2"#;
        let e = input_error("x", "$.b".into(), &error_of(text), text.as_bytes());
        assert!(e.message.contains("in the middle of a list at $.b"), "{e}");
    }

    #[test]
    fn paths_never_show_unknown_segments() {
        fn path_of(text: &str) -> String {
            let mut json = serde_json::Deserializer::from_str(text);
            let err = serde_path_to_error::deserialize::<_, Doc>(&mut json).expect_err("invalid");
            path(err.path())
        }
        assert_eq!(path_of(r#"{"b": [1, 2, 300]}"#), "$.b[2]");
        assert_eq!(path_of(r#"{"a": "x", "#), "$");
        assert_eq!(path_of(r#"{"a": "x", "c": {"k": 1}}"#), "$.c.k");
        assert_eq!(
            path_of(r#"{"a": "x", "c": {"terraform.actions": 1}}"#),
            r#"$.c["terraform.actions"]"#
        );
        assert_eq!(path_of(r#"{"a": "x", "c": {"x\"y": 1}}"#), r#"$.c["x\"y"]"#);
    }

    #[test]
    fn positions_of_offsets() {
        let text = "ab\ncé\nd".as_bytes();
        assert_eq!(at_offset(text, 0), Position { line: 1, column: 1 });
        assert_eq!(at_offset(text, 3), Position { line: 2, column: 1 });
        assert_eq!(at_offset(text, 6), Position { line: 2, column: 3 });
        assert_eq!(at_offset(text, 7), Position { line: 3, column: 1 });
        assert_eq!(characters(&[0xff, b'a', 0xc3, 0xa9]), 3);
    }
}
