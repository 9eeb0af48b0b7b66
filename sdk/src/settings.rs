//! Typed access to a policy's settings, with errors that name the key and say
//! what was expected, and detection of keys the policy never reads (typos).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::dates::{Date, DateRange, ParseError};
use crate::durations::parse_duration;
use crate::time::Weekday;
use crate::windows::{DailyHours, UtcOffset, parse_weekdays};

/// A settings value that could not be used, naming the key and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    key: String,
    message: String,
}

impl SettingsError {
    /// An error about `key`, e.g. `SettingsError::new("groups", "must not be empty")`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        SettingsError {
            key: key.into(),
            message: message.into(),
        }
    }

    /// The offending key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "setting '{}': {}", self.key, self.message)
    }
}

impl std::error::Error for SettingsError {}

/// The settings handed to a policy: text values by key, parsed on demand.
///
/// Every getter records the key as known; after `validate_settings` the SDK
/// rejects any key the policy never asked for, so a typo such as `max-change`
/// is an error instead of a silently ignored setting.
///
/// ```
/// use gatehouse_sdk::Settings;
/// let settings = Settings::from_pairs([("max-changes", "10"), ("groups", "dba, sre")]);
/// assert_eq!(settings.get_u32("max-changes")?, Some(10));
/// assert_eq!(settings.get_list("groups")?, Some(vec!["dba".to_string(), "sre".to_string()]));
/// assert_eq!(settings.get_bool("strict")?, None);
/// # Ok::<(), gatehouse_sdk::SettingsError>(())
/// ```
#[derive(Debug, Default)]
pub struct Settings {
    pairs: Vec<(String, String)>,
    read: RefCell<BTreeSet<String>>,
}

impl Settings {
    /// Builds settings from key / value pairs (the host passes them sorted, each key once).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Settings {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            read: RefCell::default(),
        }
    }

    /// The raw text of a setting, if given.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.read.borrow_mut().insert(key.to_string());
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A setting that must be given, as text.
    pub fn require_str(&self, key: &str) -> Result<&str, SettingsError> {
        self.get_str(key)
            .ok_or_else(|| SettingsError::new(key, "is required but was not given"))
    }

    /// A whole number from 0 to 4294967295.
    pub fn get_u32(&self, key: &str) -> Result<Option<u32>, SettingsError> {
        self.parse(key, "a whole number from 0 to 4294967295")
    }

    /// A whole number of at least `min`, or `default` when the key is not
    /// given: the shape of counts such as `min-approvals` (at least 1).
    ///
    /// A value below `min` fails with `setting 'KEY': must be at least MIN`;
    /// `default` is returned as is, so pass one that satisfies `min`.
    ///
    /// ```
    /// use gatehouse_sdk::Settings;
    /// let settings = Settings::from_pairs([("min-approvals", "0")]);
    /// assert_eq!(settings.get_u32_at_least("max-changes", 1, 10)?, 10);
    /// assert_eq!(
    ///     settings.get_u32_at_least("min-approvals", 1, 1).unwrap_err().to_string(),
    ///     "setting 'min-approvals': must be at least 1"
    /// );
    /// # Ok::<(), gatehouse_sdk::SettingsError>(())
    /// ```
    pub fn get_u32_at_least(
        &self,
        key: &str,
        min: u32,
        default: u32,
    ) -> Result<u32, SettingsError> {
        match self.get_u32(key)? {
            None => Ok(default),
            Some(value) if value < min => {
                Err(SettingsError::new(key, format!("must be at least {min}")))
            }
            Some(value) => Ok(value),
        }
    }

    /// A whole number from 0 to 18446744073709551615.
    pub fn get_u64(&self, key: &str) -> Result<Option<u64>, SettingsError> {
        self.parse(key, "a whole number from 0 to 18446744073709551615")
    }

    /// A signed whole number.
    pub fn get_i64(&self, key: &str) -> Result<Option<i64>, SettingsError> {
        self.parse(key, "a whole number")
    }

    /// `true` / `false` (also `yes` / `no`, `on` / `off`, `1` / `0`), ignoring case.
    pub fn get_bool(&self, key: &str) -> Result<Option<bool>, SettingsError> {
        let Some(raw) = self.get_str(key) else {
            return Ok(None);
        };
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(Some(true)),
            "false" | "no" | "off" | "0" => Ok(Some(false)),
            _ => Err(SettingsError::new(
                key,
                format!("expected true or false, got {raw:?}"),
            )),
        }
    }

    /// A comma-separated list; items are trimmed, empty items are dropped.
    pub fn get_list(&self, key: &str) -> Result<Option<Vec<String>>, SettingsError> {
        Ok(self.get_str(key).map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_string)
                .collect()
        }))
    }

    /// A comma-separated list that, when given, must hold at least one item.
    pub fn get_non_empty_list(&self, key: &str) -> Result<Option<Vec<String>>, SettingsError> {
        match self.get_list(key)? {
            Some(items) if items.is_empty() => Err(SettingsError::new(
                key,
                "expected a comma-separated list with at least one item, got an empty value",
            )),
            other => Ok(other),
        }
    }

    /// Any value whose type implements [`FromStr`], described as `expected` in errors.
    pub fn parse<T: FromStr>(&self, key: &str, expected: &str) -> Result<Option<T>, SettingsError> {
        let Some(raw) = self.get_str(key) else {
            return Ok(None);
        };
        raw.trim()
            .parse()
            .map(Some)
            .map_err(|_| SettingsError::new(key, format!("expected {expected}, got {raw:?}")))
    }

    /// A calendar date `YYYY-MM-DD` (see [`crate::dates`] for the time-zone rule).
    ///
    /// ```
    /// use gatehouse_sdk::Settings;
    /// let settings = Settings::from_pairs([("go-live", "2026-02-30")]);
    /// assert_eq!(
    ///     settings.get_date("go-live").unwrap_err().to_string(),
    ///     "setting 'go-live': expected a date YYYY-MM-DD such as 2026-12-24, got \"2026-02-30\" (February 2026 has 28 days)"
    /// );
    /// ```
    pub fn get_date(&self, key: &str) -> Result<Option<Date>, SettingsError> {
        self.get_with(key, Date::parse)
    }

    /// A date range `START..END`, both days included, e.g. `2026-12-20..2027-01-03`.
    pub fn get_date_range(&self, key: &str) -> Result<Option<DateRange>, SettingsError> {
        self.get_with(key, DateRange::parse)
    }

    /// A comma-separated list of date ranges
    /// (`2026-12-20..2027-01-03, 2027-04-01..2027-04-02`); empty items are
    /// skipped, so an empty value is an empty list.
    ///
    /// ```
    /// use gatehouse_sdk::Settings;
    /// let settings = Settings::from_pairs([("freeze", "2026-12-20..2027-01-03, 2027-04-01..2027-04-01")]);
    /// let ranges = settings.get_date_ranges("freeze")?.unwrap_or_default();
    /// assert_eq!(ranges.len(), 2);
    /// assert_eq!(ranges[1].days(), 1);
    /// # Ok::<(), gatehouse_sdk::SettingsError>(())
    /// ```
    pub fn get_date_ranges(&self, key: &str) -> Result<Option<Vec<DateRange>>, SettingsError> {
        self.get_with(key, DateRange::parse_list)
    }

    /// A fixed offset from UTC: `+01:00`, `-05:30`, `Z` or `UTC`.
    pub fn get_utc_offset(&self, key: &str) -> Result<Option<UtcOffset>, SettingsError> {
        self.get_with(key, UtcOffset::parse)
    }

    /// Days of the week: `mon-fri`, `mon,wed,fri`, `fri-mon` (wrapping), sorted Monday first.
    pub fn get_weekdays(&self, key: &str) -> Result<Option<Vec<Weekday>>, SettingsError> {
        self.get_with(key, parse_weekdays)
    }

    /// Hours of the day: `09:00-17:00`, `9-17`, overnight `22:00-02:00`.
    pub fn get_daily_hours(&self, key: &str) -> Result<Option<DailyHours>, SettingsError> {
        self.get_with(key, DailyHours::parse)
    }

    /// A duration such as `90s`, `15m`, `2h`, `1d` or `1h30m`, at most 36500
    /// days (see [`crate::durations`] for the grammar and messages).
    ///
    /// ```
    /// use gatehouse_sdk::Settings;
    /// use std::time::Duration;
    /// let settings = Settings::from_pairs([("max-age", "1h30m"), ("cool-down", "90 s")]);
    /// assert_eq!(settings.get_duration("max-age")?, Some(Duration::from_secs(5_400)));
    /// assert_eq!(
    ///     settings.get_duration("cool-down").unwrap_err().to_string(),
    ///     "setting 'cool-down': expected a duration such as 90s, 15m, 2h, 1d or 1h30m (units d, h, m, s, largest first, each once), got \"90 s\""
    /// );
    /// # Ok::<(), gatehouse_sdk::SettingsError>(())
    /// ```
    pub fn get_duration(&self, key: &str) -> Result<Option<Duration>, SettingsError> {
        self.get_with(key, parse_duration)
    }

    /// A value parsed by `parse`, whose error message follows `setting 'KEY': `.
    pub fn get_with<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Result<Option<T>, SettingsError> {
        self.get_str(key)
            .map(|raw| parse(raw).map_err(|e| SettingsError::new(key, e.message())))
            .transpose()
    }

    /// Every key given, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }

    /// Fails on the first given key that no getter asked for, listing the keys
    /// the policy does read. The SDK calls this after `validate_settings`.
    pub fn reject_unknown(&self) -> Result<(), SettingsError> {
        let read = self.read.borrow();
        match self.pairs.iter().find(|(k, _)| !read.contains(k)) {
            None => Ok(()),
            Some((key, _)) => {
                let known: Vec<&str> = read.iter().map(String::as_str).collect();
                let known = if known.is_empty() {
                    "this policy takes no settings".to_string()
                } else {
                    format!("known settings: {}", known.join(", "))
                };
                Err(SettingsError::new(
                    key.clone(),
                    format!("unknown setting ({known})"),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_getters_parse_and_explain_errors() {
        let s = Settings::from_pairs([("n", " 12 "), ("bad", "ten"), ("flag", "Yes")]);
        assert_eq!(s.get_u32("n"), Ok(Some(12)));
        assert_eq!(s.get_u32("missing"), Ok(None));
        assert_eq!(
            s.get_u32("bad").map_err(|e| e.to_string()),
            Err("setting 'bad': expected a whole number from 0 to 4294967295, got \"ten\"".into())
        );
        assert_eq!(s.get_bool("flag"), Ok(Some(true)));
        assert!(s.get_bool("bad").is_err());
        assert_eq!(
            s.require_str("missing").map_err(|e| e.to_string()),
            Err("setting 'missing': is required but was not given".into())
        );
    }

    #[test]
    fn at_least_getter_checks_the_minimum_and_defaults() {
        let s = Settings::from_pairs([("zero", "0"), ("two", "2"), ("bad", "x")]);
        assert_eq!(s.get_u32_at_least("two", 1, 1), Ok(2));
        assert_eq!(s.get_u32_at_least("two", 2, 1), Ok(2));
        assert_eq!(s.get_u32_at_least("missing", 1, 7), Ok(7));
        assert_eq!(
            s.get_u32_at_least("zero", 1, 1).map_err(|e| e.to_string()),
            Err("setting 'zero': must be at least 1".into())
        );
        assert_eq!(
            s.get_u32_at_least("two", 3, 3).map_err(|e| e.to_string()),
            Err("setting 'two': must be at least 3".into())
        );
        assert!(
            s.get_u32_at_least("bad", 1, 1)
                .map_err(|e| e.to_string())
                .is_err_and(|m| m.contains("expected a whole number"))
        );
        let _ = s.get_u32_at_least("zero", 0, 0);
        assert_eq!(s.reject_unknown(), Ok(()), "every key read counts as known");
    }

    #[test]
    fn lists_are_trimmed_and_may_be_required_non_empty() {
        let s = Settings::from_pairs([("l", " a, ,b ,"), ("e", " , ")]);
        assert_eq!(s.get_list("l"), Ok(Some(vec!["a".into(), "b".into()])));
        assert_eq!(s.get_list("e"), Ok(Some(vec![])));
        assert!(s.get_non_empty_list("e").is_err());
    }

    #[test]
    fn date_getters_prefix_the_key() {
        let s = Settings::from_pairs([
            ("day", " 2024-02-29 "),
            ("bad-day", "2026-02-29"),
            ("freeze", "2026-12-20..2027-01-03,2027-04-01..2027-04-01"),
            ("backwards", "2027-01-03..2026-12-20"),
            ("none", ""),
            ("tz", "+01:00"),
            ("days", "mon-fri"),
            ("hours", "22-2"),
        ]);
        assert_eq!(
            s.get_date("day").map(|d| d.map(|d| d.to_string())),
            Ok(Some("2024-02-29".into()))
        );
        assert_eq!(s.get_date("missing"), Ok(None));
        assert_eq!(
            s.get_date("bad-day").map_err(|e| e.to_string()),
            Err("setting 'bad-day': expected a date YYYY-MM-DD such as 2026-12-24, got \"2026-02-29\" (February 2026 has 28 days)".into())
        );
        assert_eq!(
            s.get_date_ranges("freeze").map(|r| r.map(|r| r.len())),
            Ok(Some(2))
        );
        assert_eq!(s.get_date_ranges("none"), Ok(Some(vec![])));
        assert_eq!(
            s.get_date_range("backwards").map_err(|e| e.to_string()),
            Err("setting 'backwards': the range \"2027-01-03..2026-12-20\" ends before it starts; write the earlier date first".into())
        );
        assert_eq!(
            s.get_date_range("none").map_err(|e| e.to_string()),
            Err("setting 'none': expected a date range START..END such as 2026-12-20..2027-01-03, got \"\"".into())
        );
        assert_eq!(
            s.get_utc_offset("tz").map(|o| o.map(UtcOffset::minutes)),
            Ok(Some(60))
        );
        assert_eq!(
            s.get_weekdays("days").map(|d| d.map(|d| d.len())),
            Ok(Some(5))
        );
        assert_eq!(
            s.get_daily_hours("hours").map(|h| h.map(|h| h.overnight())),
            Ok(Some(true))
        );
        assert_eq!(
            s.get_utc_offset("day").map_err(|e| e.to_string()),
            Err(
                "setting 'day': expected an offset such as +01:00 or -05:30, got \"2024-02-29\""
                    .into()
            )
        );
        assert_eq!(
            s.reject_unknown(),
            Ok(()),
            "every getter marks its key as read"
        );
    }

    #[test]
    fn unknown_keys_are_reported_with_the_known_ones() {
        let s = Settings::from_pairs([("max-changes", "1"), ("max-change", "2")]);
        let _ = s.get_u32("max-changes");
        let err = s.reject_unknown().map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("setting 'max-change': unknown setting (known settings: max-changes)".into())
        );
        let none = Settings::from_pairs([("x", "1")]);
        assert!(
            none.reject_unknown()
                .map_err(|e| e.to_string())
                .err()
                .is_some_and(|m| m.contains("takes no settings"))
        );
    }
}
