//! `gatehouse new`: for each language, a new project builds with the
//! project's pinned tools and its sample suite passes with `gatehouse test`;
//! bad names, an existing directory and an unknown language are errors.
//!
//! Builds are kept cheap: the Rust project builds into `target/scaffold-test`
//! (so the SDK and wit-bindgen compile once across runs), the Python and
//! JavaScript ones with the tools `scripts/install-tools.sh` put in
//! `target/tools/`, after the project is moved elsewhere, inside a network
//! namespace with no network (`unshare -rn`; the tests prove that fetches from
//! PyPI and npm fail there).

use gatehouse_e2e::{Run, assert_error, assert_no_host_panic, gatehouse, workspace_root};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs `gatehouse` in `dir`.
fn gatehouse_in(dir: &Path, args: &[&str]) -> Run {
    let run: Run = gatehouse_e2e::gatehouse_command()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run gatehouse")
        .into();
    assert_no_host_panic(&run);
    run
}

/// `gatehouse new NAME --lang LANG` in a fresh temporary directory; returns
/// the directory (kept until dropped) and the project path.
fn new_project(name: &str, lang: &str) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().expect("temp dir");
    let run = gatehouse_in(root.path(), &["new", name, "--lang", lang]);
    assert_eq!(run.code, 0, "gatehouse new failed: {run:#?}");
    assert!(run.stdout.contains("Next steps"), "{}", run.stdout);
    let dir = root.path().join(name);
    let wit = std::fs::read_to_string(dir.join("wit/policy.wit")).expect("wit/policy.wit");
    // Every new project targets gatehouse:policy@0.2.0.
    let world = "wit/0.2.0/policy.wit";
    let ours = std::fs::read_to_string(workspace_root().join(world)).expect("wit");
    assert_eq!(wit, ours, "the project carries the repository's WIT");
    (root, dir)
}

/// Runs a build tool in `dir` and requires success, showing its output otherwise.
fn run_tool(
    dir: &Path,
    program: &str,
    args: &[&str],
    envs: &[(&str, &Path)],
    path_prefix: Option<&Path>,
) {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("VIRTUAL_ENV");
    for (key, value) in envs {
        command.env(key, value);
    }
    if let Some(prefix) = path_prefix {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let joined = std::env::join_paths(
            std::iter::once(prefix.to_path_buf()).chain(std::env::split_paths(&path)),
        )
        .expect("PATH");
        command.env("PATH", joined);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed in {}:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A pinned tool installed by `scripts/install-tools.sh`.
fn pinned_tool(relative: &str) -> PathBuf {
    let path = workspace_root().join(relative);
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-tools.sh first (scripts/build-policies.sh does)",
        path.display()
    );
    path
}

/// The README shows the build command the test runs.
fn assert_readme_has(dir: &Path, command: &str) {
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("README.md");
    assert!(
        readme.contains(command),
        "README.md lacks `{command}`:\n{readme}"
    );
}

/// `gatehouse test` in the project: every case of the sample suite passes.
fn assert_suite_passes(dir: &Path, name: &str) {
    let run = gatehouse_in(dir, &["--no-cache", "test"]);
    assert_eq!(run.code, 0, "the sample suite failed: {run:#?}");
    let passes = run
        .stdout
        .lines()
        .filter(|line| line.starts_with(&format!("PASS  tests/{name}.test.toml  ")))
        .count();
    assert!(
        passes >= 8,
        "expected every sample case to pass:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("{passes} passed, 0 failed")),
        "{}",
        run.stdout
    );
}

#[test]
fn a_rust_project_builds_and_passes_its_suite() {
    let (_root, dir) = new_project("protect-prod", "rust");
    let command = "cargo build --release --target wasm32-wasip2";
    assert_readme_has(&dir, command);
    // The SDK by version requirement: no path, so the project can be
    // committed and moved; the README says how to use a checkout instead.
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
    let requirement = format!("\ngatehouse-sdk = \"{}\"\n", env!("CARGO_PKG_VERSION"));
    assert!(manifest.contains(&requirement), "{manifest}");
    let root = workspace_root();
    for absolute in [root.display().to_string(), "path =".into()] {
        assert!(!manifest.contains(&absolute), "{absolute} in:\n{manifest}");
    }
    assert!(
        !manifest.lines().any(|line| line.contains("= \"/")),
        "an absolute path in:\n{manifest}"
    );
    assert_readme_has(&dir, "[patch.crates-io]");
    assert_readme_has(&dir, "--config 'patch.crates-io.gatehouse-sdk.path=");
    // Built offline against this checkout's SDK, as the README shows (the
    // patch is also how a requirement this SDK does not satisfy would fail).
    let patch = format!(
        "patch.crates-io.gatehouse-sdk.path={:?}",
        root.join("sdk").display().to_string()
    );
    let target = root.join("target/scaffold-test");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let envs = [("CARGO_TARGET_DIR", target.as_path())];
    let offline = ["--offline", "--config", &patch];
    let build = ["build", "--release", "--target", "wasm32-wasip2"];
    run_tool(&dir, &cargo, &[&build[..], &offline].concat(), &envs, None);
    let lock = std::fs::read_to_string(dir.join("Cargo.lock")).expect("Cargo.lock");
    let sdk = lock
        .split("[[package]]")
        .find(|package| package.contains("name = \"gatehouse-sdk\""))
        .expect("gatehouse-sdk in Cargo.lock");
    assert!(
        !sdk.contains("source =") && !lock.contains("[[patch.unused]]"),
        "the SDK comes from this checkout, not a registry:\n{lock}"
    );
    // The unit tests of the template, natively.
    run_tool(
        &dir,
        &cargo,
        &[&["test", "--quiet"][..], &offline].concat(),
        &envs,
        None,
    );
    // Where the suite expects the component when the project builds into its own target/.
    let built = target.join("wasm32-wasip2/release/protect_prod.wasm");
    let expected = dir.join("target/wasm32-wasip2/release");
    std::fs::create_dir_all(&expected).expect("target dir");
    std::fs::copy(&built, expected.join("protect_prod.wasm")).expect("copy the component");
    assert_suite_passes(&dir, "protect-prod");
}

/// Moves a new project elsewhere (a project must not depend on where it was
/// created) and checks that no file names this checkout: the SDK is copied in.
fn moved(root: &Path, dir: &Path) -> PathBuf {
    let to = root.join("elsewhere/moved");
    std::fs::create_dir_all(root.join("elsewhere")).expect("mkdir");
    std::fs::rename(dir, &to).expect("move the project");
    let checkout = workspace_root().display().to_string();
    let mut stack = vec![to.clone()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir") {
                stack.push(entry.expect("entry").path());
            }
        } else {
            let text = std::fs::read_to_string(&path).expect("a text file");
            assert!(
                !text.contains(&checkout),
                "{} names the checkout {checkout}",
                path.display()
            );
        }
    }
    to
}

/// Arguments that run `program args` in a new user and network namespace
/// (`unshare -rn`), where only the loopback interface exists.
fn offline<'a>(program: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    [&["-rn", "--", program][..], args].concat()
}

/// Proves the namespace of [`offline`] has no network: only `lo`, and a
/// fetch from PyPI (Python) and from the npm registry (Node) fails there.
fn assert_network_is_blocked() {
    let run = |program: &str, args: &[&str]| {
        Command::new("unshare")
            .args(offline(program, args))
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run unshare (util-linux, with user namespaces enabled): {e}")
            })
    };
    let interfaces = run(
        "python3",
        &[
            "-c",
            "import socket; print(sorted(n for _, n in socket.if_nameindex()))",
        ],
    );
    assert!(
        interfaces.status.success(),
        "unshare -rn must work here (util-linux, user namespaces enabled): {}",
        String::from_utf8_lossy(&interfaces.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&interfaces.stdout).trim(), "['lo']");
    let pypi = run(
        "python3",
        &[
            "-c",
            "import urllib.request; urllib.request.urlopen('https://pypi.org/simple/componentize-py/', timeout=20)",
        ],
    );
    assert!(!pypi.status.success(), "PyPI is reachable offline");
    assert!(
        String::from_utf8_lossy(&pypi.stderr).contains("URLError"),
        "{}",
        String::from_utf8_lossy(&pypi.stderr)
    );
    let npm = run(
        "node",
        &[
            "-e",
            "fetch('https://registry.npmjs.org/@bytecodealliance%2fcomponentize-js').then(() => process.exit(0), (e) => { console.error('fetch failed:', e.message); process.exit(1); })",
        ],
    );
    assert!(
        !npm.status.success(),
        "the npm registry is reachable offline"
    );
    assert!(
        String::from_utf8_lossy(&npm.stderr).contains("fetch failed"),
        "{}",
        String::from_utf8_lossy(&npm.stderr)
    );
}

/// A new Python project, moved elsewhere, builds with the command its README
/// shows and the componentize-py that `scripts/install-tools.sh` installed,
/// with the network blocked (proved in the same namespace), and passes its
/// suite: the SDK it imports (`gatehouse_sdk/`) is in the project.
#[test]
fn a_python_project_builds_offline_when_moved_and_passes_its_suite() {
    let (root, dir) = new_project("protect-py", "python");
    let command = "componentize-py -d wit -w policy componentize app -o protect-py.wasm";
    assert_readme_has(&dir, command);
    assert_readme_has(&dir, "target/tools/venv/bin");
    assert!(dir.join("gatehouse_sdk/settings.py").is_file());
    let requirements = std::fs::read_to_string(dir.join("requirements.txt")).expect("requirements");
    let install_tools = std::fs::read_to_string(workspace_root().join("scripts/install-tools.sh"))
        .expect("install-tools.sh");
    let pin = requirements
        .trim()
        .strip_prefix("componentize-py==")
        .expect("a pin");
    assert!(
        install_tools.contains(&format!("COMPONENTIZE_PY_VERSION={pin}")),
        "requirements.txt pins the repository's componentize-py"
    );
    let dir = moved(root.path(), &dir);
    let bin = pinned_tool("target/tools/venv/bin/componentize-py");
    assert_network_is_blocked();
    let args: Vec<&str> = command.split(' ').collect();
    let args = offline(args[0], &args[1..]);
    run_tool(&dir, "unshare", &args, &[], bin.parent());
    assert_suite_passes(&dir, "protect-py");
    // The component the project builds targets gatehouse:policy@0.2.0.
    let inspect = gatehouse_in(&dir, &["inspect", "protect-py.wasm"]);
    assert_eq!(inspect.code, 0, "{inspect:#?}");
    assert!(
        inspect.stdout.contains("gatehouse:policy version: 0.2.0"),
        "{}",
        inspect.stdout
    );
}

/// A new JavaScript project, moved elsewhere, builds with `npm run build` and
/// the componentize-js that `scripts/install-tools.sh` installed, with the
/// network blocked (proved in the same namespace), and passes its suite: the
/// SDK it imports (`gatehouse-sdk/`) is in the project.
#[test]
fn a_javascript_project_builds_offline_when_moved_and_passes_its_suite() {
    let (root, dir) = new_project("protect-js", "js");
    assert_readme_has(&dir, "npm ci");
    assert_readme_has(&dir, "npm run build");
    assert_readme_has(&dir, "target/tools/js/node_modules/.bin");
    assert!(dir.join("gatehouse-sdk/index.js").is_file());
    let dir = moved(root.path(), &dir);
    let bin = pinned_tool("target/tools/js/node_modules/.bin/componentize-js");
    assert_network_is_blocked();
    // package.json and package-lock.json agree (what `npm ci` needs), without a download.
    run_tool(
        &dir,
        "unshare",
        &offline(
            "npm",
            &[
                "ci",
                "--dry-run",
                "--offline",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
            ],
        ),
        &[],
        None,
    );
    // `npm run build` with the repository's pinned componentize-js on PATH
    // instead of an `npm ci` into the project.
    run_tool(
        &dir,
        "unshare",
        &offline("npm", &["run", "build", "--silent"]),
        &[],
        bin.parent(),
    );
    assert!(dir.join("protect-js.wasm").is_file());
    // The project targets gatehouse:policy@0.2.0: the release is read through the host's handle.
    let inspect = gatehouse_in(&dir, &["inspect", "--output", "json", "protect-js.wasm"]);
    assert_eq!(inspect.code, 0, "{inspect:#?}");
    assert!(
        inspect.stdout.contains("\"gatehouse:policy/input@0.2.0\""),
        "{}",
        inspect.stdout
    );
    assert_suite_passes(&dir, "protect-js");
}

#[test]
fn bad_names_are_refused() {
    let root = tempfile::tempdir().expect("temp dir");
    for (name, fragment) in [
        ("Protect", "'P' is not allowed"),
        ("my_policy", "'_' is not allowed"),
        ("2fa", "must start with a letter"),
        ("a--b", "no trailing or double dash"),
        ("test", "Rust keyword"),
        ("../escape", "'.' is not allowed"),
    ] {
        let run = gatehouse_in(root.path(), &["new", name, "--lang", "python"]);
        assert_error(
            &run,
            &[
                &format!("invalid policy name {name:?}"),
                fragment,
                "lower-case letters, digits and '-'",
            ],
        );
    }
    let left: Vec<_> = std::fs::read_dir(root.path()).expect("read").collect();
    assert!(left.is_empty(), "nothing is written for a bad name");
}

#[test]
fn an_existing_directory_is_never_overwritten() {
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path().join("mine");
    std::fs::create_dir(&dir).expect("dir");
    std::fs::write(dir.join("notes.txt"), "keep me").expect("write");
    let dir_arg = dir.display().to_string();
    let run = gatehouse_in(
        root.path(),
        &["new", "protect-prod", "--lang", "js", "--dir", &dir_arg],
    );
    assert_error(
        &run,
        &[
            &dir_arg,
            "already exists and is not empty; refusing to overwrite it",
        ],
    );
    let entries: Vec<_> = std::fs::read_dir(&dir).expect("read").collect();
    assert_eq!(entries.len(), 1, "nothing added");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).expect("read"),
        "keep me"
    );

    // An empty directory is fine.
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).expect("dir");
    let empty_arg = empty.display().to_string();
    let run = gatehouse_in(
        root.path(),
        &["new", "protect-prod", "--lang", "js", "--dir", &empty_arg],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(empty.join("policy.js").is_file());

    // A file in the way.
    let file_arg = dir.join("notes.txt").display().to_string();
    let run = gatehouse_in(
        root.path(),
        &["new", "x", "--lang", "rust", "--dir", &file_arg],
    );
    assert_error(&run, &["already exists and is not a directory"]);
}

#[test]
fn unknown_languages_and_misplaced_options_are_usage_errors() {
    let run = gatehouse(["new", "protect-prod", "--lang", "go"]);
    assert_error(&run, &["invalid value 'go'", "rust", "python", "js"]);
    let run = gatehouse(["new", "protect-prod"]);
    assert_error(&run, &["--lang"]);

    // The SDK comes from crates.io now: there is no --sdk-path.
    let root = tempfile::tempdir().expect("temp dir");
    let root_arg = root.path().display().to_string();
    let run = gatehouse_in(
        root.path(),
        &["new", "p", "--lang", "rust", "--sdk-path", &root_arg],
    );
    assert_error(&run, &["unexpected argument '--sdk-path'"]);
    assert!(!root.path().join("p").exists(), "nothing written");
}
