//! The on-disk compile cache: Cranelift output kept between runs, so that a
//! policy is compiled once per (wasm digest, engine configuration) instead of
//! once per evaluation. A Python policy costs seconds to compile and about a
//! millisecond to evaluate; the cache is what makes it usable as a gate.
//!
//! Entries live in `<dir>/v1/<engine key>/<wasm sha256>.cwasm`. The engine key
//! hashes wasmtime's own compatibility hash (its version, compiler settings
//! and CPU features) with this cache's format version, so an entry is only
//! ever looked up by the engine that can load it.
//!
//! Loading compiled code is trusting it: wasmtime deserialises machine code
//! without checking it. So an entry is only deserialised when
//! - the cache directory belongs to this user and nobody else may write to it;
//! - the entry carries our header (magic, format, wasm digest, engine key,
//!   length and the SHA-256 of the artifact) and every field matches;
//! - the artifact read into memory hashes to the recorded digest (a corrupt or
//!   truncated entry is detected, reported and recompiled; the bytes that were
//!   checked are the bytes that are loaded, never re-read from disk).
//!
//! Entries are written to a temporary file in the same directory and renamed
//! into place, so a concurrent reader sees either no entry or a whole one; two
//! processes filling the same entry both succeed and the last rename wins.

use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use wasmtime::Engine;
use wasmtime::component::Component;

/// First bytes of every entry.
const MAGIC: &[u8; 16] = b"GATEHOUSE-CWASM\n";
/// The entry layout version (bump on any change to the header).
const FORMAT_VERSION: u32 = 1;
/// Header: magic, format, wasm sha256, engine key, artifact length, artifact sha256.
const HEADER_LEN: usize = 16 + 4 + 32 + 32 + 8 + 32;
/// Largest entry read back (the 18 MB Python example compiles to ~40 MB).
const MAX_ENTRY_BYTES: u64 = 1 << 30;
/// Sub-directory for this layout, so a future layout never meets old files.
const LAYOUT_DIR: &str = "v1";
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

/// The process's cache as [`configure`] set it.
#[derive(Debug, Clone, Default)]
struct ProcessSetting {
    setting: CacheSetting,
    warn_on_stderr: bool,
    explicit: bool,
}

static PROCESS_SETTING: OnceLock<ProcessSetting> = OnceLock::new();

/// Sets the cache every [`super::Runtime::with_limits`] of this process uses
/// (the CLI calls this once from `--cache-dir` / `--no-cache`), whether cache
/// problems are printed to stderr as `gatehouse: warning:` lines, and whether
/// the user chose it explicitly (a flag), which a policy set's `cache-dir`
/// does not override. Returns false if it was already set.
pub fn configure(setting: CacheSetting, warn_on_stderr: bool, explicit: bool) -> bool {
    PROCESS_SETTING
        .set(ProcessSetting {
            setting,
            warn_on_stderr,
            explicit,
        })
        .is_ok()
}

/// The cache configured with [`configure`] (disabled if none was), and
/// whether its warnings go to stderr.
pub fn configured() -> (CacheSetting, bool) {
    let process = PROCESS_SETTING.get().cloned().unwrap_or_default();
    (process.setting, process.warn_on_stderr)
}

/// The cache for a policy set whose config names `config_dir`: the config's
/// directory unless the process's cache was chosen explicitly.
pub fn configured_for(config_dir: Option<&Path>) -> (CacheSetting, bool) {
    let process = PROCESS_SETTING.get().cloned().unwrap_or_default();
    match config_dir {
        Some(dir) if !process.explicit => {
            (CacheSetting::Dir(dir.to_path_buf()), process.warn_on_stderr)
        }
        _ => (process.setting, process.warn_on_stderr),
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

/// An open compile cache for one engine.
#[derive(Debug, Clone)]
pub struct CompileCache {
    root: PathBuf,
    engine_dir: PathBuf,
    engine_key: [u8; 32],
}

impl CompileCache {
    /// Opens (creating if needed, mode 0700) the cache in `root` for `engine`.
    /// Refuses a directory that another user owns or that others may write
    /// to: whoever can write an entry chooses the machine code we run.
    pub fn open(root: &Path, engine: &Engine) -> Result<CompileCache, CacheError> {
        let engine_key = engine_key(engine);
        let engine_dir = root.join(LAYOUT_DIR).join(hex::encode(&engine_key[..8]));
        let fail = |message: String| CacheError::Directory {
            dir: root.to_path_buf(),
            message,
        };
        create_private_dir(root).map_err(|e| fail(format!("cannot create it: {e}")))?;
        check_private(root).map_err(fail)?;
        create_private_dir(&engine_dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", engine_dir.display())))?;
        check_private(&engine_dir).map_err(fail)?;
        Ok(CompileCache {
            root: root.to_path_buf(),
            engine_dir,
            engine_key,
        })
    }

    /// The cache's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the entry for a wasm digest (lowercase hex) lives.
    pub fn entry_path(&self, wasm_sha256: &str) -> PathBuf {
        self.engine_dir
            .join(format!("{wasm_sha256}.{ENTRY_EXTENSION}"))
    }

    /// Loads the compiled component for `wasm_sha256`, if a valid entry exists.
    #[allow(unsafe_code)]
    pub fn get(&self, engine: &Engine, wasm_sha256: &str) -> Result<Component, Miss> {
        let path = self.entry_path(wasm_sha256);
        let bytes = match read_entry(&path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err(Miss::Absent),
            Err(why) => return Err(Miss::Invalid(why)),
        };
        let artifact = self
            .check_entry(&bytes, wasm_sha256)
            .map_err(|why| Miss::Invalid(format!("{}: {why}", path.display())))?;
        // SAFETY: `artifact` is exactly the bytes whose SHA-256 matched the
        // header this host wrote beside it, in a directory only this user can
        // write (checked in `open`); it was produced by `Component::serialize`
        // of an engine with the same engine key. wasmtime additionally checks
        // its own header and compatibility before using the code.
        let component = unsafe { Component::deserialize(engine, artifact) };
        component.map_err(|e| {
            Miss::Invalid(format!(
                "{}: wasmtime refused it: {}",
                path.display(),
                super::engine::first_line(&e)
            ))
        })
    }

    /// Stores the compiled `component` for `wasm_sha256`, atomically.
    pub fn put(&self, wasm_sha256: &str, component: &Component) -> Result<PathBuf, CacheError> {
        let artifact = component
            .serialize()
            .map_err(|e| CacheError::Serialize(super::engine::first_line(&e)))?;
        let digest = decode_digest(wasm_sha256)
            .ok_or_else(|| CacheError::Serialize(format!("bad wasm digest {wasm_sha256:?}")))?;
        let mut entry = Vec::with_capacity(HEADER_LEN + artifact.len());
        entry.extend_from_slice(MAGIC);
        entry.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        entry.extend_from_slice(&digest);
        entry.extend_from_slice(&self.engine_key);
        entry.extend_from_slice(&(artifact.len() as u64).to_le_bytes());
        entry.extend_from_slice(&Sha256::digest(&artifact));
        entry.extend_from_slice(&artifact);
        let path = self.entry_path(wasm_sha256);
        write_atomically(&path, &entry).map_err(|source| CacheError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Checks an entry's header against what this lookup expects and returns
    /// the artifact it vouches for.
    fn check_entry<'a>(&self, bytes: &'a [u8], wasm_sha256: &str) -> Result<&'a [u8], String> {
        if bytes.len() < HEADER_LEN {
            return Err(format!(
                "truncated: {} bytes, shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            ));
        }
        let (header, artifact) = bytes.split_at(HEADER_LEN);
        let (magic, rest) = header.split_at(16);
        if magic != MAGIC {
            return Err("not a Gatehouse cache entry (wrong magic)".into());
        }
        let (version, rest) = rest.split_at(4);
        let version = u32::from_le_bytes([version[0], version[1], version[2], version[3]]);
        if version != FORMAT_VERSION {
            return Err(format!(
                "entry format {version}, this gatehouse writes {FORMAT_VERSION}"
            ));
        }
        let (digest, rest) = rest.split_at(32);
        if Some(digest) != decode_digest(wasm_sha256).as_ref().map(|d| &d[..]) {
            return Err("the entry is for another policy (wasm digest differs)".into());
        }
        let (key, rest) = rest.split_at(32);
        if key != self.engine_key {
            return Err("the entry is from another engine configuration".into());
        }
        let (length, recorded) = rest.split_at(8);
        let mut length_bytes = [0u8; 8];
        length_bytes.copy_from_slice(length);
        let length = u64::from_le_bytes(length_bytes);
        if length != artifact.len() as u64 {
            return Err(format!(
                "truncated or extended: the header records {length} bytes of code, the file holds {}",
                artifact.len()
            ));
        }
        if Sha256::digest(artifact).as_slice() != recorded {
            return Err("corrupt: the compiled code does not match its recorded SHA-256".into());
        }
        Ok(artifact)
    }

    /// Removes what this engine will never read: entries of other engine
    /// configurations or layouts (older gatehouse or wasmtime versions), this
    /// engine's entries not used for `max_age`, and temporary files of
    /// interrupted writes. Returns what was removed.
    pub fn prune(&self, max_age: Duration) -> std::io::Result<PruneSummary> {
        let mut summary = PruneSummary::default();
        let now = SystemTime::now();
        for layout in read_dir_entries(&self.root)? {
            let is_current_layout = layout.file_name() == Some(std::ffi::OsStr::new(LAYOUT_DIR));
            if !layout.is_dir() {
                continue;
            }
            if !is_current_layout {
                // Only remove directories that look like ours (`v<N>`).
                let name = layout.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if is_layout_name(name) {
                    summary.add_tree(&layout)?;
                }
                continue;
            }
            for engine_dir in read_dir_entries(&layout)? {
                if !engine_dir.is_dir() {
                    continue;
                }
                if engine_dir != self.engine_dir {
                    summary.add_tree(&engine_dir)?;
                    continue;
                }
                for entry in read_dir_entries(&engine_dir)? {
                    let stale = std::fs::metadata(&entry)
                        .and_then(|m| m.modified())
                        .map(|t| now.duration_since(t).unwrap_or_default() > max_age)
                        .unwrap_or(true);
                    let temporary = entry
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(".tmp-"));
                    let temp_stale = std::fs::metadata(&entry)
                        .and_then(|m| m.modified())
                        .map(|t| now.duration_since(t).unwrap_or_default() > TEMP_FILE_AGE)
                        .unwrap_or(true);
                    if (temporary && temp_stale) || (!temporary && stale) {
                        summary.add_file(&entry)?;
                    } else {
                        summary.kept += 1;
                    }
                }
            }
        }
        Ok(summary)
    }

    /// Marks an entry as used now, so `prune` keeps what is in use.
    fn touch(&self, wasm_sha256: &str) {
        let path = self.entry_path(wasm_sha256);
        if let Ok(file) = std::fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(SystemTime::now());
        }
    }
}

/// Temporary files younger than this may belong to a write in progress.
const TEMP_FILE_AGE: Duration = Duration::from_secs(3600);

/// What `prune` removed and kept.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PruneSummary {
    /// Files removed.
    pub removed_files: u64,
    /// Bytes freed.
    pub removed_bytes: u64,
    /// Entries kept.
    pub kept: u64,
}

impl PruneSummary {
    fn add_file(&mut self, path: &Path) -> std::io::Result<()> {
        let size = std::fs::symlink_metadata(path)
            .map(|m| m.len())
            .unwrap_or(0);
        std::fs::remove_file(path)?;
        self.removed_files += 1;
        self.removed_bytes += size;
        Ok(())
    }

    fn add_tree(&mut self, dir: &Path) -> std::io::Result<()> {
        for entry in read_dir_entries(dir)? {
            let meta = std::fs::symlink_metadata(&entry)?;
            if meta.is_dir() {
                self.add_tree(&entry)?;
            } else {
                self.add_file(&entry)?;
            }
        }
        std::fs::remove_dir(dir)
    }
}

fn is_layout_name(name: &str) -> bool {
    name.strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn read_dir_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        paths.push(entry?.path());
    }
    paths.sort();
    Ok(paths)
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
    sha.update(FORMAT_VERSION.to_le_bytes());
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

fn private_file_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Refuses a directory others may write to or that another user owns.
fn check_private(dir: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(dir).map_err(|e| format!("cannot stat {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "{} is writable by other users (mode {:o}); whoever can write there chooses the code gatehouse runs. Fix: chmod go-w {}",
                dir.display(),
                meta.mode() & 0o777,
                dir.display()
            ));
        }
        if let Ok(me) = std::fs::metadata("/proc/self").map(|m| m.uid())
            && meta.uid() != me
        {
            return Err(format!(
                "{} belongs to user id {}, not to this user ({me}); use a cache directory of your own (--cache-dir)",
                dir.display(),
                meta.uid()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest valid component: just the header.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

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

    #[test]
    fn miss_then_hit() {
        let dir = tempdir();
        let engine = engine(true);
        let cache = CompileCache::open(dir.path(), &engine).expect("open");
        let sha = digest(EMPTY_COMPONENT);
        let (_, outcome, warning) =
            compile_cached(Some(&cache), &engine, &sha, || compile(&engine)).expect("compile");
        assert_eq!(outcome, CacheOutcome::Miss(Miss::Absent));
        assert_eq!(warning, None);
        assert!(cache.entry_path(&sha).is_file());
        let (_, outcome, warning) = compile_cached(Some(&cache), &engine, &sha, || {
            panic!("a hit must not compile")
        })
        .expect("hit");
        assert_eq!(outcome, CacheOutcome::Hit);
        assert_eq!(warning, None);
    }

    fn assert_refused_then_repaired(mutate: impl FnOnce(&Path), expected: &str) {
        let dir = tempdir();
        let engine = engine(true);
        let cache = CompileCache::open(dir.path(), &engine).expect("open");
        let sha = digest(EMPTY_COMPONENT);
        let component = compile(&engine).expect("compile");
        cache.put(&sha, &component).expect("put");
        mutate(&cache.entry_path(&sha));
        match cache.get(&engine, &sha) {
            Err(Miss::Invalid(why)) => assert!(why.contains(expected), "{why}"),
            other => panic!(
                "expected a refused entry, got {:?}",
                other.map(|_| "component")
            ),
        }
        let (_, outcome, warning) =
            compile_cached(Some(&cache), &engine, &sha, || compile(&engine)).expect("recompile");
        assert!(matches!(outcome, CacheOutcome::Miss(Miss::Invalid(_))));
        assert!(warning.is_some_and(|w| w.contains("refused and replaced")));
        assert!(cache.get(&engine, &sha).is_ok(), "the entry was repaired");
    }

    #[test]
    fn a_corrupt_entry_is_refused_and_replaced() {
        assert_refused_then_repaired(
            |path| {
                let mut bytes = std::fs::read(path).expect("read");
                let last = bytes.len() - 1;
                bytes[last] ^= 0xff;
                std::fs::write(path, bytes).expect("write");
            },
            "corrupt",
        );
    }

    #[test]
    fn a_truncated_entry_is_refused_and_replaced() {
        assert_refused_then_repaired(
            |path| {
                let bytes = std::fs::read(path).expect("read");
                std::fs::write(path, &bytes[..bytes.len() / 2]).expect("write");
            },
            "truncated",
        );
        assert_refused_then_repaired(
            |path| std::fs::write(path, b"GATEHOUSE").expect("write"),
            "truncated",
        );
    }

    #[test]
    fn a_foreign_file_is_refused_and_replaced() {
        assert_refused_then_repaired(
            |path| std::fs::write(path, vec![7u8; 4096]).expect("write"),
            "wrong magic",
        );
    }

    #[test]
    fn an_entry_from_another_engine_configuration_is_never_loaded() {
        let dir = tempdir();
        let ours = engine(true);
        let theirs = engine(false);
        let sha = digest(EMPTY_COMPONENT);
        let their_cache = CompileCache::open(dir.path(), &theirs).expect("open");
        let our_cache = CompileCache::open(dir.path(), &ours).expect("open");
        assert_ne!(
            their_cache.entry_path(&sha),
            our_cache.entry_path(&sha),
            "different configurations use different keys"
        );
        // Their artifact, placed where ours would be with their header: the key check refuses it.
        their_cache
            .put(&sha, &compile(&theirs).expect("compile"))
            .expect("put");
        std::fs::copy(their_cache.entry_path(&sha), our_cache.entry_path(&sha)).expect("copy");
        match our_cache.get(&ours, &sha) {
            Err(Miss::Invalid(why)) => assert!(why.contains("another engine"), "{why}"),
            other => panic!("expected a refusal, got {:?}", other.map(|_| "component")),
        }
        // Their artifact under our header (digest valid): wasmtime's own check refuses it.
        let artifact = compile(&theirs)
            .expect("compile")
            .serialize()
            .expect("serialize");
        let mut entry = Vec::new();
        entry.extend_from_slice(MAGIC);
        entry.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        entry.extend_from_slice(&decode_digest(&sha).expect("digest"));
        entry.extend_from_slice(&our_cache.engine_key);
        entry.extend_from_slice(&(artifact.len() as u64).to_le_bytes());
        entry.extend_from_slice(&Sha256::digest(&artifact));
        entry.extend_from_slice(&artifact);
        std::fs::write(our_cache.entry_path(&sha), entry).expect("write");
        match our_cache.get(&ours, &sha) {
            Err(Miss::Invalid(why)) => assert!(why.contains("wasmtime refused"), "{why}"),
            other => panic!("expected a refusal, got {:?}", other.map(|_| "component")),
        }
    }

    #[test]
    fn an_entry_for_another_policy_is_refused() {
        let dir = tempdir();
        let engine = engine(true);
        let cache = CompileCache::open(dir.path(), &engine).expect("open");
        let sha = digest(EMPTY_COMPONENT);
        let other = digest(b"other");
        cache
            .put(&other, &compile(&engine).expect("compile"))
            .expect("put");
        std::fs::copy(cache.entry_path(&other), cache.entry_path(&sha)).expect("copy");
        match cache.get(&engine, &sha) {
            Err(Miss::Invalid(why)) => assert!(why.contains("another policy"), "{why}"),
            other => panic!("expected a refusal, got {:?}", other.map(|_| "component")),
        }
    }

    #[test]
    fn concurrent_writers_and_readers_never_see_half_an_entry() {
        let dir = tempdir();
        let engine = engine(true);
        let cache = CompileCache::open(dir.path(), &engine).expect("open");
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
        let leftovers: Vec<_> = read_dir_entries(&cache.engine_dir)
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
        let dir = tempdir();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        let err = CompileCache::open(dir.path(), &engine(true)).expect_err("refused");
        assert!(err.to_string().contains("chmod go-w"), "{err}");
    }

    #[test]
    fn prune_removes_other_engines_and_old_entries() {
        let dir = tempdir();
        let ours = engine(true);
        let theirs = engine(false);
        let sha = digest(EMPTY_COMPONENT);
        let our_cache = CompileCache::open(dir.path(), &ours).expect("open");
        let their_cache = CompileCache::open(dir.path(), &theirs).expect("open");
        our_cache
            .put(&sha, &compile(&ours).expect("c"))
            .expect("put");
        their_cache
            .put(&sha, &compile(&theirs).expect("c"))
            .expect("put");
        std::fs::create_dir_all(dir.path().join("v0").join("x")).expect("old layout");
        std::fs::write(dir.path().join("v0").join("x").join("a.cwasm"), b"old").expect("w");
        std::fs::write(dir.path().join("notes.txt"), b"not ours").expect("w");

        let summary = our_cache.prune(Duration::from_secs(3600)).expect("prune");
        assert_eq!(summary.removed_files, 2, "{summary:?}");
        assert_eq!(summary.kept, 1);
        assert!(our_cache.get(&ours, &sha).is_ok());
        assert!(!their_cache.entry_path(&sha).exists());
        assert!(
            dir.path().join("notes.txt").exists(),
            "unknown files are left alone"
        );

        let summary = our_cache.prune(Duration::ZERO).expect("prune all");
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

    fn tempdir() -> TempDir {
        let base = std::env::temp_dir().join(format!(
            "gatehouse-cache-test-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&base).expect("temp dir");
        TempDir(base)
    }

    struct TempDir(PathBuf);

    impl TempDir {
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
