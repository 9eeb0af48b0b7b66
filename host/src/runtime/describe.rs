//! Limits on what `describe` may answer. The name and version are repeated
//! in every report line and annotation, so their size multiplies output;
//! control, bidirectional and line-separator characters in them could forge
//! or disguise report lines. A `describe` answer outside these limits makes
//! the policy invalid (exit 3), before any of it is printed.

/// Most bytes (UTF-8) a policy name may have.
pub const MAX_NAME_BYTES: usize = 128;
/// Most bytes (UTF-8) a policy version may have.
pub const MAX_VERSION_BYTES: usize = 64;
/// Most bytes (UTF-8) a policy description may have: 4 KiB.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;

/// True for the characters a name or version may not contain: control
/// characters (C0, DEL, C1 including NEL), bidirectional formatting
/// characters (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) and
/// the line and paragraph separators (U+2028, U+2029).
pub fn is_forbidden_in_name(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Checks a `describe` answer against the limits; the error says which
/// limit, by how much, and how to fix it (it never repeats the text).
pub fn check(name: &str, version: &str, description: &str) -> Result<(), String> {
    check_field("name", name, MAX_NAME_BYTES, true)?;
    check_field("version", version, MAX_VERSION_BYTES, true)?;
    check_field("description", description, MAX_DESCRIPTION_BYTES, false)
}

fn check_field(field: &str, text: &str, max: usize, plain: bool) -> Result<(), String> {
    if text.len() > max {
        return Err(format!(
            "the {field} is {} bytes, more than the {max} a policy {field} may have; shorten it in `describe`",
            text.len()
        ));
    }
    if plain && let Some((at, c)) = text.char_indices().find(|(_, c)| is_forbidden_in_name(*c)) {
        return Err(format!(
            "the {field} contains U+{:04X} at byte {at}; a policy name or version may not contain control, bidirectional or line/paragraph separator characters",
            u32::from(c)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_at_the_limits_pass() {
        let name = "n".repeat(MAX_NAME_BYTES);
        let version = "1".repeat(MAX_VERSION_BYTES);
        let description = "line one\nline two ".repeat(100);
        let description = &description[..MAX_DESCRIPTION_BYTES.min(description.len())];
        assert_eq!(check(&name, &version, description), Ok(()));
        assert_eq!(check("café-policy", "1.0.0-β", ""), Ok(()));
    }

    #[test]
    fn one_byte_over_a_limit_fails_naming_it() {
        let err = check(&"n".repeat(MAX_NAME_BYTES + 1), "1", "").expect_err("long name");
        assert!(
            err.contains("the name is 129 bytes, more than the 128"),
            "{err}"
        );
        let err = check("p", &"1".repeat(MAX_VERSION_BYTES + 1), "").expect_err("long version");
        assert!(
            err.contains("the version is 65 bytes, more than the 64"),
            "{err}"
        );
        let err = check("p", "1", &"d".repeat(MAX_DESCRIPTION_BYTES + 1)).expect_err("long");
        assert!(
            err.contains("the description is 4097 bytes, more than the 4096"),
            "{err}"
        );
        // Bytes, not characters: 65 two-byte characters are 130 bytes.
        assert!(check(&"é".repeat(65), "1", "").is_err());
    }

    #[test]
    fn control_bidi_and_separator_characters_fail_in_name_and_version() {
        for bad in [
            '\n', '\r', '\u{1b}', '\u{7}', '\u{7f}', '\u{85}', '\u{9b}', '\u{61c}', '\u{200e}',
            '\u{200f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{2028}', '\u{2029}',
        ] {
            let text = format!("ok{bad}x");
            let err = check(&text, "1", "").expect_err("bad name");
            assert!(
                err.contains(&format!(
                    "the name contains U+{:04X} at byte 2",
                    u32::from(bad)
                )),
                "{err}"
            );
            assert!(!err.contains(&text), "the text is not repeated: {err}");
            assert!(check("p", &text, "").is_err(), "version {bad:?}");
        }
        // The description may span lines.
        assert_eq!(check("p", "1", "first\nsecond"), Ok(()));
    }
}
