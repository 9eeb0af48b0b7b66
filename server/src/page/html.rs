//! HTML that cannot forget to escape: [`Html`] is built from static markup
//! (string literals written in this crate) and from text, and the only way
//! to add text is [`escape`], so every release name, path, reason, group,
//! principal or environment on the page goes through one function.

use std::fmt::Write;

/// Untrusted text for HTML content or a quoted attribute value: `& < > " '`
/// as character references, and the control, bidirectional and invisible
/// characters of [`gatehouse_core::untrusted::needs_escape`] shown as
/// `\u{..}` (as every other sink shows them), at most
/// [`gatehouse_core::untrusted::MAX_SHOWN_CHARS`] characters of it.
pub fn escape(text: &str) -> String {
    let neutral = gatehouse_core::untrusted::line(text);
    let mut out = String::with_capacity(neutral.len() + 16);
    for c in neutral.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A piece of an HTML document under construction.
#[derive(Debug, Default)]
pub struct Html(String);

impl Html {
    /// An empty document.
    pub fn new() -> Html {
        Html(String::with_capacity(8 << 10))
    }

    /// Appends markup written in this crate (a literal: `&'static str`, so
    /// that no runtime text can be passed as markup).
    pub fn raw(&mut self, markup: &'static str) -> &mut Html {
        self.0.push_str(markup);
        self
    }

    /// Appends text, escaped.
    pub fn text(&mut self, text: &str) -> &mut Html {
        self.0.push_str(&escape(text));
        self
    }

    /// Appends a number.
    pub fn number(&mut self, n: i64) -> &mut Html {
        let _ = write!(self.0, "{n}");
        self
    }

    /// `<TAG>text</TAG>`, the text escaped (TAG and its attributes are a
    /// literal, e.g. `td class="env"`).
    pub fn element(&mut self, open: &'static str, close: &'static str, text: &str) -> &mut Html {
        self.raw(open).text(text).raw(close)
    }

    /// The document.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_references() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape("<img src=x onerror=\"a('b')\"> & co"),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt; &amp; co"
        );
        assert_eq!(escape("plain dba@example.com"), "plain dba@example.com");
    }

    #[test]
    fn control_and_bidi_characters_are_shown_not_obeyed() {
        let shown = escape("a\nb\u{1b}[31m\u{202e}cba\u{2066}\u{200b}");
        assert!(!shown.chars().any(gatehouse_core::untrusted::needs_escape));
        assert!(shown.contains("\\u{a}"), "{shown}");
        assert!(shown.contains("\\u{1b}"), "{shown}");
        assert!(shown.contains("\\u{202e}"), "{shown}");
        assert!(shown.contains("\\u{2066}"), "{shown}");
        assert!(shown.contains("\\u{200b}"), "{shown}");
    }

    #[test]
    fn text_is_bounded() {
        let long = "<".repeat(gatehouse_core::untrusted::MAX_SHOWN_CHARS * 2);
        let shown = escape(&long);
        assert!(shown.len() < gatehouse_core::untrusted::MAX_SHOWN_CHARS * 5 + 200);
        assert!(!shown.contains('<'));
    }

    #[test]
    fn only_literals_are_markup() {
        let mut page = Html::new();
        page.element("<td class=\"x\">", "</td>", "</td><script>")
            .number(-3);
        assert_eq!(
            page.into_string(),
            "<td class=\"x\">&lt;/td&gt;&lt;script&gt;</td>-3"
        );
    }
}
