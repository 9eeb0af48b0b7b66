//! Where the compile cache is: a directory, or none. Choosing it is the
//! front-end's business (flags, a policy set's `cache-dir`); the runtime
//! uses what its builder is given.

use std::path::PathBuf;

/// Where the cache is, or that there is none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CacheSetting {
    /// No cache: compile every policy on every run.
    #[default]
    Disabled,
    /// The cache in this directory (created on first use).
    Dir(PathBuf),
}

impl CacheSetting {
    /// The default cache directory: `$XDG_CACHE_HOME/gatehouse`, else
    /// `$HOME/.cache/gatehouse`; disabled when neither is set.
    pub fn default_location() -> CacheSetting {
        let from = |var: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(xdg) = from("XDG_CACHE_HOME") {
            return CacheSetting::Dir(xdg.join("gatehouse"));
        }
        match from("HOME") {
            Some(home) => CacheSetting::Dir(home.join(".cache").join("gatehouse")),
            None => CacheSetting::Disabled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_location_follows_xdg() {
        // Only checks the shape; the process environment is shared by tests.
        match CacheSetting::default_location() {
            CacheSetting::Dir(dir) => assert!(dir.ends_with("gatehouse")),
            CacheSetting::Disabled => {}
        }
    }
}
