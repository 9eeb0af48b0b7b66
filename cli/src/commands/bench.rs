//! `gatehouse bench`: where the time of one gate decision goes, phase by
//! phase, measured in this process on this machine: reading the input, cold
//! compilation, loading from the compile cache, instantiation, the policy's
//! calls, and the whole evaluation.

use crate::args::{OutputFormat, ReleaseArgs};
use crate::engines::EngineSettings;
use gatehouse_core::error::Error;
use gatehouse_core::runtime::cache::{CacheOutcome, CacheSetting};
use gatehouse_core::runtime::{LoadedPolicy, RunOptions, Runtime};
use gatehouse_core::settings::{check_assignments, settings_for};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Exit codes of `gatehouse bench`.
pub const BENCH_HELP: &str = "\
Each phase runs --iterations times (compilation --compile-iterations times),
or until it has run for --max-seconds, at least once. Fresh store and instance
for every evaluation, as in `eval`. The compile cache used is a temporary one,
so the user's cache is neither read nor changed.

Phases:
  read       input bytes -> release (JSON parse, adapter, checks)
  compile    wasm -> machine code with Cranelift (no cache)
  cache-load machine code from the compile cache (verified, deserialised)
  instantiate a fresh store and instance
  calls      describe + validate-settings + evaluate, with the release lowered
  evaluate   the whole evaluation as `eval` runs it (instantiate + calls)

Exit codes:
  0  measured (whatever the verdict)
  3  error: bad input, a policy that does not load, or an evaluation error";

/// Arguments of `gatehouse bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The policy component (.wasm) to measure.
    #[arg(long, value_name = "P.wasm")]
    pub policy: PathBuf,

    /// The release change (any input format `eval` takes) and the flags that
    /// shape it.
    #[command(flatten)]
    pub release: ReleaseArgs,

    /// Evaluations (and input reads) to time.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub iterations: u32,

    /// Cold compilations to time (each can take seconds for large policies).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub compile_iterations: u32,

    /// Stop a phase after this many seconds even if iterations remain.
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    pub max_seconds: f64,

    /// A policy setting KEY=VALUE (repeatable), as for eval.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,

    /// The evaluation time (RFC 3339) instead of the clock.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,

    /// Report format (text or json).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// Summary statistics of one phase, in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseStats {
    /// The phase's name.
    pub phase: &'static str,
    /// How many times it was measured.
    pub samples: usize,
    /// Fastest sample.
    pub min_us: f64,
    /// Median sample.
    pub median_us: f64,
    /// 99th percentile (nearest rank).
    pub p99_us: f64,
    /// Mean.
    pub mean_us: f64,
}

impl PhaseStats {
    /// Statistics of `samples` (which must not be empty).
    fn of(phase: &'static str, samples: &mut [Duration]) -> PhaseStats {
        samples.sort_unstable();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let n = samples.len().max(1);
        let rank = |q: f64| {
            let index = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            samples.get(index).copied().map(us).unwrap_or(0.0)
        };
        let total: Duration = samples.iter().sum();
        PhaseStats {
            phase,
            samples: samples.len(),
            min_us: samples.first().copied().map(us).unwrap_or(0.0),
            median_us: rank(0.5),
            p99_us: rank(0.99),
            mean_us: us(total) / n as f64,
        }
    }
}

/// The JSON document `bench --output json` prints.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    /// Always `gatehouse.bench/v1`.
    pub schema: &'static str,
    /// The policy file.
    pub policy: String,
    /// Hex sha256 of the policy.
    pub wasm_sha256: String,
    /// The policy's size in bytes.
    pub wasm_bytes: usize,
    /// The input file.
    pub input: String,
    /// Resources in the release.
    pub resources: usize,
    /// The verdict of every evaluation (they are all the same).
    pub verdict: String,
    /// Fuel one evaluation uses (deterministic).
    pub fuel_used: u64,
    /// One entry per phase.
    pub phases: Vec<PhaseStats>,
}

/// Runs `gatehouse bench`.
pub fn run(args: &BenchArgs, engines: &EngineSettings) -> i32 {
    match bench(args, engines) {
        Ok(report) => {
            match args.output {
                OutputFormat::Json => match serde_json::to_string_pretty(&report) {
                    Ok(json) => println!("{json}"),
                    Err(e) => {
                        eprintln!("gatehouse: error: cannot serialise the report: {e}");
                        return crate::output::EXIT_ERROR;
                    }
                },
                OutputFormat::Text | OutputFormat::Github => print!("{}", render_text(&report)),
            }
            0
        }
        Err(e) => crate::output::report_error(
            &gatehouse_core::report::ErrorReport::from_error(&e),
            args.output,
        ),
    }
}

fn bench(args: &BenchArgs, engines: &EngineSettings) -> Result<BenchReport, Error> {
    if args.iterations == 0 || args.compile_iterations == 0 {
        return Err(Error::Usage(
            "--iterations and --compile-iterations must be at least 1".into(),
        ));
    }
    if !(args.max_seconds.is_finite() && args.max_seconds > 0.0) {
        return Err(Error::Usage(
            "--max-seconds must be a positive number".into(),
        ));
    }
    let budget = Duration::from_secs_f64(args.max_seconds);
    let now = super::evaluation_time(args.now.as_deref())?;
    let assignments = super::parse_assignments(&args.settings)?;

    // read: the input is read once (as `eval` reads it), then parsed repeatedly.
    let request = args.release.request()?;
    let (options, _) = request.options()?;
    let (source, bytes) = gatehouse_core::input::read_input(&request.input, request.max_input_mib)?;
    let (release, _) = gatehouse_core::release::read_release(&bytes, &source, &options)?;
    let mut read = repeat(args.iterations, budget, || {
        let started = Instant::now();
        gatehouse_core::release::read_release(&bytes, &source, &options)?;
        Ok(started.elapsed())
    })?;

    let limits = gatehouse_core::runtime::Limits::default();
    // compile: no cache. One notice for the whole measurement when a compile
    // may take more than a second (stderr; stdout carries only the report).
    if std::fs::metadata(&args.policy)
        .is_ok_and(|m| m.len() >= gatehouse_core::runtime::SLOW_COMPILE_BYTES as u64)
    {
        crate::output::print_notice(&gatehouse_core::runtime::compile_notice(
            &args.policy,
            false,
        ));
    }
    let uncached = Runtime::builder().limits(&limits).build()?;
    let mut compile = repeat(args.compile_iterations, budget, || {
        Ok(uncached.load(&args.policy)?.compile_info().duration)
    })?;
    drop(uncached);

    // cache-load: a private temporary cache, filled once.
    let cache_dir = TempDir::new()?;
    // With the run's cache key (quiet: a cache problem is this command's error).
    let cached = engines
        .quiet_builder()
        .cache(CacheSetting::Dir(cache_dir.path().to_path_buf()))
        .limits(&limits)
        .build()?;
    if let Some(warning) = cached.cache_warning() {
        return Err(Error::Usage(warning.to_string()));
    }
    cached.load(&args.policy)?;
    let mut cache_load = repeat(args.iterations.min(100), budget, || {
        let policy = cached.load(&args.policy)?;
        let info = policy.compile_info();
        if info.cache != CacheOutcome::Hit {
            return Err(Error::Usage(format!(
                "the compile cache did not hit ({}): {}",
                info.cache.as_str(),
                info.warning.as_deref().unwrap_or("no warning")
            )));
        }
        Ok(info.duration)
    })?;
    let policy: LoadedPolicy = cached.load(&args.policy)?;

    let stems = [policy.file_stem()];
    check_assignments(&assignments, &stems).map_err(Error::Usage)?;
    let settings = settings_for(&assignments, &stems[0]).map_err(Error::Usage)?;
    let run_options = RunOptions::new(now, limits, gatehouse_core::runtime::Grants::default())
        .with_release_digest(release.digest());
    let first = policy.evaluate(&release, &settings, &run_options)?;
    let (mut instantiate, mut calls, mut evaluate) = (Vec::new(), Vec::new(), Vec::new());
    repeat(args.iterations, budget, || {
        let started = Instant::now();
        let run = policy.evaluate(&release, &settings, &run_options)?;
        let total = started.elapsed();
        instantiate.push(run.instantiate);
        calls.push(run.duration.saturating_sub(run.instantiate));
        evaluate.push(total);
        Ok(total)
    })?;

    Ok(BenchReport {
        schema: "gatehouse.bench/v1",
        policy: args.policy.display().to_string(),
        wasm_sha256: policy.sha256().to_string(),
        wasm_bytes: policy.size(),
        input: source,
        resources: release.resources.len(),
        verdict: first.decision.verdict.as_str().to_string(),
        fuel_used: first.fuel_used,
        phases: vec![
            PhaseStats::of("read", &mut read),
            PhaseStats::of("compile", &mut compile),
            PhaseStats::of("cache-load", &mut cache_load),
            PhaseStats::of("instantiate", &mut instantiate),
            PhaseStats::of("calls", &mut calls),
            PhaseStats::of("evaluate", &mut evaluate),
        ],
    })
}

/// Runs `measure` up to `iterations` times or until `budget` has passed
/// (at least once), collecting what it returns.
fn repeat(
    iterations: u32,
    budget: Duration,
    mut measure: impl FnMut() -> Result<Duration, Error>,
) -> Result<Vec<Duration>, Error> {
    let started = Instant::now();
    let mut samples = Vec::with_capacity(iterations.min(100_000) as usize);
    for _ in 0..iterations {
        samples.push(measure()?);
        if started.elapsed() > budget {
            break;
        }
    }
    Ok(samples)
}

/// The text report: a header and one row per phase.
fn render_text(report: &BenchReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "policy {} ({} bytes, sha256 {})",
        report.policy, report.wasm_bytes, report.wasm_sha256
    );
    let _ = writeln!(
        out,
        "input {} ({} resources): {}, {} fuel per evaluation",
        report.input, report.resources, report.verdict, report.fuel_used
    );
    let _ = writeln!(
        out,
        "{:<12} {:>8} {:>12} {:>12} {:>12}",
        "phase", "samples", "min", "median", "p99"
    );
    for phase in &report.phases {
        let _ = writeln!(
            out,
            "{:<12} {:>8} {:>12} {:>12} {:>12}",
            phase.phase,
            phase.samples,
            human(phase.min_us),
            human(phase.median_us),
            human(phase.p99_us)
        );
    }
    out
}

/// Microseconds as `12.3 µs`, `4.56 ms` or `7.89 s`.
fn human(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.1} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1_000.0)
    } else {
        format!("{:.2} s", us / 1_000_000.0)
    }
}

/// A private temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, Error> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("gatehouse-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path).map_err(|e| {
            Error::Usage(format!(
                "cannot create the temporary cache directory {}: {e}",
                path.display()
            ))
        })?;
        Ok(TempDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_use_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        samples.reverse();
        let stats = PhaseStats::of("x", &mut samples);
        assert_eq!(stats.samples, 100);
        assert_eq!(stats.min_us, 1.0);
        assert_eq!(stats.median_us, 50.0);
        assert_eq!(stats.p99_us, 99.0);
        assert!((stats.mean_us - 50.5).abs() < 1e-9);
        let one = PhaseStats::of("y", &mut [Duration::from_micros(7)]);
        assert_eq!((one.min_us, one.median_us, one.p99_us), (7.0, 7.0, 7.0));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(12.34), "12.3 µs");
        assert_eq!(human(4_560.0), "4.56 ms");
        assert_eq!(human(7_890_000.0), "7.89 s");
    }

    #[test]
    fn repeat_stops_at_the_budget_but_runs_once() {
        let mut calls = 0;
        let samples = repeat(1000, Duration::ZERO, || {
            calls += 1;
            Ok(Duration::from_micros(1))
        })
        .expect("runs");
        assert_eq!((samples.len(), calls), (1, 1));
    }
}
