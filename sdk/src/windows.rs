//! Weekly windows: days of the week, hours of the day and a fixed UTC offset,
//! with "is it open now?" and "when does it open next?".
//!
//! ```
//! use gatehouse_sdk::windows::{DailyHours, UtcOffset, WeeklyWindow, parse_weekdays};
//! use gatehouse_sdk::Timestamp;
//! let window = WeeklyWindow::new(
//!     parse_weekdays("mon-fri")?,
//!     DailyHours::parse("09:00-17:00")?,
//!     UtcOffset::parse("+01:00")?,
//! );
//! let saturday = Timestamp::parse_rfc3339("2026-11-21T12:00:00Z").expect("valid");
//! assert!(!window.is_open(saturday));
//! assert_eq!(window.to_string(), "Mon, Tue, Wed, Thu, Fri 09:00-17:00 (UTC+01:00)");
//! assert_eq!(window.next_opening(saturday).to_string(), "2026-11-23T08:00:00Z");
//! # Ok::<(), gatehouse_sdk::dates::ParseError>(())
//! ```

use std::fmt;

use crate::dates::{ParseError, messages};
use crate::time::{CivilTime, Timestamp, Weekday};

/// A fixed offset from UTC, from -14:00 to +14:00.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcOffset(i32);

impl UtcOffset {
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset(0);

    /// The offset in minutes, or `None` beyond ±14 hours.
    pub fn from_minutes(minutes: i32) -> Option<UtcOffset> {
        (minutes.abs() <= 14 * 60).then_some(UtcOffset(minutes))
    }

    /// Parses `+01:00`, `-05:30`, `+1`, `Z` or `UTC` (ignoring case).
    pub fn parse(text: &str) -> Result<UtcOffset, ParseError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") {
            return Ok(UtcOffset::UTC);
        }
        let bad = || ParseError::new(messages::bad_offset(text));
        let (sign, rest) = match text.as_bytes().first() {
            Some(b'+') => (1, &text[1..]),
            Some(b'-') => (-1, &text[1..]),
            _ => return Err(bad()),
        };
        let minutes = parse_clock(rest).map_err(|_| bad())?;
        UtcOffset::from_minutes(sign * minutes as i32).ok_or_else(bad)
    }

    /// Minutes east of UTC (negative west), as [`Timestamp::civil`] and
    /// [`Timestamp::date`] take them.
    pub fn minutes(self) -> i32 {
        self.0
    }
}

impl fmt::Display for UtcOffset {
    /// `+01:00`, `-05:30`, `+00:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
    }
}

/// Parses a list of days: `mon-fri`, `mon,wed,fri`, `sat-sun,wed`, full names
/// too; a range wraps around the week (`fri-mon`). Sorted Monday first,
/// without repeats.
pub fn parse_weekdays(text: &str) -> Result<Vec<Weekday>, ParseError> {
    let mut days = Vec::new();
    let day = |name: &str| {
        Weekday::parse(name).ok_or_else(|| ParseError::new(messages::unknown_day(name)))
    };
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from.trim())?, day(to.trim())?);
                let mut i = from.index();
                loop {
                    days.push(Weekday::ALL[i as usize]);
                    if i == to.index() {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
            None => days.push(day(part)?),
        }
    }
    if days.is_empty() {
        return Err(ParseError::new(messages::no_days()));
    }
    days.sort();
    days.dedup();
    Ok(days)
}

/// Hours of the day, in minutes after midnight; an end at or before the start
/// is on the next day (an overnight window such as `22:00-02:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DailyHours {
    start: u32,
    end: u32,
}

impl DailyHours {
    /// Parses `09:00-17:30` or `9-17`; `24:00` is allowed as an end, start and
    /// end must differ.
    pub fn parse(text: &str) -> Result<DailyHours, ParseError> {
        let text = text.trim();
        let (from, to) = text
            .split_once('-')
            .ok_or_else(|| ParseError::new(messages::bad_hours(text)))?;
        let start = parse_clock(from.trim())?;
        let end = parse_clock(to.trim())?;
        if start >= 24 * 60 {
            return Err(ParseError::new(messages::start_too_late(from.trim())));
        }
        if start == end {
            return Err(ParseError::new(messages::empty_hours(text)));
        }
        Ok(DailyHours { start, end })
    }

    /// Opening time, minutes after midnight (0 to 1439).
    pub fn start_minute(self) -> u32 {
        self.start
    }

    /// Closing time, minutes after midnight (1 to 1440); at or before the
    /// start it is on the next day.
    pub fn end_minute(self) -> u32 {
        self.end
    }

    /// True when the window closes the day after it opens.
    pub fn overnight(self) -> bool {
        self.end <= self.start
    }
}

impl fmt::Display for DailyHours {
    /// `09:00-17:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", clock(self.start), clock(self.end))
    }
}

/// `09:00` or `9` to minutes after midnight; `24:00` allowed.
fn parse_clock(text: &str) -> Result<u32, ParseError> {
    let (h, m) = text.split_once(':').unwrap_or((text, "0"));
    let bad = || ParseError::new(messages::bad_clock(text));
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m > 59 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A window that opens on some days of the week, for some hours, at a UTC offset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WeeklyWindow {
    days: Vec<Weekday>,
    hours: DailyHours,
    offset: UtcOffset,
}

impl WeeklyWindow {
    /// The window opening on `days` (on which an overnight window opens; it
    /// closes the next morning) for `hours` at `offset`.
    pub fn new(mut days: Vec<Weekday>, hours: DailyHours, offset: UtcOffset) -> WeeklyWindow {
        days.sort();
        days.dedup();
        WeeklyWindow {
            days,
            hours,
            offset,
        }
    }

    /// The days on which the window opens, Monday first.
    pub fn days(&self) -> &[Weekday] {
        &self.days
    }

    /// The hours.
    pub fn hours(&self) -> DailyHours {
        self.hours
    }

    /// The offset the days and hours are read at.
    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// The civil time of `t` at the window's offset.
    pub fn local(&self, t: Timestamp) -> CivilTime {
        t.civil(self.offset.minutes())
    }

    /// True when `now` falls inside the window.
    pub fn is_open(&self, now: Timestamp) -> bool {
        let local = self.local(now);
        let minute = local.hour * 60 + local.minute;
        let today = self.days.contains(&local.weekday);
        let (start, end) = (self.hours.start, self.hours.end);
        if !self.hours.overnight() {
            return today && minute >= start && minute < end;
        }
        let yesterday = Weekday::ALL[((local.weekday.index() + 6) % 7) as usize];
        (today && minute >= start) || (self.days.contains(&yesterday) && minute < end)
    }

    /// When the window next opens after `now` (strictly later).
    pub fn next_opening(&self, now: Timestamp) -> Timestamp {
        let local = self.local(now);
        let seconds_into_day = i64::from(local.hour * 3600 + local.minute * 60 + local.second);
        let midnight = now.plus_seconds(-seconds_into_day);
        let start = i64::from(self.hours.start) * 60;
        for day_offset in 0..=7i64 {
            let weekday =
                Weekday::ALL[((i64::from(local.weekday.index()) + day_offset) % 7) as usize];
            let opening = midnight.plus_seconds(day_offset * 86_400 + start);
            if self.days.contains(&weekday) && opening > now {
                return opening;
            }
        }
        midnight.plus_seconds(7 * 86_400 + start)
    }
}

impl fmt::Display for WeeklyWindow {
    /// `Mon, Tue 09:00-17:00 (UTC+01:00)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days: Vec<&str> = self.days.iter().map(|d| d.short_name()).collect();
        write!(f, "{} {} (UTC{})", days.join(", "), self.hours, self.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("valid timestamp")
    }

    fn window(days: &str, hours: &str, offset: &str) -> WeeklyWindow {
        WeeklyWindow::new(
            parse_weekdays(days).expect("days"),
            DailyHours::parse(hours).expect("hours"),
            UtcOffset::parse(offset).expect("offset"),
        )
    }

    #[test]
    fn offsets_parse_and_print() {
        assert_eq!(UtcOffset::parse("+01:00").map(UtcOffset::minutes), Ok(60));
        assert_eq!(UtcOffset::parse("-05:30").map(UtcOffset::minutes), Ok(-330));
        assert_eq!(UtcOffset::parse("utc"), Ok(UtcOffset::UTC));
        assert_eq!(UtcOffset::parse("Z"), Ok(UtcOffset::UTC));
        assert_eq!(
            UtcOffset::parse("+14:00").map(|o| o.to_string()),
            Ok("+14:00".into())
        );
        assert_eq!(
            UtcOffset::parse("-05:30").map(|o| o.to_string()),
            Ok("-05:30".into())
        );
        for bad in ["CET", "+15:00", "01:00", "+1:60", ""] {
            assert_eq!(
                UtcOffset::parse(bad).map_err(|e| e.to_string()),
                Err(messages::bad_offset(bad)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn day_lists_wrap_and_explain_errors() {
        assert_eq!(
            parse_weekdays("fri-mon"),
            Ok(vec![Weekday::Mon, Weekday::Fri, Weekday::Sat, Weekday::Sun])
        );
        assert_eq!(
            parse_weekdays("wed, Monday,wed"),
            Ok(vec![Weekday::Mon, Weekday::Wed])
        );
        assert_eq!(
            parse_weekdays("funday").map_err(|e| e.to_string()),
            Err(r#"unknown day "funday"; use mon, tue, wed, thu, fri, sat, sun"#.into())
        );
        assert_eq!(
            parse_weekdays(" , ").map_err(|e| e.to_string()),
            Err("no days given; e.g. mon-fri".into())
        );
    }

    #[test]
    fn hours_parse_and_explain_errors() {
        let h = DailyHours::parse("9-17:30").expect("valid");
        assert_eq!(
            (h.start_minute(), h.end_minute(), h.overnight()),
            (540, 1050, false)
        );
        assert_eq!(h.to_string(), "09:00-17:30");
        assert!(DailyHours::parse("22:00-02:00").expect("valid").overnight());
        assert_eq!(
            DailyHours::parse("00:00-24:00").map(|h| h.end_minute()),
            Ok(1440)
        );
        for (bad, message) in [
            ("9", messages::bad_hours("9")),
            ("9:00-9:00", messages::empty_hours("9:00-9:00")),
            ("25:00-26:00", messages::bad_clock("25:00")),
            ("24:00-02:00", messages::start_too_late("24:00")),
            ("9:60-10", messages::bad_clock("9:60")),
        ] {
            assert_eq!(
                DailyHours::parse(bad).map_err(|e| e.to_string()),
                Err(message)
            );
        }
    }

    #[test]
    fn windows_open_close_and_wrap_overnight() {
        let office = window("mon-thu", "09:00-17:00", "Z");
        assert!(office.is_open(at("2026-11-23T09:00:00Z"))); // Monday
        assert!(!office.is_open(at("2026-11-23T17:00:00Z")));
        assert!(!office.is_open(at("2026-11-27T10:00:00Z"))); // Friday
        assert_eq!(
            office.next_opening(at("2026-11-27T10:00:00Z")),
            at("2026-11-30T09:00:00Z")
        );
        assert_eq!(
            office.next_opening(at("2026-11-23T06:00:00Z")),
            at("2026-11-23T09:00:00Z")
        );

        let night = window("fri-mon", "22:00-02:00", "+01:00");
        assert_eq!(
            night.to_string(),
            "Mon, Fri, Sat, Sun 22:00-02:00 (UTC+01:00)"
        );
        assert!(night.is_open(at("2026-11-22T23:30:00Z"))); // Monday 00:30 local
        assert!(night.is_open(at("2026-11-24T00:00:00Z"))); // Tuesday 01:00 local
        assert!(!night.is_open(at("2026-11-25T00:00:00Z"))); // Wednesday 01:00 local
        assert_eq!(
            night.next_opening(at("2026-11-25T00:00:00Z")),
            at("2026-11-27T21:00:00Z")
        );
    }
}
