//! `gatehouse new`: a new policy project (Rust, Python or JavaScript) that
//! builds and whose sample test suite passes with `gatehouse test`.
//!
//! Every project carries the WIT world it was generated against
//! (`wit/policy.wit`, embedded from this repository's `wit/` so it cannot
//! drift) and its build command in its README. The pinned tool versions come
//! from the same files the repository's own build scripts use
//! (`scripts/install-tools.sh`, `scripts/js-tools/`), embedded at compile time.

mod templates;

use std::fmt;
use std::path::{Path, PathBuf};

pub use templates::{
    COMPONENTIZE_JS_PACKAGE, JS_SDK_DIR, PY_SDK_DIR, componentize_py_version, js_tool_versions,
};

/// The `gatehouse-sdk` version a new Rust project requires (a caret
/// requirement, `"0.1.0"` = any compatible 0.1.x): this build's own version,
/// as the SDK and Gatehouse are versioned together. The project names no
/// path; its README shows `[patch.crates-io]` for building against a checkout.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The longest project name accepted.
pub const MAX_NAME_LEN: usize = 64;

/// The language of a new policy project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Rust with the Gatehouse SDK, built by cargo for `wasm32-wasip2`.
    Rust,
    /// Python, built by componentize-py.
    Python,
    /// JavaScript, built by componentize-js.
    Js,
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Js => "JavaScript",
        })
    }
}

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The project (and policy) name: lower-case letters, digits and dashes.
    pub name: String,
    /// The language.
    pub lang: Lang,
    /// Where to create the project (must not exist, or be an empty directory).
    pub dir: PathBuf,
}

/// A project that was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The project directory.
    pub dir: PathBuf,
    /// The files written, relative to `dir`, in the order written.
    pub files: Vec<PathBuf>,
    /// Commands that build the policy, run in `dir`.
    pub build_commands: Vec<String>,
    /// The built component, relative to `dir`.
    pub wasm_path: String,
}

/// Why a project could not be created: what, where, and how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScaffoldError {
    /// The name is not usable as a policy, crate and package name.
    #[error(
        "invalid policy name {name:?}: {reason}; use lower-case letters, digits and '-', starting with a letter (e.g. protect-prod)"
    )]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The target directory already holds files.
    #[error(
        "{} already exists and is not empty; refusing to overwrite it (choose another NAME or --dir)",
        .0.display()
    )]
    NotEmpty(PathBuf),
    /// The target path exists and is not a directory.
    #[error(
        "{} already exists and is not a directory; choose another NAME or --dir",
        .0.display()
    )]
    NotADirectory(PathBuf),
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An embedded template or pin file is not in the expected shape (a bug in
    /// this build of gatehouse, never the user's input).
    #[error("internal error in the project templates: {0}")]
    Template(String),
}

/// Rust keywords and standard crate names cargo refuses as a package name.
const RESERVED: &[&str] = &[
    "abstract", "alloc", "as", "async", "await", "become", "box", "break", "const", "continue",
    "core", "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen",
    "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv",
    "pub", "ref", "return", "self", "static", "std", "struct", "super", "test", "trait", "true",
    "try", "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Checks a project name: lower-case ASCII letters, digits and single dashes,
/// starting with a letter and not ending with a dash, at most
/// [`MAX_NAME_LEN`] characters, and not a Rust keyword or standard crate name.
/// Such a name is a valid policy name, cargo package, npm package and file name.
pub fn validate_name(name: &str) -> Result<(), ScaffoldError> {
    let invalid = |reason: &str| {
        Err(ScaffoldError::InvalidName {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.len() > MAX_NAME_LEN {
        return invalid(&format!("it is longer than {MAX_NAME_LEN} characters"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return invalid(&format!("{bad:?} is not allowed"));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return invalid("it must start with a letter");
    }
    if name.ends_with('-') || name.contains("--") {
        return invalid("dashes must separate words (no trailing or double dash)");
    }
    if RESERVED.contains(&name) {
        return invalid("it is a Rust keyword or standard crate name");
    }
    Ok(())
}

/// Checks the options, renders every file of the project and writes them.
pub fn create(options: &Options) -> Result<Project, ScaffoldError> {
    validate_name(&options.name)?;
    check_target(&options.dir)?;
    let rendered = templates::render(&options.name, options.lang)?;
    std::fs::create_dir_all(&options.dir).map_err(|source| ScaffoldError::Io {
        path: options.dir.clone(),
        source,
    })?;
    let mut files = Vec::with_capacity(rendered.files.len());
    for (relative, contents) in rendered.files {
        let path = options.dir.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ScaffoldError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, contents).map_err(|source| ScaffoldError::Io {
            path: path.clone(),
            source,
        })?;
        files.push(PathBuf::from(relative));
    }
    Ok(Project {
        dir: options.dir.clone(),
        files,
        build_commands: rendered.build_commands,
        wasm_path: rendered.wasm_path,
    })
}

/// Refuses an existing file, or a directory with anything in it.
fn check_target(dir: &Path) -> Result<(), ScaffoldError> {
    let io = |source| ScaffoldError::Io {
        path: dir.to_path_buf(),
        source,
    };
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(e)),
        Ok(meta) if !meta.is_dir() => Err(ScaffoldError::NotADirectory(dir.to_path_buf())),
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(io)?;
            match entries.next() {
                None => Ok(()),
                Some(_) => Err(ScaffoldError::NotEmpty(dir.to_path_buf())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("gatehouse-scaffold-{test}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn names_are_checked_with_a_reason() {
        for good in ["a", "protect-prod", "policy2", "db-2-guard"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for (bad, fragment) in [
            ("", "empty"),
            ("Prod", "'P' is not allowed"),
            ("my_policy", "'_' is not allowed"),
            ("my policy", "' ' is not allowed"),
            ("2fa", "start with a letter"),
            ("-x", "start with a letter"),
            ("x-", "trailing or double dash"),
            ("a--b", "trailing or double dash"),
            ("test", "Rust keyword"),
            ("std", "Rust keyword"),
            ("../x", "'.' is not allowed"),
        ] {
            let err = validate_name(bad).expect_err(bad).to_string();
            assert!(err.contains(fragment), "{bad}: {err}");
            assert!(err.contains("lower-case letters, digits and '-'"), "{err}");
        }
        assert!(validate_name(&"a".repeat(MAX_NAME_LEN)).is_ok());
        assert!(validate_name(&"a".repeat(MAX_NAME_LEN + 1)).is_err());
    }

    #[test]
    fn existing_targets_are_refused_unless_empty() {
        let root = TempDir::new("targets");
        assert!(check_target(&root.path().join("new")).is_ok());
        assert!(
            check_target(root.path()).is_ok(),
            "an empty directory is fine"
        );
        let file = root.path().join("file");
        std::fs::write(&file, "x").expect("write");
        assert!(matches!(
            check_target(&file),
            Err(ScaffoldError::NotADirectory(_))
        ));
        assert!(matches!(
            check_target(root.path()),
            Err(ScaffoldError::NotEmpty(_))
        ));
    }

    #[test]
    fn every_language_writes_a_complete_project() {
        let root = TempDir::new("complete");
        for lang in [Lang::Rust, Lang::Python, Lang::Js] {
            let dir = root.path().join(format!("{lang}"));
            let project = create(&Options {
                name: "protect-prod".into(),
                lang,
                dir: dir.clone(),
            })
            .expect("created");
            for file in &project.files {
                let text = std::fs::read_to_string(dir.join(file)).expect("readable");
                assert!(
                    !text.contains("{{"),
                    "{lang} {}: unrendered placeholder",
                    file.display()
                );
            }
            let wit = std::fs::read_to_string(dir.join("wit/policy.wit")).expect("wit");
            assert_eq!(wit, templates::PROJECT_WIT);
            let readme = std::fs::read_to_string(dir.join("README.md")).expect("readme");
            for command in &project.build_commands {
                assert!(
                    readme.contains(command.as_str()),
                    "{lang}: {command} not in README"
                );
            }
            let suite =
                std::fs::read_to_string(dir.join("tests/protect-prod.test.toml")).expect("suite");
            assert!(suite.contains(&format!("policy = \"../{}\"", project.wasm_path)));
            assert!(dir.join(".gitignore").is_file());
            let again = create(&Options {
                name: "protect-prod".into(),
                lang,
                dir: dir.clone(),
            });
            assert!(matches!(again, Err(ScaffoldError::NotEmpty(_))), "{lang}");
        }
    }

    #[test]
    fn a_rust_project_requires_the_sdk_by_version_without_a_path() {
        let root = TempDir::new("sdk-version");
        let dir = root.path().join("p");
        create(&Options {
            name: "p".into(),
            lang: Lang::Rust,
            dir: dir.clone(),
        })
        .expect("created");
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
        assert!(
            manifest.contains(&format!("\ngatehouse-sdk = \"{SDK_VERSION}\"\n")),
            "{manifest}"
        );
        assert!(
            !manifest.contains("path ="),
            "no path dependency: {manifest}"
        );
        let readme = std::fs::read_to_string(dir.join("README.md")).expect("README.md");
        assert!(readme.contains("[patch.crates-io]"), "{readme}");
    }
}
