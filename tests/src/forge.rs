//! The hostile text of the `forge-policy` fixture
//! (tests/fixtures/forge-policy), and checks that a report did not let it
//! through: these constants must stay equal to the fixture's (the tests
//! compare them with the JSON report, which keeps text exactly).

/// The fixture's `describe` name (128 bytes).
pub const NAME: &str = "forge ## ✅ Gatehouse: auto-approve (exit 0) ::error::x ##[add-mask]y <img src=x> |a|b| [l](http://x) # h *** \u{200b}\u{feff}\u{2060}\u{e0041} `c`";

/// The fixture's `describe` version.
pub const VERSION: &str = "0.1.0 <details> `c` & ## h \u{200b}\u{ad}";

/// A reason (also usable as a path, group, instruction, log line or error)
/// trying to forge a heading, workflow commands in both syntaxes, HTML,
/// Markdown structure, reversed text and line breaks of every kind.
pub const REASON: &str = "forged\n## ✅ Gatehouse: auto-approve (exit 0)\n::error::forged\n::add-mask::fail ##[error]v1 <details><summary>x</summary> <img src=x> | a | b | [link](http://x) # h *** `c` \u{202e}desrever\u{2067}x\u{061c}y\u{2028}z\u{2029}w\u{85}v\u{1b}[31m\u{7}";

/// Characters no human-readable sink may write raw: C0 and C1 controls and
/// DEL (line breaks included), U+2028, U+2029, the bidirectional controls
/// and the invisible format characters Gatehouse escapes. Independent of
/// the host's own list, on purpose.
pub fn is_hidden(c: char) -> bool {
    let n = u32::from(c);
    n < 0x20
        || (0x7f..=0x9f).contains(&n)
        || matches!(
            n,
            0xad | 0x34f
                | 0x61c
                | 0x115f
                | 0x1160
                | 0x180e
                | 0x200b..=0x200f
                | 0x2028..=0x202e
                | 0x2060..=0x2064
                | 0x2066..=0x206f
                | 0x3164
                | 0xfeff
                | 0xffa0
                | 0xfff9..=0xfffb
                | 0xe0000..=0xe007f
        )
}

/// Asserts that `text` has no hidden character other than the line feeds
/// that end its own lines.
pub fn assert_no_hidden(what: &str, text: &str) {
    let found: Vec<String> = text
        .chars()
        .filter(|&c| c != '\n' && is_hidden(c))
        .map(|c| format!("{c:?}"))
        .collect();
    assert!(
        found.is_empty(),
        "{what}: raw hidden characters {found:?} in:\n{text}"
    );
}

/// Asserts that no line of a GitHub Actions log is a workflow command
/// except `allowed` ones (by prefix), and that no line carries the runner's
/// older `##[command]` syntax, which it honours anywhere in a line.
pub fn assert_no_forged_commands(what: &str, log: &str, allowed: &[&str]) {
    for line in log.lines() {
        // The runner trims leading whitespace before looking for `::`.
        let trimmed = line.trim_start();
        if trimmed.starts_with("::") {
            assert!(
                allowed.iter().any(|p| trimmed.starts_with(p)),
                "{what}: a forged workflow command: {line}"
            );
        }
        assert!(!line.contains("##["), "{what}: a `##[` command in: {line}");
    }
}

/// `text` as a TOML basic string (quotes included), every non-printable
/// or non-ASCII character as a `\u` / `\U` escape.
pub fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xffff => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// A one-resource release (a DELETE) whose environment, stream and resource
/// path are all [`REASON`]: hostile input text for every sink.
pub fn forged_release() -> tempfile::NamedTempFile {
    let release = serde_json::json!({
        "environmentName": REASON,
        "releaseStream": REASON,
        "resources": [{
            "resourceType": "mysql",
            "resourceName": "orders",
            "resourcePath": REASON,
            "changeType": "DELETE"
        }]
    });
    crate::temp_file(release.to_string(), ".json")
}
