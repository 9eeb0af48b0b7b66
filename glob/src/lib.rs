//! # gatehouse-glob: the one glob dialect of Gatehouse
//!
//! Policy sets match a release's environment against `environments` globs,
//! and policies match resource paths, types and environments against globs
//! from their settings. Both use this crate, so `datastores/*` means the
//! same thing in `gatehouse.toml` and in a policy:
//!
//! - `*` is any run of characters, including none, within one
//!   `/`-separated segment: it never crosses `/`;
//! - `?` is exactly one character (one Unicode scalar value), never `/`;
//! - `**` as a whole segment is any number of whole segments, including
//!   none (`datastores/**`, `**/orders`, `a/**/z`); `**` inside a segment
//!   (`a**b`) is the same as `*`;
//! - everything else matches itself, case-sensitively (`prod*` does not
//!   match `Prod-eu`). There is no escape character and no character class.
//!
//! A pattern without `/` is matched against the whole text as one segment,
//! so `prod*` matches `prod-eu` but not `prod/eu`; use `prod*/**` or `**` to
//! span segments.
//!
//! Matching allocates nothing and runs in O(pattern × text) time in the worst
//! case (single backtracking, on characters within a segment and on
//! segments across `**`), never exponential: it is safe on untrusted text.
//!
//! ```
//! use gatehouse_glob::matches;
//! assert!(matches("datastores/*", "datastores/orders"));
//! assert!(!matches("datastores/*", "datastores/eu/orders"));
//! assert!(matches("datastores/**", "datastores/eu/orders"));
//! assert!(matches("**/orders", "datastores/eu/orders"));
//! assert!(matches("db-?", "db-1"));
//! assert!(matches("prod-?", "prod-é"));
//! assert!(!matches("prod*", "Prod-eu"));
//! ```

// `no_std` (no allocation either), so policies and the host can share it;
// the unit tests use std.
#![cfg_attr(not(test), no_std)]

/// True when `text` matches the glob `pattern` (see the [crate] docs).
///
/// ```
/// use gatehouse_glob::matches;
/// assert!(matches("prod*", "prod-eu"));
/// assert!(!matches("prod*", "prod/eu"));
/// assert!(matches("prod*/**", "prod/eu"));
/// assert!(matches("a/**/z", "a/z"));
/// ```
pub fn matches(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
    match_segments(pattern, text)
}

/// True when `text` matches at least one of `patterns` (false for none).
///
/// ```
/// use gatehouse_glob::matches_any;
/// assert!(matches_any(&["prod*", "live"], "prod-eu"));
/// assert!(!matches_any(&["prod*", "live"], "staging"));
/// assert!(!matches_any::<&str>(&[], "prod"));
/// ```
pub fn matches_any<P: AsRef<str>>(patterns: &[P], text: &str) -> bool {
    first_match(patterns, text).is_some()
}

/// The first of `patterns` that `text` matches, to say in a reason which
/// pattern caught it (`environment prod-eu (protected by "prod*")`).
///
/// ```
/// use gatehouse_glob::first_match;
/// assert_eq!(first_match(&["staging", "prod*", "prod-eu"], "prod-eu"), Some("prod*"));
/// assert_eq!(first_match(&["staging", "prod*"], "dev"), None);
/// ```
pub fn first_match<'a, P: AsRef<str>>(patterns: &'a [P], text: &str) -> Option<&'a str> {
    patterns
        .iter()
        .map(AsRef::as_ref)
        .find(|pattern| matches(pattern, text))
}

/// The first segment of `rest` and what follows it; `None` when no segment
/// is left. `Some("")` is one empty segment (the text `""`, or the end of
/// `a/`), which is not the same as none.
fn next_segment(rest: Option<&str>) -> Option<(&str, Option<&str>)> {
    let rest = rest?;
    Some(match rest.split_once('/') {
        Some((head, tail)) => (head, Some(tail)),
        None => (rest, None),
    })
}

/// Matches `/`-separated segments: a `**` segment is a star over whole
/// segments, any other pattern segment matches exactly one text segment.
/// Iterative with single backtracking to the last `**` (correct because
/// every other pattern segment consumes exactly one text segment), so it
/// costs O(pattern segments × text segments) segment matches.
fn match_segments(pattern: &str, text: &str) -> bool {
    let (mut p, mut t) = (Some(pattern), Some(text));
    // The pattern after the last `**`, and the text it is tried against.
    let mut star: Option<(Option<&str>, Option<&str>)> = None;
    loop {
        match next_segment(p) {
            Some(("**", p_rest)) => {
                star = Some((p_rest, t));
                p = p_rest;
                continue;
            }
            Some((segment, p_rest)) => {
                if let Some((t_segment, t_rest)) = next_segment(t)
                    && match_segment(segment.as_bytes(), t_segment.as_bytes())
                {
                    p = p_rest;
                    t = t_rest;
                    continue;
                }
            }
            None if t.is_none() => return true,
            None => {}
        }
        // A mismatch: let the last `**` take one more segment, if any is left.
        let Some((star_p, star_t)) = star else {
            return false;
        };
        let Some((_, star_t)) = next_segment(star_t) else {
            return false;
        };
        star = Some((star_p, star_t));
        p = star_p;
        t = star_t;
    }
}

/// The length of the UTF-8 sequence that starts with `lead`.
fn char_len(lead: u8) -> usize {
    match lead {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
}

/// Matches one segment with `*` and `?`, iteratively with single
/// backtracking, so a hostile pattern costs O(pattern × text), never
/// exponential time. Works on the UTF-8 bytes of both: literal bytes compare
/// as bytes, and `?` and each step of a `*` move over one whole character,
/// so every position a `*` or `?` starts from is a character boundary.
fn match_segment(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the pattern resumes after the last `*`, and the text it is tried from.
    let mut star: Option<(usize, usize)> = None;
    while let Some(&byte) = text.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, t));
                p += 1;
            }
            Some(b'?') => {
                p += 1;
                t += char_len(byte);
            }
            Some(&c) if c == byte => {
                p += 1;
                t += 1;
            }
            _ => {
                let Some((star_p, star_t)) = star else {
                    return false;
                };
                let Some(&lead) = text.get(star_t) else {
                    return false;
                };
                let star_t = star_t + char_len(lead);
                star = Some((star_p, star_t));
                p = star_p;
                t = star_t;
            }
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

#[cfg(test)]
mod tests {
    use super::{first_match, matches, matches_any};

    #[test]
    fn literals_match_exactly_and_case_sensitively() {
        assert!(matches("staging", "staging"));
        assert!(!matches("staging", "staging2"));
        assert!(!matches("staging", "Staging"));
        assert!(matches("", ""));
        assert!(!matches("", "x"));
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "a/c"));
        assert!(!matches("prod*", "Prod-eu"));
        assert!(!matches("PROD", "prod"));
    }

    #[test]
    fn star_stays_within_a_segment() {
        for (p, t) in [
            ("prod*", "prod"),
            ("prod*", "prod-eu"),
            ("*", ""),
            ("*", "anything"),
            ("*-eu", "prod-eu"),
            ("a*b*c", "aXXbYYc"),
            ("*a*", "banana"),
            ("*sql*", "mysql-main"),
            ("datastores/*", "datastores/orders"),
            ("*/prod-?", "eu/prod-1"),
            ("a**b", "aXb"),
        ] {
            assert!(matches(p, t), "{p} should match {t}");
        }
        for (p, t) in [
            ("prod*", "dev"),
            ("prod*", "prod/eu"),
            ("*", "a/b"),
            ("*-eu", "prod-us"),
            ("a*b*c", "aXXbYY"),
            ("datastores/*", "datastores/eu/orders"),
            ("datastores/*", "datastores"),
            ("a**b", "a/b"),
        ] {
            assert!(!matches(p, t), "{p} should not match {t}");
        }
    }

    #[test]
    fn question_mark_is_one_character_never_a_slash() {
        assert!(matches("p?od", "prod"));
        assert!(!matches("p?od", "pod"));
        assert!(matches("d?-*", "db-orders"));
        assert!(!matches("d?-*", "d-orders"));
        assert!(!matches("a?b", "a/b"));
        // One character, however many bytes it takes in UTF-8.
        assert!(matches("prod-?", "prod-é"));
        assert!(!matches("prod-??", "prod-é"));
        assert!(matches("?", "ü"));
        assert!(matches("?", "€"));
        assert!(matches("?", "🦀"));
        assert!(matches("??", "🦀x"));
        assert!(!matches("?", "🦀x"));
        assert!(matches("*?", "xé"));
        assert!(matches("*é", "ééé"));
        assert!(matches("?*?", "éé"));
        assert!(matches("é?é", "é🦀é"));
        assert!(!matches("é?é", "éé"));
    }

    #[test]
    fn double_star_spans_whole_segments() {
        for (p, t) in [
            ("**", ""),
            ("**", "a"),
            ("**", "a/b/c"),
            ("a/**", "a"),
            ("a/**", "a/b/c"),
            ("a/**/z", "a/z"),
            ("a/**/z", "a/b/c/z"),
            ("**/orders", "datastores/eu/orders"),
            ("**/orders", "orders"),
            ("**/data", "deep/a/b/c/data"),
            ("deep/**/c/*", "deep/a/b/c/data"),
            ("q/*/**", "q/1"),
            ("**/**/x", "a/b/x"),
            ("a/**/b/**/c", "a/b/c"),
            ("a/**/b/**/c", "a/x/b/y/b/z/c"),
            ("a//b", "a//b"),
            ("a/*/b", "a//b"),
        ] {
            assert!(matches(p, t), "{p} should match {t}");
        }
        for (p, t) in [
            ("a/**/z", "a/b/c/y"),
            ("a/**", "b/a"),
            ("**/orders", "datastores/orders-old"),
            ("q/*/**", "q"),
            ("a/**/b/**/c", "a/c/b"),
            ("a//b", "a/b"),
        ] {
            assert!(!matches(p, t), "{p} should not match {t}");
        }
    }

    #[test]
    fn lists_of_patterns() {
        let patterns = ["staging", "prod*", "prod-eu"];
        assert_eq!(
            first_match(&patterns, "prod-eu"),
            Some("prod*"),
            "first wins"
        );
        assert_eq!(first_match(&patterns, "staging"), Some("staging"));
        assert_eq!(first_match(&patterns, "dev"), None);
        assert!(matches_any(&patterns, "production"));
        assert!(!matches_any(&patterns, "qa"));
        let empty: [&str; 0] = [];
        assert!(!matches_any(&empty, ""));
    }

    #[test]
    fn hostile_patterns_finish_quickly() {
        // Exponential backtracking would take longer than the universe is old.
        let text = "a".repeat(4000);
        let pattern = format!("{}b", "*a".repeat(100));
        assert!(!matches(&pattern, &text));
        assert!(matches(&pattern, &format!("{text}b")));

        // The same across segments: forty `**` against 2,000 segments.
        let long = vec!["a"; 2000].join("/");
        let hostile = format!("{}b", "**/".repeat(40));
        assert!(!matches(&hostile, &long));
        assert!(matches(&hostile, &format!("{long}/b")));
        assert!(matches(&vec!["**"; 40].join("/"), &long));
    }

    /// The dialect written as directly as possible (exponential, fine for
    /// short strings): the reference the fast matcher is checked against.
    fn reference(pattern: &str, text: &str) -> bool {
        fn segments(p: &[&str], t: &[&str]) -> bool {
            match p.split_first() {
                None => t.is_empty(),
                Some((&"**", rest)) => (0..=t.len()).any(|skip| segments(rest, &t[skip..])),
                Some((first, rest)) => t.split_first().is_some_and(|(segment, t_rest)| {
                    let p: Vec<char> = first.chars().collect();
                    let s: Vec<char> = segment.chars().collect();
                    chars(&p, &s) && segments(rest, t_rest)
                }),
            }
        }
        fn chars(p: &[char], t: &[char]) -> bool {
            match p.split_first() {
                None => t.is_empty(),
                Some(('*', rest)) => (0..=t.len()).any(|skip| chars(rest, &t[skip..])),
                Some(('?', rest)) => !t.is_empty() && chars(rest, &t[1..]),
                Some((c, rest)) => t.first() == Some(c) && chars(rest, &t[1..]),
            }
        }
        let p: Vec<&str> = pattern.split('/').collect();
        let t: Vec<&str> = text.split('/').collect();
        segments(&p, &t)
    }

    /// Every string of up to `max` characters from `alphabet`.
    fn strings(alphabet: &[char], max: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn agrees_with_the_reference_on_every_short_pattern_and_text() {
        let texts = strings(&['a', 'é', '/'], 4);
        let mut patterns = strings(&['a', 'é', '/', '*', '?'], 4);
        patterns
            .extend(["**/a", "a/**", "**/**", "a/**/é", "*/**/?", "**/*a*/**"].map(String::from));
        for pattern in &patterns {
            for text in &texts {
                assert_eq!(
                    matches(pattern, text),
                    reference(pattern, text),
                    "{pattern:?} against {text:?}"
                );
            }
        }
    }
}
