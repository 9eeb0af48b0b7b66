//! OpenSSH pattern lists (ssh_config(5) "PATTERNS"), as allowed_signers
//! uses them for principals and `namespaces=`: comma-separated patterns
//! where `*` matches any run of bytes (even none), `?` exactly one byte, and
//! a leading `!` negates. A list matches when some positive pattern matches
//! and no negated one does; a negated match wins over everything. The same
//! results as OpenSSH's `match_pattern_list` (case-sensitive), computed
//! without its exponential backtracking.

/// The longest single pattern OpenSSH accepts in a list (its 1024-byte
/// buffer less the terminator); a longer one makes the whole list fail to
/// match, as in OpenSSH.
const MAX_PATTERN_BYTES: usize = 1022;

/// How a string fares against a pattern list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMatch {
    /// A positive pattern matched and no negated one did.
    Matched,
    /// Nothing matched (or only patterns that do not apply).
    NoMatch,
    /// A negated pattern (`!pattern`) matched: excluded explicitly.
    Negated,
}

/// Matches `text` against a comma-separated pattern list, as OpenSSH's
/// `match_pattern_list(text, list, 0)`.
pub fn match_list(text: &str, list: &str) -> ListMatch {
    let mut positive = false;
    for item in list.split(',') {
        let (negated, pattern) = match item.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, item),
        };
        if pattern.len() > MAX_PATTERN_BYTES {
            return ListMatch::NoMatch;
        }
        if matches(text.as_bytes(), pattern.as_bytes()) {
            if negated {
                return ListMatch::Negated;
            }
            positive = true;
        }
    }
    if list.is_empty() || !positive {
        ListMatch::NoMatch
    } else {
        ListMatch::Matched
    }
}

/// Whether `pattern` (`*`, `?`, literal bytes) matches all of `text`:
/// iterative matching that backtracks only to the last `*`, so the cost is
/// at most the product of the lengths.
pub fn matches(text: &[u8], pattern: &[u8]) -> bool {
    let (mut t, mut p) = (0usize, 0usize);
    // Where the last `*` was in the pattern, and where in the text its
    // match would resume if what follows it fails.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                t += 1;
                p += 1;
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
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenSSH's recursive `match_pattern`, transcribed, as the reference.
    fn reference(s: &[u8], p: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') => {
                let rest = &p[1..];
                (0..=s.len()).any(|i| reference(&s[i..], rest))
            }
            Some(&c) => !s.is_empty() && (c == b'?' || c == s[0]) && reference(&s[1..], &p[1..]),
        }
    }

    #[test]
    fn single_patterns_match_as_openssh() {
        let cases: &[(&str, &str, bool)] = &[
            ("alice@example.com", "alice@example.com", true),
            ("alice@example.com", "*@example.com", true),
            ("alice@example.com", "*", true),
            ("", "*", true),
            ("", "", true),
            ("a", "", false),
            ("alice@example.com", "alic?@example.com", true),
            ("alice@example.com", "alice@example.co", false),
            ("alice@example.com", "Alice@example.com", false),
            ("alice@example.com", "a*e*e*m", true),
            ("alice@example.org", "*@example.com", false),
            ("ab", "a?b", false),
            ("aXbYc", "a*b*c", true),
            ("abc", "**?**", true),
        ];
        for (text, pattern, expected) in cases {
            assert_eq!(
                matches(text.as_bytes(), pattern.as_bytes()),
                *expected,
                "{text} ~ {pattern}"
            );
            assert_eq!(
                reference(text.as_bytes(), pattern.as_bytes()),
                *expected,
                "reference {text} ~ {pattern}"
            );
        }
    }

    #[test]
    fn agrees_with_the_reference_on_every_small_case() {
        let alphabet = [b'a', b'b', b'*', b'?'];
        let strings: Vec<Vec<u8>> = (0..=4usize)
            .flat_map(|len| {
                (0..2usize.pow(len as u32)).map(move |n| {
                    (0..len)
                        .map(|i| if n >> i & 1 == 1 { b'a' } else { b'b' })
                        .collect()
                })
            })
            .collect();
        for len in 0..=4usize {
            for n in 0..4usize.pow(len as u32) {
                let pattern: Vec<u8> = (0..len)
                    .map(|i| alphabet[n / 4usize.pow(i as u32) % 4])
                    .collect();
                for s in &strings {
                    assert_eq!(
                        matches(s, &pattern),
                        reference(s, &pattern),
                        "{s:?} ~ {pattern:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn lists_negate_and_need_a_positive_match() {
        assert_eq!(
            match_list("alice@example.com", "bob@example.com,alice@example.com"),
            ListMatch::Matched
        );
        assert_eq!(
            match_list("mallory@example.com", "*@example.com,!mallory@example.com"),
            ListMatch::Negated
        );
        assert_eq!(
            match_list("mallory@example.com", "!mallory@example.com,*@example.com"),
            ListMatch::Negated
        );
        assert_eq!(
            match_list("alice@example.com", "*@example.com,!mallory@example.com"),
            ListMatch::Matched
        );
        assert_eq!(
            match_list("alice@example.com", "!mallory@example.com"),
            ListMatch::NoMatch,
            "negations alone admit nobody"
        );
        assert_eq!(match_list("alice", ""), ListMatch::NoMatch);
        assert_eq!(
            match_list("", "a,,b"),
            ListMatch::Matched,
            "an empty pattern matches only the empty string"
        );
        assert_eq!(
            match_list("gatehouse-approval", "git,gatehouse-*"),
            ListMatch::Matched
        );
        assert_eq!(
            match_list("gatehouse-approval", "git,file"),
            ListMatch::NoMatch
        );
    }

    #[test]
    fn an_overlong_pattern_fails_the_whole_list() {
        let long = "a".repeat(MAX_PATTERN_BYTES + 1);
        assert_eq!(
            match_list("alice", &format!("alice,{long}")),
            ListMatch::NoMatch
        );
        let longest = "*".repeat(MAX_PATTERN_BYTES);
        assert_eq!(match_list("alice", &longest), ListMatch::Matched);
    }

    #[test]
    fn hostile_patterns_stay_cheap() {
        let text = "a".repeat(256);
        let pattern = format!("{}b", "*a".repeat(500));
        let started = std::time::Instant::now();
        assert!(!matches(text.as_bytes(), pattern.as_bytes()));
        // The recursive algorithm would take longer than the universe; the
        // bound here is generous for a loaded machine.
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}
