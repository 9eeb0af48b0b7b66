//! What every engine of one run of the binary shares, decided once from the
//! global flags and passed to each subcommand that builds one: the compile
//! cache and its key, and warnings on stderr. The core keeps no such state:
//! each runtime gets it from its builder.

use crate::args::{Cli, Command};
use crate::commands::cache::{CacheArgs, CacheCommand};
use crate::output::{EXIT_ERROR, print_error, print_notice, print_warning};
use gatehouse_core::runtime::cache::{CacheSetting, KeyError, KeySource, key};
use gatehouse_core::runtime::{Runtime, RuntimeBuilder};
use std::path::Path;

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
    pub fn from_cli(cli: &Cli) -> Result<EngineSettings, i32> {
        let explicit = cli.cache_dir.is_some() || cli.no_cache;
        let mut settings = EngineSettings {
            cache: cli.cache_setting(),
            explicit,
            key: KeySource::Default,
        };
        let creates_key = matches!(
            &cli.command,
            Command::Cache(CacheArgs {
                command: CacheCommand::Key
            })
        );
        if cli.no_cache && !creates_key {
            return Ok(settings);
        }
        let error = |message: &dyn std::fmt::Display| {
            print_error(&message.to_string());
            EXIT_ERROR
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
    /// warnings printed on stderr (`gatehouse: warning: ...`), and a
    /// progress notice there before a slow compile (`gatehouse: compiling
    /// policy ... (first run; cached afterwards)…`).
    pub fn builder(&self) -> RuntimeBuilder {
        self.quiet_builder()
            .on_warning(print_warning)
            .on_notice(print_notice)
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
