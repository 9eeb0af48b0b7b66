//! Reading a release from where a front-end names it: the input file (or
//! stdin) and unsigned approvals lists, each read whole but bounded, then
//! converted by [`crate::release::read_release`] with the caller's
//! overrides. The one input path of `eval`, `convert`, `digest`, `bench`,
//! `check --input` and `approve --input`.
//!
//! # Example
//!
//! ```no_run
//! use gatehouse_core::input::ReleaseRequest;
//!
//! # fn main() -> Result<(), gatehouse_core::error::Error> {
//! let request = ReleaseRequest {
//!     input: "plan.json".into(),
//!     environment: Some("production".into()),
//!     release_stream: Some("main".into()),
//!     ..ReleaseRequest::default()
//! };
//! let loaded = request.load()?;
//! println!("{} from {}", loaded.release.digest(), loaded.source);
//! # Ok(())
//! # }
//! ```

use crate::error::{Error, InputError};
use crate::release::{Format, InputOptions, Release, parse_approvals, read_release};
use std::io::Read;
use std::path::PathBuf;

/// The name standing for stdin as an input.
pub const STDIN: &str = "-";

/// The largest input (and approvals file) read unless the caller says
/// otherwise, in MiB.
pub const DEFAULT_MAX_INPUT_MIB: u64 = 256;

/// Where a release comes from and how to read it: the input and every
/// value that shapes the release read from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRequest {
    /// A file path, or [`STDIN`].
    pub input: String,
    /// The input's format; `None` detects it from its top-level keys.
    pub format: Option<Format>,
    /// Overrides (or supplies) the release's environment.
    pub environment: Option<String>,
    /// Overrides (or supplies) the release's stream.
    pub release_stream: Option<String>,
    /// Metadata to add, each key once (see [`InputOptions::meta`]).
    pub meta: Vec<(String, String)>,
    /// JSON lists of unsigned approvals to append to the release's own.
    pub approvals: Vec<PathBuf>,
    /// The largest input and approvals file accepted, in MiB.
    pub max_input_mib: u64,
}

impl Default for ReleaseRequest {
    fn default() -> Self {
        ReleaseRequest {
            input: STDIN.to_string(),
            format: None,
            environment: None,
            release_stream: None,
            meta: Vec::new(),
            approvals: Vec::new(),
            max_input_mib: DEFAULT_MAX_INPUT_MIB,
        }
    }
}

/// An input read and converted.
#[derive(Debug, Clone)]
pub struct LoadedInput {
    /// The input's name in messages: its path, or `<stdin>`.
    pub source: String,
    /// Its bytes, as read (for the input's digest).
    pub bytes: Vec<u8>,
    /// The release.
    pub release: Release,
    /// Warnings about the input and the approvals lists.
    pub warnings: Vec<String>,
}

impl ReleaseRequest {
    /// Reads the approvals lists and the input, and converts it.
    pub fn load(&self) -> Result<LoadedInput, Error> {
        let (options, approval_warnings) = self.options()?;
        let (source, bytes) = read_input(&self.input, self.max_input_mib)?;
        let (release, mut warnings) = read_release(&bytes, &source, &options)?;
        warnings.extend(approval_warnings);
        Ok(LoadedInput {
            source,
            bytes,
            release,
            warnings,
        })
    }

    /// The conversion options: the overrides, and the approvals lists read
    /// and parsed. Returns them with the lists' warnings.
    pub fn options(&self) -> Result<(InputOptions, Vec<String>), Error> {
        let mut approvals = Vec::new();
        let mut warnings = Vec::new();
        for path in &self.approvals {
            let name = path.display().to_string();
            let bytes = read_approvals_file(&name, self.max_input_mib)?;
            let (more, notes) = parse_approvals(&bytes, &name)?;
            approvals.extend(more);
            warnings.extend(notes);
        }
        let options = InputOptions {
            format: self.format,
            environment: self.environment.clone(),
            release_stream: self.release_stream.clone(),
            meta: self.meta.clone(),
            approvals,
        };
        Ok((options, warnings))
    }
}

/// Reads the input file (or stdin for [`STDIN`]), refusing more than
/// `max_mib` MiB, a directory, and an empty input. Returns the input's name
/// for messages and its bytes.
pub fn read_input(input: &str, max_mib: u64) -> Result<(String, Vec<u8>), InputError> {
    let limit = max_mib.saturating_mul(1 << 20);
    let (source, reader): (String, Box<dyn Read>) = if input == STDIN {
        ("<stdin>".to_string(), Box::new(std::io::stdin().lock()))
    } else {
        let file = std::fs::File::open(input)
            .map_err(|e| InputError::whole(input, format!("cannot open the input file: {e}")))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(InputError::whole(
                input,
                "is a directory; pass a JSON file: a release, a Terraform plan or a Pulumi preview"
                    .into(),
            ));
        }
        (input.to_string(), Box::new(file))
    };
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| InputError::whole(&source, format!("cannot read the input: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(InputError::whole(
            &source,
            format!("the input is larger than {max_mib} MiB; raise the limit with --max-input-mib"),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::whole(
            &source,
            "the input is empty; expected a JSON object: a release, a Terraform plan or a Pulumi preview".into(),
        ));
    }
    Ok((source, bytes))
}

/// Reads an approvals list (never stdin, which is the input's), refusing
/// more than `max_mib` MiB, a directory and an empty file.
pub fn read_approvals_file(path: &str, max_mib: u64) -> Result<Vec<u8>, InputError> {
    let whole = |message: String| InputError::whole(path, message);
    let file = std::fs::File::open(path)
        .map_err(|e| whole(format!("cannot open the approvals file (--approvals): {e}")))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(whole(
            "is a directory; --approvals takes a JSON file listing approvals".into(),
        ));
    }
    let limit = max_mib.saturating_mul(1 << 20);
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| whole(format!("cannot read the approvals file: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(whole(format!(
            "the approvals file is larger than {max_mib} MiB; raise the limit with --max-input-mib"
        )));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(whole(
            "the approvals file is empty; expected a JSON list of approvals ([] for none)".into(),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELEASE: &str =
        r#"{"environmentName": "prod", "releaseStream": "main", "resources": []}"#;

    #[test]
    fn a_request_reads_converts_and_applies_its_overrides() {
        let dir = tempfile::tempdir().expect("dir");
        let input = dir.path().join("release.json");
        std::fs::write(&input, RELEASE).expect("write");
        let approvals = dir.path().join("approvals.json");
        std::fs::write(
            &approvals,
            r#"[{"approver": "asmith", "groups": ["dba"], "at": "2026-11-20T10:00:00Z"}]"#,
        )
        .expect("write");
        let request = ReleaseRequest {
            input: input.display().to_string(),
            release_stream: Some("hotfix".into()),
            meta: vec![("commit".into(), "9f2c1e7".into())],
            approvals: vec![approvals],
            ..ReleaseRequest::default()
        };
        let loaded = request.load().expect("load");
        assert_eq!(loaded.source, input.display().to_string());
        assert_eq!(loaded.bytes, RELEASE.as_bytes());
        assert_eq!(loaded.release.environment_name, "prod");
        assert_eq!(loaded.release.release_stream, "hotfix");
        assert_eq!(loaded.release.metadata["commit"], "9f2c1e7");
        assert_eq!(loaded.release.approvals.len(), 1);
    }

    #[test]
    fn oversized_empty_and_directory_inputs_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; (1 << 20) + 1]).expect("write");
        let err = read_input(&big.display().to_string(), 1).expect_err("too large");
        assert!(err.message.contains("larger than 1 MiB"), "{err}");
        let empty = dir.path().join("empty.json");
        std::fs::write(&empty, "  \n").expect("write");
        let err = read_input(&empty.display().to_string(), 1).expect_err("empty");
        assert!(err.message.contains("the input is empty"), "{err}");
        let err = read_input(&dir.path().display().to_string(), 1).expect_err("a directory");
        assert!(err.message.contains("is a directory"), "{err}");
        let err = read_approvals_file(&empty.display().to_string(), 1).expect_err("empty");
        assert!(err.message.contains("approvals file is empty"), "{err}");
    }
}
