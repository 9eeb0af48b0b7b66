//! The input path on its own: what every decision pays to turn the submitted
//! text into what the policies read and the audit record keeps, before any
//! policy runs. Each step is timed alone on the generated release of each
//! size; "input path" runs them one after another, as `gatehouse eval` and
//! `gatehouse serve` do (the text's sha256 and the release's digest go into
//! the report and the record, the release's JSON into the record or, on the
//! server, the store).

use crate::report::{Table, heading};
use crate::stats::{Budget, Summary, fmt, micros};
use crate::{Bench, size_label};
use gatehouse_core::evaluation::release_record_json;
use gatehouse_core::release::{InputOptions, Release, read_release};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

/// Measures each step at each size, `seconds` per step.
pub fn run(bench: &Bench, seconds: f64) -> Value {
    let load = heading("The input path (text → release, digests, record JSON)");
    println!(
        "Medians, each step timed on its own. \"JSON scan\": serde_json validating the text without building anything (a floor for any parse with it); `read_release`: JSON text → release model (detection, parse, checks); \"text sha256\": the submitted bytes' hash (the report's `input_sha256`); `digest`: the release's canonical digest (what approvals sign); \"record JSON\": the release as the audit record (or the server's store) keeps it; \"input path\": the four in a row, what a decision pays before any policy runs.\n"
    );
    let mut table = Table::new(&[
        "resources",
        "text",
        "JSON scan",
        "read_release",
        "text sha256",
        "digest",
        "record JSON",
        "input path",
        "per resource",
    ]);
    let mut rows = Vec::new();
    let budget = Budget::new(bench.quick, seconds);
    for &n in &bench.sizes {
        let text = bench.text(n).as_bytes();
        let parse = || read_release(text, "generated", &InputOptions::default()).map(|(r, _)| r);
        let release: Release = match parse() {
            Ok(release) => release,
            Err(error) => {
                let error = error.to_string();
                println!("{}: error: {error}", size_label(n));
                rows.push(json!({"resources": n, "error": error}));
                continue;
            }
        };
        let scan = median(budget, || {
            std::hint::black_box(serde_json::from_slice::<serde::de::IgnoredAny>(text).ok());
        });
        let read = median(budget, || {
            std::hint::black_box(parse().ok());
        });
        let sha = median(budget, || {
            std::hint::black_box(Sha256::digest(text));
        });
        let digest = median(budget, || {
            std::hint::black_box(release.digest());
        });
        let record = median(budget, || {
            std::hint::black_box(release_record_json(&release).ok());
        });
        let whole = median(budget, || {
            if let Ok(release) = parse() {
                std::hint::black_box(Sha256::digest(text));
                std::hint::black_box(release.digest());
                std::hint::black_box(release_record_json(&release).ok());
            }
        });
        let per_resource = whole / u32::try_from(n.max(1)).unwrap_or(u32::MAX);
        table.row(vec![
            size_label(n),
            format!("{} KB", text.len().div_ceil(1024)),
            fmt(scan),
            fmt(read),
            fmt(sha),
            fmt(digest),
            fmt(record),
            fmt(whole),
            fmt(per_resource),
        ]);
        rows.push(json!({
            "resources": n,
            "bytes": text.len(),
            "json_scan_us": micros(scan),
            "read_release_us": micros(read),
            "text_sha256_us": micros(sha),
            "digest_us": micros(digest),
            "record_json_us": micros(record),
            "input_path_us": micros(whole),
        }));
    }
    table.print();
    json!({"load_average": load, "rows": rows})
}

/// Median wall time of `f` under `budget`.
fn median(budget: Budget, mut f: impl FnMut()) -> Duration {
    f();
    let mut samples = Vec::new();
    let started = Instant::now();
    while budget.more(started, samples.len()) {
        let at = Instant::now();
        f();
        samples.push(at.elapsed());
    }
    Summary::of(&samples).map_or(Duration::ZERO, |s| s.median)
}
