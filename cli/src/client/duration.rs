//! `--wait-timeout` and `--poll-interval`: `30s`, `10m`, `2h`, `1d`.

use std::time::Duration;

/// The longest `--wait-timeout`: an approval request expires before that.
pub const MAX_WAIT: Duration = Duration::from_secs(30 * 86_400);

/// Parses a number of seconds, minutes, hours or days (`30s`, `10m`, `2h`,
/// `1d`) for `flag`, between `min` and [`MAX_WAIT`].
pub fn parse(flag: &str, text: &str, min: Duration) -> Result<Duration, String> {
    let bad = || {
        format!(
            "{flag} {:?}: expected a number of seconds, minutes, hours or days such as 30s, 10m, 2h or 1d",
            gatehouse_core::untrusted::line(text)
        )
    };
    let unit_at = text.len().checked_sub(1).ok_or_else(bad)?;
    if !text.is_char_boundary(unit_at) {
        return Err(bad());
    }
    let (number, unit) = text.split_at(unit_at);
    let per: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = number.parse().map_err(|_| bad())?;
    let duration = Duration::from_secs(n.saturating_mul(per));
    if duration < min {
        return Err(format!(
            "{flag} {text}: must be at least {}s",
            min.as_secs()
        ));
    }
    if duration > MAX_WAIT {
        return Err(format!("{flag} {text}: must be at most 30d"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_their_bounds() {
        let one = Duration::from_secs(1);
        assert_eq!(parse("--w", "30s", one), Ok(Duration::from_secs(30)));
        assert_eq!(parse("--w", "2h", one), Ok(Duration::from_secs(7_200)));
        assert_eq!(parse("--w", "1d", one), Ok(Duration::from_secs(86_400)));
        assert!(
            parse("--w", "0s", one)
                .expect_err("0")
                .contains("at least 1s")
        );
        assert!(
            parse("--w", "31d", one)
                .expect_err("31d")
                .contains("at most 30d")
        );
        for bad in ["", "s", "2", "1.5h", "-1s", "1w", "2 h", "1é"] {
            assert!(
                parse("--w", bad, one)
                    .expect_err(bad)
                    .contains("expected a number"),
                "{bad}"
            );
        }
    }
}
