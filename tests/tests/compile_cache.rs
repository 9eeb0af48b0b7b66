//! The on-disk compile cache, end to end: a miss stores an entry, a hit loads
//! it without compiling, and a corrupt, truncated, foreign, planted or
//! other-key entry is refused (with a warning), recompiled and replaced — the
//! verdict never changes. Several processes filling the same entry at once
//! all succeed. Machines that share a cache share hits only when they share
//! the key file.
//!
//! Every run gets its own HOME, XDG_CONFIG_HOME and XDG_CACHE_HOME (a
//! [`Machine`]): the tests never read or create the real user's cache key.

use gatehouse_e2e::{Run, assert_no_host_panic, policy, workspace_root};
use serde_json::Value;
use std::path::{Path, PathBuf};

const POLICY: &str = "destructive-changes";
const NOW: &str = "2026-11-22T10:00:00Z";
const KEY_ENV: &str = "GATEHOUSE_CACHE_KEY_FILE";

fn release() -> String {
    example_release("staging-recreate-database.json")
}

fn example_release(name: &str) -> String {
    workspace_root()
        .join("example-policies/releases")
        .join(name)
        .display()
        .to_string()
}

fn eval_args(cache: &Path) -> Vec<String> {
    eval_args_for(POLICY, cache)
}

/// `eval` of the example policy `name` with its compile cache in `cache`.
fn eval_args_for(name: &str, cache: &Path) -> Vec<String> {
    eval_release_args(name, &release(), cache)
}

/// `eval` of the example policy `name` on `input` with its compile cache in `cache`.
fn eval_release_args(name: &str, input: &str, cache: &Path) -> Vec<String> {
    vec![
        "--cache-dir".into(),
        cache.display().to_string(),
        "eval".into(),
        "--policy".into(),
        policy(name).display().to_string(),
        "--input".into(),
        input.into(),
        "--now".into(),
        NOW.into(),
        "--output".into(),
        "json".into(),
    ]
}

/// A private user environment: its own HOME, XDG_CONFIG_HOME (so its own
/// default cache key) and XDG_CACHE_HOME, and no GATEHOUSE_CACHE_KEY_FILE
/// unless a run sets one.
struct Machine {
    dir: tempfile::TempDir,
}

impl Machine {
    fn new() -> Machine {
        Machine {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A path inside this machine's private directory.
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Where this machine's default cache key lives.
    fn default_key(&self) -> PathBuf {
        self.path("config").join("gatehouse").join("cache-key")
    }

    /// Runs `gatehouse` as this machine's user.
    fn gatehouse<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.gatehouse_env(args, &[])
    }

    /// [`Machine::gatehouse`] with extra environment variables.
    fn gatehouse_env<I, S>(&self, args: I, envs: &[(&str, &Path)]) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let run: Run = self
            .command()
            .args(args)
            .envs(envs.iter().copied())
            .output()
            .expect("run gatehouse")
            .into();
        assert_no_host_panic(&run);
        run
    }

    /// The command, environment set, stdin closed.
    fn command(&self) -> std::process::Command {
        let mut command = gatehouse_e2e::gatehouse_command();
        command
            .current_dir(workspace_root())
            .stdin(std::process::Stdio::null())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache-home"))
            .env_remove(KEY_ENV);
        command
    }

    /// Runs eval with the cache in `cache`; returns the run and the
    /// policy's `compile_cache` field.
    fn eval(&self, cache: &Path) -> (Run, String) {
        self.eval_env(cache, &[])
    }

    /// [`Machine::eval`] with extra environment variables.
    fn eval_env(&self, cache: &Path, envs: &[(&str, &Path)]) -> (Run, String) {
        let run = self.gatehouse_env(eval_args(cache), envs);
        let outcome = compile_cache_field(&run);
        (run, outcome)
    }
}

/// The first policy's `compile_cache` field of a JSON report.
fn compile_cache_field(run: &Run) -> String {
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("JSON report ({e}): {}\n{}", run.stdout, run.stderr));
    report["policies"][0]["compile_cache"]
        .as_str()
        .unwrap_or_else(|| panic!("compile_cache missing: {report}"))
        .to_string()
}

/// Every `.cwasm` entry under the cache directory.
fn entries(cache: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(read) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in read.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(cache, &mut out);
    out.sort();
    out
}

fn only_entry(cache: &Path) -> PathBuf {
    let all = entries(cache);
    assert_eq!(all.len(), 1, "exactly one cache file expected: {all:?}");
    let entry = all[0].clone();
    let sha = gatehouse_e2e::sha256_hex(std::fs::read(policy(POLICY)).expect("policy"));
    assert_eq!(
        entry.file_name().and_then(|n| n.to_str()),
        Some(format!("{sha}.cwasm").as_str()),
        "entries are named by the wasm digest"
    );
    entry
}

#[test]
fn a_miss_stores_an_entry_and_the_next_run_hits_it() {
    let m = Machine::new();
    let cache = m.path("cache");
    let (first, outcome) = m.eval(&cache);
    assert_eq!(first.code, 2, "{}", first.stderr);
    assert_eq!(outcome, "miss");
    let entry = only_entry(&cache);
    assert!(
        entry.starts_with(cache.join("v2")),
        "authenticated entries live in v2/: {}",
        entry.display()
    );

    let (second, outcome) = m.eval(&cache);
    assert_eq!(outcome, "hit");
    assert_eq!(second.code, 2);
    assert!(!second.stderr.contains("warning"), "{}", second.stderr);
    assert_eq!(only_entry(&cache), entry);
}

#[cfg(unix)]
#[test]
fn the_first_run_creates_a_private_key_outside_the_cache() {
    use std::os::unix::fs::MetadataExt;
    let m = Machine::new();
    let cache = m.path("cache");
    assert!(!m.default_key().exists());
    let (run, outcome) = m.eval(&cache);
    assert_eq!((run.code, outcome.as_str()), (2, "miss"), "{}", run.stderr);
    let key = m.default_key();
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").mode() & 0o777;
    assert_eq!(mode(&key), 0o600, "{}", key.display());
    assert_eq!(mode(key.parent().expect("dir")), 0o700);
    let text = std::fs::read_to_string(&key).expect("key");
    assert_eq!(text.trim().len(), 64, "64 hex digits");
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!key.starts_with(&cache));

    let shown = m.gatehouse(["cache", "key"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert_eq!(shown.stdout.trim(), key.display().to_string());
    assert_eq!(std::fs::read_to_string(&key).expect("key"), text, "kept");
}

/// Damages the entry, then checks the next run refuses it with a warning
/// naming `expected`, gives the same verdict, and leaves a valid entry.
fn assert_damage_is_repaired(damage: impl FnOnce(&Path), expected: &str) {
    let m = Machine::new();
    let cache = m.path("cache");
    let (first, _) = m.eval(&cache);
    let entry = only_entry(&cache);
    damage(&entry);

    let (run, outcome) = m.eval(&cache);
    assert_eq!(outcome, "miss", "a damaged entry is never loaded");
    assert_eq!(run.code, first.code, "same verdict");
    assert!(
        run.stderr.contains("refused and replaced") && run.stderr.contains(expected),
        "warning naming {expected:?}: {}",
        run.stderr
    );

    let (again, outcome) = m.eval(&cache);
    assert_eq!(outcome, "hit", "the entry was replaced: {}", again.stderr);
    assert!(!again.stderr.contains("warning"), "{}", again.stderr);
}

#[test]
fn a_corrupt_entry_is_refused_recompiled_and_replaced() {
    assert_damage_is_repaired(
        |entry| {
            let mut bytes = std::fs::read(entry).expect("read");
            let middle = bytes.len() / 2 + 7;
            bytes[middle] ^= 0x5a;
            std::fs::write(entry, bytes).expect("write");
        },
        "corrupt",
    );
}

#[test]
fn a_truncated_entry_is_refused_recompiled_and_replaced() {
    assert_damage_is_repaired(
        |entry| {
            let bytes = std::fs::read(entry).expect("read");
            std::fs::write(entry, &bytes[..bytes.len() - 1000]).expect("write");
        },
        "truncated",
    );
}

#[test]
fn a_changed_header_field_is_refused() {
    // Byte 60 is the first byte of the engine key (after magic, format, key
    // id and wasm digest): changed, as if the entry came from another engine
    // configuration, the MAC no longer matches.
    assert_damage_is_repaired(
        |entry| {
            let mut bytes = std::fs::read(entry).expect("read");
            bytes[60] ^= 0x01;
            std::fs::write(entry, bytes).expect("write");
        },
        "not authenticated by this user's cache key",
    );
}

#[test]
fn a_file_that_is_not_an_entry_is_refused() {
    assert_damage_is_repaired(
        |entry| {
            let mut bytes = b"\0asm\x0d\0\x01\0".to_vec();
            bytes.resize(4096, b'x');
            std::fs::write(entry, bytes).expect("write")
        },
        "not a Gatehouse cache entry",
    );
}

/// The reproduction of issue 10, item 2: compile `change-budget` and
/// `destructive-changes` into a cache, copy change-budget's entry under
/// destructive-changes' digest with the digest field rewritten (every other
/// header field stays consistent), and evaluate destructive-changes on a
/// prod database DELETE. Before entries were authenticated, gatehouse ran
/// change-budget's code and approved (exit 0).
#[test]
fn a_planted_entry_cannot_replace_the_pinned_policy() {
    let m = Machine::new();
    let cache = m.path("cache");
    let compiled = m.gatehouse([
        "--cache-dir",
        &cache.display().to_string(),
        "compile",
        &policy("change-budget").display().to_string(),
        &policy(POLICY).display().to_string(),
    ]);
    assert_eq!(compiled.code, 0, "{}", compiled.stderr);

    let digest_of = |name: &str| {
        let hex = gatehouse_e2e::sha256_hex(std::fs::read(policy(name)).expect("policy"));
        let bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
            .collect();
        (hex, bytes)
    };
    let (budget_hex, budget_digest) = digest_of("change-budget");
    let (target_hex, target_digest) = digest_of(POLICY);
    let all = entries(&cache);
    let budget_entry = all
        .iter()
        .find(|p| p.ends_with(format!("{budget_hex}.cwasm")))
        .unwrap_or_else(|| panic!("change-budget's entry: {all:?}"));
    let target_entry = budget_entry.with_file_name(format!("{target_hex}.cwasm"));
    assert!(target_entry.exists(), "{all:?}");

    // Rewrite the digest field wherever the header holds it (whatever the
    // layout), and put the result where destructive-changes' entry is.
    let mut planted = std::fs::read(budget_entry).expect("read");
    let header = &planted[..planted.len().min(256)];
    let at = header
        .windows(32)
        .position(|w| w == budget_digest.as_slice())
        .expect("the digest field in the header");
    planted[at..at + 32].copy_from_slice(&target_digest);
    std::fs::write(&target_entry, &planted).expect("plant");

    let prod = example_release("prod-delete-database.json");
    let run = m.gatehouse(eval_release_args(POLICY, &prod, &cache));
    assert_eq!(
        run.code, 1,
        "destructive-changes' own verdict (fail), not change-budget's approval: {run:#?}"
    );
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["policies"][0]["name"], POLICY, "{report}");
    assert_eq!(report["policies"][0]["compile_cache"], "miss");
    let warning = run
        .stderr
        .lines()
        .find(|l| l.starts_with("gatehouse: warning:"))
        .unwrap_or_else(|| panic!("a warning about the refused entry: {}", run.stderr));
    assert!(
        warning.contains(&target_entry.display().to_string())
            && warning.contains("refused and replaced")
            && warning.contains("not authenticated"),
        "{warning}"
    );
    assert_ne!(
        std::fs::read(&target_entry).expect("entry"),
        planted,
        "the planted entry was replaced"
    );

    let again = m.gatehouse(eval_release_args(POLICY, &prod, &cache));
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_eq!(compile_cache_field(&again), "hit");
    assert!(!again.stderr.contains("warning"), "{}", again.stderr);
}

/// Creates a key file with `gatehouse cache key` (named by the flag).
fn new_key_file(m: &Machine, name: &str) -> PathBuf {
    let dir = m.path("keys");
    let path = dir.join(name);
    let run = m.gatehouse([
        "--cache-key-file",
        &path.display().to_string(),
        "cache",
        "key",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), path.display().to_string());
    assert!(
        run.stderr.contains("created a new compile cache key"),
        "{}",
        run.stderr
    );
    path
}

#[test]
fn an_entry_written_under_another_key_is_refused_and_replaced() {
    let m = Machine::new();
    let cache = m.path("cache");
    let (one, two) = (new_key_file(&m, "one"), new_key_file(&m, "two"));
    assert_ne!(
        std::fs::read(&one).expect("one"),
        std::fs::read(&two).expect("two"),
        "each key is fresh"
    );

    let (first, outcome) = m.eval_env(&cache, &[(KEY_ENV, &one)]);
    assert_eq!(
        (first.code, outcome.as_str()),
        (2, "miss"),
        "{}",
        first.stderr
    );
    let (hit, outcome) = m.eval_env(&cache, &[(KEY_ENV, &one)]);
    assert_eq!(outcome, "hit", "{}", hit.stderr);

    let (other, outcome) = m.eval_env(&cache, &[(KEY_ENV, &two)]);
    assert_eq!(outcome, "miss", "another key's entry is never loaded");
    assert_eq!(other.code, 2, "same verdict");
    assert!(
        other.stderr.contains("gatehouse: warning:")
            && other.stderr.contains("refused and replaced")
            && other.stderr.contains("another cache key"),
        "{}",
        other.stderr
    );
    let (hit, outcome) = m.eval_env(&cache, &[(KEY_ENV, &two)]);
    assert_eq!(outcome, "hit", "replaced under key two: {}", hit.stderr);

    // The default key is a third key: it refuses key two's entry too.
    let (default, outcome) = m.eval(&cache);
    assert_eq!(outcome, "miss", "{}", default.stderr);
    assert!(
        default.stderr.contains("another cache key"),
        "{}",
        default.stderr
    );
}

#[cfg(unix)]
#[test]
fn machines_that_share_the_key_file_share_the_cache() {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    // Machine A fills a cache with its key; machine B (another HOME and
    // XDG_CONFIG_HOME) restores that cache and gets A's key from a secret
    // store, written to a private file, as a CI job would.
    let a = Machine::new();
    let b = Machine::new();
    let shared_cache = a.path("ci-cache");
    let key_a = new_key_file(&a, "ci-key");
    let (run, outcome) = a.eval_env(&shared_cache, &[(KEY_ENV, &key_a)]);
    assert_eq!((run.code, outcome.as_str()), (2, "miss"), "{}", run.stderr);

    let secret = std::fs::read(&key_a).expect("secret");
    let key_b = b.path("ci-key");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_b)
        .and_then(|mut f| f.write_all(&secret))
        .expect("write the secret");

    // Flag and environment: the flag wins over a variable naming a bad file.
    let missing = b.path("no-such-key");
    let mut args = vec!["--cache-key-file".to_string(), key_b.display().to_string()];
    args.extend(eval_args(&shared_cache));
    let run = b.gatehouse_env(&args, &[(KEY_ENV, &missing)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(compile_cache_field(&run), "hit", "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let (run, outcome) = b.eval_env(&shared_cache, &[(KEY_ENV, &key_b)]);
    assert_eq!((run.code, outcome.as_str()), (2, "hit"), "{}", run.stderr);
    assert!(
        !b.default_key().exists(),
        "a named key file is used instead of the default key"
    );
}

#[test]
fn a_missing_named_key_file_is_an_error_not_a_fallback() {
    let m = Machine::new();
    let cache = m.path("cache");
    let missing = m.path("keys").join("absent");
    let run = m.gatehouse_env(eval_args(&cache), &[(KEY_ENV, &missing)]);
    gatehouse_e2e::assert_error(
        &run,
        &[
            &missing.display().to_string(),
            "named by GATEHOUSE_CACHE_KEY_FILE",
            "does not exist",
            "cache key",
        ],
    );
    let mut args = vec![
        "--cache-key-file".to_string(),
        missing.display().to_string(),
    ];
    args.extend(eval_args(&cache));
    let run = m.gatehouse(&args);
    gatehouse_e2e::assert_error(&run, &["named by --cache-key-file", "does not exist"]);
    assert!(
        !missing.exists() && !m.default_key().exists(),
        "no key was created"
    );
    assert!(entries(&cache).is_empty(), "nothing was cached");

    let empty = m.gatehouse_env(eval_args(&cache), &[(KEY_ENV, Path::new(""))]);
    gatehouse_e2e::assert_error(&empty, &["GATEHOUSE_CACHE_KEY_FILE is set but empty"]);

    // With --no-cache no key is needed.
    let mut args = vec!["--no-cache".to_string()];
    args.extend(eval_args(&cache).into_iter().skip(2));
    let run = m.gatehouse_env(&args, &[(KEY_ENV, &missing)]);
    assert_eq!(run.code, 2, "{}", run.stderr);

    let bad = m.path("not-a-key");
    std::fs::write(&bad, "hunter2\n").expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let run = m.gatehouse_env(eval_args(&cache), &[(KEY_ENV, &bad)]);
    let message = gatehouse_e2e::assert_error(&run, &["is not a key", "64 hexadecimal digits"]);
    assert!(
        !message.contains("hunter2"),
        "the key text is never printed"
    );
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let m = Machine::new();
    let cache = m.path("cache");
    let key = new_key_file(&m, "shared-key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (run, outcome) = m.eval_env(&cache, &[(KEY_ENV, &key)]);
    assert_eq!(run.code, 2, "the gate still decides: {}", run.stderr);
    assert_eq!(outcome, "off");
    assert!(
        run.stderr.contains("gatehouse: warning:")
            && run.stderr.contains("refused")
            && run.stderr.contains("chmod 600"),
        "{}",
        run.stderr
    );
    assert!(entries(&cache).is_empty());
    let shown = m.gatehouse([
        "--cache-key-file",
        &key.display().to_string(),
        "cache",
        "key",
    ]);
    assert_eq!(
        shown.code, 3,
        "cache key reports the problem: {}",
        shown.stderr
    );
    assert!(shown.stderr.contains("chmod 600"), "{}", shown.stderr);

    // The default key, likewise.
    let default = m.default_key();
    let created = m.gatehouse(["cache", "key"]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    std::fs::set_permissions(&default, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let (run, outcome) = m.eval(&cache);
    assert_eq!((run.code, outcome.as_str()), (2, "off"), "{}", run.stderr);
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
}

#[test]
fn processes_racing_to_fill_the_same_entry_all_succeed() {
    let m = Machine::new();
    let cache = m.path("cache");
    // Four processes that all create the default key and fill the entry.
    let children: Vec<_> = (0..4)
        .map(|_| {
            m.command()
                .args(eval_args(&cache))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn gatehouse")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(!stderr.contains("warning"), "{stderr}");
    }
    only_entry(&cache);
    let (run, outcome) = m.eval(&cache);
    assert_eq!(outcome, "hit", "{}", run.stderr);
}

#[test]
fn no_cache_compiles_and_writes_nothing() {
    let m = Machine::new();
    let dir = m.path("unused");
    let mut args = vec!["--no-cache".to_string()];
    args.extend(eval_args(&dir).into_iter().skip(2));
    let run = m.gatehouse(&args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["policies"][0]["compile_cache"], "off");
    assert!(!dir.exists());
    assert!(!m.default_key().exists(), "no key without a cache");

    let both = m.gatehouse([
        "--no-cache",
        "--cache-dir",
        &dir.display().to_string(),
        "cache",
        "dir",
    ]);
    assert_eq!(both.code, 3, "--no-cache and --cache-dir conflict");
}

#[cfg(unix)]
#[test]
fn a_cache_directory_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let m = Machine::new();
    let cache = m.path("cache");
    std::fs::create_dir(&cache).expect("mkdir");
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let (run, outcome) = m.eval(&cache);
    assert_eq!(run.code, 2, "the gate still decides: {}", run.stderr);
    assert_eq!(outcome, "off");
    assert!(run.stderr.contains("chmod go-w"), "{}", run.stderr);
    assert!(entries(&cache).is_empty());
}

#[test]
fn compile_fills_a_cache_that_eval_then_hits() {
    let m = Machine::new();
    let out = m.path("precompiled");
    let run = m.gatehouse([
        "compile",
        "-o",
        &out.display().to_string(),
        &policy(POLICY).display().to_string(),
        &policy("stream-approval").display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.matches("compiled: ").count(),
        2,
        "{}",
        run.stdout
    );
    assert_eq!(entries(&out).len(), 2);

    let again = m.gatehouse([
        "compile",
        "-o",
        &out.display().to_string(),
        &policy(POLICY).display().to_string(),
    ]);
    assert!(
        again.stdout.starts_with("already cached: "),
        "{}",
        again.stdout
    );
    let (_, outcome) = m.eval(&out);
    assert_eq!(outcome, "hit");

    let bad = m.gatehouse([
        "compile",
        "-o",
        &out.display().to_string(),
        &workspace_root().join("README.md").display().to_string(),
    ]);
    assert_eq!(bad.code, 3);
    assert!(bad.stderr.contains("README.md"), "{}", bad.stderr);
}

#[test]
fn prune_keeps_entries_in_use_and_removes_the_rest() {
    let m = Machine::new();
    let cache = m.path("cache");
    m.eval(&cache);
    // An unauthenticated entry of the old layout (format 1, in v1/).
    let stale = cache.join("v1").join("0000000000000000");
    std::fs::create_dir_all(&stale).expect("dir");
    std::fs::write(stale.join("old.cwasm"), b"from an older gatehouse").expect("write");
    let dir = cache.display().to_string();

    let run = m.gatehouse(["--cache-dir", &dir, "cache", "prune"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("removed 1 files"), "{}", run.stdout);
    assert!(run.stdout.contains("kept 1 entries"), "{}", run.stdout);
    assert!(!stale.exists());

    let all = m.gatehouse(["--cache-dir", &dir, "cache", "prune", "--older-than", "0"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(entries(&cache).is_empty());
}

/// Python and JavaScript policies bundle an interpreter and cost seconds to
/// compile: with a cache, the first evaluation after a build compiles once
/// and the next ones load the entry.
fn compiles_once_per_digest(name: &str) {
    let m = Machine::new();
    let cache = m.path("cache");
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let run = m.gatehouse(eval_args_for(name, &cache));
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        outcomes.push(compile_cache_field(&run));
    }
    assert_eq!(outcomes, ["miss", "hit"], "{name}");
    assert_eq!(entries(&cache).len(), 1, "{name}: one entry per digest");
}

#[test]
fn a_python_policy_compiles_once_per_digest() {
    compiles_once_per_digest("destructive-changes-py");
}

#[test]
fn a_javascript_policy_compiles_once_per_digest() {
    compiles_once_per_digest("destructive-changes-js");
}

#[test]
fn a_policy_set_names_its_cache_unless_a_flag_chooses_another() {
    let m = Machine::new();
    let dir = m.path("set");
    std::fs::create_dir(&dir).expect("mkdir");
    let config = dir.join("gatehouse.toml");
    std::fs::write(
        &config,
        format!(
            "cache-dir = \"compiled\"\n\n[[policy]]\nname = \"destructive\"\npath = {:?}\n",
            policy(POLICY).display().to_string()
        ),
    )
    .expect("config");
    let eval_set = |flags: &[String]| {
        let mut args: Vec<String> = flags.to_vec();
        args.extend([
            "eval".into(),
            "--config".into(),
            config.display().to_string(),
            "--input".into(),
            release(),
            "--now".into(),
            NOW.into(),
        ]);
        let run = m.gatehouse(args);
        assert_eq!(run.code, 2, "{}", run.stderr);
    };
    eval_set(&[]);
    only_entry(&dir.join("compiled"));
    assert!(
        !m.default_key().starts_with(&dir),
        "the key is never kept beside gatehouse.toml"
    );
    assert!(m.default_key().exists());

    let chosen = dir.join("chosen");
    eval_set(&["--cache-dir".into(), chosen.display().to_string()]);
    only_entry(&chosen);

    std::fs::remove_dir_all(dir.join("compiled")).expect("clean");
    eval_set(&["--no-cache".into()]);
    assert!(
        !dir.join("compiled").exists(),
        "--no-cache wins over cache-dir"
    );
}

#[test]
fn compile_without_a_cache_directory_is_a_usage_error() {
    let m = Machine::new();
    let run = m.gatehouse([
        "--no-cache",
        "compile",
        &policy(POLICY).display().to_string(),
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("compile needs a cache directory: give --out DIR or --cache-dir DIR"),
        "{}",
        run.stderr
    );
    let prune = m.gatehouse(["--no-cache", "cache", "prune"]);
    assert_eq!(prune.code, 3, "{}", prune.stderr);
    assert!(
        prune.stderr.contains("no cache directory"),
        "{}",
        prune.stderr
    );
}
