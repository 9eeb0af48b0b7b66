//! A real JavaScript policy, built with componentize-js, under the default
//! sandbox limits: `example-policies/destructive-changes-js` must decide
//! exactly as its Rust twin `destructive-changes` on the same releases and
//! settings — the same exit codes, verdicts, reasons (messages and resource
//! paths), approver groups, minimum approvals and settings error messages.
//! The comparison and the cases every twin shares are in
//! `gatehouse_e2e::twins`; this file adds JavaScript's Unicode globs and
//! quoting, more bad settings, and its fuel.
//!
//! The component embeds the SpiderMonkey engine (~12 MB), so each evaluation
//! compiles it with Cranelift (seconds without a compile cache); the cases are
//! few and chosen to cover every verdict and every setting once.

use gatehouse_e2e::twins::{SETTINGS_ERRORS, Twin, example_release, messages, policy_section};
use gatehouse_e2e::{assert_no_host_panic, gatehouse, policy, release_json, temp_file};
use serde_json::json;

const JS: Twin = Twin {
    policy: "destructive-changes-js",
    language: "JavaScript",
};

#[test]
fn example_releases_get_the_same_decisions() {
    let report = JS.assert_example_releases_agree();
    let fuel = policy_section(&report)["fuel_used"]
        .as_u64()
        .expect("fuel_used");
    assert!(
        fuel > 0 && fuel < 2_000_000_000,
        "an evaluation fits the default fuel: {fuel}"
    );
}

#[test]
fn settings_variations_get_the_same_decisions() {
    JS.assert_settings_variations_agree();

    // `?` is one character (`é`, and an astral `🦀` that is two UTF-16
    // units), and a quoted glob escapes what Rust's `{:?}` escapes (a
    // zero-width space), not a letter.
    let accented = temp_file(
        release_json(
            "prod-é",
            "PROD",
            &[("mysql", "orders", "datastores/orders", "DELETE")],
        ),
        ".json",
    );
    let report = JS.assert_agrees(
        &accented.path().display().to_string(),
        &["fail-environments=prod-?,prod-??"],
        1,
    );
    assert_eq!(
        messages(&report)[0],
        "1 destructive change to protected resources in environment prod-é (protected by \"prod-?\"); run them through a maintenance change instead"
    );
    let report = JS.assert_agrees(
        &accented.path().display().to_string(),
        &["fail-environments=prod-??,prod-é"],
        1,
    );
    assert!(
        messages(&report)[0].contains(r#"(protected by "prod-é")"#),
        "{:?}",
        messages(&report)
    );
    let crab = temp_file(
        release_json(
            "prod-🦀",
            "PROD",
            &[("mysql", "orders", "datastores/🦀/orders", "DELETE")],
        ),
        ".json",
    );
    let report = JS.assert_agrees(
        &crab.path().display().to_string(),
        &[
            "protected-types=",
            "protected-paths=datastores/?/*",
            "fail-environments=prod-??,prod-?",
        ],
        1,
    );
    assert!(
        messages(&report)[0].contains(r#"(protected by "prod-?")"#),
        "{:?}",
        messages(&report)
    );
    let invisible = temp_file(
        release_json(
            "prod\u{200b}eu",
            "PROD",
            &[("mysql", "orders", "datastores/orders", "DELETE")],
        ),
        ".json",
    );
    let report = JS.assert_agrees(
        &invisible.path().display().to_string(),
        &["fail-environments=prod\u{200b}*"],
        1,
    );
    assert!(
        messages(&report)[0].contains(r#"(protected by "prod\u{200b}*")"#),
        "{:?}",
        messages(&report)
    );
}

#[test]
fn invalid_settings_get_the_same_errors() {
    JS.assert_settings_errors_agree(&SETTINGS_ERRORS);
    JS.assert_settings_errors_agree(&[
        (
            "change-types= , ",
            "setting 'change-types': expected a comma-separated list with at least one item, got an empty value",
        ),
        (
            "min-approvals=4294967296",
            "setting 'min-approvals': expected a whole number from 0 to 4294967295, got \"4294967296\"",
        ),
    ]);

    // Values quoted with escapes: a tab, a quote and a zero-width space.
    let report = JS.assert_agrees(
        &example_release("staging-update.json"),
        &["change-types=DEL\tE\"TE\u{200b}"],
        3,
    );
    let error = report["error"].as_str().expect("error message");
    assert!(
        error.contains(r#"unknown change type "DEL\tE\"TE\u{200b}""#),
        "{error}"
    );
}

#[test]
fn a_large_release_gets_the_same_decision_under_default_limits() {
    // The engine is interpreted: about 0.2 million fuel per resource (half of
    // it in the generated bindings that copy the release into JS objects), so
    // 5,000 resources stay well inside the default 2,000,000,000 per call.
    let report = JS.assert_large_release_agrees();
    let fuel = policy_section(&report)["fuel_used"]
        .as_u64()
        .expect("fuel_used");
    assert!(fuel < 2_000_000_000, "fuel {fuel}");
}

/// `gatehouse inspect` shows what a reviewer must know: the component imports
/// only the Gatehouse host interface and its types (every WASI feature of the
/// engine is disabled at build time), and says it was made by ComponentizeJS.
#[test]
fn the_component_imports_only_the_gatehouse_host() {
    let run = gatehouse([
        "inspect".to_string(),
        "--output".into(),
        "json".into(),
        policy(JS.policy).display().to_string(),
    ]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.json();
    assert_eq!(report["load"]["ok"], true, "{report:#}");
    assert_eq!(report["refused_imports"], json!([]), "{report:#}");
    let mut names = Vec::new();
    for group in report["imports"].as_array().expect("imports array") {
        for import in group["imports"].as_array().expect("group imports") {
            let name = import["name"].as_str().expect("import name");
            assert!(
                ["gatehouse", "type"].contains(&group["class"].as_str().unwrap_or("")),
                "unexpected import {name} in class {}",
                group["class"]
            );
            names.push(name.to_string());
        }
    }
    // gatehouse:policy@0.2.0: the release is read through the host's handle.
    for wanted in [
        "gatehouse:policy/host@0.2.0",
        "gatehouse:policy/input@0.2.0",
    ] {
        assert!(names.contains(&wanted.to_string()), "{wanted}: {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("wasi:")), "{names:?}");
    let producers = report["producers"].to_string();
    assert!(producers.contains("ComponentizeJS"), "{producers}");
    assert!(producers.contains("JavaScript"), "{producers}");
}

/// The Rust policy's own `gatehouse test` suite passes, case for case, with the
/// JavaScript policy in its place (`--policy`), and every case in it runs.
#[test]
fn the_rust_twins_test_suite_passes_with_the_js_policy() {
    JS.assert_rust_suite_passes();
}
