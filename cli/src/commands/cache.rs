//! `gatehouse compile` (fill the compile cache ahead of time),
//! `gatehouse cache prune` (remove what the cache no longer needs),
//! `gatehouse cache key` (where the key that authenticates entries is), and
//! [`EngineSettings`], what the global cache flags choose for every engine
//! of a run.

use gatehouse_core::runtime::cache::{CacheOutcome, CacheSetting, KeyError, KeySource, key};
use gatehouse_core::runtime::{Runtime, RuntimeBuilder};
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

/// What every engine of one run shares, decided once from the global flags:
/// the compile cache (`--cache-dir`, `--no-cache`, else the default
/// location), whether a flag chose it (then a policy set's `cache-dir` does
/// not override it), and the key that authenticates its entries. Engines are
/// built from it ([`EngineSettings::builder`]); nothing is kept in the
/// process.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    cache: CacheSetting,
    explicit: bool,
    key: KeySource,
}

impl EngineSettings {
    /// The settings the global flags ask for. A key file named explicitly
    /// (flag or environment) must exist and hold a key whenever a cache may
    /// be used: otherwise this prints the error and returns the exit code
    /// (3), never silently falling back to another key. `cache key` is
    /// exempt: it creates the file. A key that exists but that others could
    /// read or change is refused later, when a cache opens, with a warning
    /// (the run compiles without a cache).
    pub fn from_cli(cli: &super::Cli) -> Result<EngineSettings, i32> {
        let explicit = cli.cache_dir.is_some() || cli.no_cache;
        let mut settings = EngineSettings {
            cache: cli.cache_setting(),
            explicit,
            key: KeySource::Default,
        };
        let creates_key = matches!(
            &cli.command,
            super::Command::Cache(CacheArgs {
                command: CacheCommand::Key
            })
        );
        if cli.no_cache && !creates_key {
            return Ok(settings);
        }
        let error = |message: &dyn std::fmt::Display| {
            super::print_error(&message.to_string());
            super::EXIT_ERROR
        };
        settings.key = cli.cache_key_source().map_err(|e| error(&e))?;
        if settings.key.is_explicit() && !creates_key {
            match key::load(&settings.key) {
                Ok(_) | Err(KeyError::Unsafe { .. }) => {}
                Err(e) => return Err(error(&e)),
            }
        }
        Ok(settings)
    }

    /// A runtime builder with this run's compile cache and key, its
    /// warnings printed on stderr (`gatehouse: warning: ...`).
    pub fn builder(&self) -> RuntimeBuilder {
        self.quiet_builder().on_warning(super::print_warning)
    }

    /// [`EngineSettings::builder`] for a policy set: the set's `cache-dir`,
    /// when it has one, unless `--cache-dir` or `--no-cache` chose otherwise.
    pub fn for_policy_set(&self, cache_dir: Option<&Path>) -> RuntimeBuilder {
        match cache_dir {
            Some(dir) if !self.explicit => {
                self.builder().cache(CacheSetting::Dir(dir.to_path_buf()))
            }
            _ => self.builder(),
        }
    }

    /// A runtime builder with this run's key and no cache and no warning
    /// sink, for commands that report cache problems themselves.
    pub fn quiet_builder(&self) -> RuntimeBuilder {
        Runtime::builder()
            .cache(self.cache.clone())
            .cache_key(self.key.clone())
    }

    /// The compile cache the flags chose.
    pub fn cache(&self) -> &CacheSetting {
        &self.cache
    }

    /// The key source the flags chose.
    pub fn key(&self) -> &KeySource {
        &self.key
    }
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
        return super::EXIT_ERROR;
    };
    let runtime = match engines.quiet_builder().cache(setting.clone()).build() {
        Ok(runtime) => runtime,
        Err(e) => {
            super::print_error(&e.to_string());
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
            super::EXIT_ERROR
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
            super::print_error(&e.to_string());
            super::EXIT_ERROR
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
            super::print_error(&e.to_string());
            return super::EXIT_ERROR;
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
            super::print_error(&e.to_string());
            super::EXIT_ERROR
        }
    }
}
