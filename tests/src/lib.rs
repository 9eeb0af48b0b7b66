//! Helpers for the end-to-end tests: locate the `gatehouse` binary and the
//! compiled policies, run the binary (optionally under a time bound, while
//! measuring its peak memory: [`run_bounded`]), and write inputs to
//! temporary files.
//!
//! The binary and policies are built by `scripts/test.sh` (or
//! `scripts/build-policies.sh` and `cargo build -p gatehouse`) before the tests run.

#![forbid(unsafe_code)]

/// The hostile text of the `forge-policy` fixture, and checks for it.
/// Headless Chromium from Debian's package (serve_page.rs).
pub mod chromium;
pub mod forge;
/// docs/openapi.json and the check of every serve answer against it.
pub mod openapi;
/// A throwaway PostgreSQL cluster (Debian's initdb and pg_ctl).
pub mod postgres;
/// A `gatehouse serve` world: keys, tokens, a policy set, servers, a client.
pub mod serve;
/// The language twins of `destructive-changes`, run beside the Rust policy.
pub mod twins;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The environment variable that moves the shared reference data away from
/// `../shared` (relative to the workspace root if relative; unset or empty
/// means `../shared`). `GATEHOUSE_SHARED_DIR=/nonexistent` shows which tests
/// need the data: each of them skips.
pub const SHARED_DIR_ENV: &str = "GATEHOUSE_SHARED_DIR";

/// The reference data beside the repository (`../shared`, or
/// [`SHARED_DIR_ENV`]): the Facets reference hook, the reference Rego rules
/// and real Terraform plans and Pulumi previews. A plain clone of the
/// repository does not have it, so the only way to a path inside it is
/// [`shared_or_skip`], which makes every test that needs it handle its
/// absence (skip, saying why) before it can use it.
#[derive(Debug)]
pub struct Shared {
    root: PathBuf,
}

impl Shared {
    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `relative` inside the shared data. It must exist: with the directory
    /// present, a missing file is a failure of the test, never a skip.
    #[track_caller]
    pub fn path(&self, relative: impl AsRef<Path>) -> PathBuf {
        let path = self.root.join(relative);
        assert!(
            path.exists(),
            "{} is missing: the shared reference data is present at {}, but without this file",
            path.display(),
            self.root.display()
        );
        path
    }
}

/// Why the shared reference data is not there: where it was looked for, and
/// whether [`SHARED_DIR_ENV`] said so.
#[derive(Debug, PartialEq)]
pub struct SharedAbsent {
    /// The absolute path that does not exist.
    pub location: PathBuf,
    /// `true` if [`SHARED_DIR_ENV`] chose the location.
    pub from_env: bool,
}

impl SharedAbsent {
    /// The one line a test prints when it skips for want of the data.
    pub fn skip_line(&self, test: &str) -> String {
        let set_by = if self.from_env {
            format!(", set by {SHARED_DIR_ENV}")
        } else {
            String::new()
        };
        format!(
            "skipped: ../shared (reference data beside the repository) not found at {}{set_by}; {test} needs it",
            self.location.display()
        )
    }
}

/// The shared reference data, or `None` (after one `skipped: ...` line on
/// stderr naming the path looked at and `test`) when it does not exist. Use
/// it first thing in a test: `let Some(shared) = shared_or_skip("file::test")
/// else { return };`. Anything else wrong with the location (not a
/// directory, unreadable) fails the test instead of skipping it.
pub fn shared_or_skip(test: &str) -> Option<Shared> {
    let (location, from_env) = match std::env::var_os(SHARED_DIR_ENV) {
        Some(value) if !value.is_empty() => (workspace_root().join(value), true),
        _ => (default_shared_location(), false),
    };
    match locate_shared(location, from_env) {
        Ok(shared) => Some(shared),
        Err(absent) => {
            use std::io::Write;
            // Straight to the stderr stream, not `eprintln!`: the test harness
            // captures the macros' output of passing tests, and a skip must show.
            let _ = writeln!(std::io::stderr().lock(), "{}", absent.skip_line(test));
            None
        }
    }
}

/// `../shared` beside the repository, as an absolute path without `..`.
fn default_shared_location() -> PathBuf {
    let root = workspace_root();
    root.parent().unwrap_or(&root).join("shared")
}

/// The shared data at `location` if it is a directory; [`SharedAbsent`] if
/// nothing is there. Panics if something else is there or it cannot be read:
/// that is a broken setup to fix, not missing data to skip.
pub fn locate_shared(location: PathBuf, from_env: bool) -> Result<Shared, SharedAbsent> {
    let location = std::path::absolute(&location).unwrap_or(location);
    match std::fs::metadata(&location) {
        Ok(metadata) if metadata.is_dir() => Ok(Shared { root: location }),
        Ok(_) => panic!(
            "{} is not a directory: the shared reference data must be a directory ({SHARED_DIR_ENV} may name another)",
            location.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(SharedAbsent { location, from_env })
        }
        Err(e) => panic!(
            "cannot read the shared reference data at {}: {e}",
            location.display()
        ),
    }
}

/// The `gatehouse` binary built from this workspace (`GATEHOUSE_BIN` overrides).
pub fn gatehouse_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("GATEHOUSE_BIN") {
        // Made absolute now: servers and CLIs are started in other
        // directories (`GATEHOUSE_BIN=target/release/gatehouse` must work).
        let bin = PathBuf::from(bin);
        return std::path::absolute(&bin).unwrap_or(bin);
    }
    // Test executables live in target/<profile>/deps/; the binary in target/<profile>/.
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> directory");
    let bin = profile_dir.join("gatehouse");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build -p gatehouse` (scripts/test.sh builds it with the tests)",
        bin.display()
    );
    bin
}

/// A compiled example policy, `target/policies/<name>.wasm`.
pub fn policy(name: &str) -> PathBuf {
    built(&format!("target/policies/{name}.wasm"))
}

/// A Rust example built for `gatehouse:policy@0.1.0` from the same source
/// (the SDK's feature `wit-0-1`), `target/policies-0.1/<name>.wasm`.
pub fn policy_0_1(name: &str) -> PathBuf {
    built(&format!("target/policies-0.1/{name}.wasm"))
}

/// A policy component checked into the repository as it was built before
/// `gatehouse:policy@0.2.0` existed (tests/prebuilt/README.md says
/// from which commit and how): the proof that old components keep running.
pub fn prebuilt_policy(file: &str) -> PathBuf {
    built(&format!("tests/prebuilt/{file}"))
}

/// The first fenced block of `lang` after `heading` inside the section
/// `## {section}…` of docs/writing-policies.md (sections repeat subsection
/// names, so the search starts at the section).
pub fn guide_block(section: &str, heading: &str, lang: &str) -> String {
    let whole = std::fs::read_to_string(workspace_root().join("docs/writing-policies.md"))
        .expect("docs/writing-policies.md");
    let at = whole
        .find(&format!("## {section}"))
        .unwrap_or_else(|| panic!("the guide has no section {section:?}"));
    let guide = &whole[at..];
    let sub = guide
        .find(heading)
        .unwrap_or_else(|| panic!("the {section} section has no {heading:?}"));
    let fence = format!("```{lang}\n");
    let start = guide[sub..]
        .find(&fence)
        .map(|i| sub + i + fence.len())
        .unwrap_or_else(|| panic!("no ```{lang} block after {heading:?}"));
    let end = guide[start..].find("```").expect("a closed block") + start;
    guide[start..end].to_string()
}

/// Copies the files of the repository's directory `from` whose extension
/// is `ext` into `to` (an SDK beside a policy built outside the repository),
/// and the 0.2.0 WIT into `wit/policy.wit` beside `to`.
pub fn copy_sdk_and_wit(from: &str, ext: &str, to: &Path) {
    std::fs::create_dir_all(to).expect("the SDK directory");
    for entry in std::fs::read_dir(workspace_root().join(from)).expect("the SDK") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == ext) {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    let wit = to.parent().expect("a project directory").join("wit");
    std::fs::create_dir_all(&wit).expect("wit/");
    std::fs::copy(
        workspace_root().join("wit/0.2.0/policy.wit"),
        wit.join("policy.wit"),
    )
    .expect("copy the WIT");
}

/// A compiled test fixture policy, `target/test-policies/<name>.wasm`.
pub fn fixture_policy(name: &str) -> PathBuf {
    built(&format!("target/test-policies/{name}.wasm"))
}

fn built(relative: &str) -> PathBuf {
    let path = workspace_root().join(relative);
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-policies.sh first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// The exit code (-1 if killed by a signal).
    pub code: i32,
    /// Captured stdout.
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
}

impl Run {
    /// The stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs an OpenSSH tool (`ssh-keygen`, `ssh-agent`, `ssh-add`) without the
/// caller's agent and with stdin closed unless the caller sets it, failing
/// the test with a hint when the tool is missing.
pub fn openssh(tool: &str) -> Command {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
    assert!(
        found,
        "{tool} is not installed: these tests need OpenSSH's client tools (Debian: apt-get install openssh-client; scripts/install-tools.sh does it)"
    );
    let mut command = Command::new(tool);
    command
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("SSH_AGENT_PID")
        .stdin(Stdio::null());
    command
}

/// A `Command` for the `gatehouse` binary whose compile cache and cache key
/// live in `target/test-home/` instead of the user's home: tests never read
/// or write `~/.cache/gatehouse` or `~/.config/gatehouse/cache-key`, yet share
/// one cache between runs (so each policy compiles once). A test that needs
/// its own may set `XDG_CACHE_HOME` / `XDG_CONFIG_HOME` again on the command.
pub fn gatehouse_command() -> Command {
    let home = test_home();
    let mut command = Command::new(gatehouse_bin());
    command
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("GATEHOUSE_CACHE_KEY_FILE");
    command
}

/// `target/test-home`, with private `cache` and `config` directories.
fn test_home() -> PathBuf {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    static HOME: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    HOME.get_or_init(|| {
        let home = workspace_root().join("target").join("test-home");
        for dir in [home.clone(), home.join("cache"), home.join("config")] {
            // Racing test processes may create it together: both succeed.
            let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .expect("make target/test-home private");
        }
        home
    })
    .clone()
}

/// Runs `gatehouse` with arguments, stdin closed.
pub fn gatehouse<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    gatehouse_command()
        .args(args)
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .output()
        .expect("run gatehouse")
        .into()
}

/// Runs `gatehouse` with arguments and the given stdin.
pub fn gatehouse_with_stdin<I, S>(args: I, stdin: &[u8]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    use std::io::Write;
    let mut child = gatehouse_command()
        .args(args)
        .current_dir(workspace_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gatehouse");
    if let Some(mut input) = child.stdin.take() {
        // The binary may exit before reading everything; that is not a test failure.
        let _ = input.write_all(stdin);
    }
    child.wait_with_output().expect("wait for gatehouse").into()
}

/// Writes `contents` to a fresh temporary file and returns it (kept until dropped).
pub fn temp_file(contents: impl AsRef<[u8]>, suffix: &str) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut file = tempfile::Builder::new()
        .suffix(suffix)
        .tempfile()
        .expect("create temp file");
    file.write_all(contents.as_ref()).expect("write temp file");
    file.flush().expect("flush temp file");
    file
}

/// A release JSON with the given environment, stream and resources
/// (`(type, name, path, changeType)` tuples).
pub fn release_json(
    environment: &str,
    stream: &str,
    resources: &[(&str, &str, &str, &str)],
) -> String {
    let resources: Vec<serde_json::Value> = resources
        .iter()
        .map(|(t, n, p, c)| {
            serde_json::json!({
                "resourceType": t, "resourceName": n, "resourcePath": p, "changeType": c
            })
        })
        .collect();
    serde_json::json!({
        "environmentName": environment,
        "releaseStream": stream,
        "resources": resources,
    })
    .to_string()
}

/// Hex sha256 of some bytes, as the reports print digests.
pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Asserts that the host itself did not panic: a Rust panic exits 101 and
/// starts a stderr line with `thread '...' panicked at`. (A guest's panic
/// text may appear inside the host's one-line error message, never at the
/// start of a line.)
pub fn assert_no_host_panic(run: &Run) {
    assert_ne!(run.code, 101, "the host panicked: {run:#?}");
    assert!(
        !run.stderr.lines().any(|line| line.starts_with("thread '")),
        "the host panicked: {run:#?}"
    );
}

/// Asserts that a run ended with the error exit code 3 and exactly one
/// stderr line, `gatehouse: error: ...`, containing every fragment.
/// Returns the message after the prefix.
pub fn assert_error(run: &Run, fragments: &[&str]) -> String {
    assert_no_host_panic(run);
    assert_eq!(run.code, 3, "expected exit 3 (error): {run:#?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected exactly one stderr line: {run:#?}");
    let message = lines[0]
        .strip_prefix("gatehouse: error: ")
        .unwrap_or_else(|| panic!("stderr does not start with `gatehouse: error: `: {run:#?}"));
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "the error message lacks {fragment:?}:\n{message}"
        );
    }
    message.to_string()
}

/// What a bounded run of the binary produced, with what it cost.
#[derive(Debug)]
pub struct BoundedRun {
    /// Exit code and output.
    pub run: Run,
    /// The child's peak resident memory (`VmHWM`), as last seen while it ran.
    pub peak_rss_bytes: u64,
    /// Wall time from spawn to exit (to within the polling interval).
    pub elapsed: Duration,
}

impl BoundedRun {
    /// The peak resident memory in MiB, for messages.
    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_bytes as f64 / f64::from(1u32 << 20)
    }
}

/// How often [`run_bounded`] samples the child.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// A child whose resident memory passes this is killed at once, whatever
/// the test's own bound: a safety net for the machine running the suite
/// (every case here is expected to stay far below it).
pub const RSS_KILL_BYTES: u64 = 2 << 30;

/// Runs `gatehouse` with arguments (stdin closed) and at most `max_time` of
/// wall time, sampling its peak resident memory every few milliseconds.
/// Past `max_time` (or [`RSS_KILL_BYTES`]) the child is killed and the test
/// fails with what was measured. See [`run_bounded_with_env`].
pub fn run_bounded<I, S>(args: I, max_time: Duration) -> BoundedRun
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run_bounded_with_env(args, &[], max_time)
}

/// [`run_bounded`] with extra environment variables for the child.
///
/// Memory is the kernel's high-water mark of the child's resident set
/// (`VmHWM` in `/proc/<pid>/status`), read while the child runs: it only
/// grows, so the last reading before exit is the peak up to then; a spike in
/// the final few milliseconds before exit could be missed. stdout and
/// stderr are drained on threads, so a chatty child never blocks on a full
/// pipe. Uses only std (Linux `/proc`).
pub fn run_bounded_with_env<I, S>(args: I, envs: &[(&str, &str)], max_time: Duration) -> BoundedRun
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let args: Vec<std::ffi::OsString> = args
        .into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect();
    let started = Instant::now();
    let mut child = gatehouse_command()
        .args(&args)
        .envs(envs.iter().copied())
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gatehouse");
    let pid = child.id();
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());

    let mut peak_rss_bytes = 0u64;
    let mut killed: Option<String> = None;
    let status = loop {
        if let Some(hwm) = peak_rss_of(pid) {
            peak_rss_bytes = peak_rss_bytes.max(hwm);
        }
        if let Some(status) = child.try_wait().expect("poll gatehouse") {
            break status;
        }
        let elapsed = started.elapsed();
        if elapsed > max_time {
            killed = Some(format!(
                "still running after {elapsed:?} (bound {max_time:?})"
            ));
        } else if peak_rss_bytes > RSS_KILL_BYTES {
            killed = Some(format!(
                "resident memory {} MiB passed the safety cap of {} MiB",
                peak_rss_bytes >> 20,
                RSS_KILL_BYTES >> 20
            ));
        }
        if killed.is_some() {
            // The child may have exited in between: then kill fails harmlessly.
            let _ = child.kill();
            break child.wait().expect("wait for the killed gatehouse");
        }
        std::thread::sleep(POLL_INTERVAL);
    };
    let elapsed = started.elapsed();
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    if let Some(why) = killed {
        let mut start = run.stderr.len().saturating_sub(2000);
        while !run.stderr.is_char_boundary(start) {
            start += 1;
        }
        panic!(
            "gatehouse {args:?} was killed: {why}; peak resident memory {} MiB; stderr tail: {}",
            peak_rss_bytes >> 20,
            &run.stderr[start..]
        );
    }
    BoundedRun {
        run,
        peak_rss_bytes,
        elapsed,
    }
}

/// Reads a child's pipe to the end on a thread, so the child never blocks
/// on a full pipe.
fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error only shortens the capture; the exit code still counts.
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// The peak resident set of a running process in bytes (`VmHWM`), or
/// `None` once it has exited (a zombie has no memory map) or off Linux.
pub fn peak_rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_shared_data_is_absent_with_a_line_naming_the_path_and_the_test() {
        let dir = tempfile::tempdir().expect("temp dir");
        let location = dir.path().join("shared");
        let absent = locate_shared(location.clone(), false).expect_err("nothing there");
        assert_eq!(
            absent,
            SharedAbsent {
                location: location.clone(),
                from_env: false
            }
        );
        assert_eq!(
            absent.skip_line("adapters::shared_fixture_01"),
            format!(
                "skipped: ../shared (reference data beside the repository) not found at {}; adapters::shared_fixture_01 needs it",
                location.display()
            )
        );
        let absent = locate_shared(location.clone(), true).expect_err("nothing there");
        assert!(
            absent.skip_line("t").ends_with(&format!(
                "{}, set by GATEHOUSE_SHARED_DIR; t needs it",
                location.display()
            )),
            "{}",
            absent.skip_line("t")
        );
    }

    #[test]
    fn present_shared_data_gives_paths_inside_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("reference")).expect("mkdir");
        std::fs::write(dir.path().join("reference/hook.py"), "").expect("write");
        let shared = locate_shared(dir.path().to_path_buf(), false).expect("present");
        assert_eq!(shared.root(), dir.path());
        assert_eq!(
            shared.path("reference/hook.py"),
            dir.path().join("reference/hook.py")
        );
    }

    #[test]
    #[should_panic(expected = "is missing: the shared reference data is present at")]
    fn a_missing_file_in_present_shared_data_fails() {
        let dir = tempfile::tempdir().expect("temp dir");
        let shared = locate_shared(dir.path().to_path_buf(), false).expect("present");
        shared.path("reference/facets_pre_release_hook.py");
    }

    #[test]
    #[should_panic(expected = "is not a directory")]
    fn a_file_in_place_of_the_shared_directory_fails() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let _ = locate_shared(file.path().to_path_buf(), true);
    }

    #[test]
    fn the_default_location_is_shared_beside_the_repository() {
        let location = default_shared_location();
        assert_eq!(location.file_name(), Some(std::ffi::OsStr::new("shared")));
        assert_eq!(location.parent(), workspace_root().parent());
        assert!(location.is_absolute(), "{}", location.display());
    }
}
