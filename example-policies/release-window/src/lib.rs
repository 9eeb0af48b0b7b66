//! `release-window`: releases are auto-approved inside a weekly release window
//! (days of the week and hours, at a fixed UTC offset) and need approval
//! outside it; the reason says when the next window opens. Time comes from
//! the host (`gatehouse eval --now` fixes it), so the verdict is reproducible.

use gatehouse_sdk::{
    DailyHours, Decision, EvaluationError, Policy, PolicyInfo, Release, Settings, SettingsError,
    Timestamp, UtcOffset, Weekday, WeeklyWindow, export_policy, host,
};

/// The policy.
pub struct ReleaseWindow;

/// Parsed settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// When releases are auto-approved (the SDK's weekly window).
    pub window: WeeklyWindow,
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
        let days = settings
            .get_weekdays("days")?
            .unwrap_or_else(|| vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu]);
        let hours = match settings.get_daily_hours("hours")? {
            Some(hours) => hours,
            None => DailyHours::parse("09:00-17:00")
                .map_err(|e| SettingsError::new("hours", e.message()))?,
        };
        let offset = settings
            .get_utc_offset("utc-offset")?
            .unwrap_or(UtcOffset::UTC);
        Ok(Config {
            window: WeeklyWindow::new(days, hours, offset),
            approver_groups: settings.get_list("approver-groups")?.unwrap_or_default(),
        })
    }

    fn evaluate(release: &Release, config: &Config) -> Result<Decision, EvaluationError> {
        Ok(decide(release, config, host::now()))
    }
}

fn local_label(t: Timestamp, offset: UtcOffset) -> String {
    let c = t.civil(offset.minutes());
    format!("{} {} {:02}:{:02}", c.weekday, c.date(), c.hour, c.minute)
}

/// The rule itself, testable natively with a fixed `now`.
pub fn decide(_release: &Release, config: &Config, now: Timestamp) -> Decision {
    let window = &config.window;
    let offset = window.offset();
    let here = local_label(now, offset);
    if window.is_open(now) {
        return Decision::approve(format!("{here} is inside the release window {window}"));
    }
    let next = local_label(window.next_opening(now), offset);
    Decision::require_approval(format!(
        "{here} is outside the release window {window}; the next window opens {next}"
    ))
    .from_groups(config.approver_groups.clone())
    .instructions(format!(
        "Approve only if the release cannot wait until {next} (UTC{offset})."
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
        let c = config(&[]).window;
        assert!(c.is_open(at("2026-11-23T09:00:00Z"))); // Monday
        assert!(!c.is_open(at("2026-11-23T17:00:00Z")));
        assert!(!c.is_open(at("2026-11-27T10:00:00Z"))); // Friday
        let d = decide(&release(), &config(&[]), at("2026-11-27T10:00:00Z"));
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
        ])
        .window;
        assert_eq!(
            c.days(),
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
        let c = config(&[("days", "mon-fri"), ("hours", "9-17")]).window;
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
