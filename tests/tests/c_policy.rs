//! A real C policy, built by Debian's clang 14 against wit-bindgen's C bindings
//! and componentized with the WASI preview-1 adapter, under the default sandbox
//! limits: `example-policies/destructive-changes-c` must decide exactly as its
//! Rust twin `destructive-changes` on the same releases and settings — the same
//! exit codes, verdicts, reasons (messages and resource paths), approver groups,
//! minimum approvals and settings error messages. The comparison and the cases
//! every twin shares are in `gatehouse_e2e::twins`; this file adds C's glob,
//! trimming and quoting edge cases and its bad numbers. The component is small
//! (about 30 KB) and compiles in milliseconds, so the cases can be many.

use gatehouse_e2e::twins::{SETTINGS_ERRORS, Twin, example_release, messages, policy_section};
use gatehouse_e2e::{policy, release_json, temp_file};
use serde_json::json;

const C: Twin = Twin {
    policy: "destructive-changes-c",
    language: "C",
};

#[test]
fn example_releases_get_the_same_decisions() {
    let report = C.assert_example_releases_agree();
    assert_eq!(
        policy_section(&report)["grants"],
        json!({"read_dirs": [], "env": []}),
        "the C policy needs no grants"
    );
}

#[test]
fn settings_variations_get_the_same_decisions() {
    C.assert_settings_variations_agree();
}

#[test]
fn globs_trimming_and_quoting_match_the_rust_sdk() {
    // Non-ASCII text, `?` on multi-byte characters (one character, as in
    // the SDK: `db.?` matches `db.ü`, `db.??` does not), `**` at the start,
    // middle and end, stars spanning dots, and empty segments.
    let release = temp_file(
        release_json(
            "prod\t\"eu\"",
            "PROD",
            &[
                ("aws_db_instance", "a", "x/y/z", "DELETE"),
                ("db.ü", "b", "a//b", "DELETE"),
                ("cache", "c", "deep/a/b/c/data", "RECREATE"),
                ("cache", "d", "data", "REPLACE"),
                ("queue", "e", "q/1", "DELETE"),
                ("ü", "f", "w/ü", "DELETE"),
            ],
        ),
        ".json",
    );
    let release = release.path().display().to_string();
    // (A custom `fail-environments` keeps `prod\t"eu"` out of the default `prod*`.)
    for (settings, code) in [
        (
            &[
                "protected-types=*_db_*,db.??",
                "protected-paths=**/data",
                "fail-environments=qa",
            ][..],
            2,
        ),
        (
            &[
                "protected-types=aws*instance",
                "protected-paths=a//b,deep/**/c/*",
                "fail-environments=qa",
            ],
            2,
        ),
        (
            &[
                "protected-types=?",
                "protected-paths=**",
                "fail-environments=qa",
            ],
            2,
        ),
        (
            &[
                "protected-types=??",
                "protected-paths=q/*/**",
                "fail-environments=qa",
            ],
            2,
        ),
        (&["protected-types=*", "fail-environments=qa,prod*,*"], 1),
        // Unicode White_Space around items is trimmed, as Rust's `str::trim` does.
        (
            &[
                "protected-types=\u{a0}queue\u{3000}, \u{2003}cache",
                "min-approvals=\u{205f}+7\u{85}",
                "fail-environments=qa",
            ],
            2,
        ),
    ] {
        C.assert_agrees(&release, settings, code);
    }
    // `?` is one character however many bytes it takes.
    for (types, code, reasons) in [
        (
            "db.?,?",
            2,
            ["DELETE of db.ü a//b", "DELETE of ü w/ü"].as_slice(),
        ),
        (
            "db.??,??",
            0,
            &["no destructive change to a protected resource"],
        ),
    ] {
        let settings = [&format!("protected-types={types}"), "fail-environments=qa"];
        let report = C.assert_agrees(&release, &settings, code);
        assert_eq!(messages(&report), reasons, "{types}");
    }
    // The failing environment and the glob are quoted as Rust's `{:?}` does.
    let report = C.assert_agrees(
        &release,
        &["fail-environments=prod?\"eu\"", "protected-types=queue"],
        1,
    );
    assert_eq!(
        messages(&report)[0],
        "1 destructive change to protected resources in environment prod\t\"eu\" (protected by \"prod?\\\"eu\\\"\"); run them through a maintenance change instead"
    );
}

#[test]
fn invalid_settings_get_the_same_errors() {
    C.assert_settings_errors_agree(&SETTINGS_ERRORS);
    C.assert_settings_errors_agree(&[
        (
            "change-types= , ",
            "setting 'change-types': expected a comma-separated list with at least one item, got an empty value",
        ),
        (
            "change-types=de\"le\\te\u{200b}",
            "setting 'change-types': unknown change type \"de\\\"le\\\\te\\u{200b}\"",
        ),
        (
            "min-approvals=4294967296",
            "setting 'min-approvals': expected a whole number from 0 to 4294967295, got \"4294967296\"",
        ),
        (
            "min-approvals=+",
            "setting 'min-approvals': expected a whole number from 0 to 4294967295, got \"+\"",
        ),
        (
            "min-approvals=-1",
            "setting 'min-approvals': expected a whole number from 0 to 4294967295, got \"-1\"",
        ),
        (
            "min-approvals=0",
            "setting 'min-approvals': must be at least 1",
        ),
    ]);
    // The largest value is accepted.
    C.assert_agrees(
        &example_release("staging-recreate-database.json"),
        &["min-approvals=4294967295"],
        2,
    );
}

#[test]
fn a_large_release_gets_the_same_decision_under_default_limits() {
    C.assert_large_release_agrees();
}

/// The component imports only the Gatehouse host and input interfaces (the
/// 0.2.0 world) and their types: no
/// WASI at all (the preview-1 adapter keeps only what the module uses, and the
/// policy uses nothing), so it runs without any grant.
#[test]
fn the_component_imports_only_the_gatehouse_host() {
    use wasmparser::{Parser, Payload};
    let bytes = std::fs::read(policy(C.policy)).expect("read the C policy");
    let mut depth = 0usize;
    let mut imports = Vec::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.expect("a valid component") {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    imports.push(import.expect("import").name.name.to_string());
                }
            }
            _ => {}
        }
    }
    // gatehouse:policy@0.2.0: the release is read through the `input`
    // interface's borrowed handle.
    for wanted in [
        "gatehouse:policy/host@0.2.0",
        "gatehouse:policy/input@0.2.0",
    ] {
        assert!(imports.contains(&wanted.to_string()), "{imports:?}");
    }
    for name in &imports {
        assert!(
            name.starts_with("gatehouse:policy/") || !name.contains(':'),
            "unexpected import {name} (all: {imports:?})"
        );
    }
}

/// The Rust policy's own `gatehouse test` suite passes, case for case, with the
/// C policy in its place (`--policy`), and every case in it runs.
#[test]
fn the_rust_twins_test_suite_passes_with_the_c_policy() {
    C.assert_rust_suite_passes();
}
