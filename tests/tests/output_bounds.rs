//! Bounded output: whatever a policy returns within the host's caps, every
//! output format (text, json, github) writes at most a documented constant
//! times what it returned plus a fixed overhead, GitHub's own limits hold
//! (at most 10 annotations of each kind, a step summary below 1 MiB), the
//! human formats show at most 4,096 characters of one field, and the
//! process's peak resident memory stays within the policy memory limit plus
//! 128 MiB (measured as in hostile.rs, with [`run_bounded_with_env`]).
//!
//! "What it returned" counts the text of the decision and of `describe`
//! plus [`ITEM_BYTES`] per reason and approver group (the size of one in
//! the component model's canonical ABI: a reason is a string and an
//! optional string, 20 bytes on wasm32).
//!
//! | case (fixture `forge-policy`) | returned |
//! |---|---|
//! | one 16 MiB reason of control characters | 16 MiB |
//! | 100,000 empty reasons, 128-byte hostile name | 2 MB |
//! | 100,000 reasons of 160 bytes of control characters | 18 MB |
//! | 200,000 approver groups | 4.8 MB |
//! | 16 MiB of instructions of control characters | 16 MiB |
//!
//! Run `cargo test -p gatehouse-e2e --test output_bounds -- --nocapture`
//! to see each run's output size, time and peak memory.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    BoundedRun, assert_no_host_panic, fixture_policy, release_json, run_bounded_with_env, temp_file,
};
use std::time::Duration;

/// The host's own memory on top of the policy's (as in hostile.rs).
const HOST_OVERHEAD_BYTES: u64 = 128 << 20;

/// The default `--memory-mib`.
const DEFAULT_MEMORY_MIB: u64 = 256;

/// The hang guard: writing ~200 MB of JSON from a debug build on a loaded
/// two-core machine takes a few seconds.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// Bytes counted per reason or approver group returned.
const ITEM_BYTES: u64 = 20;

/// The most a `describe` answer may carry: a 128-byte name, a 64-byte
/// version and a 4 KiB description.
const DESCRIBE_MAX: u64 = 128 + 64 + 4096;

/// Output bytes allowed per byte returned, by format: 6 for text and
/// github (an escaped control character is six bytes, `\u{1b}`); 12 for
/// JSON, whose escape of a control character is also six bytes
/// (`\u001b`) and which lists a required approval's groups and
/// instructions twice (in the policy and in `required_approvals`).
fn bytes_per_byte(format: &str) -> u64 {
    if format == "json" { 12 } else { 6 }
}

/// The fixed part of the bound: headings, field names, the JSON's
/// structure, the annotations' titles.
const FIXED_BYTES: u64 = 64 << 10;

/// GitHub's step-summary cap.
const SUMMARY_CAP: usize = 1 << 20;

/// One hostile decision.
struct Case {
    label: &'static str,
    settings: Vec<String>,
    returned: u64,
    exit_code: i32,
    /// One field is far longer than the human formats show.
    huge_field: bool,
}

/// What one run produced, with the GitHub files.
struct Output {
    bounded: BoundedRun,
    summary: String,
    outputs: String,
}

fn run(case: &Case, format: &str) -> Output {
    let input = temp_file(
        release_json(
            "qa",
            "QA",
            &[("mysql", "orders", "datastores/orders", "CREATE")],
        ),
        ".json",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs.txt");
    let mut args = vec![
        "--no-cache".to_string(),
        "eval".into(),
        "--policy".into(),
        fixture_policy("forge-policy").display().to_string(),
        "--input".into(),
        input.path().display().to_string(),
        "--output".into(),
        format.into(),
    ];
    for setting in &case.settings {
        args.extend(["--set".to_string(), setting.clone()]);
    }
    let summary_env = summary.display().to_string();
    let outputs_env = outputs.display().to_string();
    let envs: Vec<(&str, &str)> = if format == "github" {
        vec![
            ("GITHUB_STEP_SUMMARY", summary_env.as_str()),
            ("GITHUB_OUTPUT", outputs_env.as_str()),
        ]
    } else {
        Vec::new()
    };
    let bounded = run_bounded_with_env(&args, &envs, HANG_GUARD);
    eprintln!(
        "{} / {format}: exit {}, {} bytes of stdout, {:.2} s, peak RSS {:.1} MiB",
        case.label,
        bounded.run.code,
        bounded.run.stdout.len(),
        bounded.elapsed.as_secs_f64(),
        bounded.peak_rss_mib()
    );
    Output {
        bounded,
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        outputs: std::fs::read_to_string(&outputs).unwrap_or_default(),
    }
}

/// Runs the case in every format and checks every bound.
fn check(case: &Case) {
    for format in ["text", "json", "github"] {
        let Output {
            bounded,
            summary,
            outputs,
        } = run(case, format);
        let what = format!("{} / {format}", case.label);
        let out = &bounded.run;
        assert_no_host_panic(out);
        assert_eq!(out.code, case.exit_code, "{what}: {}", out.stderr);
        assert!(out.stderr.is_empty(), "{what}: {}", out.stderr);

        let bound = bytes_per_byte(format) * case.returned + FIXED_BYTES;
        let written = out.stdout.len() as u64;
        assert!(
            written <= bound,
            "{what}: {written} bytes of output, more than {} × {} returned + {FIXED_BYTES}",
            bytes_per_byte(format),
            case.returned
        );
        if case.huge_field && format != "json" {
            assert!(
                written <= 1 << 20,
                "{what}: {written} bytes: a huge field must be cut in a human format"
            );
            assert!(
                out.stdout
                    .contains("more characters; the JSON report has the full text)"),
                "{what}: no truncation marker"
            );
        }

        let memory_bound = (DEFAULT_MEMORY_MIB << 20) + HOST_OVERHEAD_BYTES;
        assert!(
            bounded.peak_rss_bytes > 0 && bounded.peak_rss_bytes <= memory_bound,
            "{what}: peak resident memory {:.1} MiB, bound {} MiB",
            bounded.peak_rss_mib(),
            memory_bound >> 20
        );

        if format == "github" {
            assert!(
                summary.len() < SUMMARY_CAP,
                "{what}: a step summary of {} bytes",
                summary.len()
            );
            assert!(summary.starts_with("## "), "{what}: {summary}");
            assert!(outputs.starts_with("verdict="), "{what}: {outputs}");
            for kind in ["::error ", "::warning ", "::notice "] {
                let n = out.stdout.lines().filter(|l| l.starts_with(kind)).count();
                assert!(n <= 10, "{what}: {n} {kind}annotations");
            }
        }
        if format == "json" {
            check_json_is_exact(case, &out.json());
        }
    }
}

/// The JSON report keeps everything the policy returned.
fn check_json_is_exact(case: &Case, report: &serde_json::Value) {
    let policy = &report["policies"][0];
    let count = |key: &str| policy[key].as_array().map_or(0, Vec::len);
    let setting = |key: &str| {
        case.settings
            .iter()
            .find_map(|s| s.strip_prefix(&format!("{key}=")))
    };
    let number = |key: &str| setting(key).and_then(|n| n.parse::<usize>().ok());
    assert_eq!(
        count("reasons"),
        number("count").unwrap_or(1),
        "{}",
        case.label
    );
    if let Some(size) = number("size") {
        let message = policy["reasons"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.len() <= size && message.len() + 4 > size,
            "{}",
            case.label
        );
    }
    if let Some(groups) = number("group-count") {
        assert_eq!(count("approver_groups"), groups, "{}", case.label);
    }
    if let Some(size) = number("instructions-size") {
        let text = policy["instructions"].as_str().unwrap_or_default();
        assert!(
            text.len() <= size && text.len() + 4 > size,
            "{}",
            case.label
        );
    }
}

fn settings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_16_mib_reason_of_control_characters() {
    check(&Case {
        label: "16 MiB reason",
        settings: settings(&["verdict=approve", "message=\u{1}\u{1b}", "size=16777216"]),
        returned: (16 << 20) + ITEM_BYTES + DESCRIBE_MAX,
        exit_code: 0,
        huge_field: true,
    });
}

#[test]
fn a_hundred_thousand_empty_reasons_with_a_128_byte_name() {
    check(&Case {
        label: "100,000 empty reasons",
        settings: settings(&["verdict=approve", "message=", "count=100000"]),
        returned: 100_000 * ITEM_BYTES + DESCRIBE_MAX,
        exit_code: 0,
        huge_field: false,
    });
}

#[test]
fn a_hundred_thousand_reasons_of_160_bytes() {
    check(&Case {
        label: "100,000 reasons of 160 bytes",
        settings: settings(&[
            "verdict=fail",
            "message=\u{1b}[31m\u{7}",
            "size=160",
            "count=100000",
        ]),
        returned: 100_000 * (160 + ITEM_BYTES) + DESCRIBE_MAX,
        exit_code: 1,
        huge_field: false,
    });
}

#[test]
fn two_hundred_thousand_approver_groups() {
    check(&Case {
        label: "200,000 approver groups",
        settings: settings(&[
            "verdict=require-approval",
            "message=x",
            "group=sre\u{1}",
            "group-count=200000",
        ]),
        returned: 1 + ITEM_BYTES + 200_000 * (4 + ITEM_BYTES) + DESCRIBE_MAX,
        exit_code: 2,
        huge_field: false,
    });
}

#[test]
fn sixteen_mib_of_instructions() {
    check(&Case {
        label: "16 MiB of instructions",
        settings: settings(&[
            "verdict=require-approval",
            "message=x",
            "instructions=\u{1}\u{1b}",
            "instructions-size=16777215",
        ]),
        returned: (16 << 20) + ITEM_BYTES + DESCRIBE_MAX,
        exit_code: 2,
        huge_field: true,
    });
}
