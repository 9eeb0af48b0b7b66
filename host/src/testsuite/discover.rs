//! Finding suite files: the paths given on the command line, directories
//! searched recursively for `*.test.toml`.
//!
//! Hidden directories (`.git`, ...), `target/` and `node_modules/` are
//! skipped: they hold build output and dependencies, never our suites.
//! Symbolic links to directories are not followed, so a link loop cannot
//! hang the search. The result is sorted and free of duplicates.

use super::SUITE_SUFFIX;
use std::path::{Path, PathBuf};

/// Directory names never searched.
const SKIPPED_DIRS: &[&str] = &["target", "node_modules"];

/// The suite files under `paths`: a file is taken as given (whatever its
/// name), a directory is searched. Errors name a path that does not exist
/// or cannot be read.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            format!(
                "{}: {e}; pass suite files ({SUITE_SUFFIX}) or directories to search",
                path.display()
            )
        })?;
        if meta.is_dir() {
            walk(path, &mut found)?;
        } else {
            found.push(path.clone());
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// Whether a file name is a suite's.
pub fn is_suite_name(name: &str) -> bool {
    name.len() > SUITE_SUFFIX.len() && name.ends_with(SUITE_SUFFIX)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot list the directory: {e}", dir.display()))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| format!("{}: cannot list the directory: {e}", dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // `.` stays out of the names shown: `gatehouse test` finds
        // `example-policies/x.test.toml`, not `./example-policies/x.test.toml`.
        let path = if dir == Path::new(".") {
            PathBuf::from(name)
        } else {
            dir.join(name)
        };
        let file_type = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if file_type.is_dir() {
            if !name.starts_with('.') && !SKIPPED_DIRS.contains(&name) {
                walk(&path, found)?;
            }
        } else if is_suite_name(name) && (file_type.is_file() || path.is_file()) {
            found.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, "").expect("write");
    }

    #[test]
    fn finds_suites_recursively_skipping_build_and_hidden_dirs() {
        let root = std::env::temp_dir().join(format!("gatehouse-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for file in [
            "b/tests/b.test.toml",
            "a/a.test.toml",
            "a/notes.toml",
            "a/.test.toml",
            "target/t.test.toml",
            "x/node_modules/n.test.toml",
            ".hidden/h.test.toml",
        ] {
            touch(&root.join(file));
        }
        let found = discover(std::slice::from_ref(&root)).expect("discover");
        assert_eq!(
            found,
            [root.join("a/a.test.toml"), root.join("b/tests/b.test.toml")]
        );
        // A file given by name is taken whatever its name; duplicates go.
        let named = root.join("a/notes.toml");
        let found = discover(&[named.clone(), root.join("a"), named.clone()]).expect("discover");
        assert_eq!(found, [root.join("a/a.test.toml"), named]);
        let err = discover(&[root.join("missing")]).expect_err("missing path");
        assert!(err.contains("missing"), "{err}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn suite_names() {
        assert!(is_suite_name("x.test.toml"));
        assert!(!is_suite_name(".test.toml"));
        assert!(!is_suite_name("x.toml"));
    }
}
