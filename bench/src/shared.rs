//! The reference data beside the repository (`../shared`, or the directory
//! `GATEHOUSE_SHARED_DIR` names): the Facets hook the `cli` and `rss`
//! sections run and the Rego rules of the `rego` section. A plain clone of
//! the repository does not have it; the sections that need it then say what
//! they skip and why instead of measuring nothing.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The environment variable that moves the reference data (as for the
/// end-to-end tests; relative to the repository if relative, unset or empty
/// means `../shared`).
pub const SHARED_DIR_ENV: &str = "GATEHOUSE_SHARED_DIR";

/// The Facets reference hook, inside the shared data.
pub const HOOK: &str = "reference/facets_pre_release_hook.py";

/// The reference Rego rules, inside the shared data.
pub const REGO_DIR: &str = "reference/rego";

/// The shared data directory, or why there is none (a sentence fragment
/// naming the path looked at).
pub type Shared = Result<PathBuf, String>;

/// Finds the shared data for the repository at `root`, reading
/// [`SHARED_DIR_ENV`].
pub fn locate(root: &Path) -> Shared {
    match std::env::var_os(SHARED_DIR_ENV) {
        Some(value) if !value.is_empty() => at(root.join(value), true),
        _ => at(root.parent().unwrap_or(root).join("shared"), false),
    }
}

/// The shared data at `location` if it is a directory, else why not.
fn at(location: PathBuf, from_env: bool) -> Shared {
    let set_by = if from_env {
        format!(", set by {SHARED_DIR_ENV}")
    } else {
        String::new()
    };
    match std::fs::metadata(&location) {
        Ok(metadata) if metadata.is_dir() => Ok(location),
        Ok(_) => Err(format!(
            "../shared (reference data beside the repository) at {}{set_by} is not a directory",
            location.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "../shared (reference data beside the repository) not found at {}{set_by}",
            location.display()
        )),
        Err(e) => Err(format!(
            "cannot read ../shared (reference data beside the repository) at {}{set_by}: {e}",
            location.display()
        )),
    }
}

/// `relative` inside the shared data. Where the shared data is absent,
/// prints (in the Markdown report and on stderr) that `what` is skipped and
/// why; where it is present without `relative`, prints that as an error.
/// Either way returns the JSON the section records instead of numbers:
/// `{"skipped": line}` or `{"error": line}`.
pub fn file_or_skip(shared: &Shared, relative: &str, what: &str) -> Result<PathBuf, Value> {
    let (key, line) = match shared {
        Err(reason) => ("skipped", format!("skipped: {reason}; {what} needs it")),
        Ok(dir) => {
            let path = dir.join(relative);
            if path.exists() {
                return Ok(path);
            }
            (
                "error",
                format!(
                    "error: {} is missing from the reference data at {}; {what} needs it",
                    path.display(),
                    dir.display()
                ),
            )
        }
    };
    println!("**{line}**\n");
    eprintln!("gatehouse-bench: {line}");
    Err(json!({ key: line }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "gatehouse-bench-shared-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        dir
    }

    #[test]
    fn a_missing_directory_says_where_it_was_looked_for() {
        let dir = temp_dir("missing");
        let location = dir.join("shared");
        assert_eq!(
            at(location.clone(), false),
            Err(format!(
                "../shared (reference data beside the repository) not found at {}",
                location.display()
            ))
        );
        let reason = at(location.clone(), true).expect_err("absent");
        assert!(
            reason.ends_with(&format!(
                "{}, set by GATEHOUSE_SHARED_DIR",
                location.display()
            )),
            "{reason}"
        );
        let skipped =
            file_or_skip(&at(location.clone(), false), HOOK, "section cli").expect_err("absent");
        assert_eq!(
            skipped,
            json!({"skipped": format!(
                "skipped: ../shared (reference data beside the repository) not found at {}; section cli needs it",
                location.display()
            )})
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_present_directory_gives_its_files_and_names_a_missing_one() {
        let dir = temp_dir("present");
        std::fs::create_dir_all(dir.join("reference")).expect("mkdir");
        std::fs::write(dir.join(HOOK), "").expect("write the hook");
        let shared = at(dir.clone(), false);
        assert_eq!(shared, Ok(dir.clone()));
        assert_eq!(file_or_skip(&shared, HOOK, "cli"), Ok(dir.join(HOOK)));
        let missing = file_or_skip(&shared, REGO_DIR, "section rego").expect_err("no rego dir");
        assert_eq!(
            missing,
            json!({"error": format!(
                "error: {} is missing from the reference data at {}; section rego needs it",
                dir.join(REGO_DIR).display(),
                dir.display()
            )})
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_file_in_place_of_the_directory_is_not_taken_for_it() {
        let dir = temp_dir("file");
        let file = dir.join("shared");
        std::fs::write(&file, "").expect("write");
        let reason = at(file, false).expect_err("a file");
        assert!(reason.ends_with("is not a directory"), "{reason}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
