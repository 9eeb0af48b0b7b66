//! The on-disk compile cache: Cranelift output kept between runs, so that a
//! policy is compiled once per (wasm digest, engine configuration) instead of
//! once per evaluation. A Python policy costs seconds to compile and about a
//! millisecond to evaluate; the cache is what makes it usable as a gate.
//!
//! Entries live in `<dir>/v2/<engine key>/<wasm sha256>.cwasm`. The engine key
//! hashes wasmtime's own compatibility hash (its version, compiler settings
//! and CPU features) with this cache's format version, so an entry is only
//! ever looked up by the engine that can load it.
//!
//! Loading compiled code is trusting it: wasmtime deserialises machine code
//! without checking it, and a cache directory may be writable by people who
//! must not choose that code (a policy set's `cache-dir` lies in its
//! repository). So an entry is only deserialised when
//! - it is authenticated: its HMAC-SHA256 under this user's secret cache key
//!   ([`key`], kept outside every cache directory) matches, so only a
//!   gatehouse run by the key's holder can have written it;
//! - the cache directory belongs to this user and nobody else may write to it;
//! - its header ([`entry`]: magic, format, key id, wasm digest, engine key,
//!   length and the SHA-256 of the artifact) matches the lookup;
//! - the artifact read into memory hashes to the recorded digest (the bytes
//!   that were checked are the bytes that are loaded, never re-read from disk).
//!
//! A refused entry is reported, recompiled and replaced. Entries are written
//! to a temporary file in the same directory and renamed into place, so a
//! concurrent reader sees either no entry or a whole one; two processes
//! filling the same entry both succeed and the last rename wins.

mod entry;
pub mod key;
mod private;
mod prune;

pub use key::{CacheKey, KeyError, KeySource};
pub use prune::PruneSummary;

use private::{check_private_dir, create_private_dir, private_file_options};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Largest entry read back (the 18 MB Python example compiles to ~40 MB).
const MAX_ENTRY_BYTES: u64 = 1 << 30;
/// Sub-directory for this layout, so a future layout never meets old files
/// (format 1 entries, in `v1`, carried no MAC and are never read).
const LAYOUT_DIR: &str = "v2";
/// Extension of cache entries.
const ENTRY_EXTENSION: &str = "cwasm";

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

/// How a policy's compiled code was obtained, for reports and `bench`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// No cache was in use.
    Off,
    /// Loaded from the cache.
    Hit,
    /// Compiled, then stored (or not: the warning says why).
    Miss(Miss),
}

impl CacheOutcome {
    /// One word for reports: `off`, `hit` or `miss`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CacheOutcome::Off => "off",
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss(_) => "miss",
        }
    }
}

/// The cache's directories for one engine, created (mode 0700) and checked
/// to be this user's alone.
struct CacheDirs {
    root: PathBuf,
    engine_dir: PathBuf,
    engine_key: [u8; 32],
}

impl CacheDirs {
    /// Opens (creating if needed) `root` and its sub-directory for `engine`.
    /// Refuses a directory that another user owns or that others may write
    /// to: whoever can write an entry could replace it, and must not be able
    /// to slow every run down or fill the disk as this user.
    fn open(root: &Path, engine: &Engine) -> Result<CacheDirs, CacheError> {
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
    engine_dir: PathBuf,
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
    fn expected<'a>(&'a self, wasm_digest: &'a [u8; 32]) -> entry::Expected<'a> {
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
                super::errors::first_line(&e)
            ))
        })
    }

    /// Stores the compiled `component` for `wasm_sha256`, atomically.
    pub fn put(&self, wasm_sha256: &str, component: &Component) -> Result<PathBuf, CacheError> {
        let artifact = component
            .serialize()
            .map_err(|e| CacheError::Serialize(super::errors::first_line(&e)))?;
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
    fn touch(&self, wasm_sha256: &str) {
        let path = self.entry_path(wasm_sha256);
        if let Ok(file) = std::fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(SystemTime::now());
        }
    }
}

/// Removes from the cache in `root` what `engine` will never read: entries
/// of other engine configurations or layouts (older gatehouse or wasmtime
/// versions, unauthenticated format 1 entries), this engine's entries not
/// used for `max_age`, and temporary files of interrupted writes. Needs no
/// key: it reads no entry. The directory is checked like [`CompileCache::open`].
pub fn prune(root: &Path, engine: &Engine, max_age: Duration) -> Result<PruneSummary, CacheError> {
    let dirs = CacheDirs::open(root, engine)?;
    prune::prune(&dirs.root, LAYOUT_DIR, &dirs.engine_dir, max_age).map_err(|e| {
        CacheError::Directory {
            dir: root.to_path_buf(),
            message: format!("cannot prune it: {e}"),
        }
    })
}

/// Compiles `bytes` through the cache: loads a valid entry, or compiles and
/// stores. The second value says which happened; the third is a warning to
/// show the user (an entry that had to be replaced, or could not be written).
pub fn compile_cached(
    cache: Option<&CompileCache>,
    engine: &Engine,
    wasm_sha256: &str,
    compile: impl FnOnce() -> wasmtime::Result<Component>,
) -> wasmtime::Result<(Component, CacheOutcome, Option<String>)> {
    let Some(cache) = cache else {
        return Ok((compile()?, CacheOutcome::Off, None));
    };
    let miss = match cache.get(engine, wasm_sha256) {
        Ok(component) => {
            cache.touch(wasm_sha256);
            return Ok((component, CacheOutcome::Hit, None));
        }
        Err(miss) => miss,
    };
    let component = compile()?;
    let mut warning = match &miss {
        Miss::Absent => None,
        Miss::Invalid(why) => Some(format!(
            "compile cache entry refused and replaced ({why}); the policy was recompiled"
        )),
    };
    if let Err(e) = cache.put(wasm_sha256, &component) {
        let text = format!("{e}; the policy will be compiled again next time");
        warning = Some(match warning {
            Some(w) => format!("{w}; {text}"),
            None => text,
        });
    }
    Ok((component, CacheOutcome::Miss(miss), warning))
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

fn decode_digest(hex_text: &str) -> Option<[u8; 32]> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest valid component: just the header.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";
    /// Another valid component: the header and a custom section `abc`.
    const OTHER_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0\x00\x04\x03abc";

    fn engine(fuel: bool) -> Engine {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(fuel);
        Engine::new(&config).expect("engine")
    }

    fn digest(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn compile(engine: &Engine) -> wasmtime::Result<Component> {
        Component::new(engine, EMPTY_COMPONENT)
    }

    /// A cache directory and, outside it, a key file.
    struct Setup {
        cache: tempfile::TempDir,
        keys: tempfile::TempDir,
    }

    impl Setup {
        fn new() -> Setup {
            Setup {
                cache: tempfile::tempdir().expect("cache dir"),
                keys: tempfile::tempdir().expect("key dir"),
            }
        }

        fn path(&self) -> &Path {
            self.cache.path()
        }

        /// Key number `n` (a file in the key directory).
        fn key(&self, n: u8) -> CacheKey {
            let path = self.keys.path().join(format!("key-{n}"));
            std::fs::write(&path, hex::encode([n; 32])).expect("key file");
            CacheKey::from_bytes(&[n; 32], path).expect("key")
        }

        fn open(&self, engine: &Engine) -> CompileCache {
            CompileCache::open_with_key(self.path(), engine, self.key(1)).expect("open")
        }
    }

    fn refusal(result: Result<Component, Miss>) -> String {
        match result {
            Err(Miss::Invalid(why)) => why,
            other => panic!(
                "expected a refused entry, got {:?}",
                other.map(|_| "component")
            ),
        }
    }

    #[test]
    fn miss_then_hit() {
        let setup = Setup::new();
        let engine = engine(true);
        let cache = setup.open(&engine);
        let sha = digest(EMPTY_COMPONENT);
        let (_, outcome, warning) =
            compile_cached(Some(&cache), &engine, &sha, || compile(&engine)).expect("compile");
        assert_eq!(outcome, CacheOutcome::Miss(Miss::Absent));
        assert_eq!(warning, None);
        assert!(cache.entry_path(&sha).is_file());
        assert!(
            cache.entry_path(&sha).starts_with(setup.path().join("v2")),
            "format 2 entries live in v2/"
        );
        let (_, outcome, warning) = compile_cached(Some(&cache), &engine, &sha, || {
            panic!("a hit must not compile")
        })
        .expect("hit");
        assert_eq!(outcome, CacheOutcome::Hit);
        assert_eq!(warning, None);
    }

    /// Checks `cache` refuses its entry for `sha` naming `expected`, then
    /// that `compile_cached` recompiles with a warning naming the entry,
    /// and leaves an entry `cache` accepts.
    fn assert_refused_and_replaced(
        cache: &CompileCache,
        engine: &Engine,
        sha: &str,
        source: &[u8],
        expected: &str,
    ) {
        let why = refusal(cache.get(engine, sha));
        assert!(why.contains(expected), "{why}");
        let (_, outcome, warning) =
            compile_cached(Some(cache), engine, sha, || Component::new(engine, source))
                .expect("recompile");
        assert!(matches!(outcome, CacheOutcome::Miss(Miss::Invalid(_))));
        let warning = warning.expect("a warning");
        assert!(warning.contains("refused and replaced"), "{warning}");
        assert!(
            warning.contains(&cache.entry_path(sha).display().to_string()),
            "the warning names the entry: {warning}"
        );
        assert!(warning.contains(expected), "{warning}");
        assert!(cache.get(engine, sha).is_ok(), "the entry was replaced");
    }

    fn assert_damage_refused(mutate: impl FnOnce(&Path), expected: &str) {
        let setup = Setup::new();
        let engine = engine(true);
        let cache = setup.open(&engine);
        let sha = digest(EMPTY_COMPONENT);
        let component = compile(&engine).expect("compile");
        cache.put(&sha, &component).expect("put");
        mutate(&cache.entry_path(&sha));
        assert_refused_and_replaced(&cache, &engine, &sha, EMPTY_COMPONENT, expected);
    }

    #[test]
    fn a_corrupt_entry_is_refused_and_replaced() {
        assert_damage_refused(
            |path| {
                let mut bytes = std::fs::read(path).expect("read");
                let last = bytes.len() - 1;
                bytes[last] ^= 0xff;
                std::fs::write(path, bytes).expect("write");
            },
            "not authenticated",
        );
    }

    #[test]
    fn a_truncated_entry_is_refused_and_replaced() {
        assert_damage_refused(
            |path| {
                let bytes = std::fs::read(path).expect("read");
                std::fs::write(path, &bytes[..bytes.len() / 2]).expect("write");
            },
            "truncated",
        );
        assert_damage_refused(
            |path| std::fs::write(path, b"GATEHOUSE").expect("write"),
            "truncated",
        );
    }

    #[test]
    fn a_foreign_file_is_refused_and_replaced() {
        assert_damage_refused(
            |path| std::fs::write(path, vec![7u8; 4096]).expect("write"),
            "wrong magic",
        );
    }

    #[test]
    fn a_planted_entry_with_a_rewritten_digest_is_refused_and_replaced() {
        // The reproduction of issue 10: policy A's entry placed under policy
        // B's digest with the digest field rewritten, every field but the
        // MAC consistent (key id, engine key, length, artifact SHA-256).
        let setup = Setup::new();
        let engine = engine(true);
        let cache = setup.open(&engine);
        let (a, b) = (digest(OTHER_COMPONENT), digest(EMPTY_COMPONENT));
        let component_a = Component::new(&engine, OTHER_COMPONENT).expect("compile A");
        cache.put(&a, &component_a).expect("put A");
        let mut planted = std::fs::read(cache.entry_path(&a)).expect("read A");
        planted[28..60].copy_from_slice(&decode_digest(&b).expect("digest"));
        std::fs::write(cache.entry_path(&b), &planted).expect("plant");

        assert_refused_and_replaced(&cache, &engine, &b, EMPTY_COMPONENT, "not authenticated");
        let replaced = std::fs::read(cache.entry_path(&b)).expect("read B");
        assert_ne!(replaced, planted, "the planted entry is gone");
        assert_eq!(
            entry::verify(&replaced, &cache.expected(&decode_digest(&b).expect("d"))),
            Ok(&Component::new(&engine, EMPTY_COMPONENT)
                .expect("B")
                .serialize()
                .expect("serialize")[..]),
            "the entry now holds B's own code"
        );
    }

    #[test]
    fn an_entry_written_under_another_key_is_refused_and_replaced() {
        let setup = Setup::new();
        let engine = engine(true);
        let sha = digest(EMPTY_COMPONENT);
        let theirs =
            CompileCache::open_with_key(setup.path(), &engine, setup.key(2)).expect("open 2");
        theirs
            .put(&sha, &compile(&engine).expect("compile"))
            .expect("put");
        let ours = setup.open(&engine);
        assert_eq!(theirs.entry_path(&sha), ours.entry_path(&sha));
        assert_refused_and_replaced(&ours, &engine, &sha, EMPTY_COMPONENT, "another cache key");
        let why = refusal(theirs.get(&engine, &sha));
        assert!(
            why.contains("another cache key"),
            "now theirs is refused: {why}"
        );
    }

    #[test]
    fn an_entry_from_another_engine_configuration_is_never_loaded() {
        let setup = Setup::new();
        let ours = engine(true);
        let theirs = engine(false);
        let sha = digest(EMPTY_COMPONENT);
        let their_cache =
            CompileCache::open_with_key(setup.path(), &theirs, setup.key(1)).expect("open");
        let our_cache = setup.open(&ours);
        assert_ne!(
            their_cache.entry_path(&sha),
            our_cache.entry_path(&sha),
            "different configurations use different keys"
        );
        // Their entry (same cache key) placed where ours would be: the engine key check refuses it.
        their_cache
            .put(&sha, &compile(&theirs).expect("compile"))
            .expect("put");
        std::fs::copy(their_cache.entry_path(&sha), our_cache.entry_path(&sha)).expect("copy");
        let why = refusal(our_cache.get(&ours, &sha));
        assert!(why.contains("another engine"), "{why}");
        // Their artifact under our authenticated header: wasmtime's own check refuses it.
        let artifact = compile(&theirs)
            .expect("compile")
            .serialize()
            .expect("serialize");
        let digest_bytes = decode_digest(&sha).expect("digest");
        let entry = entry::encode(&our_cache.expected(&digest_bytes), &artifact);
        std::fs::write(our_cache.entry_path(&sha), entry).expect("write");
        let why = refusal(our_cache.get(&ours, &sha));
        assert!(why.contains("wasmtime refused"), "{why}");
    }

    #[test]
    fn an_entry_for_another_policy_is_refused() {
        let setup = Setup::new();
        let engine = engine(true);
        let cache = setup.open(&engine);
        let sha = digest(EMPTY_COMPONENT);
        let other = digest(b"other");
        cache
            .put(&other, &compile(&engine).expect("compile"))
            .expect("put");
        std::fs::rename(cache.entry_path(&other), cache.entry_path(&sha)).expect("rename");
        let why = refusal(cache.get(&engine, &sha));
        assert!(why.contains("another policy"), "{why}");
    }

    #[test]
    fn a_format_1_entry_is_never_read() {
        // The old layout: v1/<engine>/<sha>.cwasm, unauthenticated. Format 2
        // lives in v2/, so a v1 file is not even looked at.
        let setup = Setup::new();
        let engine = engine(true);
        let cache = setup.open(&engine);
        let sha = digest(EMPTY_COMPONENT);
        let old = setup.path().join("v1").join("0123456789abcdef");
        std::fs::create_dir_all(&old).expect("v1");
        std::fs::write(old.join(format!("{sha}.cwasm")), b"GATEHOUSE-CWASM\n").expect("old");
        assert!(matches!(cache.get(&engine, &sha), Err(Miss::Absent)));
    }

    #[test]
    fn a_key_inside_the_cache_directory_is_refused() {
        let setup = Setup::new();
        let inside = setup.path().join("cache-key");
        std::fs::write(&inside, hex::encode([5u8; 32])).expect("key");
        let key = CacheKey::from_bytes(&[5; 32], inside).expect("key");
        let err = CompileCache::open_with_key(setup.path(), &engine(true), key)
            .expect_err("key inside the cache");
        assert!(
            err.to_string().contains("inside the cache directory"),
            "{err}"
        );
    }

    #[test]
    fn concurrent_writers_and_readers_never_see_half_an_entry() {
        let setup = Setup::new();
        let engine = engine(true);
        let cache = setup.open(&engine);
        let sha = digest(EMPTY_COMPONENT);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..25 {
                        let (_, _, warning) =
                            compile_cached(Some(&cache), &engine, &sha, || compile(&engine))
                                .expect("compile");
                        assert_eq!(warning, None, "no reader saw a partial entry");
                    }
                });
            }
        });
        let leftovers: Vec<_> = prune::read_dir_entries(&cache.engine_dir)
            .expect("list")
            .into_iter()
            .filter(|p| p.extension().is_none_or(|e| e != ENTRY_EXTENSION))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_may_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let setup = Setup::new();
        std::fs::set_permissions(setup.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        let err = CompileCache::open_with_key(setup.path(), &engine(true), setup.key(1))
            .expect_err("refused");
        assert!(err.to_string().contains("chmod go-w"), "{err}");
        let err = prune(setup.path(), &engine(true), Duration::ZERO).expect_err("prune too");
        assert!(err.to_string().contains("chmod go-w"), "{err}");
    }

    #[test]
    fn prune_removes_other_engines_and_old_entries() {
        let setup = Setup::new();
        let dir = setup.path();
        let ours = engine(true);
        let theirs = engine(false);
        let sha = digest(EMPTY_COMPONENT);
        let our_cache = setup.open(&ours);
        let their_cache = CompileCache::open_with_key(dir, &theirs, setup.key(1)).expect("open");
        our_cache
            .put(&sha, &compile(&ours).expect("c"))
            .expect("put");
        their_cache
            .put(&sha, &compile(&theirs).expect("c"))
            .expect("put");
        std::fs::create_dir_all(dir.join("v1").join("x")).expect("old layout");
        std::fs::write(dir.join("v1").join("x").join("a.cwasm"), b"old").expect("w");
        std::fs::write(dir.join("notes.txt"), b"not ours").expect("w");

        let summary = prune(dir, &ours, Duration::from_secs(3600)).expect("prune");
        assert_eq!(summary.removed_files, 2, "{summary:?}");
        assert_eq!(summary.kept, 1);
        assert!(our_cache.get(&ours, &sha).is_ok());
        assert!(!their_cache.entry_path(&sha).exists());
        assert!(!dir.join("v1").exists(), "format 1 entries are pruned");
        assert!(
            dir.join("notes.txt").exists(),
            "unknown files are left alone"
        );

        let summary = prune(dir, &ours, Duration::ZERO).expect("prune all");
        assert_eq!(summary.removed_files, 1);
        assert!(matches!(our_cache.get(&ours, &sha), Err(Miss::Absent)));
    }

    #[test]
    fn the_default_location_follows_xdg() {
        // Only checks the shape; the process environment is shared by tests.
        match CacheSetting::default_location() {
            CacheSetting::Dir(dir) => assert!(dir.ends_with("gatehouse")),
            CacheSetting::Disabled => {}
        }
    }
}
