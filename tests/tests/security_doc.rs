//! SECURITY.md names, for every guarantee and every default, the tests that
//! check it. This test keeps that true: every row of a table whose last
//! column is "checked by" must name at least one test, and every test it
//! names must exist, so a renamed or deleted test (or a guarantee added
//! without one) fails the build instead of leaving a claim behind.
//!
//! A reference is a code span `FILE::function`: `hostile::name` is
//! `tests/tests/hostile.rs`, `runtime/clock.rs::name` is a unit test in
//! the core library, `host/src/runtime/clock.rs`, `cli:args.rs::name` one
//! in the `gatehouse` binary crate, `cli/src/args.rs`, and
//! `glob/src/lib.rs::name` one in a file named from the workspace root.

#![forbid(unsafe_code)]

use gatehouse_e2e::workspace_root;
use std::path::PathBuf;

/// A test a table cell names.
#[derive(Debug)]
struct Reference {
    file: PathBuf,
    function: String,
    text: String,
}

/// The code spans of `cell` that look like `FILE::function`.
fn references(cell: &str) -> Vec<Reference> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|span| {
            let (file, function) = span.rsplit_once("::")?;
            let is_ident = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            };
            if !is_ident(function) {
                return None;
            }
            let root = workspace_root();
            let file = if let Some(cli) = file.strip_prefix("cli:") {
                root.join("cli/src").join(cli)
            } else if file.ends_with(".rs") && root.join(file).is_file() {
                // A path from the workspace root: `glob/src/lib.rs::name`.
                root.join(file)
            } else if file.ends_with(".rs") {
                root.join("host/src").join(file)
            } else if is_ident(file) {
                root.join("tests/tests").join(format!("{file}.rs"))
            } else {
                return None;
            };
            Some(Reference {
                file,
                function: function.to_string(),
                text: span.to_string(),
            })
        })
        .collect()
}

/// The cells of a Markdown table row.
fn cells(row: &str) -> Vec<&str> {
    let inner = row.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split(" | ").map(str::trim).collect()
}

#[test]
fn every_guarantee_names_tests_that_exist() {
    let path = workspace_root().join("SECURITY.md");
    let text = std::fs::read_to_string(&path).expect("SECURITY.md");
    let mut problems: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains("TODO"))
        .map(|(index, _)| format!("SECURITY.md:{}: a TODO is not a guarantee", index + 1))
        .collect();
    let (mut tables, mut rows, mut checked) = (0, 0, 0);
    let mut in_checked_table = false;
    for (index, line) in text.lines().enumerate() {
        let at = index + 1;
        if !line.starts_with('|') {
            in_checked_table = false;
            continue;
        }
        if line.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')) {
            continue; // the separator row
        }
        let row = cells(line);
        if !in_checked_table {
            // A table's first row is its header.
            in_checked_table = row.last() == Some(&"checked by");
            tables += usize::from(in_checked_table);
            if in_checked_table {
                continue;
            }
        }
        if !in_checked_table {
            continue;
        }
        rows += 1;
        let cell = row.last().copied().unwrap_or_default();
        let named = references(cell);
        if named.is_empty() {
            problems.push(format!("SECURITY.md:{at}: no test named in `{cell}`"));
        }
        for reference in named {
            checked += 1;
            let source = std::fs::read_to_string(&reference.file).unwrap_or_default();
            if !source.contains(&format!("fn {}(", reference.function)) {
                problems.push(format!(
                    "SECURITY.md:{at}: `{}` names no test: {} has no fn {}",
                    reference.text,
                    reference.file.display(),
                    reference.function
                ));
            }
        }
    }
    assert!(
        tables >= 3,
        "SECURITY.md has {tables} tables with a \"checked by\" column; expected the guarantee tables and the defaults"
    );
    assert!(rows >= 30, "only {rows} checked rows found in SECURITY.md");
    assert!(
        problems.is_empty(),
        "{} problem(s) in SECURITY.md ({checked} references checked):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
