//! `release-window`: releases are auto-approved inside a weekly release window
//! (days of the week and hours, at a fixed UTC offset) and need approval
//! outside it; the reason says when the next window opens. Time comes from
//! the host (`gatehouse eval --now` fixes it), so the verdict is reproducible.

use gatehouse_sdk::{
    Decision, EvaluationError, Policy, PolicyInfo, Release, Settings, SettingsError, Timestamp,
    Weekday, export_policy, host,
};

/// The policy.
pub struct ReleaseWindow;

/// Parsed settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Days on which a window opens.
    pub days: Vec<Weekday>,
    /// Opening time, minutes after local midnight.
    pub start: u32,
    /// Closing time, minutes after local midnight; at or before `start` means
    /// the window closes the next day (an overnight window).
    pub end: u32,
    /// Local time's offset from UTC, in minutes.
    pub offset_minutes: i32,
    /// Groups that may approve a release outside the window.
    pub approver_groups: Vec<String>,
}

impl Policy for ReleaseWindow {
    type Config = Config;

    fn describe() -> PolicyInfo {
        PolicyInfo::new(
            "release-window",
            env!("CARGO_PKG_VERSION"),
            "Auto-approves releases inside a weekly release window (days, hours, UTC offset) and requires approval outside it.",
        )
    }

    fn validate_settings(settings: &Settings) -> Result<Config, SettingsError> {
        let days = match settings.get_str("days") {
            None => vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu],
            Some(text) => parse_days(text).map_err(|e| SettingsError::new("days", e))?,
        };
        let (start, end) = parse_hours(settings.get_str("hours").unwrap_or("09:00-17:00"))
            .map_err(|e| SettingsError::new("hours", e))?;
        let offset_minutes = parse_offset(settings.get_str("utc-offset").unwrap_or("+00:00"))
            .map_err(|e| SettingsError::new("utc-offset", e))?;
        Ok(Config {
            days,
            start,
            end,
            offset_minutes,
            approver_groups: settings.get_list("approver-groups")?.unwrap_or_default(),
        })
    }

    fn evaluate(release: &Release, config: &Config) -> Result<Decision, EvaluationError> {
        Ok(decide(release, config, host::now()))
    }
}

/// `mon-fri`, `mon,wed,fri`, `sat-sun,wed`: ranges wrap around the week (`fri-mon`).
pub fn parse_days(text: &str) -> Result<Vec<Weekday>, String> {
    let mut days = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let day = |name: &str| {
            Weekday::parse(name).ok_or_else(|| {
                format!("unknown day {name:?}; use mon, tue, wed, thu, fri, sat, sun")
            })
        };
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
        return Err("no days given; e.g. mon-fri".into());
    }
    days.sort();
    days.dedup();
    Ok(days)
}

/// `09:00-17:30` or `9-17`; `24:00` is allowed as an end. An end at or before
/// the start makes an overnight window (`22:00-02:00`).
pub fn parse_hours(text: &str) -> Result<(u32, u32), String> {
    let (from, to) = text
        .split_once('-')
        .ok_or_else(|| format!("expected START-END such as 09:00-17:00, got {text:?}"))?;
    let start = parse_clock(from.trim())?;
    let end = parse_clock(to.trim())?;
    if start >= 24 * 60 {
        return Err(format!("the start {:?} must be before 24:00", from.trim()));
    }
    if start == end {
        return Err(format!(
            "the window {text:?} is empty; start and end are equal"
        ));
    }
    Ok((start, end))
}

fn parse_clock(text: &str) -> Result<u32, String> {
    let (h, m) = text.split_once(':').unwrap_or((text, "0"));
    let bad = || format!("expected a time such as 09:00, got {text:?}");
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m > 59 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// `+01:00`, `-05:30`, `Z` or `UTC`.
pub fn parse_offset(text: &str) -> Result<i32, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let bad = || format!("expected an offset such as +01:00 or -05:30, got {text:?}");
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let minutes = parse_clock(rest).map_err(|_| bad())?;
    if minutes > 14 * 60 {
        return Err(bad());
    }
    Ok(sign * minutes as i32)
}

fn clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn offset_label(offset: i32) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    format!("{sign}{:02}:{:02}", abs / 60, abs % 60)
}

impl Config {
    /// A readable description, e.g. `Mon, Tue 09:00-17:00 (UTC+01:00)`.
    pub fn describe_window(&self) -> String {
        let days: Vec<&str> = self.days.iter().map(|d| d.short_name()).collect();
        format!(
            "{} {}-{} (UTC{})",
            days.join(", "),
            clock(self.start),
            clock(self.end),
            offset_label(self.offset_minutes)
        )
    }

    fn overnight(&self) -> bool {
        self.end <= self.start
    }

    /// True when `now` falls inside a window.
    pub fn is_open(&self, now: Timestamp) -> bool {
        let local = now.civil(self.offset_minutes);
        let minute = local.hour * 60 + local.minute;
        let today = self.days.contains(&local.weekday);
        if !self.overnight() {
            return today && minute >= self.start && minute < self.end;
        }
        let yesterday = Weekday::ALL[((local.weekday.index() + 6) % 7) as usize];
        (today && minute >= self.start) || (self.days.contains(&yesterday) && minute < self.end)
    }

    /// When the next window opens after `now`.
    pub fn next_opening(&self, now: Timestamp) -> Timestamp {
        let local = now.civil(self.offset_minutes);
        let seconds_into_day = i64::from(local.hour * 3600 + local.minute * 60 + local.second);
        let midnight = now.plus_seconds(-seconds_into_day);
        for day_offset in 0..=7i64 {
            let weekday =
                Weekday::ALL[((i64::from(local.weekday.index()) + day_offset) % 7) as usize];
            let opening = midnight.plus_seconds(day_offset * 86_400 + i64::from(self.start) * 60);
            if self.days.contains(&weekday) && opening > now {
                return opening;
            }
        }
        midnight.plus_seconds(7 * 86_400 + i64::from(self.start) * 60)
    }
}

fn local_label(t: Timestamp, offset: i32) -> String {
    let c = t.civil(offset);
    format!(
        "{} {:04}-{:02}-{:02} {:02}:{:02}",
        c.weekday, c.year, c.month, c.day, c.hour, c.minute
    )
}

/// The rule itself, testable natively with a fixed `now`.
pub fn decide(_release: &Release, config: &Config, now: Timestamp) -> Decision {
    let window = config.describe_window();
    let offset = config.offset_minutes;
    let here = local_label(now, offset);
    if config.is_open(now) {
        return Decision::approve(format!("{here} is inside the release window {window}"));
    }
    let next = config.next_opening(now);
    Decision::require_approval(format!(
        "{here} is outside the release window {window}; the next window opens {}",
        local_label(next, offset)
    ))
    .from_groups(config.approver_groups.clone())
    .instructions(format!(
        "Approve only if the release cannot wait until {} (UTC{}).",
        local_label(next, offset),
        offset_label(offset)
    ))
}

export_policy!(ReleaseWindow);

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("valid timestamp")
    }

    fn config(pairs: &[(&str, &str)]) -> Config {
        ReleaseWindow::validate_settings(&Settings::from_pairs(pairs.iter().copied()))
            .expect("valid settings")
    }

    fn release() -> Release {
        Release::new("prod", "PROD")
    }

    #[test]
    fn default_window_is_monday_to_thursday_office_hours() {
        let c = config(&[]);
        assert!(c.is_open(at("2026-11-23T09:00:00Z"))); // Monday
        assert!(!c.is_open(at("2026-11-23T17:00:00Z")));
        assert!(!c.is_open(at("2026-11-27T10:00:00Z"))); // Friday
        let d = decide(&release(), &c, at("2026-11-27T10:00:00Z"));
        assert!(d.is_require_approval());
        assert_eq!(
            d.reasons()[0].message,
            "Fri 2026-11-27 10:00 is outside the release window Mon, Tue, Wed, Thu 09:00-17:00 (UTC+00:00); the next window opens Mon 2026-11-30 09:00"
        );
    }

    #[test]
    fn offsets_and_overnight_windows() {
        let c = config(&[
            ("days", "fri-mon"),
            ("hours", "22:00-02:00"),
            ("utc-offset", "+01:00"),
        ]);
        assert_eq!(
            c.days,
            [Weekday::Mon, Weekday::Fri, Weekday::Sat, Weekday::Sun]
        );
        // Monday 00:30 local (Sunday 23:30 UTC): inside Sunday night's window.
        assert!(c.is_open(at("2026-11-22T23:30:00Z")));
        // Tuesday 01:00 local: Monday night's window is still open.
        assert!(c.is_open(at("2026-11-24T00:00:00Z")));
        // Wednesday 01:00 local: Tuesday has no window.
        assert!(!c.is_open(at("2026-11-25T00:00:00Z")));
        let next = c.next_opening(at("2026-11-25T00:00:00Z"));
        assert_eq!(next, at("2026-11-27T21:00:00Z")); // Friday 22:00 local
    }

    #[test]
    fn next_opening_is_later_today_when_before_the_window() {
        let c = config(&[("days", "mon-fri"), ("hours", "9-17")]);
        assert_eq!(
            c.next_opening(at("2026-11-23T06:00:00Z")),
            at("2026-11-23T09:00:00Z")
        );
    }

    #[test]
    fn bad_settings_are_explained() {
        for (key, value, fragment) in [
            ("days", "funday", "unknown day"),
            ("hours", "9", "expected START-END"),
            ("hours", "9:00-9:00", "empty"),
            ("hours", "25:00-26:00", "expected a time"),
            ("utc-offset", "CET", "expected an offset"),
        ] {
            let err = ReleaseWindow::validate_settings(&Settings::from_pairs([(key, value)]))
                .expect_err("invalid");
            assert!(err.to_string().contains(fragment), "{key}={value}: {err}");
        }
    }
}
