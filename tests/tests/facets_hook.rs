//! The Facets drop-in (`example-policies/facets/pre_release_hook.sh`), run
//! exactly as Facets runs a hook: one argument, the release JSON path; the
//! exit code decides. With its default policy set it must agree with the
//! reference hook wherever the release has no destructive datastore change,
//! and add approval / failure where it has one. (The reference hook is in
//! `../shared/` beside the repository: without it, that comparison skips.)

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    Run, Shared, gatehouse_bin, release_json, shared_or_skip, temp_file, workspace_root,
};
use std::process::{Command, Stdio};

fn hook(args: &[&str]) -> Run {
    Command::new("bash")
        .arg(workspace_root().join("example-policies/facets/pre_release_hook.sh"))
        .args(args)
        .env("GATEHOUSE", gatehouse_bin())
        .stdin(Stdio::null())
        .output()
        .expect("run the hook")
        .into()
}

/// The reference hook's exit code on a release file.
fn reference(shared: &Shared, path: &str) -> i32 {
    Command::new("python3")
        .arg(shared.path("reference/facets_pre_release_hook.py"))
        .arg(path)
        .env("PYTHONUTF8", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the reference hook")
        .status
        .code()
        .unwrap_or(-1)
}

#[test]
fn shared_reference_hook_agrees_on_non_destructive_releases() {
    let Some(shared) =
        shared_or_skip("facets_hook::shared_reference_hook_agrees_on_non_destructive_releases")
    else {
        return;
    };
    let cases = [
        ("prod-eu", "PROD", "UPDATE_IN_PLACE"),
        ("prod-eu", "QA", "CREATE"),
        ("staging", "STAGING", "NO_OPERATION"),
        ("dev", "prod", "UPDATE_IN_PLACE"),
    ];
    for (environment, stream, change) in cases {
        let file = temp_file(
            release_json(
                environment,
                stream,
                &[("service", "api", "services/api", change)],
            ),
            ".json",
        );
        let path = file.path().display().to_string();
        let run = hook(&[&path]);
        assert_eq!(
            run.code,
            reference(&shared, &path),
            "{environment}/{stream}/{change}: {run:#?}"
        );
    }
}

#[test]
fn adds_approval_and_failure_for_destructive_datastore_changes() {
    let delete = [("mysql", "orders", "datastores/orders", "DELETE")];
    let staging = temp_file(release_json("staging", "QA", &delete), ".json");
    let run = hook(&[&staging.path().display().to_string()]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stdout.contains("DELETE of mysql datastores/orders"),
        "{}",
        run.stdout
    );

    let prod = temp_file(release_json("prod-eu", "PROD", &delete), ".json");
    let run = hook(&[&prod.path().display().to_string()]);
    assert_eq!(run.code, 1, "{run:#?}");
}

#[test]
fn wrong_usage_and_bad_input_fail_the_release() {
    let run = hook(&[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains("Usage: pre_release_hook.sh"),
        "{}",
        run.stderr
    );

    let run = hook(&["/definitely/missing.json"]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr
            .contains("gatehouse: error: /definitely/missing.json"),
        "{}",
        run.stderr
    );
}
