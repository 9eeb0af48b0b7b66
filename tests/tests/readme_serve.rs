//! README.md's "As a service" walk-through, run as written: the first
//! fenced `sh` block of that section is extracted (so the README cannot
//! drift from what works) and run by bash with the real binary on `PATH`,
//! in a copy of the example policy set (its `allowed_signers` is appended
//! to, so the repository's own stays untouched), with the server on a free
//! loopback port instead of 8080. It must reach an approved release: the
//! `eval --server --wait` exits 0 after the `approve --server`.

#![forbid(unsafe_code)]

use gatehouse_e2e::{gatehouse_bin, gatehouse_command, workspace_root};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The first ```sh block after the heading `### As a service`.
fn walkthrough(readme: &str) -> String {
    let section = readme
        .split_once("\n### As a service\n")
        .map(|(_, rest)| rest)
        .expect("README.md has a section \"### As a service\"");
    let block = section
        .split_once("\n```sh\n")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.split_once("\n```\n"))
        .map(|(block, _)| block)
        .expect("the section has a ```sh block");
    assert!(
        block.contains("gatehouse eval --server") && block.contains("gatehouse approve --server"),
        "the walk-through submits and approves over the server:\n{block}"
    );
    block.to_string()
}

#[test]
fn the_readme_walkthrough_reaches_an_approved_release() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let script = walkthrough(&readme).replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));

    // The repository's layout, with the set and its allowed_signers copied.
    let dir = tempfile::tempdir().expect("temp dir");
    let examples = dir.path().join("example-policies");
    std::fs::create_dir_all(examples.join("releases")).expect("mkdir");
    let source = workspace_root().join("example-policies");
    for name in ["gatehouse.toml", "allowed_signers"] {
        std::fs::copy(source.join(name), examples.join(name)).expect("copy");
    }
    for entry in std::fs::read_dir(source.join("releases")).expect("releases") {
        let entry = entry.expect("entry");
        std::fs::copy(
            entry.path(),
            examples.join("releases").join(entry.file_name()),
        )
        .expect("copy release");
    }
    std::os::unix::fs::symlink(workspace_root().join("target"), dir.path().join("target"))
        .expect("link target");

    let bin_dir = gatehouse_bin().parent().expect("bin dir").to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let mut bash = Command::new("bash");
    bash.args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("GATEHOUSE_TOKEN_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: the server it starts in the background
        // is stopped with it, whatever happens.
        .process_group(0);
    // The compile cache and key the other tests use (gatehouse_command's).
    for (key, value) in gatehouse_command().get_envs() {
        match value {
            Some(value) => bash.env(key, value),
            None => bash.env_remove(key),
        };
    }
    let mut child = bash.spawn().expect("bash");
    let group = child.id();
    let stop_group = || {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{group}")])
            .status();
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            stop_group();
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // The server the walk-through started in the background holds the
    // output pipes open: stop the group before reading them to the end.
    stop_group();
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let eval_out = std::fs::read_to_string(dir.path().join("eval.out")).unwrap_or_default();
    let report =
        format!("script:\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}\neval.out:\n{eval_out}");
    assert!(
        out.status.success(),
        "the walk-through failed ({}):\n{report}",
        out.status
    );
    assert!(stdout.contains("approval request: r-"), "{report}");
    assert!(
        stdout.contains("(approved"),
        "approve --server said approved:\n{report}"
    );
    assert!(
        stdout.ends_with("approved: the release proceeds\n"),
        "{report}"
    );
    assert!(
        eval_out.starts_with("REQUIRE APPROVAL (exit 2)\n"),
        "{report}"
    );
    assert!(stderr.contains("approved"), "{report}");
    // The repository's allowed_signers was not touched.
    let kept = std::fs::read_to_string(source.join("allowed_signers")).expect("allowed_signers");
    assert!(
        !kept.lines().any(|l| l.starts_with("you@example.com")),
        "{kept}"
    );
}
