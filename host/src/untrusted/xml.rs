//! Untrusted text in XML content and attribute values (the JUnit report).
//!
//! The five predefined entities for `& < > " '` (so the same escaping is
//! right in content and in attributes), and the characters of
//! [`super::needs_escape`] shown as `\u{..}`, like every other sink: line
//! breaks included, so one message stays one line in the CI's test view.
//! U+FFFE and U+FFFF, which XML 1.0 cannot carry, are shown the same way.

use super::{escape_bounded, joined, needs_escape, push_escape};

/// Untrusted text for XML content or an attribute value, at most
/// [`super::MAX_SHOWN_CHARS`] characters of it.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(super::MAX_SHOWN_CHARS));
    escape_bounded(joined(&[text], ""), &mut out, push_xml);
    out
}

fn push_xml(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&apos;"),
        '\u{fffe}' | '\u{ffff}' => push_escape(out, c),
        c if needs_escape(c) => push_escape(out, c),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::FORGED;

    #[test]
    fn markup_and_hidden_characters_are_escaped() {
        assert_eq!(
            xml("a<b>&\"c\"'d'\n\t\u{1}\u{FFFF}é\u{202e}"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;\\u{a}\\u{9}\\u{1}\\u{ffff}é\\u{202e}"
        );
        let shown = xml(FORGED);
        assert!(!shown.contains(['<', '>', '\n', '\r']), "{shown}");
        assert!(!shown.chars().any(needs_escape), "{shown}");
    }
}
