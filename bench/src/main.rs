//! `gatehouse-bench`: the benchmarks of docs/performance.md, on this machine.
//!
//! ```text
//! bash scripts/build-policies.sh
//! cargo build --release -p gatehouse -p gatehouse-bench
//! cargo run --release -p gatehouse-bench -- [--quick] [--only SECTION,...] [--sizes N,...] [--json FILE]
//! ```
//!
//! Sections: `input` (text → release, digests and record JSON: what a decision
//! pays before any policy runs), `inproc` (the Rust examples in-process, 1 to 100k resources),
//! `twins` (the Python and JavaScript destructive-changes), `rego` (the
//! reference Rego rules in regorus against ours, interleaved), `breakdown`
//! (where one evaluation's time goes), `cli` (`gatehouse eval` with a warm
//! compile cache against the Facets Python hook, interleaved) and `rss`
//! (wall time and peak RSS of `gatehouse eval` on the largest release), and
//! `serve` (real `gatehouse serve` replicas on SQLite and PostgreSQL under
//! 1, 8 and 32 keep-alive clients: `GATEHOUSE_BIN=target/release/gatehouse`).
//! Every table is Markdown on stdout; `--json` also writes the numbers.

mod cli;
mod generate;
mod inproc;
mod input;
mod rego;
mod report;
mod serve;
mod shared;
mod stats;

use gatehouse_core::runtime::cache::CacheSetting;
use gatehouse_core::runtime::{Grants, Limits, RunOptions, Runtime};
use inproc::Subject;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The Rust example policies, in target/policies/.
pub const RUST_POLICIES: [&str; 5] = [
    "stream-approval",
    "destructive-changes",
    "change-budget",
    "approval-quorum",
    "release-window",
];

/// Release sizes measured by default.
const SIZES: [usize; 6] = [1, 10, 100, 1_000, 10_000, 100_000];

/// Sizes of the CLI-against-hook comparison (those at most the largest size asked for).
const CLI_SIZES: [usize; 3] = [10, 1_000, 100_000];

/// The evaluation time: a Monday inside release-window's default window,
/// after the generated approvals.
pub const NOW: &str = "2026-11-23T10:00:00Z";

const SECTIONS: [&str; 8] = [
    "input",
    "inproc",
    "twins",
    "rego",
    "breakdown",
    "cli",
    "rss",
    "serve",
];

const USAGE: &str = "usage: cargo run --release -p gatehouse-bench -- [--quick] [--only SECTION,...] [--sizes N,...] [--json FILE]
sections: input, inproc, twins, rego, breakdown, cli, rss, serve (default: all)
--quick   about a tenth of the time per measurement (a smoke run, not numbers to publish)
--sizes   release sizes in resources (default 1,10,100,1000,10000,100000)
--json    also write every number to FILE
Needs target/policies/*.wasm (bash scripts/build-policies.sh) and, for cli and rss,
target/release/gatehouse, which the bench builds first (cargo build --release -p gatehouse)
unless GATEHOUSE_BIN names the binary to measure. rego, cli and the hook row of rss need
../shared beside the repository (GATEHOUSE_SHARED_DIR names another directory) and say
they skip without it. serve starts GATEHOUSE_BIN (required for it: the binary
to measure, e.g. target/release/gatehouse) as `gatehouse serve` on SQLite and on a
PostgreSQL cluster it starts (skipped when PostgreSQL is not installed).";

/// What every section needs: options, inputs and paths.
pub struct Bench {
    /// `--quick`.
    pub quick: bool,
    /// Release sizes to measure.
    pub sizes: Vec<usize>,
    texts: BTreeMap<usize, String>,
    /// Options of every in-process evaluation (default limits, no grants).
    pub options: RunOptions,
    /// The repository.
    pub root: PathBuf,
    /// `../shared` beside the repository (or `GATEHOUSE_SHARED_DIR`), or why
    /// it is not there: `rego`, `cli` and the hook row of `rss` need it.
    pub shared: shared::Shared,
    /// The bench's own compile cache (in-process and CLI).
    pub cache_dir: PathBuf,
    /// The `gatehouse` binary for the CLI sections.
    pub gatehouse_bin: PathBuf,
}

impl Bench {
    /// The generated release JSON of `n` resources.
    pub fn text(&self, n: usize) -> &str {
        self.texts.get(&n).map(String::as_str).unwrap_or_default()
    }

    /// target/policies/NAME.wasm.
    pub fn policy(&self, name: &str) -> PathBuf {
        self.root
            .join("target")
            .join("policies")
            .join(format!("{name}.wasm"))
    }

    /// Writes the release of `n` resources to target/bench/ and returns its path.
    pub fn input_file(&self, n: usize) -> Result<PathBuf, String> {
        let path = self.work_dir().join(format!("release-{n}.json"));
        let text = match self.texts.get(&n) {
            Some(text) => text.clone(),
            None => generate::release_json(n),
        };
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }

    fn work_dir(&self) -> PathBuf {
        self.root.join("target").join("bench")
    }
}

/// `1`, `10`, `1k`, `100k`.
pub fn size_label(n: usize) -> String {
    if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

struct Args {
    quick: bool,
    only: Vec<String>,
    sizes: Vec<usize>,
    json: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        quick: false,
        only: Vec::new(),
        sizes: SIZES.to_vec(),
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--only" => {
                for section in value("--only")?.split(',').map(str::trim) {
                    if !SECTIONS.contains(&section) {
                        return Err(format!(
                            "--only: unknown section {section:?}; expected some of {}",
                            SECTIONS.join(", ")
                        ));
                    }
                    args.only.push(section.to_string());
                }
            }
            "--sizes" => {
                args.sizes = value("--sizes")?
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .replace('_', "")
                            .parse::<usize>()
                            .map_err(|_| format!("--sizes: {s:?} is not a whole number"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--json" => args.json = Some(PathBuf::from(value("--json")?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// The `gatehouse` binary's allocator (cli/src/main.rs), so that the
/// in-process sections measure what `gatehouse eval` and `gatehouse serve`
/// run with; regorus, in the same process, runs with it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("gatehouse-bench: {error}\n{USAGE}");
            return ExitCode::from(3);
        }
    };
    // The measurements run on a thread with the evaluation stack, declared
    // so, as `gatehouse serve`'s evaluation threads are: evaluations run on
    // it directly, without the hand-off to a worker thread.
    let measured = std::thread::Builder::new()
        .name("gatehouse-bench".into())
        .stack_size(gatehouse_core::runtime::EVALUATION_THREAD_STACK)
        .spawn(move || {
            gatehouse_core::runtime::declare_big_stack_thread();
            run(&args)
        })
        .map_err(|e| format!("cannot start the measuring thread: {e}"))
        .and_then(|thread| {
            thread
                .join()
                .unwrap_or_else(|_| Err("the measuring thread panicked".into()))
        });
    match measured {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gatehouse-bench: {error}");
            ExitCode::from(3)
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .map_err(|e| format!("cannot find the repository: {e}"))?;
    let wanted = |section: &str| args.only.is_empty() || args.only.iter().any(|s| s == section);
    let now = gatehouse_core::time::parse_rfc3339(NOW)?;
    let bench = Bench {
        quick: args.quick,
        sizes: args.sizes.clone(),
        texts: args
            .sizes
            .iter()
            .map(|&n| (n, generate::release_json(n)))
            .collect(),
        options: RunOptions::new(now, Limits::default(), Grants::default()),
        shared: shared::locate(&root),
        cache_dir: root.join("target").join("bench").join("cache"),
        gatehouse_bin: std::env::var_os("GATEHOUSE_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target").join("release").join("gatehouse")),
        root,
    };
    create_private_dir(&bench.cache_dir)?;

    let machine = report::machine();
    println!("## Results: gatehouse-bench\n");
    println!(
        "{} CPUs ({}), {} GiB; kernel {}; load average {}; {}.\n",
        machine["cpus"],
        machine["cpu_model"].as_str().unwrap_or_default(),
        machine["memory_gib"],
        machine["kernel"].as_str().unwrap_or_default(),
        machine["load_average"].as_str().unwrap_or_default(),
        if bench.quick {
            "--quick: smoke run, not numbers to publish"
        } else {
            "full run"
        },
    );

    let mut sections = serde_json::Map::new();
    if wanted("input") {
        sections.insert("input".into(), input::run(&bench, 0.5));
    }
    let needs_runtime = ["inproc", "twins", "rego", "breakdown"]
        .iter()
        .any(|s| wanted(s));
    if needs_runtime {
        let started = std::time::Instant::now();
        let runtime = Runtime::builder()
            .limits(&bench.options.limits)
            .cache(CacheSetting::Dir(bench.cache_dir.clone()))
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"))?;
        let runtime_ms = started.elapsed().as_secs_f64() * 1e3;
        println!(
            "_`Runtime::builder().build()` (engine with the pooling allocator, epoch ticker, linker, cache): {runtime_ms:.2} ms_\n"
        );
        if let Some(warning) = runtime.cache_warning() {
            eprintln!("gatehouse-bench: warning: {warning}");
        }
        let (rust, loads) = load(&bench, &runtime, &RUST_POLICIES, None)?;
        let mut load_rows = loads;
        if wanted("inproc") {
            sections.insert(
                "inproc".into(),
                inproc::run(&bench, "In-process evaluation: Rust examples", &rust, 1.5),
            );
        }
        if wanted("twins") {
            let (twins, loads) = load(
                &bench,
                &runtime,
                &["destructive-changes-py", "destructive-changes-js"],
                Some(TWIN_FUEL),
            )?;
            load_rows.extend(loads);
            sections.insert(
                "twins".into(),
                inproc::run(
                    &bench,
                    "In-process evaluation: Python and JavaScript twins of destructive-changes (fuel 40,000,000,000)",
                    &twins,
                    1.5,
                ),
            );
        }
        let by_name = |name: &str| rust.iter().find(|s| s.name == name);
        if wanted("rego")
            && let (Some(stream), Some(destructive)) =
                (by_name("stream-approval"), by_name("destructive-changes"))
        {
            let pairs = [
                rego::Pair {
                    rule: "data.gate.stream_approval",
                    file: "stream_approval.rego",
                    ours: stream,
                },
                rego::Pair {
                    rule: "data.gate.destructive_changes",
                    file: "destructive_changes.rego",
                    ours: destructive,
                },
            ];
            sections.insert("rego".into(), rego::run(&bench, &pairs, 2.0));
        }
        if wanted("breakdown") {
            let subjects: Vec<&Subject> = ["stream-approval", "destructive-changes"]
                .iter()
                .filter_map(|n| by_name(n))
                .collect();
            sections.insert(
                "breakdown".into(),
                inproc::breakdown(&bench, &subjects, 0.3),
            );
        }
        println!("### Loading policies (compile cache in target/bench/cache)\n");
        let mut table =
            report::Table::new(&["policy", "first load", "outcome", "second load (hit)"]);
        for row in &load_rows {
            let ms = |key: &str| {
                row[key]
                    .as_f64()
                    .map(|ms| format!("{ms:.2} ms"))
                    .unwrap_or_default()
            };
            table.row(vec![
                row["policy"].as_str().unwrap_or_default().to_string(),
                ms("load_ms"),
                row["cache"].as_str().unwrap_or("skipped").to_string(),
                ms("reload_ms"),
            ]);
        }
        table.print();
        sections.insert(
            "policy_loads".into(),
            json!({"runtime_ms": runtime_ms, "rows": load_rows}),
        );
    }
    let largest = bench.sizes.iter().copied().max().unwrap_or(0);
    if (wanted("cli") || wanted("rss")) && std::env::var_os("GATEHOUSE_BIN").is_none() {
        build_gatehouse(&bench.root);
    }
    if wanted("cli") {
        let sizes: Vec<usize> = CLI_SIZES.into_iter().filter(|&n| n <= largest).collect();
        sections.insert("cli".into(), cli::versus_hook(&bench, &sizes, 5.0));
    }
    if wanted("serve") {
        if std::env::var_os("GATEHOUSE_BIN").is_none() {
            return Err("the serve section needs GATEHOUSE_BIN=target/release/gatehouse (build it with cargo build --release -p gatehouse)".into());
        }
        let seconds = if bench.quick { 0.5 } else { 5.0 };
        sections.insert("serve".into(), serve::run(&bench, seconds));
    }
    if wanted("rss") && largest > 0 {
        let runs = if bench.quick { 2 } else { 5 };
        sections.insert("rss".into(), cli::large(&bench, largest, runs));
    }
    println!("_load average at the end: {}_", report::load_average());

    if let Some(path) = &args.json {
        let document = json!({
            "machine": machine,
            "quick": bench.quick,
            "sizes": bench.sizes,
            "load_average_end": report::load_average(),
            "sections": sections,
        });
        let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("--json {}: {e}", path.display()))?;
        eprintln!("gatehouse-bench: wrote {}", path.display());
    }
    Ok(())
}

/// Fuel per call for the Python and JavaScript twins: 20 times the default,
/// which they exhaust between 10,000 and 100,000 resources.
const TWIN_FUEL: u64 = 20 * Limits::DEFAULT_FUEL;

/// Loads policies from target/policies/ (twice: the second load times a
/// cache hit). A missing Rust example (`fuel` is `None`) is an error (build
/// them first); a missing twin is skipped with a note.
fn load(
    bench: &Bench,
    runtime: &Runtime,
    names: &[&str],
    fuel: Option<u64>,
) -> Result<(Vec<Subject>, Vec<Value>), String> {
    let required = fuel.is_none();
    let mut subjects = Vec::new();
    let mut rows = Vec::new();
    for name in names {
        let path = bench.policy(name);
        if !path.exists() {
            if required {
                return Err(format!(
                    "{} is missing; build the policies first: bash scripts/build-policies.sh",
                    path.display()
                ));
            }
            println!(
                "_{name}: skipped, {} is missing (bash scripts/build-policies.sh builds it)_\n",
                path.display()
            );
            rows.push(json!({"policy": name, "skipped": "missing"}));
            continue;
        }
        let started = std::time::Instant::now();
        let first = runtime.load(&path).map_err(|e| e.to_string())?;
        let load_ms = started.elapsed().as_secs_f64() * 1e3;
        let started = std::time::Instant::now();
        let policy = runtime.load(&path).map_err(|e| e.to_string())?;
        let reload_ms = started.elapsed().as_secs_f64() * 1e3;
        rows.push(json!({
            "policy": name,
            "cache": format!("{:?}", first.compile_info().cache),
            "load_ms": load_ms,
            "reload_ms": reload_ms,
            "reload_cache": format!("{:?}", policy.compile_info().cache),
        }));
        let mut options = bench.options.clone();
        if let Some(fuel) = fuel {
            options.limits.fuel = fuel;
        }
        subjects.push(Subject {
            name: name.to_string(),
            settings: inproc::settings_for(name),
            options,
            policy,
        });
    }
    Ok((subjects, rows))
}

/// Builds the binary the CLI sections measure, so that they never time a
/// stale one: `cargo build --release -p gatehouse` (a no-op when it is up to
/// date). A failure is reported; the sections then skip if there is no binary.
fn build_gatehouse(root: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("gatehouse-bench: cargo build --release -p gatehouse (for the CLI sections)");
    let status = std::process::Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "gatehouse"])
        .current_dir(root)
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => {
            eprintln!("gatehouse-bench: warning: cargo build --release -p gatehouse: {status}")
        }
        Err(e) => eprintln!("gatehouse-bench: warning: cannot run cargo: {e}"),
    }
}

/// Creates the bench's cache directory, readable and writable by its owner only
/// (the compile cache refuses directories others may write to).
fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot restrict {}: {e}", dir.display()))
}
