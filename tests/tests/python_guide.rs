//! The Python section of docs/writing-policies.md works as written: its
//! dates, durations and windows example ("Dates, durations and windows"),
//! copied out of the guide beside the SDK (`sdk-python/gatehouse_sdk`) and
//! the 0.2.0 WIT, builds with the guide's command and the pinned
//! componentize-py, and decides as the guide says: inside the deploy
//! window approve, outside it ask the release managers, inside a freeze
//! fail, and a bad setting is refused with the message the guide prints.

use gatehouse_e2e::{Run, assert_no_host_panic, gatehouse_command, workspace_root};
use std::path::Path;
use std::process::{Command, Stdio};

/// The first fenced `python` block after `heading` inside the Python section.
fn python_example(guide: &str, heading: &str) -> String {
    let section = guide
        .find("## Python")
        .expect("the guide has a Python section");
    let guide = &guide[section..];
    let at = guide
        .find(heading)
        .unwrap_or_else(|| panic!("the Python section has no {heading:?}"));
    let fence = "```python\n";
    let start = guide[at..].find(fence).expect("a python block") + at + fence.len();
    let end = guide[start..].find("```").expect("a closed block") + start;
    guide[start..end].to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "py") {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
}

fn eval(dir: &Path, now: &str, settings: &[&str]) -> Run {
    let release = workspace_root().join("example-policies/releases/prod-delete-database.json");
    let mut command = gatehouse_command();
    command
        .args(["eval", "--policy", "deploy-window.wasm", "--input"])
        .arg(&release)
        .args(["--now", now, "--output", "json"]);
    for setting in settings {
        command.args(["--set", setting]);
    }
    let run: Run = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run gatehouse")
        .into();
    assert_no_host_panic(&run);
    run
}

#[test]
fn the_guides_python_dates_example_builds_and_decides_as_documented() {
    let guide = std::fs::read_to_string(workspace_root().join("docs/writing-policies.md"))
        .expect("docs/writing-policies.md");
    let app = python_example(&guide, "### Dates, durations and windows");
    assert!(app.contains("class DeployWindow(Policy)"), "{app}");

    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    copy_dir(
        &workspace_root().join("sdk-python/gatehouse_sdk"),
        &dir.join("gatehouse_sdk"),
    );
    std::fs::create_dir(dir.join("wit")).expect("wit/");
    std::fs::copy(
        workspace_root().join("wit/0.2.0/policy.wit"),
        dir.join("wit/policy.wit"),
    )
    .expect("copy the WIT");
    std::fs::write(dir.join("app.py"), app).expect("app.py");

    // The guide's build command, with the componentize-py install-tools.sh pinned.
    let componentize = workspace_root().join("target/tools/venv/bin/componentize-py");
    assert!(
        componentize.exists(),
        "{} is missing: run scripts/install-tools.sh first (scripts/build-policies.sh does)",
        componentize.display()
    );
    let build = Command::new(&componentize)
        .args([
            "-d",
            "wit",
            "-w",
            "policy",
            "componentize",
            "app",
            "-o",
            "deploy-window.wasm",
        ])
        .env_remove("VIRTUAL_ENV")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run componentize-py");
    assert!(
        build.status.success(),
        "componentize-py failed:\n{}\n{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );

    let window = ["utc-offset=+01:00", "freezes=2026-12-20..2027-01-03"];
    // Monday 11:00 at +01:00, inside mon-thu 09:00-16:00 with 30 minutes to spare.
    let inside = eval(dir, "2026-11-23T10:00:00Z", &window);
    assert_eq!(inside.code, 0, "{inside:#?}");
    // Monday 16:45 at +01:00: past the window.
    let late = eval(dir, "2026-11-23T15:45:00Z", &window);
    assert_eq!(late.code, 2, "{late:#?}");
    assert!(late.stdout.contains("release-managers"), "{}", late.stdout);
    assert!(late.stdout.contains("it next opens at"), "{}", late.stdout);
    // A Saturday.
    let weekend = eval(dir, "2026-11-21T10:00:00Z", &window);
    assert_eq!(weekend.code, 2, "{weekend:#?}");
    // Christmas Eve, inside the freeze.
    let frozen = eval(dir, "2026-12-24T10:00:00Z", &window);
    assert_eq!(frozen.code, 1, "{frozen:#?}");
    assert!(frozen.stdout.contains("change freeze"), "{}", frozen.stdout);
    // The refusal the guide quotes.
    let bad = eval(dir, "2026-11-23T10:00:00Z", &["grace=90 min"]);
    assert_eq!(bad.code, 3, "{bad:#?}");
    let all = format!("{}{}", bad.stdout, bad.stderr);
    assert!(
        all.contains("setting 'grace': expected a duration such as 90s, 15m, 2h, 1d or 1h30m"),
        "{all}"
    );
}
