//! A plain clone of the repository has no `../shared`: the tests that need
//! it must say so in their names (`shared_...`) and skip, naming themselves,
//! where it is absent (docs/testing.md). This reads `tests/tests/*.rs` and
//! holds every test to that: a test that calls `shared_or_skip` is named
//! `shared_...` and passes its own `file::name`; a test named `shared_...`
//! calls it; nothing else calls it.

#![forbid(unsafe_code)]

use gatehouse_e2e::workspace_root;

/// A call of `shared_or_skip`, spelled so that this file contains none.
const CALL: &str = concat!("shared_or_skip", "(");

/// One `#[test]` function: its name and its text.
struct TestFn {
    name: String,
    body: String,
}

/// The `#[test]` functions of a rustfmt-formatted file, and the text outside
/// them. A function runs from its `fn` line to the first line that is `}`.
fn test_functions(text: &str) -> (Vec<TestFn>, String) {
    let mut tests = Vec::new();
    let mut outside = String::new();
    let mut lines = text.lines();
    let mut pending_test = false;
    while let Some(line) = lines.next() {
        if line == "#[test]" {
            pending_test = true;
            continue;
        }
        if pending_test {
            if line.starts_with("#[") {
                continue;
            }
            pending_test = false;
            if let Some(rest) = line.strip_prefix("fn ") {
                let name = rest.split('(').next().unwrap_or_default().to_string();
                let mut body = String::from(line);
                for line in lines.by_ref() {
                    body.push('\n');
                    body.push_str(line);
                    if line == "}" {
                        break;
                    }
                }
                tests.push(TestFn { name, body });
                continue;
            }
        }
        outside.push_str(line);
        outside.push('\n');
    }
    (tests, outside)
}

/// The problems in one file (`stem` is its name without `.rs`).
fn problems_in(stem: &str, text: &str) -> (Vec<String>, usize) {
    let (tests, outside) = test_functions(text);
    let mut problems = Vec::new();
    let mut shared = 0;
    for test in &tests {
        let needs = test.body.contains(CALL);
        let named = test.name.starts_with("shared_");
        let qualified = format!("\"{stem}::{}\"", test.name);
        match (needs, named) {
            (true, false) => problems.push(format!(
                "{stem}::{}: reads ../shared (shared_or_skip) but its name does not start with `shared_`",
                test.name
            )),
            (false, true) => problems.push(format!(
                "{stem}::{}: named `shared_` but never calls shared_or_skip",
                test.name
            )),
            (true, true) if !test.body.contains(&qualified) => problems.push(format!(
                "{stem}::{}: its skip line must name it: pass {qualified} to shared_or_skip",
                test.name
            )),
            _ => {}
        }
        shared += usize::from(needs);
    }
    if outside.contains(CALL) {
        problems.push(format!(
            "{stem}: calls shared_or_skip outside a #[test] function, where the name cannot be checked"
        ));
    }
    (problems, shared)
}

#[test]
fn tests_needing_the_reference_data_are_named_for_it() {
    let dir = workspace_root().join("tests/tests");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    let mut shared = 0;
    for path in &files {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let (found, count) = problems_in(&stem, &text);
        problems.extend(found);
        shared += count;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The scan sees the tests it is about (adapters alone has 30).
    assert!(shared >= 30, "only {shared} tests read ../shared");
}

#[test]
fn the_check_catches_each_kind_of_misnaming() {
    // Each line behind a `|` margin and the call spelled `SOS(`, so that
    // this file's own scan sees neither as its tests.
    let file: String = r#"
        |use gatehouse_e2e::shared_or_skip;
        |
        |#[test]
        |fn reads_the_data() {
        |    let Some(shared) = SOS("x::reads_the_data") else {
        |        return;
        |    };
        |}
        |
        |#[test]
        |#[ignore]
        |fn shared_but_does_not_read_it() {
        |    assert!(true);
        |}
        |
        |#[test]
        |fn shared_names_another_test() {
        |    let Some(shared) = SOS("x::other") else {
        |        return;
        |    };
        |}
        |
        |#[test]
        |fn shared_is_right() {
        |    let Some(shared) = SOS("x::shared_is_right") else {
        |        return;
        |    };
        |}
        |
        |fn helper() {
        |    let _ = SOS("x::helper");
        |}
        |"#
    .lines()
    .filter_map(|line| line.trim_start().strip_prefix('|'))
    .map(|line| format!("{}\n", line.replace("SOS(", CALL)))
    .collect();
    let (problems, shared) = problems_in("x", &file);
    assert_eq!(shared, 3);
    let expected = [
        "x::reads_the_data: reads ../shared",
        "x::shared_but_does_not_read_it: named `shared_` but never calls",
        "x::shared_names_another_test: its skip line must name it",
        "x: calls shared_or_skip outside a #[test] function",
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for (problem, start) in problems.iter().zip(expected) {
        assert!(problem.starts_with(start), "{problem}");
    }
}
