//! `gatehouse compile` (fill the compile cache ahead of time),
//! `gatehouse cache prune` (remove what the cache no longer needs),
//! and `gatehouse cache key` (where the key that authenticates entries is).

use crate::engines::EngineSettings;
use gatehouse_core::runtime::Runtime;
use gatehouse_core::runtime::cache::{CacheOutcome, CacheSetting, KeySource, key};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Exit codes of `gatehouse compile`.
pub const COMPILE_HELP: &str = "\
The cache is keyed by the policy's sha256 and the engine's configuration
(wasmtime version, compiler settings, CPU features), and every entry is
authenticated (HMAC-SHA256) with your compile cache key: an entry is only
loaded by a gatehouse with the same engine and the same key. To share a cache
between machines (e.g. CI runners), give them all the same key file with
--cache-key-file FILE or GATEHOUSE_CACHE_KEY_FILE=FILE (`gatehouse cache key`
creates one and prints where it is); anyone who holds that key can write
entries that those machines will run.

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
    /// Print the path of the key that authenticates cache entries, creating it
    /// (64 hex digits, mode 0600, in a 0700 directory) if there is none, even
    /// when named by --cache-key-file or GATEHOUSE_CACHE_KEY_FILE. To share a
    /// cache between machines, store the file's contents as a secret and give
    /// every machine that file.
    Key,
}

/// Runs `gatehouse compile`.
pub fn run_compile(args: &CompileArgs, engines: &EngineSettings) -> i32 {
    let setting = match &args.out {
        Some(dir) => CacheSetting::Dir(dir.clone()),
        None => engines.cache().clone(),
    };
    let CacheSetting::Dir(dir) = &setting else {
        eprintln!(
            "gatehouse: error: compile needs a cache directory: give --out DIR or --cache-dir DIR (not --no-cache), or set XDG_CACHE_HOME or HOME"
        );
        return crate::output::EXIT_ERROR;
    };
    let runtime = match engines.quiet_builder().cache(setting.clone()).build() {
        Ok(runtime) => runtime,
        Err(e) => {
            crate::output::print_error(&e.to_string());
            return crate::output::EXIT_ERROR;
        }
    };
    if let Some(warning) = runtime.cache_warning() {
        crate::output::print_error(warning);
        return crate::output::EXIT_ERROR;
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
                    crate::output::print_error(&format!("{}: {warning}", path.display()));
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
                crate::output::print_error(&e.to_string());
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
        return crate::output::EXIT_ERROR;
    }
    0
}

/// Runs `gatehouse cache ...`.
pub fn run_cache(args: &CacheArgs, engines: &EngineSettings) -> i32 {
    match &args.command {
        CacheCommand::Key => print_key(engines.key()),
        CacheCommand::Dir => with_cache_dir(engines, |dir| {
            println!("{}", dir.display());
            0
        }),
        CacheCommand::Prune { older_than } => {
            with_cache_dir(engines, |dir| prune(dir, *older_than))
        }
    }
}

/// Runs `command` on the chosen cache directory; exit 3 if there is none.
fn with_cache_dir(engines: &EngineSettings, command: impl FnOnce(&Path) -> i32) -> i32 {
    match engines.cache() {
        CacheSetting::Dir(dir) => command(dir),
        CacheSetting::Disabled => {
            eprintln!(
                "gatehouse: error: no cache directory: give --cache-dir DIR, or set XDG_CACHE_HOME or HOME"
            );
            crate::output::EXIT_ERROR
        }
    }
}

/// `gatehouse cache key`: prints the key file's path (stdout), creating the
/// key if there is none; a key that fails the checks is an error.
fn print_key(source: &KeySource) -> i32 {
    let created = source
        .path()
        .and_then(|path| key::load_or_create(&path).map(|k| (path, k)));
    match created {
        Ok((path, (key, created))) => {
            if created {
                eprintln!(
                    "gatehouse: created a new compile cache key (id {}) in {}",
                    hex::encode(key.id()),
                    path.display()
                );
            }
            println!("{}", path.display());
            0
        }
        Err(e) => {
            crate::output::print_error(&e.to_string());
            crate::output::EXIT_ERROR
        }
    }
}

fn prune(dir: &Path, older_than_days: u64) -> i32 {
    if !dir.exists() {
        println!("{}: no cache yet, nothing to prune", dir.display());
        return 0;
    }
    // The engine the other commands use, so `prune` keeps exactly their entries.
    let engine = match Runtime::builder().build() {
        Ok(engine) => engine,
        Err(e) => {
            crate::output::print_error(&e.to_string());
            return crate::output::EXIT_ERROR;
        }
    };
    let max_age = Duration::from_secs(older_than_days.saturating_mul(86_400));
    match gatehouse_core::runtime::cache::prune(dir, engine.engine(), max_age) {
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
            crate::output::print_error(&e.to_string());
            crate::output::EXIT_ERROR
        }
    }
}
