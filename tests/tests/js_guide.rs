//! The JavaScript section of docs/writing-policies.md works as written: its
//! dates, durations and windows example ("Dates, durations and windows"),
//! copied out of the guide with the SDK (`sdk-js/`) and the 0.2.0 WIT it
//! targets, builds with the pinned componentize-js into a real component and
//! passes the suite printed beside it, every case.

use gatehouse_e2e::{assert_no_host_panic, gatehouse_command, workspace_root};
use std::path::Path;
use std::process::{Command, Stdio};

/// The first fenced block of `lang` after `heading` in the guide.
fn block_after(guide: &str, heading: &str, lang: &str) -> String {
    let section = guide
        .find(heading)
        .unwrap_or_else(|| panic!("the guide has no {heading:?}"));
    let fence = format!("```{lang}\n");
    let start = guide[section..]
        .find(&fence)
        .map(|i| section + i + fence.len())
        .unwrap_or_else(|| panic!("no ```{lang} block after {heading:?}"));
    let end = guide[start..].find("```").expect("a closed block") + start;
    guide[start..end].to_string()
}

fn copy_sdk(to: &Path) {
    std::fs::create_dir_all(to).expect("gatehouse-sdk/");
    for entry in std::fs::read_dir(workspace_root().join("sdk-js")).expect("sdk-js/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "js") {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
}

#[test]
fn the_guides_javascript_dates_example_builds_and_passes_its_suite() {
    let whole = std::fs::read_to_string(workspace_root().join("docs/writing-policies.md"))
        .expect("docs/writing-policies.md");
    // The JavaScript section (the Python one has a subsection of the same name).
    let js = whole
        .find("## JavaScript")
        .expect("the guide has a JavaScript section");
    let guide = &whole[js..];
    let heading = "### Dates, durations and windows";
    let policy = block_after(guide, heading, "js");
    let suite = block_after(guide, heading, "toml");
    assert!(
        suite.contains("policy = \"release-calendar.wasm\""),
        "{suite}"
    );

    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    copy_sdk(&dir.join("gatehouse-sdk"));
    std::fs::create_dir(dir.join("wit")).expect("wit/");
    std::fs::copy(
        workspace_root().join("wit/0.2.0/policy.wit"),
        dir.join("wit/policy.wit"),
    )
    .expect("copy the WIT");
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
