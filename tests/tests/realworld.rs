//! The real-world corpus: every Terraform / OpenTofu plan and Pulumi preview
//! in `../shared/testdata/realworld/` (real `terraform show -json` and
//! `pulumi preview --json` output from other projects' test suites, with
//! PROVENANCE.txt) goes through `gatehouse convert`, and:
//!
//! - nothing crashes; a file is refused (exit 3, one line) only when it is
//!   listed in [`REFUSED`] as a documented refusal, and its error contains
//!   the fragment listed there, which docs/input-formats.md's "Refused
//!   inputs" table documents;
//! - every warning contains a fragment of docs/input-formats.md's
//!   "Warnings" table;
//! - the output equals the snapshot committed in `tests/snapshots/realworld/`:
//!   `NAME.release.json` (the converted release, exactly as printed),
//!   `NAME.warnings.txt` (stderr, when there are warnings) or `NAME.error.txt`
//!   (stderr of a refusal). Snapshots are Gatehouse's output, never the
//!   input, and each was reviewed when it was written or changed.
//!
//! `GATEHOUSE_UPDATE_SNAPSHOTS=1` rewrites the snapshots instead of comparing
//! (and removes those whose input is gone); review the diff before committing
//! it. The corpus is not in the repository: without `../shared` the test
//! skips, saying so.

#![forbid(unsafe_code)]

use gatehouse_e2e::{Run, gatehouse_command, shared_or_skip, workspace_root};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The corpus, inside the shared reference data.
const CORPUS: &str = "testdata/realworld";

/// Where the snapshots live, inside the workspace.
const SNAPSHOTS: &str = "tests/snapshots/realworld";

/// Set to `1` to rewrite the snapshots instead of comparing with them.
const UPDATE_ENV: &str = "GATEHOUSE_UPDATE_SNAPSHOTS";

/// The files Gatehouse refuses, each with the fragment of its error that
/// docs/input-formats.md documents. Every other file must convert.
const REFUSED: [(&str, &str); 11] = [
    ("pulumi/stratify_bad_json.json", "the input ends early"),
    (
        "pulumi/stratify_empty_object.json",
        "cannot tell the input format",
    ),
    (
        "terraform/checkov_corrupted_state_like.json",
        "this is Terraform state",
    ),
    (
        "terraform/infracost_terraform_wrapper_prefix.json",
        "setup-terraform's terraform wrapper",
    ),
    (
        "terraform/infracost_tf012_state.json",
        "this is Terraform state",
    ),
    (
        "terraform/tfcompliance_state_child_modules.json",
        "this is Terraform state",
    ),
    (
        "terraform/tfplanformat_artificial_ARTIFICIAL.json",
        "malformed format_version",
    ),
    (
        "terraform/tofu_cloud_plan_redacted.json",
        "redacted JSON plan",
    ),
    ("terraform/tofu_showjson_plan_error.json", "(errored: true)"),
    ("terraform/tofu_state_basic.json", "this is Terraform state"),
    (
        "terraform/tofu_state_empty.json",
        "no state and no plan file",
    ),
];

/// The corpus files, as paths relative to the corpus (`terraform/x.json`), sorted.
fn corpus_files(corpus: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["terraform", "pulumi"] {
        let entries = std::fs::read_dir(corpus.join(dir))
            .unwrap_or_else(|e| panic!("list {}: {e}", corpus.join(dir).display()));
        for entry in entries {
            let name = entry.expect("directory entry").file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".json") {
                files.push(format!("{dir}/{name}"));
            }
        }
    }
    files.sort();
    files
}

/// Runs `gatehouse convert` on a corpus file, from the directory above the
/// corpus so that messages name the file as `realworld/terraform/x.json`
/// wherever the data lives.
fn convert(testdata: &Path, file: &str) -> Run {
    gatehouse_command()
        .args([
            "convert",
            "--input",
            &format!("realworld/{file}"),
            "--environment",
            "dev",
            "--release-stream",
            "QA",
        ])
        .current_dir(testdata)
        .stdin(Stdio::null())
        .output()
        .expect("run gatehouse")
        .into()
}

/// The first-column fragments (in backticks) of the table under `## HEADING`
/// in docs/input-formats.md.
fn documented(docs: &str, heading: &str) -> Vec<String> {
    let start = docs
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/input-formats.md has no `## {heading}` section"));
    let section = &docs[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let fragments: Vec<String> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once("` |"))
        .map(|(fragment, _)| fragment.to_string())
        .collect();
    assert!(
        !fragments.is_empty(),
        "no documented fragments under `## {heading}`"
    );
    fragments
}

/// The committed snapshots, compared with (or, in update mode, rewritten to)
/// what the conversions print.
struct Snapshots {
    root: PathBuf,
    update: bool,
    /// Every snapshot path checked, present or absent.
    checked: BTreeSet<PathBuf>,
    failures: Vec<String>,
}

impl Snapshots {
    /// Checks that `relative` holds `actual`, or does not exist when `actual`
    /// is `None`; in update mode, makes it so.
    fn check(&mut self, relative: &str, actual: Option<&str>) {
        let path = self.root.join(relative);
        self.checked.insert(path.clone());
        let committed = std::fs::read_to_string(&path).ok();
        if committed.as_deref() == actual {
            return;
        }
        if self.update {
            match actual {
                Some(text) => {
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)
                            .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
                    }
                    std::fs::write(&path, text)
                        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
                }
                None => std::fs::remove_file(&path)
                    .unwrap_or_else(|e| panic!("remove {}: {e}", path.display())),
            }
            return;
        }
        let problem = match (committed, actual) {
            (Some(committed), Some(actual)) => format!(
                "differs from the snapshot, first at line {}",
                first_difference(&committed, actual)
            ),
            (None, _) => "no snapshot committed".to_string(),
            (Some(_), None) => "committed, but the conversion no longer produces it".to_string(),
        };
        self.failures
            .push(format!("{SNAPSHOTS}/{relative}: {problem}"));
    }

    /// Snapshot files that belong to no corpus file (removed in update mode).
    fn stale(&mut self) {
        let mut found = Vec::new();
        collect_files(&self.root, &mut found);
        for path in found {
            if self.checked.contains(&path) {
                continue;
            }
            if self.update {
                std::fs::remove_file(&path)
                    .unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
            } else {
                self.failures
                    .push(format!("{}: a snapshot of no corpus file", path.display()));
            }
        }
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The 1-based number of the first line where `a` and `b` differ.
fn first_difference(a: &str, b: &str) -> usize {
    let mut left = a.lines();
    let mut right = b.lines();
    let mut line = 1;
    loop {
        match (left.next(), right.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            _ => return line,
        }
    }
}

#[test]
fn shared_realworld_plans_convert_to_their_snapshots() {
    let Some(shared) =
        shared_or_skip("realworld::shared_realworld_plans_convert_to_their_snapshots")
    else {
        return;
    };
    let corpus = shared.path(CORPUS);
    let testdata = shared.path("testdata");
    let docs = std::fs::read_to_string(workspace_root().join("docs/input-formats.md"))
        .expect("read docs/input-formats.md");
    let warnings_documented = documented(&docs, "Warnings");
    let refusals_documented = documented(&docs, "Refused inputs");
    let files = corpus_files(&corpus);
    assert!(files.len() >= 60, "only {} corpus files", files.len());
    for (file, fragment) in REFUSED {
        assert!(
            files.iter().any(|f| f == file),
            "{file} is listed as refused but is not in the corpus"
        );
        assert!(
            refusals_documented.iter().any(|d| d == fragment),
            "{file}: `{fragment}` is not in docs/input-formats.md's Refused inputs table"
        );
    }

    let mut snapshots = Snapshots {
        root: workspace_root().join(SNAPSHOTS),
        update: std::env::var(UPDATE_ENV).is_ok_and(|v| v == "1"),
        checked: BTreeSet::new(),
        failures: Vec::new(),
    };
    for file in &files {
        let run = convert(&testdata, file);
        let stem = file.strip_suffix(".json").unwrap_or(file);
        let refusal = REFUSED.iter().find(|(f, _)| f == file).map(|(_, m)| *m);
        let crashed = (run.code != 0 && run.code != 3)
            || run.stderr.lines().any(|l| l.starts_with("thread '"));
        if crashed {
            snapshots
                .failures
                .push(format!("{file}: crashed: {run:#?}"));
            continue;
        }
        match (run.code, refusal) {
            (0, None) => {
                for line in run.stderr.lines() {
                    let Some(warning) = line.strip_prefix("gatehouse: warning: ") else {
                        snapshots
                            .failures
                            .push(format!("{file}: unexpected stderr line {line:?}"));
                        continue;
                    };
                    if !warnings_documented
                        .iter()
                        .any(|d| warning.contains(d.as_str()))
                    {
                        snapshots.failures.push(format!(
                            "{file}: a warning docs/input-formats.md's Warnings table does not explain: {warning:?}"
                        ));
                    }
                }
                let warnings = (!run.stderr.is_empty()).then_some(run.stderr.as_str());
                snapshots.check(&format!("{stem}.release.json"), Some(&run.stdout));
                snapshots.check(&format!("{stem}.warnings.txt"), warnings);
                snapshots.check(&format!("{stem}.error.txt"), None);
            }
            (3, Some(fragment)) => {
                let lines: Vec<&str> = run.stderr.lines().collect();
                let message = match lines.as_slice() {
                    [line] => line.strip_prefix("gatehouse: error: "),
                    _ => None,
                };
                match message {
                    Some(message) if message.contains(fragment) => {}
                    _ => snapshots.failures.push(format!(
                        "{file}: refused, but not with one `gatehouse: error:` line containing {fragment:?}: {run:#?}"
                    )),
                }
                if !run.stdout.is_empty() {
                    snapshots
                        .failures
                        .push(format!("{file}: refused, yet printed {:?}", run.stdout));
                }
                snapshots.check(&format!("{stem}.error.txt"), Some(&run.stderr));
                snapshots.check(&format!("{stem}.release.json"), None);
                snapshots.check(&format!("{stem}.warnings.txt"), None);
            }
            (0, Some(fragment)) => snapshots.failures.push(format!(
                "{file}: converted, but it is listed as refused ({fragment:?})"
            )),
            _ => snapshots.failures.push(format!(
                "{file}: refused, but it is not a documented refusal: {}",
                run.stderr.trim_end()
            )),
        }
    }
    snapshots.stale();
    assert!(
        snapshots.failures.is_empty(),
        "{} problem(s) with the real-world corpus:\n  {}\nIf the new output is right, rewrite the snapshots with \
         `{UPDATE_ENV}=1 cargo test -p gatehouse-e2e --test realworld` and review the diff before committing it.",
        snapshots.failures.len(),
        snapshots.failures.join("\n  ")
    );
}

#[test]
fn documented_fragments_are_read_from_both_tables() {
    // The parser the corpus test relies on, on the real docs: both tables
    // are found, and a fragment of one is not taken for the other.
    let docs = std::fs::read_to_string(workspace_root().join("docs/input-formats.md"))
        .expect("read docs/input-formats.md");
    let warnings = documented(&docs, "Warnings");
    let refusals = documented(&docs, "Refused inputs");
    assert!(
        warnings.iter().any(|w| w == "(resource_drift)"),
        "{warnings:?}"
    );
    assert!(
        !warnings.iter().any(|w| w == "the input ends early"),
        "{warnings:?}"
    );
    assert!(
        refusals
            .iter()
            .any(|r| r == "setup-terraform's terraform wrapper"),
        "{refusals:?}"
    );
    assert!(
        !refusals.iter().any(|r| r == "(resource_drift)"),
        "{refusals:?}"
    );
    for (_, fragment) in REFUSED {
        assert!(refusals.iter().any(|r| r == fragment), "{fragment}");
    }
}
