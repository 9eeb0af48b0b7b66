//! Timestamps at the CLI edge: `--now` parsing and RFC 3339 rendering.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses an RFC 3339 timestamp (`2026-11-22T10:00:00Z`, `...+01:00`) to Unix seconds.
pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|e| {
            format!(
                "expected an RFC 3339 timestamp such as 2026-11-22T10:00:00Z, got {text:?} ({e})"
            )
        })
}

/// Renders Unix seconds as RFC 3339 in UTC, e.g. `2026-11-22T10:00:00Z`.
pub fn format_utc(unix_seconds: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(unix_seconds) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => format!("@{unix_seconds}"),
    }
}

/// The current time in Unix seconds.
pub fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_offsets() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(format_utc(1_795_343_405), "2026-11-22T10:30:05Z");
        assert!(parse_rfc3339("2026-11-22").is_err());
        assert!(parse_rfc3339("tomorrow").is_err());
    }
}
