//! Untrusted text in GitHub Actions workflow commands and environment files.
//!
//! An annotation is one stdout line, `::error title=PROPERTY::DATA`. The
//! runner (actions/runner `ActionCommand.TryParseV2`) decodes `%25`, `%0D`
//! and `%0A` in the data, and also `%3A` and `%2C` in properties, whose
//! values end at `,` and whose list ends at `::`. So `%` is always encoded
//! (text cannot smuggle an encoded line break), `:` and `,` are encoded in
//! properties, and every character of [`super::needs_escape`] (line breaks
//! included) is shown as `\u{..}`, as in the text report: an annotation
//! stays one line, whatever the message. `##[` is broken as by
//! [`super::line`] for good measure (the runner's older `##[command]`
//! syntax is only tried when the line is not a `::` command).
//!
//! `$GITHUB_OUTPUT` is a file of `NAME=VALUE` lines, or `NAME<<DELIMITER`
//! heredocs for values with line breaks: see [`github_output`].

use super::{escape_bounded, joined, needs_escape, push_escape};
use sha2::{Digest, Sha256};

/// Untrusted text as workflow-command data (the message after `::`).
pub fn workflow_data(text: &str) -> String {
    escape_command(text, false)
}

/// Untrusted text as a workflow-command property value (e.g. `title=`).
pub fn workflow_property(text: &str) -> String {
    escape_command(text, true)
}

fn escape_command(text: &str, property: bool) -> String {
    let mut out = String::with_capacity(text.len().min(super::MAX_SHOWN_CHARS));
    let mut previous = ['\0', '\0'];
    escape_bounded(
        joined(&[text], ""),
        &mut out,
        |c: char, out: &mut String| {
            match c {
                '%' => out.push_str("%25"),
                ':' if property => out.push_str("%3A"),
                ',' if property => out.push_str("%2C"),
                '[' if previous == ['#', '#'] => push_escape(out, c),
                c if needs_escape(c) => push_escape(out, c),
                c => out.push(c),
            }
            previous = [previous[1], c];
        },
    );
    out
}

/// One entry for the `$GITHUB_OUTPUT` file: `NAME=VALUE\n`, or, when the
/// value has a line break (the runner splits the file on them), the heredoc
/// `NAME<<DELIMITER\nVALUE\nDELIMITER\n` with a delimiter derived from the
/// value's sha256, which the value cannot contain. No value can add another
/// output or end the heredoc early. The name must be letters, digits, `-`
/// and `_` (a programming error otherwise, reported as `Err`).
pub fn github_output(name: &str, value: &str) -> Result<String, String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "step output name {name:?}: use letters, digits, '-' and '_'"
        ));
    }
    if !value.contains(['\n', '\r']) {
        return Ok(format!("{name}={value}\n"));
    }
    let delimiter = format!("ghadelimiter_{}", hex::encode(Sha256::digest(value)));
    if value.contains(&delimiter) {
        return Err(format!(
            "step output {name}: the value contains its own heredoc delimiter"
        ));
    }
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::FORGED;
    use crate::untrusted::MAX_SHOWN_CHARS;

    #[test]
    fn data_and_properties_are_encoded() {
        assert_eq!(workflow_data("50% a\nb"), "50%25 a\\u{a}b");
        assert_eq!(workflow_data("%0A::error::x"), "%250A::error::x");
        assert_eq!(workflow_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(workflow_data("a:b,c"), "a:b,c");
        assert_eq!(workflow_data("x ##[add-mask]y"), "x ##\\u{5b}add-mask]y");
    }

    #[test]
    fn forged_text_stays_one_command() {
        for shown in [workflow_data(FORGED), workflow_property(FORGED)] {
            assert!(!shown.contains(['\n', '\r']), "{shown}");
            assert!(!shown.chars().any(needs_escape), "{shown}");
            assert!(!shown.contains("##["), "{shown}");
        }
        assert!(!workflow_property(FORGED).contains("::"));
        assert!(!workflow_property(FORGED).contains(','));
    }

    #[test]
    fn long_messages_are_cut() {
        let shown = workflow_data(&"%".repeat(MAX_SHOWN_CHARS + 5));
        assert_eq!(
            shown.len(),
            MAX_SHOWN_CHARS * 3 + "… (5 more characters; the JSON report has the full text)".len()
        );
    }

    #[test]
    fn outputs_cannot_inject_lines() {
        assert_eq!(
            github_output("verdict", "fail"),
            Ok("verdict=fail\n".into())
        );
        let value = "x\nverdict=auto-approve\nEOF";
        let entry = github_output("note", value).expect("heredoc");
        let delimiter = entry
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("note<<"))
            .expect("heredoc header")
            .to_string();
        assert_eq!(entry, format!("note<<{delimiter}\n{value}\n{delimiter}\n"));
        assert!(delimiter.len() > 64 && !value.contains(&delimiter));
        assert!(github_output("a\nb", "x").is_err());
        assert!(github_output("a=b", "x").is_err());
        assert!(github_output("", "x").is_err());
        assert!(
            github_output("cr", "a\rb")
                .expect("heredoc")
                .starts_with("cr<<")
        );
    }
}
