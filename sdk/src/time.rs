//! Evaluation time as a plain UTC timestamp with the calendar questions gate
//! logic asks (weekday, hour, date), without a time-zone database in the guest.

use std::fmt;

/// Day of the week, Monday first (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// Every day, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// 0 for Monday up to 6 for Sunday.
    pub fn index(self) -> u32 {
        self as u32
    }

    /// The three-letter English name, e.g. `Mon`.
    pub fn short_name(self) -> &'static str {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self as usize]
    }

    /// Parses `mon`, `Monday`, `TUE`, ... (the first three letters decide).
    pub fn parse(text: &str) -> Option<Weekday> {
        let text = text.trim();
        let prefix = text.get(..3)?;
        Weekday::ALL
            .into_iter()
            .find(|d| d.short_name().eq_ignore_ascii_case(prefix))
            .filter(|d| {
                let full = [
                    "monday",
                    "tuesday",
                    "wednesday",
                    "thursday",
                    "friday",
                    "saturday",
                    "sunday",
                ][d.index() as usize];
                full.starts_with(&text.to_ascii_lowercase())
            })
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

/// Seconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// A calendar date and time of day at some offset from UTC, as
/// [`Timestamp::civil`] computes it (no time-zone database, no daylight saving:
/// the offset is fixed by the caller). [`CivilTime::date`] gives the day alone.
///
/// ```
/// use gatehouse_sdk::{Timestamp, Weekday};
/// let t = Timestamp::parse_rfc3339("2026-11-22T23:30:05Z").expect("valid");
/// let c = t.civil(60); // +01:00
/// assert_eq!((c.year, c.month, c.day, c.hour, c.minute, c.second), (2026, 11, 23, 0, 30, 5));
/// assert_eq!(c.weekday, Weekday::Mon);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilTime {
    /// Year, e.g. 2026.
    pub year: i64,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of the month, 1 to 31.
    pub day: u32,
    /// Hour, 0 to 23.
    pub hour: u32,
    /// Minute, 0 to 59.
    pub minute: u32,
    /// Second, 0 to 59.
    pub second: u32,
    /// Day of the week.
    pub weekday: Weekday,
}

impl Timestamp {
    /// The calendar time at a fixed offset from UTC, in minutes (e.g. +60 for CET).
    pub fn civil(self, offset_minutes: i32) -> CivilTime {
        let local = self.0 + i64::from(offset_minutes) * 60;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        // 1970-01-01 was a Thursday (index 3).
        let weekday = Weekday::ALL[(days + 3).rem_euclid(7) as usize];
        CivilTime {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            weekday,
        }
    }

    /// Parses RFC 3339 (`2026-11-20T10:00:00Z`, `2026-11-20T11:00:00.5+01:00`);
    /// fractional seconds are dropped. The host passes approval times in this form.
    ///
    /// ```
    /// use gatehouse_sdk::Timestamp;
    /// assert_eq!(Timestamp::parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(Timestamp(0)));
    /// assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    /// ```
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let b = text.trim().as_bytes();
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let digits = b.get(range)?;
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(digits).ok()?.parse().ok()
        };
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month as u32) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = &b[19..];
        if rest.first() == Some(&b'.') {
            let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            rest = &rest[1 + digits..];
        }
        let offset = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digits = [*h1, *h2, *m1, *m2];
                if !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let h = i64::from((h1 - b'0') * 10 + (h2 - b'0'));
                let m = i64::from((m1 - b'0') * 10 + (m2 - b'0'));
                if h > 23 || m > 59 {
                    return None;
                }
                let total = h * 3600 + m * 60;
                if *sign == b'-' { -total } else { total }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month as u32, day as u32);
        Some(Timestamp(
            days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset,
        ))
    }

    /// The timestamp `seconds` later.
    pub fn plus_seconds(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, e.g. `2026-11-22T10:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil(0);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }
}

/// Days in a month of the proleptic Gregorian calendar.
pub(crate) fn days_in_month(year: i64, month: u32) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Converts a civil date to days since 1970-01-01 (inverse of [`civil_from_days`]).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Converts days since 1970-01-01 to (year, month, day) in the proleptic
/// Gregorian calendar (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        // 2026-11-22T10:30:05Z is a Sunday.
        let t = Timestamp(1_795_343_405);
        assert_eq!(t.to_string(), "2026-11-22T10:30:05Z");
        let c = Timestamp(1_795_343_405).civil(0);
        assert_eq!((c.year, c.month, c.day), (2026, 11, 22));
        assert_eq!(c.weekday, Weekday::Sun);
        assert_eq!(Timestamp(951_782_400).to_string(), "2000-02-29T00:00:00Z");
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn offsets_move_the_civil_time() {
        // Sunday 23:30 UTC is Monday 00:30 at +01:00.
        let t = Timestamp(1_795_390_200);
        assert_eq!(t.civil(0).weekday, Weekday::Sun);
        let c = t.civil(60);
        assert_eq!((c.weekday, c.hour, c.minute), (Weekday::Mon, 0, 30));
    }

    #[test]
    fn rfc3339_parsing_round_trips() {
        for t in [0, 951_782_400, 1_795_343_405, -86_401] {
            let text = Timestamp(t).to_string();
            assert_eq!(
                Timestamp::parse_rfc3339(&text),
                Some(Timestamp(t)),
                "{text}"
            );
        }
        assert_eq!(
            Timestamp::parse_rfc3339("2026-11-22T11:30:05.123+01:00"),
            Some(Timestamp(1_795_343_405))
        );
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-11-22T10:30:05",
            "2026-11-22T25:00:00Z",
            "x",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn weekday_names() {
        assert_eq!(Weekday::parse("mon"), Some(Weekday::Mon));
        assert_eq!(Weekday::parse("Tuesday"), Some(Weekday::Tue));
        assert_eq!(Weekday::parse("Thurs"), Some(Weekday::Thu));
        assert_eq!(Weekday::parse("Moon"), None);
        assert_eq!(Weekday::parse("mo"), None);
    }
}
