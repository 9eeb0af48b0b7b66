//! The JavaScript section of docs/writing-policies.md works as written: its
//! dates, durations and windows example ("Dates, durations and windows"),
//! copied out of the guide with the SDK (`sdk-js/`) and the 0.2.0 WIT it
//! targets, builds with the pinned componentize-js into a real component and
//! passes the suite printed beside it, every case.

use gatehouse_e2e::{
    assert_no_host_panic, copy_sdk_and_wit, gatehouse_command, guide_block, workspace_root,
};
use std::process::{Command, Stdio};

#[test]
fn the_guides_javascript_dates_example_builds_and_passes_its_suite() {
    let heading = "### Dates, durations and windows";
    let policy = guide_block("JavaScript", heading, "js");
    let suite = guide_block("JavaScript", heading, "toml");
    assert!(
        suite.contains("policy = \"release-calendar.wasm\""),
        "{suite}"
    );

    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    copy_sdk_and_wit("sdk-js", "js", &dir.join("gatehouse-sdk"));
    std::fs::write(dir.join("policy.js"), policy).expect("policy.js");
    std::fs::write(dir.join("release-calendar.test.toml"), suite).expect("suite");

    // The build command of the guide (step 3), with the pinned componentize-js.
    let componentize = workspace_root().join("target/tools/js/node_modules/.bin/componentize-js");
    assert!(
        componentize.exists(),
        "{} is missing: run scripts/install-tools.sh first (scripts/build-policies.sh does)",
        componentize.display()
    );
    let build = Command::new(&componentize)
        .args([
            "policy.js",
            "--wit",
            "wit",
            "--world-name",
            "policy",
            "--disable",
            "stdio",
            "random",
            "clocks",
            "http",
            "fetch-event",
            "--out",
            "release-calendar.wasm",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run componentize-js");
    assert!(
        build.status.success(),
        "componentize-js failed:\n{}\n{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );

    let run: gatehouse_e2e::Run = gatehouse_command()
        .args(["test", "release-calendar.test.toml"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run gatehouse")
        .into();
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.contains("5 passed, 0 failed"), "{}", run.stdout);
}
