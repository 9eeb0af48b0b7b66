//! Fuzzes input parsing: arbitrary bytes, through format detection and every
//! adapter, must give a release or a clear error, never a panic, and a parsed release must survive the trip
//! back to JSON and into the policy-facing (WIT) shape unchanged.

#![no_main]

use gatehouse_core::release::{InputOptions, ParseOptions, parse_release, read_release};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Every format through detection: Terraform plans, Pulumi previews and
    // releases must each give a release or an error, never a panic.
    let input_options = InputOptions {
        environment: Some("fuzz".into()),
        release_stream: Some("FUZZ".into()),
        ..InputOptions::default()
    };
    let _ = read_release(data, "fuzz", &input_options);

    let options = ParseOptions::default();
    let Ok((release, _warnings)) = parse_release(data, "fuzz", &options) else {
        return;
    };
    let json = serde_json::to_vec(&release).expect("a parsed release serialises");
    let (again, warnings) = parse_release(&json, "round-trip", &options).expect("round trip parses");
    assert_eq!(release, again, "round trip changed the release");
    assert!(warnings.is_empty(), "serialised release has unknown fields: {warnings:?}");
    let lowered = gatehouse_core::runtime::convert::release_to_wit(&release);
    assert_eq!(lowered.resources.len(), release.resources.len());
});
