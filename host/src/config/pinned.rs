//! Loading a policy of a set: its bytes are read once, refused when their
//! digest is not the one the set pins (fail closed), and compiled from
//! those same bytes, so the file cannot change between check and use.

use super::PolicyEntry;
use crate::error::{Error, LoadError, LoadErrorKind};
use crate::runtime::{LoadedPolicy, Runtime};
use sha2::{Digest, Sha256};

impl PolicyEntry {
    /// Reads this policy, refuses it when its sha256 does not match the pin,
    /// and loads it with `runtime`.
    pub fn load_pinned(&self, runtime: &Runtime) -> Result<LoadedPolicy, Error> {
        let bytes = std::fs::read(&self.path).map_err(|e| LoadError {
            path: self.path.clone(),
            kind: LoadErrorKind::Io(e),
        })?;
        if let Some(pin) = &self.sha256 {
            let actual = hex::encode(Sha256::digest(&bytes));
            if &actual != pin {
                return Err(Error::Config(format!(
                    "policy '{}' ({}): sha256 is {actual}, but the config pins {pin}; refusing to run it",
                    self.name,
                    self.path.display()
                )));
            }
        }
        Ok(runtime.load_bytes(&self.path, &bytes)?)
    }
}
