//! Calendar dates and inclusive date ranges, for freeze windows and other
//! rules written in days.
//!
//! **Time-zone rule.** A [`Date`] is a calendar day with no time zone. Which
//! day an instant falls on depends on the offset you ask with:
//! [`Timestamp::date`] takes an offset from UTC in minutes, and `0` (UTC) is
//! the convention. A policy that wants local days reads an offset setting
//! (`Settings::get_utc_offset`, e.g. `utc-offset = "+01:00"`) and passes it;
//! without one, days are UTC days. A [`DateRange`] includes both its first
//! and its last day, whole: `2026-12-20..2027-01-03` covers every instant from
//! 2026-12-20 00:00 to 2027-01-03 24:00 at the chosen offset.
//!
//! ```
//! use gatehouse_sdk::dates::{Date, DateRange};
//! use gatehouse_sdk::Timestamp;
//! let freeze = DateRange::parse("2026-12-20..2027-01-03")?;
//! let now = Timestamp::parse_rfc3339("2027-01-03T23:30:00Z").expect("valid");
//! assert!(freeze.contains(now.date(0)));
//! assert!(!freeze.contains(now.date(60)), "already 2027-01-04 at +01:00");
//! assert_eq!(Date::parse("2028-02-29")?.weekday(), gatehouse_sdk::Weekday::Tue);
//! # Ok::<(), gatehouse_sdk::dates::ParseError>(())
//! ```
//!
//! Every message a user can see is built in [`messages`], so the Python and
//! JavaScript SDKs can copy them word for word; settings getters prefix them
//! with `setting 'KEY': `.

use std::fmt;

use crate::time::{CivilTime, Timestamp, Weekday, civil_from_days, days_from_civil, days_in_month};

/// Text that could not be parsed as a date, range, offset, day list or hours;
/// its message says what was expected and what was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(String);

impl ParseError {
    /// An error with this exact message.
    pub fn new(message: impl Into<String>) -> Self {
        ParseError(message.into())
    }

    /// The message, e.g. `expected a date YYYY-MM-DD such as 2026-12-24, got "soon"`.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// The user-facing messages of dates, ranges and windows, in one place.
///
/// The other languages' SDKs copy these texts exactly; the unit tests below
/// pin every one. `{got:?}` is Rust's debug quoting: the text in double
/// quotes, with `"` and `\` escaped.
pub mod messages {
    /// A date of the wrong shape.
    pub fn bad_date(got: &str) -> String {
        format!("expected a date YYYY-MM-DD such as 2026-12-24, got {got:?}")
    }

    /// A date of the right shape that is not in the calendar; `why` is
    /// [`no_such_month`] or [`no_such_day`].
    pub fn impossible_date(got: &str, why: &str) -> String {
        format!("{} ({why})", bad_date(got))
    }

    /// Why month `month` does not exist.
    pub fn no_such_month(month: u32) -> String {
        format!("there is no month {month}")
    }

    /// Why day `day` of a month does not exist.
    pub fn no_such_day(year: i64, month: u32, day: u32, days_in_month: i64) -> String {
        if day == 0 {
            return "there is no day 0".to_string();
        }
        format!(
            "{} {year:04} has {days_in_month} days",
            super::MONTH_NAMES[(month - 1) as usize]
        )
    }

    /// A date range of the wrong shape.
    pub fn bad_range(got: &str) -> String {
        format!("expected a date range START..END such as 2026-12-20..2027-01-03, got {got:?}")
    }

    /// One end of a range is not a date.
    pub fn bad_range_end(range: &str, date_message: &str) -> String {
        format!("in the range {range:?}: {date_message}")
    }

    /// A range whose last day comes before its first.
    pub fn backwards_range(range: &str) -> String {
        format!("the range {range:?} ends before it starts; write the earlier date first")
    }

    /// A UTC offset of the wrong shape or out of range.
    pub fn bad_offset(got: &str) -> String {
        format!("expected an offset such as +01:00 or -05:30, got {got:?}")
    }

    /// A day name that is not a weekday.
    pub fn unknown_day(got: &str) -> String {
        format!("unknown day {got:?}; use mon, tue, wed, thu, fri, sat, sun")
    }

    /// A day list with no days.
    pub fn no_days() -> String {
        "no days given; e.g. mon-fri".to_string()
    }

    /// Hours of the wrong shape.
    pub fn bad_hours(got: &str) -> String {
        format!("expected START-END such as 09:00-17:00, got {got:?}")
    }

    /// A clock time of the wrong shape.
    pub fn bad_clock(got: &str) -> String {
        format!("expected a time such as 09:00, got {got:?}")
    }

    /// Hours that start at 24:00.
    pub fn start_too_late(start: &str) -> String {
        format!("the start {start:?} must be before 24:00")
    }

    /// Hours that start and end at the same time.
    pub fn empty_hours(got: &str) -> String {
        format!("the window {got:?} is empty; start and end are equal")
    }
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A day of the proleptic Gregorian calendar, without a time zone.
///
/// Ordered by time; printed and parsed as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i64,
    month: u32,
    day: u32,
}

impl Date {
    /// The date, or `None` when it is not in the calendar (`2026-02-29`, month 13, day 0).
    pub fn new(year: i64, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || i64::from(day) > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD` (four-digit year, two-digit month and day),
    /// ignoring surrounding white space.
    ///
    /// ```
    /// use gatehouse_sdk::dates::Date;
    /// assert_eq!(Date::parse("2024-02-29")?.to_string(), "2024-02-29");
    /// assert_eq!(
    ///     Date::parse("2026-02-29").unwrap_err().to_string(),
    ///     "expected a date YYYY-MM-DD such as 2026-12-24, got \"2026-02-29\" (February 2026 has 28 days)"
    /// );
    /// # Ok::<(), gatehouse_sdk::dates::ParseError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Date, ParseError> {
        let text = text.trim();
        let b = text.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(ParseError::new(messages::bad_date(text)));
        }
        let number = |from: usize, to: usize| {
            b[from..to]
                .iter()
                .fold(0u32, |n, c| n * 10 + u32::from(c - b'0'))
        };
        let (year, month, day) = (i64::from(number(0, 4)), number(5, 7), number(8, 10));
        if !(1..=12).contains(&month) {
            let why = messages::no_such_month(month);
            return Err(ParseError::new(messages::impossible_date(text, &why)));
        }
        Date::new(year, month, day).ok_or_else(|| {
            let why = messages::no_such_day(year, month, day, days_in_month(year, month));
            ParseError::new(messages::impossible_date(text, &why))
        })
    }

    /// The year, e.g. 2026.
    pub fn year(self) -> i64 {
        self.year
    }

    /// The month, 1 (January) to 12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The day of the month, 1 to 31.
    pub fn day(self) -> u32 {
        self.day
    }

    /// The day of the week.
    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday (index 3).
        Weekday::ALL[(self.days_since_epoch() + 3).rem_euclid(7) as usize]
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn days_since_epoch(self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    /// The date `days_since_epoch` days after 1970-01-01.
    pub fn from_days_since_epoch(days_since_epoch: i64) -> Date {
        let (year, month, day) = civil_from_days(days_since_epoch);
        Date { year, month, day }
    }

    /// The date `days` days later (earlier when negative).
    pub fn plus_days(self, days: i64) -> Date {
        Date::from_days_since_epoch(self.days_since_epoch().saturating_add(days))
    }

    /// Days from `self` to `other`: 1 from a day to the next, negative backwards.
    pub fn days_until(self, other: Date) -> i64 {
        other.days_since_epoch() - self.days_since_epoch()
    }

    /// The first instant of this day at `offset_minutes` from UTC.
    pub fn start(self, offset_minutes: i32) -> Timestamp {
        Timestamp(self.days_since_epoch() * 86_400 - i64::from(offset_minutes) * 60)
    }
}

impl fmt::Display for Date {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::str::FromStr for Date {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Date, ParseError> {
        Date::parse(text)
    }
}

impl CivilTime {
    /// The calendar day of this civil time.
    pub fn date(&self) -> Date {
        Date {
            year: self.year,
            month: self.month,
            day: self.day,
        }
    }
}

impl Timestamp {
    /// The calendar day this instant falls on at `offset_minutes` from UTC
    /// (`0` for UTC days; see the module's time-zone rule).
    pub fn date(self, offset_minutes: i32) -> Date {
        self.civil(offset_minutes).date()
    }
}

/// Consecutive days, both ends included: `2026-12-20..2027-01-03` is 15 days.
/// A range is never empty: its last day is never before its first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateRange {
    first: Date,
    last: Date,
}

impl DateRange {
    /// The days from `first` to `last`, or `None` when `last` is before `first`.
    pub fn new(first: Date, last: Date) -> Option<DateRange> {
        (first <= last).then_some(DateRange { first, last })
    }

    /// Parses `START..END` (`2026-12-20..2027-01-03`), both dates `YYYY-MM-DD`,
    /// white space around either allowed. One day is `2026-12-25..2026-12-25`.
    ///
    /// ```
    /// use gatehouse_sdk::dates::DateRange;
    /// let r = DateRange::parse(" 2026-12-20 .. 2027-01-03 ")?;
    /// assert_eq!((r.to_string(), r.days()), ("2026-12-20..2027-01-03".to_string(), 15));
    /// assert_eq!(
    ///     DateRange::parse("2027-01-03..2026-12-20").unwrap_err().to_string(),
    ///     "the range \"2027-01-03..2026-12-20\" ends before it starts; write the earlier date first"
    /// );
    /// # Ok::<(), gatehouse_sdk::dates::ParseError>(())
    /// ```
    pub fn parse(text: &str) -> Result<DateRange, ParseError> {
        let text = text.trim();
        let Some((first, last)) = text.split_once("..") else {
            return Err(ParseError::new(messages::bad_range(text)));
        };
        let (first, last) = (first.trim(), last.trim());
        if first.is_empty() || last.is_empty() {
            return Err(ParseError::new(messages::bad_range(text)));
        }
        let date = |side: &str| {
            Date::parse(side)
                .map_err(|e| ParseError::new(messages::bad_range_end(text, e.message())))
        };
        let (first, last) = (date(first)?, date(last)?);
        DateRange::new(first, last).ok_or_else(|| ParseError::new(messages::backwards_range(text)))
    }

    /// Parses a comma-separated list of ranges; empty items are skipped, so an
    /// empty text is an empty list.
    pub fn parse_list(text: &str) -> Result<Vec<DateRange>, ParseError> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(DateRange::parse)
            .collect()
    }

    /// The first day.
    pub fn first(self) -> Date {
        self.first
    }

    /// The last day (included).
    pub fn last(self) -> Date {
        self.last
    }

    /// How many days the range covers, at least 1.
    pub fn days(self) -> i64 {
        self.first.days_until(self.last) + 1
    }

    /// True when `date` is one of the range's days.
    pub fn contains(self, date: Date) -> bool {
        self.first <= date && date <= self.last
    }

    /// The first of `ranges` that contains `date`: the freeze rule of
    /// docs/writing-policies.md ("Dates and time zones"), which this example
    /// keeps compiling.
    ///
    /// ```
    /// use gatehouse_sdk::dates::DateRange;
    /// use gatehouse_sdk::{Decision, Settings, SettingsError, Timestamp, UtcOffset};
    ///
    /// pub struct Config {
    ///     freezes: Vec<DateRange>,
    ///     offset: UtcOffset,
    /// }
    ///
    /// fn parse(settings: &Settings) -> Result<Config, SettingsError> {
    ///     Ok(Config {
    ///         freezes: settings.get_date_ranges("freeze-windows")?.unwrap_or_default(),
    ///         offset: settings.get_utc_offset("utc-offset")?.unwrap_or(UtcOffset::UTC),
    ///     })
    /// }
    ///
    /// fn decide(config: &Config, now: Timestamp) -> Decision {
    ///     let today = now.date(config.offset.minutes());
    ///     match DateRange::find(&config.freezes, today) {
    ///         Some(freeze) => Decision::fail(format!("{today} is inside the change freeze {freeze}")),
    ///         None => Decision::approve(format!("{today} is outside every change freeze")),
    ///     }
    /// }
    ///
    /// let settings = Settings::from_pairs([("freeze-windows", "2026-12-20..2027-01-03")]);
    /// let config = parse(&settings)?;
    /// let christmas = Timestamp::parse_rfc3339("2026-12-25T09:00:00Z").expect("valid");
    /// assert_eq!(
    ///     decide(&config, christmas).reasons()[0].message,
    ///     "2026-12-25 is inside the change freeze 2026-12-20..2027-01-03"
    /// );
    /// # Ok::<(), SettingsError>(())
    /// ```
    pub fn find(ranges: &[DateRange], date: Date) -> Option<DateRange> {
        ranges.iter().copied().find(|r| r.contains(date))
    }
}

impl fmt::Display for DateRange {
    /// `START..END`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.first, self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        Date::parse(text).expect("valid date")
    }

    fn err(result: Result<impl fmt::Debug, ParseError>) -> String {
        match result {
            Ok(value) => panic!("expected an error, got {value:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn every_message_is_pinned() {
        // The Python and JavaScript SDKs copy these texts; change them together.
        assert_eq!(
            err(Date::parse("soon")),
            r#"expected a date YYYY-MM-DD such as 2026-12-24, got "soon""#
        );
        assert_eq!(
            err(Date::parse("2026-1-5")),
            r#"expected a date YYYY-MM-DD such as 2026-12-24, got "2026-1-5""#
        );
        assert_eq!(
            err(Date::parse("2026-13-01")),
            r#"expected a date YYYY-MM-DD such as 2026-12-24, got "2026-13-01" (there is no month 13)"#
        );
        assert_eq!(
            err(Date::parse("2026-00-01")),
            r#"expected a date YYYY-MM-DD such as 2026-12-24, got "2026-00-01" (there is no month 0)"#
        );
        assert_eq!(
            err(Date::parse("2026-02-29")),
            r#"expected a date YYYY-MM-DD such as 2026-12-24, got "2026-02-29" (February 2026 has 28 days)"#
        );
        assert_eq!(
            err(Date::parse("2026-04-31")),
            r#"expected a date YYYY-MM-DD such as 2026-12-24, got "2026-04-31" (April 2026 has 30 days)"#
        );
        assert_eq!(
            err(Date::parse("2026-04-00")),
            r#"expected a date YYYY-MM-DD such as 2026-12-24, got "2026-04-00" (there is no day 0)"#
        );
        assert_eq!(
            err(DateRange::parse("2026-12-20")),
            r#"expected a date range START..END such as 2026-12-20..2027-01-03, got "2026-12-20""#
        );
        assert_eq!(
            err(DateRange::parse("2026-12-20..")),
            r#"expected a date range START..END such as 2026-12-20..2027-01-03, got "2026-12-20..""#
        );
        assert_eq!(
            err(DateRange::parse("..")),
            r#"expected a date range START..END such as 2026-12-20..2027-01-03, got "..""#
        );
        assert_eq!(
            err(DateRange::parse("2026-02-30..2026-03-02")),
            r#"in the range "2026-02-30..2026-03-02": expected a date YYYY-MM-DD such as 2026-12-24, got "2026-02-30" (February 2026 has 28 days)"#
        );
        assert_eq!(
            err(DateRange::parse("2026-12-20..2027-1-3")),
            r#"in the range "2026-12-20..2027-1-3": expected a date YYYY-MM-DD such as 2026-12-24, got "2027-1-3""#
        );
        assert_eq!(
            err(DateRange::parse("2027-01-03..2026-12-20")),
            r#"the range "2027-01-03..2026-12-20" ends before it starts; write the earlier date first"#
        );
        assert_eq!(
            err(DateRange::parse_list("2026-12-20..2027-01-03, 2027-04-01")),
            r#"expected a date range START..END such as 2026-12-20..2027-01-03, got "2027-04-01""#
        );
        assert_eq!(
            messages::bad_offset("CET"),
            r#"expected an offset such as +01:00 or -05:30, got "CET""#
        );
        assert_eq!(
            messages::unknown_day("funday"),
            r#"unknown day "funday"; use mon, tue, wed, thu, fri, sat, sun"#
        );
        assert_eq!(messages::no_days(), "no days given; e.g. mon-fri");
        assert_eq!(
            messages::bad_hours("9"),
            r#"expected START-END such as 09:00-17:00, got "9""#
        );
        assert_eq!(
            messages::bad_clock("25:00"),
            r#"expected a time such as 09:00, got "25:00""#
        );
        assert_eq!(
            messages::start_too_late("24:00"),
            r#"the start "24:00" must be before 24:00"#
        );
        assert_eq!(
            messages::empty_hours("9:00-9:00"),
            r#"the window "9:00-9:00" is empty; start and end are equal"#
        );
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        for leap in ["2024-02-29", "2000-02-29", "2400-02-29", "1996-02-29"] {
            assert_eq!(date(leap).to_string(), leap);
        }
        assert_eq!(
            err(Date::parse("1900-02-29")),
            r#"expected a date YYYY-MM-DD such as 2026-12-24, got "1900-02-29" (February 1900 has 28 days)"#
        );
        assert!(Date::parse("2100-02-29").is_err());
        assert_eq!(date("2024-02-28").plus_days(1), date("2024-02-29"));
        assert_eq!(date("2023-02-28").plus_days(1), date("2023-03-01"));
        assert_eq!(date("2024-01-01").days_until(date("2025-01-01")), 366);
        assert_eq!(date("2025-01-01").days_until(date("2026-01-01")), 365);
    }

    #[test]
    fn month_lengths() {
        let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        for (month, length) in (1..=12).zip(lengths) {
            assert!(Date::new(2026, month, length).is_some(), "{month}/{length}");
            assert!(Date::new(2026, month, length + 1).is_none(), "{month}");
            assert_eq!(
                Date::new(2026, month, length).map(|d| d.plus_days(1).day()),
                Some(1)
            );
        }
        assert!(Date::new(2026, 0, 1).is_none());
        assert!(Date::new(2026, 13, 1).is_none());
        assert!(Date::new(2026, 1, 0).is_none());
    }

    #[test]
    fn dates_order_print_and_name_their_weekday() {
        assert!(date("2026-12-31") < date("2027-01-01"));
        assert!(date("2026-02-01") > date("2026-01-31"));
        assert_eq!(date(" 2026-11-23 ").weekday(), Weekday::Mon);
        assert_eq!(date("1970-01-01").weekday(), Weekday::Thu);
        assert_eq!(date("1969-12-31").days_since_epoch(), -1);
        assert_eq!(Date::from_days_since_epoch(-1), date("1969-12-31"));
        assert_eq!(date("0001-01-01").to_string(), "0001-01-01");
        assert_eq!("2026-12-24".parse::<Date>(), Ok(date("2026-12-24")));
        assert_eq!(
            (
                date("2026-12-24").year(),
                date("2026-12-24").month(),
                date("2026-12-24").day()
            ),
            (2026, 12, 24)
        );
        for bad in [
            "",
            "2026/12/24",
            "2026-12-24T00:00:00Z",
            "26-12-24",
            "+026-12-24",
            "2026-12-2x",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn timestamps_fall_on_days_at_an_offset() {
        let late = Timestamp::parse_rfc3339("2026-12-31T23:30:00Z").expect("valid");
        assert_eq!(late.date(0), date("2026-12-31"));
        assert_eq!(late.date(60), date("2027-01-01"));
        assert_eq!(late.date(-300), date("2026-12-31"));
        assert_eq!(late.civil(0).date(), date("2026-12-31"));
        assert_eq!(date("2027-01-01").start(60), late.plus_seconds(-1800));
        assert_eq!(date("1970-01-01").start(0), Timestamp(0));
    }

    #[test]
    fn ranges_include_both_ends() {
        let r = DateRange::parse("2026-12-20..2027-01-03").expect("valid");
        assert_eq!(r.days(), 15);
        assert!(r.contains(date("2026-12-20")));
        assert!(r.contains(date("2027-01-03")));
        assert!(!r.contains(date("2026-12-19")));
        assert!(!r.contains(date("2027-01-04")));
        let one = DateRange::parse("2026-12-25..2026-12-25").expect("one day");
        assert_eq!(
            (one.days(), one.first(), one.last()),
            (1, date("2026-12-25"), date("2026-12-25"))
        );
        assert_eq!(DateRange::new(date("2026-12-26"), date("2026-12-25")), None);
        let leap = DateRange::parse("2028-02-28..2028-03-01").expect("valid");
        assert_eq!(leap.days(), 3);
    }

    #[test]
    fn range_lists_skip_empty_items() {
        assert_eq!(DateRange::parse_list(""), Ok(vec![]));
        assert_eq!(DateRange::parse_list(" , "), Ok(vec![]));
        let list = DateRange::parse_list("2026-12-20..2027-01-03, ,2027-04-01..2027-04-02,")
            .expect("valid");
        assert_eq!(list.len(), 2);
        assert_eq!(
            DateRange::find(&list, date("2027-04-02")).map(|r| r.to_string()),
            Some("2027-04-01..2027-04-02".to_string())
        );
        assert_eq!(DateRange::find(&list, date("2027-04-03")), None);
    }
}
