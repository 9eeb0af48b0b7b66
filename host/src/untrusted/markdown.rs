//! Untrusted text in GitHub-flavoured Markdown (`$GITHUB_STEP_SUMMARY`).
//!
//! The text must stay inline text wherever it is placed (a paragraph, a
//! list item, a table cell), never becoming a heading, list, quote, table
//! row or cell, link, image, autolink, emoji shortcode, math, code span,
//! emphasis, HTML tag, entity or `<details>`. Two rules achieve that, per
//! the CommonMark and GFM specs:
//!
//! - `& < > " '` become the entities `&amp; &lt; &gt; &quot; &#39;`: no
//!   HTML tag, comment or entity can start, even in a context where HTML is
//!   parsed, and an entity reference is always text;
//! - every other ASCII punctuation character gets a backslash
//!   ("any ASCII punctuation character may be backslash-escaped", CommonMark
//!   §2.4): `#`, `*`, `_`, `` ` ``, `[`, `]`, `(`, `)`, `!`, `|` (GFM tables
//!   split cells on unescaped pipes only), `~`, `:` (emoji shortcodes, URL
//!   schemes), `.` (`www.` autolinks), `@`, `$`, `\` itself...
//!
//! Line breaks and the other characters of [`super::needs_escape`] are
//! shown as `\u{..}`, written so that they need no Markdown escaping: a
//! backslash before a letter is a literal backslash. Letters, digits,
//! spaces and non-ASCII characters stay as they are. The caller never puts
//! escaped text inside a code span (where backslash escapes do not work) or
//! at the start of a line.

use super::{escape_bounded, joined, needs_escape, push_escape};

/// Untrusted text as inline Markdown text (see the module documentation),
/// at most [`super::MAX_SHOWN_CHARS`] characters of it.
pub fn markdown(text: &str) -> String {
    markdown_list(&[text], "")
}

/// Several untrusted texts joined by `separator`, escaped as by
/// [`markdown`], bounded as a whole.
pub fn markdown_list<S: AsRef<str>>(items: &[S], separator: &str) -> String {
    let mut out = String::new();
    escape_bounded(joined(items, separator), &mut out, push_markdown);
    out
}

fn push_markdown(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c if c.is_ascii_punctuation() => {
            out.push('\\');
            out.push(c);
        }
        c if needs_escape(c) => push_escape(out, c),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::FORGED;
    use crate::untrusted::{MAX_BYTES_PER_BYTE, MAX_SHOWN_CHARS};

    #[test]
    fn structure_is_escaped() {
        assert_eq!(markdown("## ✅ x"), "\\#\\# ✅ x");
        assert_eq!(markdown("| a | b |"), "\\| a \\| b \\|");
        assert_eq!(markdown("[l](http://x)"), "\\[l\\]\\(http\\:\\/\\/x\\)");
        assert_eq!(markdown("![i](x)"), "\\!\\[i\\]\\(x\\)");
        assert_eq!(markdown("***"), "\\*\\*\\*");
        assert_eq!(markdown("`code`"), "\\`code\\`");
        assert_eq!(markdown(":white_check_mark:"), "\\:white\\_check\\_mark\\:");
        assert_eq!(
            markdown("www.x.com $x$ ~s~"),
            "www\\.x\\.com \\$x\\$ \\~s\\~"
        );
        assert_eq!(markdown("a\\|b"), "a\\\\\\|b");
        assert_eq!(markdown("1. - + >"), "1\\. \\- \\+ &gt;");
    }

    #[test]
    fn html_is_entity_escaped() {
        assert_eq!(
            markdown("<details><img src=x onerror='a'>&amp;\"q\""),
            "&lt;details&gt;&lt;img src\\=x onerror\\=&#39;a&#39;&gt;&amp;amp\\;&quot;q&quot;"
        );
    }

    #[test]
    fn line_breaks_and_hidden_characters_are_shown_without_markdown_meaning() {
        assert_eq!(
            markdown("a\n# h\u{2028}\u{202e}"),
            "a\\u{a}\\# h\\u{2028}\\u{202e}"
        );
        let shown = markdown(FORGED);
        assert!(!shown.contains('\n') && !shown.contains('\r'), "{shown}");
        assert!(!shown.chars().any(needs_escape), "{shown}");
        assert!(!shown.contains('<') && !shown.contains('>'), "{shown}");
        // Every pipe is escaped, so no table cell can be added.
        assert!(
            shown
                .match_indices('|')
                .all(|(at, _)| shown[..at].ends_with('\\')),
            "{shown}"
        );
    }

    #[test]
    fn escaping_is_bounded() {
        let punctuation: String = (0u8..0x80)
            .map(char::from)
            .filter(|c| c.is_ascii_punctuation() || c.is_ascii_control())
            .collect();
        let shown = markdown(&punctuation);
        assert!(shown.len() <= MAX_BYTES_PER_BYTE * punctuation.len());
        let shown = markdown(&"'".repeat(MAX_SHOWN_CHARS * 3));
        assert!(shown.len() <= MAX_SHOWN_CHARS * 6 + 200, "{}", shown.len());
        assert!(
            shown.contains("more characters\\; the JSON report"),
            "{shown}"
        );
    }

    #[test]
    fn lists_are_escaped_as_a_whole() {
        assert_eq!(markdown_list(&["dba", "*sre*"], ", "), "dba\\, \\*sre\\*");
    }
}
