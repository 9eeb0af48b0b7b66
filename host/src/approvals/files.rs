//! Reading what `eval --approvals PATH` names: signed approvals (a
//! statement and its `.sig` beside it), directories of them, and the
//! unsigned approvals lists of old (`[{"approver": …}]`).
//!
//! Every read is bounded: a statement at most [`MAX_STATEMENT_BYTES`] + 1
//! bytes and a signature [`MAX_SIGNATURE_BYTES`] + 1 (one byte over is
//! enough for the parsers to refuse it, naming the limit), at most
//! [`MAX_APPROVAL_FILES`] approvals in all, and an unsigned list at most
//! the caller's limit. A statement without its signature is an error, not a
//! rejection: it is not an approval at all, and the message says how to
//! sign it.

use super::signature::MAX_SIGNATURE_BYTES;
use super::statement::MAX_STATEMENT_BYTES;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Most signed approvals one evaluation reads (over every `--approvals`).
pub const MAX_APPROVAL_FILES: usize = 256;

/// The file name ending `eval --approvals DIR` reads.
pub const STATEMENT_SUFFIX: &str = ".approval.json";

/// One signed approval as read: the statement's and the signature's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalFile {
    /// The statement's path, as given or joined to its directory.
    pub name: String,
    /// The statement file's bytes (at most [`MAX_STATEMENT_BYTES`] + 1).
    pub statement: Vec<u8>,
    /// The `.sig` file's bytes (at most [`MAX_SIGNATURE_BYTES`] + 1).
    pub signature: Vec<u8>,
}

/// An unsigned approvals list file (`[{"approver": …}]`), not yet parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedList {
    /// The file's path as given.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Everything the `--approvals` paths hold, in order: the paths as given,
/// a directory's statements sorted by file name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// Signed approvals.
    pub signed: Vec<ApprovalFile>,
    /// Unsigned approvals lists.
    pub unsigned: Vec<UnsignedList>,
}

/// Reads every `--approvals` path: a directory gives each of its
/// `*.approval.json` files (not recursive, sorted by name); a file whose
/// first non-blank byte is `[` is an unsigned list (at most `max_list_bytes`);
/// any other file is a signed statement. Each statement needs `FILE.sig`.
pub fn collect(paths: &[PathBuf], max_list_bytes: u64) -> Result<Collected, String> {
    let mut collected = Collected::default();
    for path in paths {
        let name = path.display().to_string();
        let metadata = std::fs::metadata(path)
            .map_err(|e| format!("--approvals {name}: cannot read it: {e}"))?;
        if metadata.is_dir() {
            for statement in statements_in(path)? {
                push_signed(&mut collected, &statement)?;
            }
            continue;
        }
        let head = read_bounded(path, 4096).map_err(|e| format!("--approvals {name}: {e}"))?;
        if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            let bytes = read_list(path, max_list_bytes)?;
            collected.unsigned.push(UnsignedList { name, bytes });
        } else {
            push_signed(&mut collected, path)?;
        }
    }
    Ok(collected)
}

/// The `*.approval.json` entries of a directory, sorted by file name.
fn statements_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let name = dir.display();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("--approvals {name}: cannot list it: {e}"))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("--approvals {name}: cannot list it: {e}"))?;
        let file_name = entry.file_name();
        if !file_name
            .to_str()
            .is_some_and(|n| n.ends_with(STATEMENT_SUFFIX))
        {
            continue;
        }
        if found.len() == MAX_APPROVAL_FILES {
            return Err(too_many());
        }
        found.push(entry.path());
    }
    found.sort();
    Ok(found)
}

fn too_many() -> String {
    format!(
        "--approvals: more than {MAX_APPROVAL_FILES} approval statements; each approver signs one statement per release, so this many is a mistake (or an attack): remove the stale ones"
    )
}

/// Reads a statement and its `.sig` into `collected`.
fn push_signed(collected: &mut Collected, statement: &Path) -> Result<(), String> {
    if collected.signed.len() == MAX_APPROVAL_FILES {
        return Err(too_many());
    }
    let name = statement.display().to_string();
    let bytes = read_bounded(statement, MAX_STATEMENT_BYTES as u64 + 1)
        .map_err(|e| format!("--approvals {name}: {e}"))?;
    let sig_path = signature_path(statement);
    if !sig_path.exists() {
        return Err(format!(
            "--approvals {name}: no signature {} beside it: an approval is a statement and its signature. Sign it with `gatehouse approve` (which writes both), or `ssh-keygen -Y sign -n gatehouse-approval -f KEY {name}`",
            sig_path.display()
        ));
    }
    let signature = read_bounded(&sig_path, MAX_SIGNATURE_BYTES as u64 + 1)
        .map_err(|e| format!("--approvals {}: {e}", sig_path.display()))?;
    collected.signed.push(ApprovalFile {
        name,
        statement: bytes,
        signature,
    });
    Ok(())
}

/// `FILE.sig`.
pub fn signature_path(statement: &Path) -> PathBuf {
    let mut name = statement.as_os_str().to_os_string();
    name.push(".sig");
    PathBuf::from(name)
}

/// At most `limit` bytes of a regular file. Opened without blocking (on
/// Unix), so that a FIFO planted in an approvals directory is refused at
/// once instead of hanging the gate until someone writes to it.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits().cast_signed());
    }
    let file = options
        .open(path)
        .map_err(|e| format!("cannot open it: {e}"))?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err("is not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    Ok(bytes)
}

/// An unsigned list, refused above `max_bytes`.
fn read_list(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let name = path.display();
    let bytes = read_bounded(path, max_bytes.saturating_add(1))
        .map_err(|e| format!("--approvals {name}: {e}"))?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!(
            "--approvals {name}: the approvals list is larger than {} MiB; raise the limit with --max-input-mib",
            max_bytes >> 20
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().expect("temp dir")
    }

    #[test]
    fn a_directory_gives_its_statements_sorted_with_their_signatures() {
        let d = dir();
        for name in ["b.approval.json", "a.approval.json"] {
            std::fs::write(d.path().join(name), name).expect("write");
            std::fs::write(d.path().join(format!("{name}.sig")), "sig").expect("write");
        }
        std::fs::write(d.path().join("notes.txt"), "ignored").expect("write");
        std::fs::write(d.path().join("c.approval.json.sig"), "lonely sig").expect("write");
        std::fs::create_dir(d.path().join("sub.d")).expect("mkdir");
        let collected = collect(&[d.path().to_path_buf()], 1 << 20).expect("collect");
        let names: Vec<&[u8]> = collected
            .signed
            .iter()
            .map(|f| f.statement.as_slice())
            .collect();
        assert_eq!(names, [&b"a.approval.json"[..], b"b.approval.json"]);
        assert_eq!(collected.signed[0].signature, b"sig");
        assert!(collected.unsigned.is_empty());
    }

    #[test]
    fn a_list_is_unsigned_and_anything_else_a_statement() {
        let d = dir();
        let list = d.path().join("approvals.json");
        std::fs::write(&list, "  \n[{\"approver\": \"a\"}]").expect("write");
        let statement = d.path().join("alice.json");
        std::fs::write(&statement, "{}").expect("write");
        std::fs::write(d.path().join("alice.json.sig"), "s").expect("write");
        let collected = collect(&[list.clone(), statement], 1 << 20).expect("collect");
        assert_eq!(collected.unsigned.len(), 1);
        assert_eq!(collected.signed.len(), 1);
        let err = collect(&[list], 4).expect_err("too large");
        assert!(err.contains("larger than 0 MiB"), "{err}");
    }

    #[test]
    fn a_statement_without_its_signature_says_how_to_sign() {
        let d = dir();
        let statement = d.path().join("x.approval.json");
        std::fs::write(&statement, "{}").expect("write");
        let err = collect(&[d.path().to_path_buf()], 1 << 20).expect_err("no sig");
        assert!(err.contains("no signature"), "{err}");
        assert!(err.contains("gatehouse approve"), "{err}");
        let err = collect(&[d.path().join("missing")], 1 << 20).expect_err("missing");
        assert!(err.contains("cannot read it"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_at_once() {
        let d = dir();
        let fifo = d.path().join("x.approval.json");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        let err = collect(&[d.path().to_path_buf()], 1 << 20).expect_err("a FIFO");
        assert!(err.contains("is not a regular file"), "{err}");
    }

    #[test]
    fn reads_are_bounded() {
        let d = dir();
        let statement = d.path().join("big.approval.json");
        std::fs::write(&statement, vec![b' '; MAX_STATEMENT_BYTES * 2]).expect("write");
        std::fs::write(
            signature_path(&statement),
            vec![b'x'; MAX_SIGNATURE_BYTES * 2],
        )
        .expect("write");
        let collected = collect(&[statement], 1 << 20).expect("collect");
        assert_eq!(collected.signed[0].statement.len(), MAX_STATEMENT_BYTES + 1);
        assert_eq!(collected.signed[0].signature.len(), MAX_SIGNATURE_BYTES + 1);
        for i in 0..=MAX_APPROVAL_FILES {
            let name = d.path().join(format!("{i:04}{STATEMENT_SUFFIX}"));
            std::fs::write(&name, "{}").expect("write");
            std::fs::write(signature_path(&name), "s").expect("write");
        }
        let err = collect(&[d.path().to_path_buf()], 1 << 20).expect_err("too many");
        assert!(err.contains("more than 256 approval statements"), "{err}");
    }
}
