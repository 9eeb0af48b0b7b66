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
    fn pathological_pattern_is_fast_enough_to_finish() {
        let text = "a".repeat(200);
        let pattern = format!("{}b", "*a".repeat(50));
        assert!(!matches(&pattern, &text));
    }
}
