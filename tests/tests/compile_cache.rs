//! The on-disk compile cache, end to end: a miss stores an entry, a hit loads
//! it without compiling, and a corrupt, truncated or foreign entry is refused
//! (with a warning), recompiled and replaced — the verdict never changes.
//! Several processes filling the same entry at once all succeed.

use gatehouse_e2e::{Run, assert_no_host_panic, gatehouse, policy, workspace_root};
use serde_json::Value;
use std::path::{Path, PathBuf};

const POLICY: &str = "destructive-changes";
const NOW: &str = "2026-11-22T10:00:00Z";

fn release() -> String {
    workspace_root()
        .join("example-policies/releases/staging-recreate-database.json")
        .display()
        .to_string()
}

fn eval_args(cache: &Path) -> Vec<String> {
    eval_args_for(POLICY, cache)
}

/// `eval` of the example policy `name` with its compile cache in `cache`.
fn eval_args_for(name: &str, cache: &Path) -> Vec<String> {
    vec![
        "--cache-dir".into(),
        cache.display().to_string(),
        "eval".into(),
        "--policy".into(),
        policy(name).display().to_string(),
        "--input".into(),
        release(),
        "--now".into(),
        NOW.into(),
        "--output".into(),
        "json".into(),
    ]
}

/// Runs eval with the cache in `cache`; returns the run and the policy's
/// `compile_cache` field.
fn eval(cache: &Path) -> (Run, String) {
    let run = gatehouse(eval_args(cache));
    assert_no_host_panic(&run);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("JSON report ({e}): {}\n{}", run.stdout, run.stderr));
    let outcome = report["policies"][0]["compile_cache"]
        .as_str()
        .unwrap_or_else(|| panic!("compile_cache missing: {report}"))
        .to_string();
    (run, outcome)
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
    let cache = tempfile::tempdir().expect("temp dir");
    let (first, outcome) = eval(cache.path());
    assert_eq!(first.code, 2, "{}", first.stderr);
    assert_eq!(outcome, "miss");
    let entry = only_entry(cache.path());

    let (second, outcome) = eval(cache.path());
    assert_eq!(outcome, "hit");
    assert_eq!(second.code, 2);
    assert!(!second.stderr.contains("warning"), "{}", second.stderr);
    assert_eq!(only_entry(cache.path()), entry);
}

/// Damages the entry, then checks the next run refuses it with a warning
/// naming `expected`, gives the same verdict, and leaves a valid entry.
fn assert_damage_is_repaired(damage: impl FnOnce(&Path), expected: &str) {
    let cache = tempfile::tempdir().expect("temp dir");
    let (first, _) = eval(cache.path());
    let entry = only_entry(cache.path());
    damage(&entry);

    let (run, outcome) = eval(cache.path());
    assert_eq!(outcome, "miss", "a damaged entry is never loaded");
    assert_eq!(run.code, first.code, "same verdict");
    assert!(
        run.stderr.contains("refused and replaced") && run.stderr.contains(expected),
        "warning naming {expected:?}: {}",
        run.stderr
    );

    let (again, outcome) = eval(cache.path());
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
fn an_entry_from_another_engine_configuration_is_refused() {
    // Another engine's entry carries its engine key in the header (bytes
    // 52..84): flip one byte of it, as if it had been copied from elsewhere.
    assert_damage_is_repaired(
        |entry| {
            let mut bytes = std::fs::read(entry).expect("read");
            bytes[60] ^= 0x01;
            std::fs::write(entry, bytes).expect("write");
        },
        "another engine configuration",
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

#[test]
fn processes_racing_to_fill_the_same_entry_all_succeed() {
    let cache = tempfile::tempdir().expect("temp dir");
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(gatehouse_e2e::gatehouse_bin())
                .args(eval_args(cache.path()))
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
    only_entry(cache.path());
    let (_, outcome) = eval(cache.path());
    assert_eq!(outcome, "hit");
}

#[test]
fn no_cache_compiles_and_writes_nothing() {
    let cache = tempfile::tempdir().expect("temp dir");
    let dir = cache.path().join("unused");
    let mut args = vec!["--no-cache".to_string()];
    args.extend(eval_args(&dir).into_iter().skip(2));
    let run = gatehouse(&args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["policies"][0]["compile_cache"], "off");
    assert!(!dir.exists());

    let both = gatehouse([
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
    let cache = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let (run, outcome) = eval(cache.path());
    assert_eq!(run.code, 2, "the gate still decides: {}", run.stderr);
    assert_eq!(outcome, "off");
    assert!(run.stderr.contains("chmod go-w"), "{}", run.stderr);
    assert!(entries(cache.path()).is_empty());
}

#[test]
fn compile_fills_a_cache_that_eval_then_hits() {
    let cache = tempfile::tempdir().expect("temp dir");
    let out = cache.path().join("precompiled");
    let run = gatehouse([
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

    let again = gatehouse([
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
    let (_, outcome) = eval(&out);
    assert_eq!(outcome, "hit");

    let bad = gatehouse([
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
    let cache = tempfile::tempdir().expect("temp dir");
    eval(cache.path());
    let stale = cache.path().join("v1").join("0000000000000000");
    std::fs::create_dir_all(&stale).expect("dir");
    std::fs::write(stale.join("old.cwasm"), b"from another wasmtime").expect("write");
    let dir = cache.path().display().to_string();

    let run = gatehouse(["--cache-dir", &dir, "cache", "prune"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("removed 1 files"), "{}", run.stdout);
    assert!(run.stdout.contains("kept 1 entries"), "{}", run.stdout);
    assert!(!stale.exists());

    let all = gatehouse(["--cache-dir", &dir, "cache", "prune", "--older-than", "0"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(entries(cache.path()).is_empty());
}

/// Python and JavaScript policies bundle an interpreter and cost seconds to
/// compile: with a cache, the first evaluation after a build compiles once
/// and the next ones load the entry.
fn compiles_once_per_digest(name: &str) {
    let cache = tempfile::tempdir().expect("temp dir");
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let run = gatehouse(eval_args_for(name, cache.path()));
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
        outcomes.push(report["policies"][0]["compile_cache"].clone());
    }
    assert_eq!(outcomes, ["miss", "hit"], "{name}");
    assert_eq!(
        entries(cache.path()).len(),
        1,
        "{name}: one entry per digest"
    );
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
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("gatehouse.toml");
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
        let run = gatehouse(args);
        assert_eq!(run.code, 2, "{}", run.stderr);
    };
    eval_set(&[]);
    only_entry(&dir.path().join("compiled"));

    let chosen = dir.path().join("chosen");
    eval_set(&["--cache-dir".into(), chosen.display().to_string()]);
    only_entry(&chosen);

    std::fs::remove_dir_all(dir.path().join("compiled")).expect("clean");
    eval_set(&["--no-cache".into()]);
    assert!(
        !dir.path().join("compiled").exists(),
        "--no-cache wins over cache-dir"
    );
}

#[test]
fn compile_without_a_cache_directory_is_a_usage_error() {
    let run = gatehouse([
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
    let prune = gatehouse(["--no-cache", "cache", "prune"]);
    assert_eq!(prune.code, 3, "{}", prune.stderr);
    assert!(
        prune.stderr.contains("no cache directory"),
        "{}",
        prune.stderr
    );
}
