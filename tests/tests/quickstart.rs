//! scripts/quickstart.sh, the README's first command: its gating part on the
//! binary and policies already built (`--skip-build --gatehouse PATH`: these
//! tests never build anything), the exit codes it reports, and its message
//! when Rust is not installed.

use gatehouse_e2e::{gatehouse_bin, workspace_root};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The `bash` on this test's PATH, resolved before a test narrows the
/// script's PATH.
fn bash() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("bash"))
        .find(|candidate| candidate.is_file())
        .expect("bash on PATH")
}

/// Runs scripts/quickstart.sh with `args` from the workspace root, with a
/// private compile cache and cache key (never the user's).
fn quickstart(args: &[&str], home: &Path, path_var: Option<&Path>) -> gatehouse_e2e::Run {
    let mut command = Command::new(bash());
    command
        .arg(workspace_root().join("scripts/quickstart.sh"))
        .args(args)
        .current_dir(workspace_root())
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("CARGO_HOME")
        .env_remove("GATEHOUSE_CACHE_KEY_FILE")
        .stdin(Stdio::null());
    if let Some(path_var) = path_var {
        command.env("PATH", path_var);
    }
    command.output().expect("run scripts/quickstart.sh").into()
}

/// The codes of the `=> exit code N (...)` lines, in order.
fn reported_codes(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("=> exit code "))
        .map(|rest| rest.split(' ').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn quickstart_gates_the_example_releases_with_exit_codes_0_2_1() {
    let home = tempfile::tempdir().expect("temp home");
    let bin = gatehouse_bin();
    let run = quickstart(
        &["--skip-build", "--gatehouse", &bin.display().to_string()],
        home.path(),
        None,
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(reported_codes(&run.stdout), ["0", "2", "1"], "{run:#?}");
    for (release, meaning) in [
        (
            "staging-update.json",
            "=> exit code 0 (auto-approve: the release proceeds)",
        ),
        (
            "staging-recreate-database.json",
            "=> exit code 2 (require approval: the release waits for a human)",
        ),
        (
            "prod-delete-database.json",
            "=> exit code 1 (fail: a policy decided the release must not proceed)",
        ),
    ] {
        assert!(
            run.stdout.contains(release),
            "{release} not gated: {run:#?}"
        );
        assert!(run.stdout.contains(meaning), "no `{meaning}`: {run:#?}");
    }
    // The reports themselves reach the user, e.g. the approvers asked for.
    assert!(run.stdout.contains("REQUIRE APPROVAL (exit 2)"), "{run:#?}");
    assert!(run.stdout.contains("approvers: dba"), "{run:#?}");
    assert!(
        !run.stdout.contains("== building"),
        "built something: {run:#?}"
    );
}

#[test]
fn quickstart_stops_when_a_release_gets_an_unexpected_exit_code() {
    // A stand-in "gatehouse" that approves everything: the quick start must
    // notice that the recreated database was not held for approval.
    let home = tempfile::tempdir().expect("temp home");
    let fake = home.path().join("approve-everything");
    std::fs::write(&fake, "#!/bin/sh\necho 'AUTO-APPROVE (exit 0)'\nexit 0\n").expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let run = quickstart(
        &["--skip-build", "--gatehouse", &fake.display().to_string()],
        home.path(),
        None,
    );
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(reported_codes(&run.stdout), ["0", "0"], "{run:#?}");
    assert!(
        run.stderr.contains(
            "expected exit code 2 for example-policies/releases/staging-recreate-database.json, got 0"
        ),
        "{run:#?}"
    );
}

#[test]
fn quickstart_without_rust_says_how_to_install_it() {
    // No cargo or rustup on PATH (an empty directory), none in $HOME/.cargo.
    let home = tempfile::tempdir().expect("temp home");
    let empty = home.path().join("bin");
    std::fs::create_dir(&empty).expect("mkdir");
    let run = quickstart(&[], home.path(), Some(&empty));
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr
            .contains("quickstart: cargo and rustup not found on PATH. The quick start needs Rust installed with rustup"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("https://rustup.rs"), "{run:#?}");
    assert!(run.stdout.is_empty(), "{run:#?}");
}

#[test]
fn quickstart_with_rustup_installed_but_not_on_path_says_how_to_load_it() {
    let home = tempfile::tempdir().expect("temp home");
    let cargo_bin = home.path().join(".cargo/bin");
    std::fs::create_dir_all(&cargo_bin).expect("mkdir");
    let cargo = cargo_bin.join("cargo");
    std::fs::write(&cargo, "#!/bin/sh\nexit 99\n").expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let empty = home.path().join("bin");
    std::fs::create_dir(&empty).expect("mkdir");
    let run = quickstart(&[], home.path(), Some(&empty));
    assert_eq!(run.code, 3, "{run:#?}");
    let env_file = home.path().join(".cargo/env");
    assert!(
        run.stderr
            .contains(&format!(". \"{}\"", env_file.display())),
        "{run:#?}"
    );
}

#[test]
fn quickstart_and_build_policies_refuse_unknown_options() {
    let home = tempfile::tempdir().expect("temp home");
    let run = quickstart(&["--fast"], home.path(), None);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr.contains("quickstart: unknown argument '--fast'"),
        "{run:#?}"
    );

    let output = Command::new(bash())
        .arg(workspace_root().join("scripts/build-policies.sh"))
        .arg("--rust")
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/build-policies.sh");
    let run: gatehouse_e2e::Run = output.into();
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr.contains(
            "build-policies.sh: unknown option '--rust'; expected --rust-only, --rust-examples or nothing"
        ),
        "{run:#?}"
    );
}
