//! The cache's store on disk: its private directories, and reading,
//! authenticating, deserialising and atomically writing entries
//! ([`CompileCache`]). The entry format is [`super::entry`]; the key that
//! authenticates entries is [`super::key`].

use super::entry;
use super::key::{self, CacheKey, KeyError, KeySource};
use super::private::{check_private_dir, create_private_dir, private_file_options};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Largest entry read back (the 18 MB Python example compiles to ~40 MB).
const MAX_ENTRY_BYTES: u64 = 1 << 30;
/// Sub-directory for this layout, so a future layout never meets old files
/// (format 1 entries, in `v1`, carried no MAC and are never read).
pub(super) const LAYOUT_DIR: &str = "v2";
/// Extension of cache entries.
pub(super) const ENTRY_EXTENSION: &str = "cwasm";

/// A cache problem. None of them stops an evaluation: the policy is compiled
/// instead, and the problem is reported as a warning.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The directory cannot be created or used.
    #[error("compile cache {dir}: {message}")]
    Directory {
        /// The cache directory.
        dir: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An entry could not be written.
    #[error("compile cache: cannot write {path}: {source}")]
    Write {
        /// The entry.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The compiled component could not be serialised.
    #[error("compile cache: cannot serialise the compiled policy: {0}")]
    Serialize(String),
    /// There is no usable key to authenticate entries with.
    #[error("{0}")]
    Key(#[from] KeyError),
}

/// Why a lookup found nothing usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No entry: the first use of this policy with this engine.
    Absent,
    /// An entry was there but was refused (corrupt, truncated, foreign, or
    /// rejected by wasmtime); it is overwritten by the recompiled artifact.
    Invalid(String),
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Absent => f.write_str("no entry"),
            Miss::Invalid(why) => f.write_str(why),
        }
    }
}

/// The cache's directories for one engine, created (mode 0700) and checked
/// to be this user's alone.
pub(super) struct CacheDirs {
    pub(super) root: PathBuf,
    pub(super) engine_dir: PathBuf,
    engine_key: [u8; 32],
}

impl CacheDirs {
    /// Opens (creating if needed) `root` and its sub-directory for `engine`.
    /// Refuses a directory that another user owns or that others may write
    /// to: whoever can write an entry could replace it, and must not be able
    /// to slow every run down or fill the disk as this user.
    pub(super) fn open(root: &Path, engine: &Engine) -> Result<CacheDirs, CacheError> {
        let engine_key = engine_key(engine);
        let engine_dir = root.join(LAYOUT_DIR).join(hex::encode(&engine_key[..8]));
        let fail = |message: String| CacheError::Directory {
            dir: root.to_path_buf(),
            message,
        };
        create_private_dir(root).map_err(|e| fail(format!("cannot create it: {e}")))?;
        check_private_dir(root).map_err(fail)?;
        create_private_dir(&engine_dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", engine_dir.display())))?;
        check_private_dir(&engine_dir).map_err(fail)?;
        Ok(CacheDirs {
            root: root.to_path_buf(),
            engine_dir,
            engine_key,
        })
    }
}

/// An open compile cache for one engine, with the key that authenticates
/// its entries.
#[derive(Debug, Clone)]
pub struct CompileCache {
    root: PathBuf,
    pub(super) engine_dir: PathBuf,
    engine_key: [u8; 32],
    key: CacheKey,
}

impl CompileCache {
    /// Opens the cache in `root` for `engine` with the key `source` names
    /// ([`key::load`], loaded or created after the directory passed its
    /// checks). Fails when the directory is not this user's alone or there
    /// is no usable key (none is created for an explicitly named key file).
    pub fn open(
        root: &Path,
        engine: &Engine,
        source: &KeySource,
    ) -> Result<CompileCache, CacheError> {
        let dirs = CacheDirs::open(root, engine)?;
        Self::with_key(dirs, key::load(source)?)
    }

    /// Opens the cache in `root` for `engine`, authenticating entries with
    /// `key`, which must lie outside the cache directory.
    pub fn open_with_key(
        root: &Path,
        engine: &Engine,
        key: CacheKey,
    ) -> Result<CompileCache, CacheError> {
        Self::with_key(CacheDirs::open(root, engine)?, key)
    }

    /// The cache in `dirs` with `key`, refused if the key lies inside it.
    fn with_key(dirs: CacheDirs, key: CacheKey) -> Result<CompileCache, CacheError> {
        key::check_outside_cache(&key, &dirs.root)?;
        Ok(CompileCache {
            root: dirs.root,
            engine_dir: dirs.engine_dir,
            engine_key: dirs.engine_key,
            key,
        })
    }

    /// The cache's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The key that authenticates this cache's entries.
    pub fn key(&self) -> &CacheKey {
        &self.key
    }

    /// Where the entry for a wasm digest (lowercase hex) lives.
    pub fn entry_path(&self, wasm_sha256: &str) -> PathBuf {
        self.engine_dir
            .join(format!("{wasm_sha256}.{ENTRY_EXTENSION}"))
    }

    /// What an entry for `wasm_sha256` must match.
    pub(super) fn expected<'a>(&'a self, wasm_digest: &'a [u8; 32]) -> entry::Expected<'a> {
        entry::Expected {
            wasm_digest,
            engine_key: &self.engine_key,
            key: &self.key,
        }
    }

    /// Loads the compiled component for `wasm_sha256`, if a valid entry exists.
    #[allow(unsafe_code)]
    pub fn get(&self, engine: &Engine, wasm_sha256: &str) -> Result<Component, Miss> {
        let path = self.entry_path(wasm_sha256);
        let digest = decode_digest(wasm_sha256)
            .ok_or_else(|| Miss::Invalid(format!("bad wasm digest {wasm_sha256:?}")))?;
        let bytes = match read_entry(&path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err(Miss::Absent),
            Err(why) => return Err(Miss::Invalid(why)),
        };
        let artifact = entry::verify(&bytes, &self.expected(&digest))
            .map_err(|why| Miss::Invalid(format!("{}: {why}", path.display())))?;
        // SAFETY: `artifact` is exactly the bytes whose HMAC-SHA256 under this
        // user's secret cache key matched (checked in constant time), so a
        // gatehouse holding that key wrote them with `Component::serialize` of
        // an engine with the same engine key, for this wasm digest; their
        // SHA-256 matched too. They are the bytes in memory that were
        // checked, never re-read. wasmtime additionally checks its own header
        // and compatibility before using the code.
        let component = unsafe { Component::deserialize(engine, artifact) };
        component.map_err(|e| {
            Miss::Invalid(format!(
                "{}: wasmtime refused it: {}",
                path.display(),
                crate::runtime::errors::first_line(&e)
            ))
        })
    }

    /// Stores the compiled `component` for `wasm_sha256`, atomically.
    pub fn put(&self, wasm_sha256: &str, component: &Component) -> Result<PathBuf, CacheError> {
        let artifact = component
            .serialize()
            .map_err(|e| CacheError::Serialize(crate::runtime::errors::first_line(&e)))?;
        let digest = decode_digest(wasm_sha256)
            .ok_or_else(|| CacheError::Serialize(format!("bad wasm digest {wasm_sha256:?}")))?;
        let entry = entry::encode(&self.expected(&digest), &artifact);
        let path = self.entry_path(wasm_sha256);
        write_atomically(&path, &entry).map_err(|source| CacheError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Marks an entry as used now, so `prune` keeps what is in use.
    pub(super) fn touch(&self, wasm_sha256: &str) {
        let path = self.entry_path(wasm_sha256);
        if let Ok(file) = std::fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(SystemTime::now());
        }
    }
}

/// The engine key: wasmtime's compatibility hash (version, compiler
/// settings, target features), fed through SHA-256 with our format version.
fn engine_key(engine: &Engine) -> [u8; 32] {
    use std::hash::Hash;
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let mut sha = hasher.0;
    sha.update(entry::FORMAT_VERSION.to_le_bytes());
    sha.update(b"gatehouse-engine-key");
    sha.finalize().into()
}

/// A [`std::hash::Hasher`] that feeds SHA-256, so a `Hash` value becomes a
/// stable digest (std's hashers are randomly seeded or not guaranteed stable).
struct Sha256Hasher(Sha256);

impl std::hash::Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

pub(super) fn decode_digest(hex_text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out).ok()?;
    Some(out)
}

/// Reads an entry whole (bounded), `None` when there is none.
fn read_entry(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot open: {e}", path.display())),
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("{}: cannot stat: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{}: not a regular file", path.display()));
    }
    if meta.len() > MAX_ENTRY_BYTES {
        return Err(format!(
            "{}: {} bytes, larger than any entry this host writes",
            path.display(),
            meta.len()
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    Ok(Some(bytes))
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` via a synced temporary file in the same
/// directory and a rename, so `path` is never seen half-written.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("the entry path has no directory"))?;
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let temp = dir.join(format!(
        ".tmp-{}-{}-{nanos}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = private_file_options().open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
