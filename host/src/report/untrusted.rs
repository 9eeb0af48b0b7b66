//! Text from policies and inputs, made safe to print on one line.
//!
//! Reasons, names, logs and resource paths come from policy code or from the
//! release input, and both may be hostile. Printed raw, a newline lets them
//! forge report lines (or, in a GitHub Actions log, workflow commands such as
//! `::add-mask::` or `::error::` at the start of a line), and terminal escapes
//! or bidirectional overrides can hide or reorder what the reader sees.

use std::borrow::Cow;

/// `text` with control characters (newlines, escapes) and bidirectional
/// formatting characters shown as `\u{..}` escapes; unchanged (borrowed) when
/// it has none.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_suspicious) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_suspicious(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Characters that can forge lines or change how the text is displayed.
pub fn is_suspicious(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_and_unchanged() {
        assert!(matches!(
            one_line("DELETE of mysql orders ✓"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn newlines_escapes_and_bidi_overrides_are_escaped() {
        assert_eq!(
            one_line("ok\n::add-mask::secret"),
            "ok\\u{a}::add-mask::secret"
        );
        assert_eq!(one_line("\u{1b}[2Jclear"), "\\u{1b}[2Jclear");
        assert_eq!(one_line("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(one_line("tab\there"), "tab\\u{9}here");
    }
}
