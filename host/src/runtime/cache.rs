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
//!   ([`key`], kept outside every cache directory), computed over the header
//!   and the artifact's bytes, matches, so only a gatehouse run by the key's
//!   holder can have written it, and not one byte of it has changed;
//! - the cache directory belongs to this user and nobody else may write to it;
//! - its header ([`entry`]: magic, format, key id, wasm digest, engine key,
//!   length and the SHA-256 of the artifact) matches the lookup;
//! - the bytes that were checked are the bytes that are loaded (read into
//!   memory once, never re-read or mapped from disk).
//!
//! A refused entry is reported, recompiled and replaced. Entries are written
//! to a temporary file in the same directory and renamed into place, so a
//! concurrent reader sees either no entry or a whole one; two processes
//! filling the same entry both succeed and the last rename wins.

//!
//! | file | job |
//! |---|---|
//! | `setting.rs` | [`CacheSetting`]: where the cache is, or none (chosen by the front-end) |
//! | `key.rs` | the secret key that authenticates entries: where it lives, loading, creating |
//! | `private.rs` | owner and permission checks of the cache and key directories |
//! | `entry.rs` | the entry format: header, MAC, artifact |
//! | `store.rs` | [`CompileCache`]: the directories, reading, verifying and writing entries |
//! | `prune.rs` | [`prune`]: removing what this engine will never read |
//! | this file | [`compile_cached`]: compile through the cache, and what happened |

mod entry;
pub mod key;
mod private;
mod prune;
mod setting;
mod store;

pub use key::{CacheKey, KeyError, KeySource};
pub use prune::{PruneSummary, prune};
pub use setting::CacheSetting;
pub use store::{CacheError, CompileCache, Miss};

use wasmtime::Engine;
use wasmtime::component::Component;

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

#[cfg(test)]
mod tests {
    use super::store::{ENTRY_EXTENSION, decode_digest};
    use super::*;
    use sha2::{Digest, Sha256};
    use std::path::Path;
    use std::time::Duration;

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
}
