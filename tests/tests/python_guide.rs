//! The Python section of docs/writing-policies.md works as written: its
//! dates, durations and windows example ("Dates, durations and windows"),
//! copied out of the guide beside the SDK (`sdk-python/gatehouse_sdk`) and
//! the 0.2.0 WIT, builds with the guide's command and the pinned
//! componentize-py, and decides as the guide says: inside the deploy
//! window approve, outside it ask the release managers, inside a freeze
//! fail, and a bad setting is refused with the message the guide prints.

use gatehouse_e2e::{
    Run, assert_no_host_panic, copy_sdk_and_wit, gatehouse_command, guide_block, workspace_root,
};
use std::path::Path;
use std::process::{Command, Stdio};

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
    let app = guide_block("Python", "### Dates, durations and windows", "python");
    assert!(app.contains("class DeployWindow(Policy)"), "{app}");

    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    copy_sdk_and_wit("sdk-python/gatehouse_sdk", "py", &dir.join("gatehouse_sdk"));
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
