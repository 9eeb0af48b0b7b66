//! Path globs for resource paths and names: `*` and `?` match within one
//! `/`-separated segment, `**` matches any number of whole segments.

/// True when `text` matches `pattern`.
///
/// ```
/// use gatehouse_sdk::glob::matches;
/// assert!(matches("datastores/*", "datastores/orders"));
/// assert!(!matches("datastores/*", "datastores/eu/orders"));
/// assert!(matches("datastores/**", "datastores/eu/orders"));
/// assert!(matches("**/orders", "datastores/eu/orders"));
/// assert!(matches("db-?", "db-1"));
/// ```
pub fn matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let text: Vec<&str> = text.split('/').collect();
    match_segments(&pattern, &text)
}

/// True when `text` matches at least one of `patterns` (false for none).
///
/// ```
/// use gatehouse_sdk::glob::matches_any;
/// assert!(matches_any(&["prod*", "live"], "prod-eu"));
/// assert!(!matches_any(&["prod*", "live"], "staging"));
/// assert!(!matches_any::<&str>(&[], "prod"));
/// ```
pub fn matches_any<P: AsRef<str>>(patterns: &[P], text: &str) -> bool {
    first_match(patterns, text).is_some()
}

/// The first of `patterns` that `text` matches, to say in a reason which
/// setting caught it (`environment prod-eu (protected by "prod*")`).
///
/// ```
/// use gatehouse_sdk::glob::first_match;
/// let protected = vec!["prod*".to_string(), "live".to_string()];
/// assert_eq!(first_match(&protected, "prod-eu"), Some("prod*"));
/// assert_eq!(first_match(&protected, "staging"), None);
/// ```
pub fn first_match<'a, P: AsRef<str>>(patterns: &'a [P], text: &str) -> Option<&'a str> {
    patterns
        .iter()
        .map(AsRef::as_ref)
        .find(|pattern| matches(pattern, text))
}

fn match_segments(pattern: &[&str], text: &[&str]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((&"**", rest)) => (0..=text.len()).any(|skip| match_segments(rest, &text[skip..])),
        Some((first, rest)) => match text.split_first() {
            Some((segment, text_rest)) => {
                match_segment(first.as_bytes(), segment.as_bytes())
                    && match_segments(rest, text_rest)
            }
            None => false,
        },
    }
}

/// Matches one segment with `*` and `?`, iteratively with single backtracking,
/// so a hostile pattern costs O(pattern × text), never exponential time.
fn match_segment(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn literal_and_wildcards() {
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "a/c"));
        assert!(matches("*", "anything"));
        assert!(!matches("*", "a/b"));
        assert!(matches("**", "a/b/c"));
        assert!(matches("**", ""));
        assert!(matches("a/**/z", "a/z"));
        assert!(matches("a/**/z", "a/b/c/z"));
        assert!(!matches("a/**/z", "a/b/c/y"));
        assert!(matches("*sql*", "mysql-main"));
        assert!(matches("d?-*", "db-orders"));
        assert!(!matches("d?-*", "d-orders"));
    }

    #[test]
    fn lists_of_patterns() {
        use super::{first_match, matches_any};
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
        let empty: [String; 0] = [];
        assert!(!matches_any(&empty, ""));
    }

    #[test]
    fn pathological_pattern_is_fast_enough_to_finish() {
        let text = "a".repeat(200);
        let pattern = format!("{}b", "*a".repeat(50));
        assert!(!matches(&pattern, &text));
    }
}
