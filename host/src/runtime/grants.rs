//! Capabilities a user grants a policy explicitly. Nothing is granted by
//! default; every grant is listed in the report.

use serde::Serialize;
use std::path::{Path, PathBuf};

/// What a policy may reach beyond the default sandbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Grants {
    /// Directories the policy may read (never write), by canonical host path.
    /// The guest sees each at the same absolute path; `..`, absolute paths
    /// and symlinks cannot leave it (wasmtime-wasi opens files with cap-std).
    pub read_dirs: Vec<PathBuf>,
    /// Environment variables passed through, by name. A name not set on the
    /// host is listed but not passed.
    pub env: Vec<String>,
    /// Real randomness from `wasi:random` instead of the deterministic
    /// stream (`--allow-random`): verdicts may then differ between runs.
    /// Serialised only when granted, so reports without it are unchanged.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub random: bool,
}

impl Grants {
    /// Adds a read-only directory, resolving it to a canonical absolute path.
    pub fn allow_read(&mut self, dir: &Path) -> Result<(), String> {
        let canonical = dir.canonicalize().map_err(|e| {
            format!(
                "--allow-read {}: cannot open the directory: {e}",
                dir.display()
            )
        })?;
        if !canonical.is_dir() {
            return Err(format!(
                "--allow-read {}: not a directory; grant the directory that holds the file",
                dir.display()
            ));
        }
        if canonical.to_str().is_none() {
            return Err(format!(
                "--allow-read {}: the path is not valid UTF-8, which WASI cannot name",
                dir.display()
            ));
        }
        if !self.read_dirs.contains(&canonical) {
            self.read_dirs.push(canonical);
        }
        Ok(())
    }

    /// Adds an environment variable by name.
    pub fn allow_env(&mut self, name: &str) -> Result<(), String> {
        let valid = !name.is_empty()
            && !name.contains('=')
            && !name.contains('\0')
            && name.chars().all(|c| c.is_ascii_graphic());
        if !valid {
            return Err(format!(
                "--allow-env {name:?}: not a valid environment variable name (no '=', spaces or control characters)"
            ));
        }
        if !self.env.iter().any(|n| n == name) {
            self.env.push(name.to_string());
        }
        Ok(())
    }

    /// The granted variables that are set on the host, with their values.
    pub fn env_values(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|value| (name.clone(), value)))
            .collect()
    }

    /// True when nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.read_dirs.is_empty() && self.env.is_empty() && !self.random
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_grants_are_canonical_directories() {
        let mut grants = Grants::default();
        let here = std::env::current_dir().expect("cwd");
        grants
            .allow_read(Path::new("."))
            .expect("cwd is a directory");
        grants.allow_read(&here).expect("again");
        assert_eq!(
            grants.read_dirs,
            vec![here.canonicalize().expect("canonical")]
        );
        assert!(
            grants
                .allow_read(Path::new("/definitely/not/here"))
                .is_err()
        );
        assert!(grants.allow_read(Path::new("Cargo.toml")).is_err());
    }

    #[test]
    fn the_random_grant_counts_and_is_reported_only_when_given() {
        let mut grants = Grants::default();
        assert!(grants.is_empty());
        let json = serde_json::to_value(&grants).expect("serialise");
        assert_eq!(json, serde_json::json!({"read_dirs": [], "env": []}));
        grants.random = true;
        assert!(!grants.is_empty());
        let json = serde_json::to_value(&grants).expect("serialise");
        assert_eq!(json["random"], true);
    }

    #[test]
    fn env_grants_need_valid_names() {
        let mut grants = Grants::default();
        grants.allow_env("HOME").expect("valid");
        assert!(grants.allow_env("A=B").is_err());
        assert!(grants.allow_env("").is_err());
        assert!(grants.allow_env("WITH SPACE").is_err());
        assert_eq!(grants.env, ["HOME"]);
    }
}
