//! The text report end to end: two policies whose `describe()` names
//! collide are told apart by their file, and a reason whose message already
//! names its resource path does not repeat it as `[path]`.

use gatehouse_e2e::twins::example_release;
use gatehouse_e2e::{assert_no_host_panic, gatehouse, policy};

#[test]
fn colliding_names_show_their_files_and_paths_are_not_repeated() {
    let original = policy("destructive-changes");
    let dir = tempfile::tempdir().expect("dir");
    let copy = dir.path().join("copy-of-destructive-changes.wasm");
    std::fs::copy(&original, &copy).expect("copy policy");
    let (original, copy) = (original.display().to_string(), copy.display().to_string());
    let run = gatehouse([
        "eval",
        "--policy",
        &original,
        "--policy",
        &copy,
        "--input",
        &example_release("prod-delete-database.json"),
        "--now",
        "2026-11-22T10:00:00Z",
    ]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 1, "{run:#?}");
    for file in [&original, &copy] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with("policy destructive-changes ")
                    && l.contains(&format!(" ({file}): fail"))),
            "{file}: {}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains("\n  - DELETE of mysql datastores/orders\n"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("[datastores/orders]"),
        "{}",
        run.stdout
    );

    // One policy: no file in its heading.
    let single = gatehouse([
        "eval",
        "--policy",
        &original,
        "--input",
        &example_release("prod-delete-database.json"),
    ]);
    assert_no_host_panic(&single);
    assert!(
        !single.stdout.contains(&format!("({original})")),
        "{}",
        single.stdout
    );
}
