//! The cases in `sdk/conformance/` that the Rust, Python and JavaScript SDKs
//! must answer alike, byte for byte (the Python and JavaScript runs are
//! `tests/tests/sdk_conformance.rs`): settings getters with their values and
//! error messages, unknown-key detection, and the glob dialect.

use gatehouse_sdk::Settings;
use serde_json::{Value, json};
use std::path::PathBuf;

/// A conformance file, parsed.
fn cases(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("conformance")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str::<Vec<Value>>(&text)
        .unwrap_or_else(|e| panic!("{} is not a JSON list: {e}", path.display()))
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

/// Runs one getter call on `settings`.
fn call(settings: &Settings, call: &[Value]) -> Value {
    let getter = call[0].as_str().expect("getter name");
    let key = call[1].as_str().expect("key");
    let text = |v: Option<String>| v.map_or(Value::Null, Value::String);
    match getter {
        "str" => json!({ "ok": settings.get_str(key) }),
        "require_str" => outcome(settings.require_str(key), |v| json!(v)),
        "u32" => outcome(settings.get_u32(key), |v| json!(v)),
        "u32_at_least" => outcome(
            settings.get_u32_at_least(key, arg(call, 2), arg(call, 3)),
            |v| json!(v),
        ),
        "u64" => outcome(settings.get_u64(key), |v| text(v.map(|n| n.to_string()))),
        "i64" => outcome(settings.get_i64(key), |v| text(v.map(|n| n.to_string()))),
        "bool" => outcome(settings.get_bool(key), |v| json!(v)),
        "list" => outcome(settings.get_list(key), |v| json!(v)),
        "non_empty_list" => outcome(settings.get_non_empty_list(key), |v| json!(v)),
        other => panic!("unknown getter {other:?} in settings.json"),
    }
}

#[test]
fn settings_getters_answer_as_the_shared_cases_say() {
    let cases = cases("settings.json");
    assert!(cases.len() >= 10, "the shared settings cases are there");
    for (index, case) in cases.iter().enumerate() {
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
        let calls = case["calls"].as_array().expect("calls");
        let results = case["results"].as_array().expect("results");
        assert_eq!(
            calls.len(),
            results.len(),
            "case {index}: one result per call"
        );
        for (c, expected) in calls.iter().zip(results) {
            let got = call(&settings, c.as_array().expect("a call is a list"));
            assert_eq!(&got, expected, "case {index}, call {c}");
        }
        let unknown = match settings.reject_unknown() {
            Ok(()) => Value::Null,
            Err(e) => Value::String(e.to_string()),
        };
        assert_eq!(unknown, case["unknown"], "case {index}: reject_unknown");
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
