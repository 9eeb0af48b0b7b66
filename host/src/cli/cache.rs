//! `gatehouse compile` (fill the compile cache ahead of time) and
//! `gatehouse cache prune` (remove what the cache no longer needs).

use crate::runtime::cache::{CacheOutcome, CacheSetting, CompileCache};
use crate::runtime::{Limits, Runtime};
use std::path::PathBuf;
use std::time::Duration;

/// Exit codes of `gatehouse compile`.
pub const COMPILE_HELP: &str = "\
The cache is keyed by the policy's sha256 and the engine's configuration
(wasmtime version, compiler settings, CPU features): an entry compiled on one
machine is only used by a gatehouse with the same engine. Copying a cache
directory between machines is safe only between machines you trust equally:
its entries are machine code.

Exit codes:
  0  every policy loads and its compiled code is in the cache
  3  a policy could not be loaded or the cache could not be written";

/// Arguments of `gatehouse compile`.
#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// Policy components (.wasm) to compile.
    #[arg(value_name = "POLICY", required = true)]
    pub policies: Vec<PathBuf>,

    /// The cache directory to fill (default: --cache-dir, else the default cache).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Arguments of `gatehouse cache`.
#[derive(Debug, clap::Args)]
pub struct CacheArgs {
    /// What to do with the cache.
    #[command(subcommand)]
    pub command: CacheCommand,
}

/// The `cache` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CacheCommand {
    /// Remove entries this gatehouse will never read (other engine
    /// configurations or versions), entries unused for --older-than days,
    /// and leftovers of interrupted writes.
    Prune {
        /// Remove this engine's entries not used for this many days.
        #[arg(long, value_name = "DAYS", default_value_t = 30)]
        older_than: u64,
    },
    /// Print the cache directory this gatehouse uses.
    Dir,
}

/// Runs `gatehouse compile`.
pub fn run_compile(args: &CompileArgs) -> i32 {
    let setting = match &args.out {
        Some(dir) => CacheSetting::Dir(dir.clone()),
        None => crate::runtime::cache::configured().0,
    };
    let CacheSetting::Dir(dir) = &setting else {
        eprintln!(
            "gatehouse: error: compile needs a cache directory: give --out DIR or --cache-dir DIR (not --no-cache), or set XDG_CACHE_HOME or HOME"
        );
        return super::EXIT_ERROR;
    };
    let runtime = match Runtime::with_cache(&Limits::default(), &setting) {
        Ok(runtime) => runtime,
        Err(e) => {
            super::print_error(&format!("cannot start the WebAssembly engine: {e}"));
            return super::EXIT_ERROR;
        }
    };
    if let Some(warning) = runtime.cache_warning() {
        super::print_error(warning);
        return super::EXIT_ERROR;
    }
    let mut failed = 0usize;
    for path in &args.policies {
        match runtime.load(path) {
            Ok(policy) => {
                let info = policy.compile_info();
                let what = match &info.cache {
                    CacheOutcome::Hit => "already cached",
                    _ => "compiled",
                };
                if let Some(warning) = &info.warning {
                    super::print_error(&format!("{}: {warning}", path.display()));
                    failed += 1;
                    continue;
                }
                let entry = runtime
                    .cache()
                    .map(|c| c.entry_path(policy.sha256()).display().to_string())
                    .unwrap_or_default();
                println!(
                    "{what}: {} sha256:{} in {} ms -> {entry}",
                    path.display(),
                    policy.sha256(),
                    info.duration.as_millis()
                );
            }
            Err(e) => {
                super::print_error(&e.to_string());
                failed += 1;
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "gatehouse: {failed} of {} policies not compiled into {}",
            args.policies.len(),
            dir.display()
        );
        return super::EXIT_ERROR;
    }
    0
}

/// Runs `gatehouse cache ...`.
pub fn run_cache(args: &CacheArgs) -> i32 {
    let setting = crate::runtime::cache::configured().0;
    let CacheSetting::Dir(dir) = setting else {
        eprintln!(
            "gatehouse: error: no cache directory: give --cache-dir DIR, or set XDG_CACHE_HOME or HOME"
        );
        return super::EXIT_ERROR;
    };
    match &args.command {
        CacheCommand::Dir => {
            println!("{}", dir.display());
            0
        }
        CacheCommand::Prune { older_than } => prune(&dir, *older_than),
    }
}

fn prune(dir: &std::path::Path, older_than_days: u64) -> i32 {
    if !dir.exists() {
        println!("{}: no cache yet, nothing to prune", dir.display());
        return 0;
    }
    let engine = match wasmtime_engine() {
        Ok(engine) => engine,
        Err(e) => {
            super::print_error(&e.to_string());
            return super::EXIT_ERROR;
        }
    };
    let cache = match CompileCache::open(dir, engine.engine()) {
        Ok(cache) => cache,
        Err(e) => {
            super::print_error(&e.to_string());
            return super::EXIT_ERROR;
        }
    };
    let max_age = Duration::from_secs(older_than_days.saturating_mul(86_400));
    match cache.prune(max_age) {
        Ok(summary) => {
            println!(
                "{}: removed {} files ({} bytes), kept {} entries",
                dir.display(),
                summary.removed_files,
                summary.removed_bytes,
                summary.kept
            );
            0
        }
        Err(e) => {
            super::print_error(&format!("cannot prune {}: {e}", dir.display()));
            super::EXIT_ERROR
        }
    }
}

/// The engine the other commands use, so `prune` keeps exactly their entries.
fn wasmtime_engine() -> Result<Runtime, String> {
    Runtime::with_cache(&Limits::default(), &CacheSetting::Disabled)
        .map_err(|e| format!("cannot start the WebAssembly engine: {e}"))
}
