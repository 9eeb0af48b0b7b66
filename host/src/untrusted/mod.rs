//! Text from policies and inputs, escaped for the place it is written to.
//!
//! Names, versions, reasons, resource paths, approver groups, instructions,
//! logs, error messages, environment and stream names all come from policy
//! code or from the release input, and both may be hostile. Written raw, a
//! line break forges report lines (or GitHub workflow commands such as
//! `::error::` and `::add-mask::` at the start of a line), Markdown or HTML
//! forges a step summary's headings, terminal escapes rewrite the screen and
//! bidirectional controls reorder what the reader sees.
//!
//! Every sink writes untrusted text through exactly one function here:
//!
//! | sink | function |
//! |---|---|
//! | text report, `inspect`, `gatehouse test`, stderr lines | [`line`] (and [`line_list`]) |
//! | workflow-command data and properties (annotations) | [`workflow_data`], [`workflow_property`] |
//! | `$GITHUB_STEP_SUMMARY` (GitHub-flavoured Markdown) | [`markdown`] (and [`markdown_list`]) |
//! | `$GITHUB_OUTPUT` | [`github_output`] |
//! | JUnit XML | [`xml`] |
//!
//! JSON output is the exception: it keeps the exact text (JSON strings
//! cannot break out of their quotes), and its consumers must treat it as
//! untrusted.
//!
//! Common to every sink: the characters of [`needs_escape`] are shown as
//! `\u{..}` escapes (Rust's notation, e.g. a newline is `\u{a}`), and at most
//! [`MAX_SHOWN_CHARS`] characters of one field are shown, followed by
//! `… (N more characters; the JSON report has the full text)`. So one field
//! never takes more than a fixed number of bytes, and never more than
//! [`MAX_BYTES_PER_BYTE`] bytes per byte of the original text.

mod markdown;
mod workflow;
mod xml;

pub use markdown::{markdown, markdown_list};
pub use workflow::{github_output, workflow_data, workflow_property};
pub use xml::xml;

use std::borrow::Cow;

/// The most characters of one untrusted field a human-readable sink shows;
/// the rest is replaced by a marker saying how many characters were left out.
pub const MAX_SHOWN_CHARS: usize = 4096;

/// The most bytes any sink writes per byte of untrusted text: a one-byte
/// control character such as U+001B becomes the six bytes `\u{1b}` (the
/// Markdown sink escapes differently but never writes more; see its tests).
pub const MAX_BYTES_PER_BYTE: usize = 6;

/// Characters that are never written raw to a human-readable sink, because
/// they can forge lines or change how the text around them is displayed:
///
/// - every C0 and C1 control character and DEL (U+0000–U+001F,
///   U+007F–U+009F), which includes tab, line feed, carriage return,
///   ESC, BEL, NEL (U+0085) and CSI (U+009B);
/// - the line and paragraph separators U+2028 and U+2029;
/// - every bidirectional control: U+061C (Arabic letter mark), U+200E and
///   U+200F (left-to-right and right-to-left marks), U+202A–U+202E
///   (embeddings and overrides) and U+2066–U+2069 (isolates);
/// - invisible format characters that can make two different strings look
///   the same: U+00AD (soft hyphen), U+034F (combining grapheme joiner),
///   U+115F, U+1160, U+3164 and U+FFA0 (Hangul fillers), U+180E (Mongolian
///   vowel separator), U+200B–U+200D (zero-width space, non-joiner,
///   joiner), U+2060–U+2064 (word joiner and invisible operators),
///   U+206A–U+206F (deprecated format controls), U+FEFF (zero-width
///   no-break space, the byte-order mark), U+FFF9–U+FFFB (interlinear
///   annotation controls) and U+E0000–U+E007F (tag characters).
///
/// Emoji variation selectors (U+FE00–U+FE0F) are kept: they only pick a
/// glyph's presentation. The zero-width joiner is escaped even though emoji
/// sequences use it: in a release gate, visible beats pretty.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{3164}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// A name for a message: quoted, with quotes, backslashes, control,
/// bidirectional and line-separator characters escaped (release values and
/// config entries are untrusted text), and bounded as [`line`] bounds it.
pub fn quote(text: &str) -> String {
    line(&format!("{text:?}")).into_owned()
}

/// Untrusted text for a text sink (the text report, `inspect`, `gatehouse
/// test`, stderr): one line, with the characters of [`needs_escape`] shown
/// as `\u{..}`, the `[` of `##[` shown as `\u{5b}` (GitHub's runner reads
/// `##[command]` anywhere in a log line as a workflow command), and at most
/// [`MAX_SHOWN_CHARS`] characters. Borrowed when nothing needed changing.
pub fn line(text: &str) -> Cow<'_, str> {
    if text.len() <= MAX_SHOWN_CHARS && !text.contains("##[") && !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(line_list(&[text], ""))
}

/// Several untrusted texts joined by `separator`, escaped as by [`line`],
/// with [`MAX_SHOWN_CHARS`] for the whole (never a joined copy of all of
/// them in memory).
pub fn line_list<S: AsRef<str>>(items: &[S], separator: &str) -> String {
    let mut out = String::new();
    let mut previous = ['\0', '\0'];
    escape_bounded(
        joined(items, separator),
        &mut out,
        |c: char, out: &mut String| {
            if needs_escape(c) || (c == '[' && previous == ['#', '#']) {
                push_escape(out, c);
            } else {
                out.push(c);
            }
            previous = [previous[1], c];
        },
    );
    out
}

/// The stderr line `gatehouse: LEVEL: MESSAGE`, the message escaped as by
/// [`line`]: errors and warnings quote policies, inputs and files, and a
/// terminal or CI log must get one line, without escapes or reordering.
pub fn diagnostic(level: &str, message: &str) -> String {
    format!("gatehouse: {level}: {}", line(message))
}

/// `c` as Rust's `\u{..}` escape.
pub(crate) fn push_escape(out: &mut String, c: char) {
    out.extend(c.escape_unicode());
}

/// The pieces of `items` joined by `separator`, lazily.
pub(crate) fn joined<'a, S: AsRef<str>>(
    items: &'a [S],
    separator: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    items
        .iter()
        .enumerate()
        .flat_map(move |(i, item)| [if i == 0 { "" } else { separator }, item.as_ref()])
}

/// Writes the characters of `pieces` through `escape`, at most
/// [`MAX_SHOWN_CHARS`] of them, then (through `escape` too) the marker
/// saying how many were left out.
pub(crate) fn escape_bounded<'a>(
    pieces: impl Iterator<Item = &'a str>,
    out: &mut String,
    mut escape: impl FnMut(char, &mut String),
) {
    let mut shown = 0usize;
    let mut left_out = 0usize;
    for piece in pieces {
        if shown == MAX_SHOWN_CHARS {
            left_out += piece.chars().count();
            continue;
        }
        let mut chars = piece.char_indices();
        for (at, c) in chars.by_ref() {
            if shown == MAX_SHOWN_CHARS {
                left_out += piece[at..].chars().count();
                break;
            }
            escape(c, out);
            shown += 1;
        }
    }
    if left_out > 0 {
        for c in truncation_marker(left_out).chars() {
            escape(c, out);
        }
    }
}

/// What replaces the part of a field past [`MAX_SHOWN_CHARS`].
pub fn truncation_marker(left_out: usize) -> String {
    format!(
        "… ({left_out} more character{}; the JSON report has the full text)",
        if left_out == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::fixture::FORGED;

    #[test]
    fn plain_text_is_borrowed_and_unchanged() {
        assert!(matches!(line("DELETE of mysql orders ✓"), Cow::Borrowed(_)));
        assert!(matches!(line("issue #12 [see] #[x]"), Cow::Borrowed(_)));
    }

    #[test]
    fn line_breaks_escapes_and_bidi_controls_are_escaped() {
        assert_eq!(line("ok\n::add-mask::secret"), "ok\\u{a}::add-mask::secret");
        assert_eq!(line("\u{1b}[2Jclear"), "\\u{1b}[2Jclear");
        assert_eq!(line("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(line("tab\there"), "tab\\u{9}here");
        assert_eq!(line("cr\r"), "cr\\u{d}");
        assert_eq!(line("\u{7f}\u{85}\u{9b}"), "\\u{7f}\\u{85}\\u{9b}");
        assert_eq!(line("a\u{2028}b\u{2029}c"), "a\\u{2028}b\\u{2029}c");
        assert_eq!(
            line("\u{61c}\u{200e}\u{200f}\u{202a}\u{2066}\u{2069}"),
            "\\u{61c}\\u{200e}\\u{200f}\\u{202a}\\u{2066}\\u{2069}"
        );
    }

    #[test]
    fn the_whole_class_is_escaped_and_nothing_else() {
        let escaped: Vec<u32> = (0..=0x10ffff)
            .filter_map(char::from_u32)
            .filter(|&c| needs_escape(c))
            .map(u32::from)
            .collect();
        let mut expected: Vec<u32> = (0..=0x1f).chain(0x7f..=0x9f).collect();
        expected.extend([0xad, 0x34f, 0x61c, 0x115f, 0x1160, 0x180e]);
        expected.extend((0x200b..=0x200f).chain(0x2028..=0x202e));
        expected.extend((0x2060..=0x2064).chain(0x2066..=0x206f));
        expected.extend([0x3164, 0xfeff, 0xffa0]);
        expected.extend((0xfff9..=0xfffb).chain(0xe0000..=0xe007f));
        expected.sort_unstable();
        assert_eq!(escaped, expected);
        // Emoji presentation selectors stay.
        assert_eq!(line("⏸\u{fe0f}"), "⏸\u{fe0f}");
    }

    #[test]
    fn a_github_v1_command_is_broken_wherever_it_starts() {
        assert_eq!(line("ok ##[error]forged"), "ok ##\\u{5b}error]forged");
        assert_eq!(line("###[x"), "###\\u{5b}x");
        assert_eq!(line_list(&["a#", "#[b"], ""), "a##\\u{5b}b");
        assert!(!line(FORGED).contains("##["));
    }

    #[test]
    fn the_forged_text_stays_on_one_line_without_hidden_characters() {
        let shown = line(FORGED);
        assert!(!shown.chars().any(needs_escape), "{shown}");
        assert!(shown.starts_with("ok\\u{a}## ✅ Gatehouse"), "{shown}");
    }

    #[test]
    fn long_fields_are_cut_with_a_count_of_what_is_left_out() {
        let long = "é".repeat(MAX_SHOWN_CHARS + 10);
        let shown = line(&long);
        assert!(shown.starts_with(&"é".repeat(MAX_SHOWN_CHARS)));
        assert!(
            shown.ends_with("… (10 more characters; the JSON report has the full text)"),
            "{}",
            &shown[shown.len() - 80..]
        );
        let exact = "x".repeat(MAX_SHOWN_CHARS);
        assert!(matches!(line(&exact), Cow::Borrowed(_)));
        assert!(line(&format!("{exact}y")).contains("(1 more character;"));
    }

    #[test]
    fn escaping_is_bounded_per_byte_and_per_field() {
        let controls: String = (0u8..0x20).map(char::from).collect();
        let shown = line(&controls);
        assert!(shown.len() <= MAX_BYTES_PER_BYTE * controls.len());
        let huge = "\u{1b}".repeat(1 << 20);
        let shown = line(&huge);
        assert!(shown.len() <= MAX_SHOWN_CHARS * 6 + 100, "{}", shown.len());
        assert!(shown.contains(&format!(
            "({} more characters;",
            (1 << 20) - MAX_SHOWN_CHARS
        )));
    }

    #[test]
    fn diagnostics_are_one_escaped_line() {
        assert_eq!(
            diagnostic("error", "policy 'x\u{1b}[2J\u{7}' failed\n\u{202e}ok"),
            "gatehouse: error: policy 'x\\u{1b}[2J\\u{7}' failed\\u{a}\\u{202e}ok"
        );
    }

    #[test]
    fn lists_are_joined_lazily_and_bounded_as_a_whole() {
        assert_eq!(line_list(&["dba", "sre\n"], ", "), "dba, sre\\u{a}");
        let many = vec!["g"; 100_000];
        let shown = line_list(&many, ", ");
        assert!(shown.len() < MAX_SHOWN_CHARS + 100, "{}", shown.len());
        let total = 100_000 + 2 * 99_999;
        assert!(
            shown.contains(&format!("({} more characters;", total - MAX_SHOWN_CHARS)),
            "{}",
            &shown[shown.len() - 80..]
        );
        assert_eq!(line_list::<&str>(&[], ", "), "");
    }
}
