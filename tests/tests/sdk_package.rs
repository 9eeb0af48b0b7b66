//! The published crates are packages that stand on their own: those a policy
//! author depends on (`gatehouse-sdk`, `gatehouse-glob`), the engine
//! (`gatehouse-core`) and the binary (`gatehouse`). They carry the WIT their
//! bindings are generated from (an exact copy of the repository's `wit/` for
//! the SDK; the core's `wit/` is a link to it, packaged as a file) and the
//! files the core embeds, their README and metadata, and no dependency that
//! only has a path. (`cargo publish --dry-run -p gatehouse-glob -p
//! gatehouse-sdk -p gatehouse-core -p gatehouse` is the full check; it needs
//! the registry, so it is not run here.)

#![forbid(unsafe_code)]

use gatehouse_e2e::workspace_root;
use serde_json::Value;
use std::process::{Command, Stdio};

/// The published crates, and the files each package must carry beside its
/// `Cargo.toml` and `README.md`.
const PUBLISHED: [(&str, &[&str]); 4] = [
    ("gatehouse-glob", &["src/lib.rs"]),
    (
        "gatehouse-sdk",
        &["src/lib.rs", "wit/policy.wit", "wit/0.2.0/policy.wit"],
    ),
    (
        "gatehouse-core",
        &[
            "src/lib.rs",
            "wit/policy.wit",
            "scaffold-assets/install-tools.sh",
            "scaffold-assets/js-tools/package-lock.json",
            "scaffold-assets/js-tools/package.json",
            "scaffold-assets/sdk-python/settings.py",
            "scaffold-assets/sdk-python/dates.py",
            "scaffold-assets/sdk-js/index.js",
            "scaffold-assets/sdk-js/unicode-tables.js",
        ],
    ),
    ("gatehouse", &["src/main.rs"]),
];

/// Runs cargo (offline) in the workspace root and returns its stdout.
fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args(args)
        .arg("--offline")
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo}: {e}"));
    assert!(
        output.status.success(),
        "cargo {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// `cargo metadata` of a workspace package.
fn package(name: &str) -> Value {
    let metadata: Value =
        serde_json::from_str(&cargo(&["metadata", "--no-deps", "--format-version", "1"]))
            .expect("cargo metadata JSON");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name}"))
        .clone()
}

#[test]
fn the_sdk_carries_an_identical_copy_of_the_wit() {
    let root = workspace_root();
    // One file per world version: 0.1.0 at the top, 0.2.0 in its directory.
    for file in ["policy.wit", "0.2.0/policy.wit"] {
        let canonical = std::fs::read_to_string(root.join("wit").join(file)).expect("wit/");
        let copy = std::fs::read_to_string(root.join("sdk/wit").join(file)).expect("sdk/wit/");
        assert!(
            copy == canonical,
            "sdk/wit/{file} differs from wit/{file}: copy wit/{file} to sdk/wit/ \
             (the SDK's bindings are generated from its own copy, so the published crate builds)"
        );
    }
    let mut files: Vec<String> = std::fs::read_dir(root.join("wit"))
        .expect("wit/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["0.2.0", "policy.wit"],
        "every file of wit/ is copied"
    );
    let versions: Vec<String> = std::fs::read_dir(root.join("wit/0.2.0"))
        .expect("wit/0.2.0")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        versions,
        ["policy.wit"],
        "every file of wit/0.2.0 is copied"
    );
    let bindings = std::fs::read_to_string(root.join("sdk/src/bindings.rs")).expect("bindings");
    assert!(
        bindings.contains("path: \"wit\","),
        "the SDK generates its bindings from its own wit/"
    );
}

#[test]
fn published_crates_are_complete_packages() {
    for (name, carries) in PUBLISHED {
        let files = cargo(&["package", "--list", "--allow-dirty", "-p", name]);
        let files: Vec<&str> = files.lines().collect();
        for wanted in ["Cargo.toml", "README.md"].iter().chain(carries) {
            assert!(files.contains(wanted), "{name} lacks {wanted}: {files:?}");
        }
        let meta = package(name);
        assert!(meta["publish"].is_null(), "{name} may be published");
        for key in ["description", "license", "repository", "readme"] {
            assert!(meta[key].is_string(), "{name} has no {key}");
        }
        for dependency in meta["dependencies"].as_array().expect("dependencies") {
            let req = dependency["req"].as_str().expect("req");
            assert!(
                dependency["kind"].as_str() == Some("dev") || req != "*",
                "{name} depends on {} by path only: give it a version too",
                dependency["name"]
            );
        }
    }
}
