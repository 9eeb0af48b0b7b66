//! A policy set with its policies loaded once: read, pin-checked, compiled
//! and linked when a long-running front-end (`gatehouse serve`) starts,
//! instead of once per evaluation. Each evaluation still instantiates every
//! policy afresh, in its own store, with the entry's limits and grants: only
//! the engine, the compiled code and the linking are shared.
//!
//! The files are read once. A policy file replaced after that is not picked
//! up: [`PreparedSet::changed_on_disk`] says which ones differ, so that the
//! front-end can say so; a restart loads them again.

use crate::config::PolicySet;
use crate::error::Error;
use crate::runtime::{Grants, LoadedPolicy, Runtime};
use sha2::{Digest, Sha256};
use std::path::Path;

use super::EngineSource;

/// A policy set and its policies, loaded (see the module documentation).
pub struct PreparedSet {
    set: PolicySet,
    /// One runtime for the whole set, sized for the largest limits of any
    /// of its policies; kept so that the engine outlives every evaluation.
    _runtime: Runtime,
    /// `set.policies[i]`'s policy and grants, in the same order.
    loaded: Vec<(LoadedPolicy, Grants)>,
}

impl std::fmt::Debug for PreparedSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedSet")
            .field("set", &self.set.path)
            .field("policies", &self.loaded.len())
            .finish()
    }
}

/// A policy whose file no longer holds what was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The policy's name in the set.
    pub name: String,
    /// Its file.
    pub path: std::path::PathBuf,
    /// The sha256 of what was loaded (and is evaluated).
    pub loaded_sha256: String,
    /// What the file holds now: its sha256, or why it cannot be read.
    pub now: Result<String, String>,
}

impl PreparedSet {
    /// Loads every policy of `set` (a broken or mis-pinned one is an error
    /// naming it) into one runtime from `engines`, with the largest limits
    /// of the set's policies.
    pub fn prepare(set: PolicySet, engines: &dyn EngineSource) -> Result<PreparedSet, Error> {
        let limits = PolicySet::max_limits(set.policies.iter());
        let runtime = engines
            .builder_for(set.cache_dir.as_deref())
            .limits(&limits)
            .build()?;
        let mut loaded = Vec::with_capacity(set.policies.len());
        for entry in &set.policies {
            let grants = entry
                .grants()
                .map_err(|e| Error::Config(format!("policy {}: {e}", entry.name)))?;
            loaded.push((entry.load_pinned(&runtime)?, grants));
        }
        Ok(PreparedSet {
            set,
            _runtime: runtime,
            loaded,
        })
    }

    /// The policy set.
    pub fn set(&self) -> &PolicySet {
        &self.set
    }

    /// The loaded policy and grants of the `index`th entry of the set.
    pub(super) fn policy(&self, index: usize) -> Option<&(LoadedPolicy, Grants)> {
        self.loaded.get(index)
    }

    /// The policies whose file no longer holds what was loaded (read and
    /// hashed now: call it seldom, not per evaluation).
    pub fn changed_on_disk(&self) -> Vec<Changed> {
        self.set
            .policies
            .iter()
            .zip(&self.loaded)
            .filter_map(|(entry, (policy, _))| {
                let now = file_sha256(&entry.path);
                (now.as_deref() != Ok(policy.sha256())).then(|| Changed {
                    name: entry.name.clone(),
                    path: entry.path.clone(),
                    loaded_sha256: policy.sha256().to_string(),
                    now,
                })
            })
            .collect()
    }
}

/// The sha256 of a file, hex, or why it cannot be read.
fn file_sha256(path: &Path) -> Result<String, String> {
    std::fs::read(path)
        .map(|bytes| hex::encode(Sha256::digest(&bytes)))
        .map_err(|e| e.to_string())
}
