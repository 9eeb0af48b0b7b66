//! Durations written as settings: `90s`, `15m`, `2h`, `1d`, `1h30m`.
//!
//! The grammar is deliberately small, and the Python and JavaScript SDKs
//! implement it alike: one or more `<digits><unit>` parts, units `d` (86,400
//! seconds), `h`, `m` and `s`, each unit at most once and the largest first,
//! with no spaces, signs or fractions. Leading zeros are allowed in a part
//! (`05m`). The total may be at most 36,500 days.
//!
//! ```
//! use gatehouse_sdk::durations::parse_duration;
//! use std::time::Duration;
//! assert_eq!(parse_duration("1h30m")?, Duration::from_secs(5_400));
//! assert_eq!(parse_duration("0s")?, Duration::ZERO);
//! assert_eq!(
//!     parse_duration("1.5h").unwrap_err().to_string(),
//!     "expected a duration such as 90s, 15m, 2h, 1d or 1h30m (units d, h, m, s, largest first, each once), got \"1.5h\""
//! );
//! # Ok::<(), gatehouse_sdk::durations::ParseError>(())
//! ```
//!
//! Every message a user can see is built in [`messages`]; settings getters
//! prefix them with `setting 'KEY': `.

use std::time::Duration;

pub use crate::dates::ParseError;

/// The longest duration accepted: 36,500 days, in seconds (exact in a
/// JavaScript Number, so all three SDKs agree on every value).
pub const MAX_SECONDS: u64 = 36_500 * 86_400;

/// The user-facing messages of durations. The other languages' SDKs copy
/// these texts exactly; `{got:?}` is Rust's debug quoting.
pub mod messages {
    /// Text that is not a duration.
    pub fn bad_duration(got: &str) -> String {
        format!(
            "expected a duration such as 90s, 15m, 2h, 1d or 1h30m (units d, h, m, s, largest first, each once), got {got:?}"
        )
    }

    /// A duration of the right shape above [`super::MAX_SECONDS`].
    pub fn too_long(got: &str) -> String {
        format!("the duration {got:?} is longer than 36500 days")
    }
}

/// The units, largest first, with their length in seconds.
const UNITS: [(u8, u64); 4] = [(b'd', 86_400), (b'h', 3_600), (b'm', 60), (b's', 1)];

/// Parses a duration such as `90s`, `15m`, `2h`, `1d` or `1h30m` (see the
/// [module](self) for the grammar). The text is not trimmed: `" 1h"` is an
/// error like any other stray character.
pub fn parse_duration(text: &str) -> Result<Duration, ParseError> {
    let parts = split_parts(text).ok_or_else(|| ParseError::new(messages::bad_duration(text)))?;
    let too_long = || ParseError::new(messages::too_long(text));
    let mut total: u64 = 0;
    for (digits, unit_seconds) in parts {
        let mut value: u64 = 0;
        for digit in digits.bytes() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(digit - b'0')))
                .ok_or_else(too_long)?;
        }
        total = value
            .checked_mul(unit_seconds)
            .and_then(|seconds| total.checked_add(seconds))
            .ok_or_else(too_long)?;
    }
    if total > MAX_SECONDS {
        return Err(too_long());
    }
    Ok(Duration::from_secs(total))
}

/// The `(digits, unit seconds)` parts of `text`, or `None` when it does not
/// have the shape of a duration.
fn split_parts(text: &str) -> Option<Vec<(&str, u64)>> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    // Units still allowed: those after the last one used.
    let mut next_unit = 0;
    let mut start = 0;
    while start < bytes.len() {
        let digits = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        let unit = *bytes.get(start + digits)?;
        let position = UNITS[next_unit..].iter().position(|(u, _)| *u == unit)?;
        let (_, unit_seconds) = UNITS[next_unit + position];
        // ASCII digits only, so the slice is on character boundaries.
        parts.push((text.get(start..start + digits)?, unit_seconds));
        next_unit += position + 1;
        start += digits + 1;
    }
    (!parts.is_empty()).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> Result<u64, String> {
        parse_duration(text)
            .map(|d| d.as_secs())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_form_parses() {
        for (text, seconds) in [
            ("90s", 90),
            ("15m", 900),
            ("2h", 7_200),
            ("1d", 86_400),
            ("1h30m", 5_400),
            ("1d12h", 129_600),
            ("1d2h3m4s", 93_784),
            ("0s", 0),
            ("05m", 300),
            ("36500d", MAX_SECONDS),
            ("36499d23h59m60s", MAX_SECONDS),
        ] {
            assert_eq!(secs(text), Ok(seconds), "{text:?}");
        }
    }

    #[test]
    fn bad_shapes_say_what_is_expected() {
        for text in [
            "", "h", "1x", "1.5h", "-1h", "+1h", "1m1h", "1h1h", " 1h", "1h ", "1 h", "1H", "1",
            "h1", "1hh", "１h", "1d2",
        ] {
            assert_eq!(secs(text), Err(messages::bad_duration(text)), "{text:?}");
        }
        assert_eq!(
            messages::bad_duration("1x"),
            "expected a duration such as 90s, 15m, 2h, 1d or 1h30m (units d, h, m, s, largest first, each once), got \"1x\""
        );
    }

    #[test]
    fn long_durations_are_refused_without_overflow() {
        let thirty_digits = format!("{}s", "9".repeat(30));
        for text in [
            "36500d1s",
            "36501d",
            "3153600001s",
            thirty_digits.as_str(),
            "213503982334601d",
            "18446744073709551615d",
            "18446744073709551616s",
        ] {
            assert_eq!(secs(text), Err(messages::too_long(text)), "{text:?}");
        }
        assert_eq!(
            messages::too_long("36501d"),
            "the duration \"36501d\" is longer than 36500 days"
        );
    }

    #[test]
    fn shape_is_checked_before_length() {
        let text = format!("{}h1h", "9".repeat(30));
        assert_eq!(secs(&text), Err(messages::bad_duration(&text)));
    }
}
