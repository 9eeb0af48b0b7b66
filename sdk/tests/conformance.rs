//! The cases in `sdk/conformance/` that the Rust, Python and JavaScript SDKs
//! must answer alike, byte for byte (the Python and JavaScript runs are
//! `tests/tests/sdk_conformance.rs`): settings getters with their values and
//! error messages (numbers, lists, dates, durations, day lists and hours),
//! unknown-key detection, weekly windows and the glob dialect.

use gatehouse_sdk::windows::{DailyHours, UtcOffset, WeeklyWindow, parse_weekdays};
use gatehouse_sdk::{Settings, Timestamp};
use serde_json::{Value, json};
use std::path::PathBuf;

/// A conformance file, parsed.
fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("conformance")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str::<Value>(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A conformance file that is a list of cases.
fn cases(name: &str) -> Vec<Value> {
    match load(name) {
        Value::Array(cases) => cases,
        _ => panic!("{name} is not a JSON list"),
    }
}

/// A call's result as the conformance files write it.
fn outcome<T>(
    result: Result<T, gatehouse_sdk::SettingsError>,
    value: impl Fn(T) -> Value,
) -> Value {
    match result {
        Ok(v) => json!({ "ok": value(v) }),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

/// An argument of a call as a u32.
fn arg(call: &[Value], index: usize) -> u32 {
    call.get(index)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or_else(|| panic!("argument {index} of {call:?} is not a u32"))
}

/// A value printed with `Display`, or `null`.
fn shown<T: ToString>(value: Option<T>) -> Value {
    value.map_or(Value::Null, |v| Value::String(v.to_string()))
}

/// A list of values printed with `Display`, or `null`.
fn shown_all<T: ToString>(values: Option<Vec<T>>) -> Value {
    values.map_or(Value::Null, |v| {
        Value::Array(v.iter().map(|x| Value::String(x.to_string())).collect())
    })
}

/// Runs one getter call on `settings`.
fn call(settings: &Settings, call: &[Value]) -> Value {
    let getter = call[0].as_str().expect("getter name");
    let key = call[1].as_str().expect("key");
    match getter {
        "str" => json!({ "ok": settings.get_str(key) }),
        "require_str" => outcome(settings.require_str(key), |v| json!(v)),
        "u32" => outcome(settings.get_u32(key), |v| json!(v)),
        "u32_at_least" => outcome(
            settings.get_u32_at_least(key, arg(call, 2), arg(call, 3)),
            |v| json!(v),
        ),
        "u64" => outcome(settings.get_u64(key), shown),
        "i64" => outcome(settings.get_i64(key), shown),
        "bool" => outcome(settings.get_bool(key), |v| json!(v)),
        "list" => outcome(settings.get_list(key), |v| json!(v)),
        "non_empty_list" => outcome(settings.get_non_empty_list(key), |v| json!(v)),
        "date" => outcome(settings.get_date(key), shown),
        "date_range" => outcome(settings.get_date_range(key), shown),
        "date_ranges" => outcome(settings.get_date_ranges(key), shown_all),
        "utc_offset" => outcome(settings.get_utc_offset(key), shown),
        "duration" => outcome(settings.get_duration(key), |v| {
            json!(v.map(|d| d.as_secs()))
        }),
        "weekdays" => outcome(settings.get_weekdays(key), shown_all),
        "daily_hours" => outcome(settings.get_daily_hours(key), shown),
        other => panic!("unknown getter {other:?}"),
    }
}

/// Runs a getter case: its results, one per call, and what `reject_unknown`
/// says afterwards (`null` when every key was read).
fn run_settings_case(case: &Value) -> (Vec<Value>, Value) {
    let pairs: Vec<(String, String)> = case["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().expect("key").to_string(),
                pair[1].as_str().expect("value").to_string(),
            )
        })
        .collect();
    let settings = Settings::from_pairs(pairs);
    let results = case["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| call(&settings, c.as_array().expect("a call is a list")))
        .collect();
    let unknown = match settings.reject_unknown() {
        Ok(()) => Value::Null,
        Err(e) => Value::String(e.to_string()),
    };
    (results, unknown)
}

/// Checks every getter case of a file (at least `at_least` of them).
fn check_settings_cases(name: &str, cases: &[Value], at_least: usize) {
    assert!(cases.len() >= at_least, "the shared {name} cases are there");
    for (index, case) in cases.iter().enumerate() {
        let expected = case["results"].as_array().expect("results");
        let (results, unknown) = run_settings_case(case);
        assert_eq!(
            results.len(),
            expected.len(),
            "{name} case {index}: one result per call"
        );
        for ((got, want), c) in results
            .iter()
            .zip(expected)
            .zip(case["calls"].as_array().expect("calls"))
        {
            assert_eq!(got, want, "{name} case {index}, call {c}");
        }
        assert_eq!(
            unknown, case["unknown"],
            "{name} case {index}: reject_unknown"
        );
    }
}

/// Runs a window case: whether the window is open at `now`, and when it next
/// opens (RFC 3339, UTC).
fn run_window_case(case: &Value) -> (bool, String) {
    let part = |name: &str| case["window"][name].as_str().expect("window part");
    let window = WeeklyWindow::new(
        parse_weekdays(part("days")).expect("valid days"),
        DailyHours::parse(part("hours")).expect("valid hours"),
        UtcOffset::parse(part("offset")).expect("valid offset"),
    );
    let now = Timestamp::parse_rfc3339(case["now"].as_str().expect("now")).expect("valid now");
    (window.is_open(now), window.next_opening(now).to_string())
}

#[test]
fn settings_getters_answer_as_the_shared_cases_say() {
    check_settings_cases("settings.json", &cases("settings.json"), 10);
}

#[test]
fn date_getters_answer_as_the_shared_cases_say() {
    check_settings_cases("dates.json", &cases("dates.json"), 4);
}

#[test]
fn duration_getter_answers_as_the_shared_cases_say() {
    let cases = cases("durations.json");
    check_settings_cases("durations.json", &cases, 3);
    let calls: usize = cases
        .iter()
        .map(|c| c["calls"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(calls >= 15, "at least 15 duration calls, found {calls}");
}

#[test]
fn windows_answer_as_the_shared_cases_say() {
    let file = load("windows.json");
    check_settings_cases(
        "windows.json settings",
        file["settings"].as_array().expect("a \"settings\" list"),
        2,
    );
    let windows = file["windows"].as_array().expect("a \"windows\" list");
    assert!(windows.len() >= 8, "the shared window cases are there");
    for (index, case) in windows.iter().enumerate() {
        let (open, next_opening) = run_window_case(case);
        assert_eq!(json!(open), case["open"], "window case {index}: open");
        assert_eq!(
            json!(next_opening),
            case["next_opening"],
            "window case {index}: next_opening"
        );
    }
}

#[test]
fn globs_match_as_the_shared_cases_say() {
    let cases = cases("globs.json");
    assert!(cases.len() >= 50, "the shared glob cases are there");
    for case in &cases {
        let (pattern, text) = (
            case[0].as_str().expect("pattern"),
            case[1].as_str().expect("text"),
        );
        assert_eq!(
            gatehouse_sdk::glob::matches(pattern, text),
            case[2].as_bool().expect("expected"),
            "{pattern:?} against {text:?}"
        );
    }
}
