//! The Rust SDK's selecting helpers (`changes_of_kinds`, `destructive_changes`,
//! ...) ask the host to filter under `gatehouse:policy@0.2.0`: the real
//! destructive-changes component reads only the resources changed in the
//! configured ways, so resources it does not select cost it no fuel, and its
//! verdicts and reasons stay those of the 0.1.0 build, which filters in the guest.

use gatehouse_e2e::{gatehouse, policy, release_json, temp_file, workspace_root};
use std::path::Path;

/// The verdict, reason messages and fuel of one policy on one release.
fn run(wasm: &Path, release: &Path, settings: &[&str]) -> (String, Vec<String>, u64) {
    let mut args = vec![
        "eval".to_string(),
        "--policy".into(),
        wasm.display().to_string(),
        "--input".into(),
        release.display().to_string(),
        "--output".into(),
        "json".into(),
    ];
    for setting in settings {
        args.extend(["--set".to_string(), (*setting).to_string()]);
    }
    let run = gatehouse(&args);
    assert!(
        [0, 1, 2].contains(&run.code),
        "{} on {}: {run:#?}",
        wasm.display(),
        release.display()
    );
    let section = &run.json()["policies"][0];
    let reasons = section["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["message"].as_str().expect("message").to_string())
        .collect();
    let fuel = section["fuel_used"].as_u64().expect("fuel_used");
    (
        section["verdict"].as_str().expect("verdict").to_string(),
        reasons,
        fuel,
    )
}

/// Two protected, destructive resources; `padding` more protected resources
/// (mysql) that are created, updated or left alone, around them.
fn release(padding: usize) -> tempfile::NamedTempFile {
    let kinds = ["CREATE", "UPDATE_IN_PLACE", "NO_OPERATION"];
    let padded: Vec<(String, &str)> = (0..padding)
        .map(|i| (format!("datastores/keep-{i}"), kinds[i % kinds.len()]))
        .collect();
    let mut resources: Vec<(&str, &str, &str, &str)> = Vec::new();
    let half = padded.len() / 2;
    for (path, kind) in &padded[..half] {
        resources.push(("mysql", "keep", path, kind));
    }
    resources.push(("mysql", "orders", "datastores/orders", "DELETE"));
    for (path, kind) in &padded[half..] {
        resources.push(("mysql", "keep", path, kind));
    }
    resources.push(("postgres", "users", "datastores/users", "RECREATE"));
    temp_file(release_json("staging", "QA", &resources), ".json")
}

#[test]
fn destructive_changes_pays_nothing_for_resources_it_does_not_select() {
    let v0_2 = policy("destructive-changes");
    let v0_1 = workspace_root().join("target/policies-0.1/destructive-changes.wasm");
    let (small, big) = (release(0), release(600));

    let (verdict, reasons, small_fuel) = run(&v0_2, small.path(), &[]);
    assert_eq!(verdict, "require-approval");
    assert_eq!(
        reasons,
        [
            "DELETE of mysql datastores/orders",
            "RECREATE of postgres datastores/users"
        ]
    );
    let (big_verdict, big_reasons, big_fuel) = run(&v0_2, big.path(), &[]);
    assert_eq!((&big_verdict, &big_reasons), (&verdict, &reasons));
    assert_eq!(
        big_fuel, small_fuel,
        "600 unselected resources cost the 0.2.0 build no fuel: the host filters them"
    );

    // The 0.1.0 build has every resource lowered into it and filters in the
    // guest: the same answer, paid for per resource.
    let (old_verdict, old_reasons, old_small) = run(&v0_1, small.path(), &[]);
    let (_, _, old_big) = run(&v0_1, big.path(), &[]);
    assert_eq!((&old_verdict, &old_reasons), (&verdict, &reasons));
    assert!(old_big > old_small, "{old_big} <= {old_small}");
}

#[test]
fn configured_change_types_select_the_same_resources_in_both_worlds() {
    let v0_2 = policy("destructive-changes");
    let v0_1 = workspace_root().join("target/policies-0.1/destructive-changes.wasm");
    let big = release(30);
    for change_types in ["CREATE,NO_OPERATION", "update_in_place", "RECREATE,DELETE"] {
        let setting = format!("change-types={change_types}");
        let new = run(&v0_2, big.path(), &[&setting]);
        let old = run(&v0_1, big.path(), &[&setting]);
        assert_eq!(
            (&new.0, &new.1),
            (&old.0, &old.1),
            "change-types={change_types}"
        );
        assert!(
            !new.1.is_empty(),
            "change-types={change_types} selects some"
        );
        let kinds: Vec<&str> = change_types.split(',').collect();
        assert!(
            new.1.iter().all(|reason| kinds
                .iter()
                .any(|k| reason.starts_with(&format!("{} of ", k.to_ascii_uppercase())))),
            "only the configured kinds, in input order: {:?}",
            new.1
        );
    }
    // Reasons come in input order, whatever the order of the kinds.
    let (_, reasons, _) = run(&v0_2, big.path(), &["change-types=RECREATE,DELETE"]);
    assert_eq!(
        reasons,
        [
            "DELETE of mysql datastores/orders",
            "RECREATE of postgres datastores/users"
        ]
    );
}
