//! The guide agrees with what the tools do: the Rust `Cargo.toml` of
//! docs/writing-policies.md has the crate type `gatehouse new --lang rust`
//! writes, and every documented command that reads a plan (`--input
//! plan.json`, `tfplan`, a Pulumi preview) passes both `--environment` and
//! `--release-stream`, which a plan always needs.

use gatehouse_e2e::workspace_root;

fn read(relative: &str) -> String {
    std::fs::read_to_string(workspace_root().join(relative))
        .unwrap_or_else(|e| panic!("read {relative}: {e}"))
}

fn crate_type_line(text: &str) -> Option<String> {
    text.lines()
        .find(|l| l.trim_start().starts_with("crate-type"))
        .map(|l| l.split('#').next().unwrap_or_default().trim().to_string())
}

#[test]
fn the_guide_and_the_rust_scaffold_agree_on_the_crate_type() {
    let guide = read("docs/writing-policies.md");
    let scaffold = read("host/src/scaffold/templates/rust/Cargo.toml.tmpl");
    let documented = crate_type_line(&guide).expect("the guide shows a crate-type");
    assert_eq!(
        Some(documented.clone()),
        crate_type_line(&scaffold),
        "docs/writing-policies.md shows {documented:?}"
    );
}

#[test]
fn every_documented_plan_command_passes_environment_and_release_stream() {
    let mut docs = vec!["README.md".to_string()];
    for entry in std::fs::read_dir(workspace_root().join("docs")).expect("docs/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".md") {
            docs.push(format!("docs/{name}"));
        }
    }
    let mut missing = Vec::new();
    for doc in &docs {
        let text = read(doc);
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            // A command with its `\` continuation lines.
            let start = i;
            let mut command = lines[i].to_string();
            while command.trim_end().ends_with('\\') && i + 1 < lines.len() {
                i += 1;
                command.push(' ');
                command.push_str(lines[i]);
            }
            i += 1;
            let gates = [
                "gatehouse eval",
                "gatehouse check",
                "gatehouse convert",
                "gatehouse digest",
            ]
            .iter()
            .any(|c| command.contains(c));
            let reads_a_plan = [
                "--input plan.json",
                "--input tfplan",
                "--input preview.json",
            ]
            .iter()
            .any(|p| command.contains(p));
            if gates
                && reads_a_plan
                && !(command.contains("--environment") && command.contains("--release-stream"))
            {
                missing.push(format!("{doc}:{}: {}", start + 1, command.trim()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "plan commands without --environment and --release-stream:\n{}",
        missing.join("\n")
    );
}
