//! Who may touch the cache and its key: the ownership and permission checks,
//! written as functions of (metadata, effective uid) so they work the same on
//! every Unix (no `/proc`) and can be tested with files the test creates.
//!
//! On platforms without POSIX ownership and modes (not Unix) these checks
//! have nothing to inspect and pass; the compile cache's safety there rests
//! on the key file alone.

#[cfg(unix)]
use std::fs::Metadata;
use std::path::Path;

/// The effective user id of this process (`geteuid(2)`), the user whose
/// files the cache and its key must be.
#[cfg(unix)]
pub fn current_euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Creates `dir` and any missing parents with mode 0700 (Unix).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Options that create a new file (never an existing one) with mode 0600.
pub fn private_file_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Refuses a directory that is not this user's or that others may write
/// to: whoever can write a cache directory chooses the code gatehouse runs.
pub fn check_private_dir(dir: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(dir).map_err(|e| format!("cannot stat {}: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        check_dir_metadata(dir, &meta, current_euid(), false)
    }
    #[cfg(not(unix))]
    {
        if meta.is_dir() {
            Ok(())
        } else {
            Err(format!("{} is not a directory", dir.display()))
        }
    }
}

/// The directory check: `meta` (of `dir`) must be a directory owned by
/// `euid` (or by root when `root_may_own`, e.g. a system directory holding
/// a key file) that neither group nor others may write.
#[cfg(unix)]
pub fn check_dir_metadata(
    dir: &Path,
    meta: &Metadata,
    euid: u32,
    root_may_own: bool,
) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let owner_ok = meta.uid() == euid || (root_may_own && meta.uid() == 0);
    if !owner_ok {
        return Err(format!(
            "{} belongs to user id {}, not to this user ({euid}); use a directory of your own",
            dir.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is writable by other users (mode {:o}); whoever can write there chooses the code gatehouse runs. Fix: chmod go-w {}",
            dir.display(),
            meta.mode() & 0o777,
            dir.display()
        ));
    }
    Ok(())
}

/// The key file check: `meta` (of the opened file at `path`) must be a
/// regular file owned by `euid` that neither group nor others may read,
/// write or execute (mode 0600 or stricter): whoever can read the key can
/// forge entries, whoever can write it can choose them.
#[cfg(unix)]
pub fn check_key_file_metadata(path: &Path, meta: &Metadata, euid: u32) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    if meta.uid() != euid {
        return Err(format!(
            "{} belongs to user id {}, not to this user ({euid}); the key must be your own file",
            path.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{} may be read or written by other users (mode {:o}); whoever can read the key can forge cache entries. Fix: chmod 600 {}",
            path.display(),
            meta.mode() & 0o777,
            path.display()
        ));
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn the_effective_uid_owns_the_files_this_process_creates() {
        // No /proc involved: geteuid is a system call on every Unix.
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("mine");
        std::fs::write(&file, b"x").expect("write");
        let meta = std::fs::metadata(&file).expect("stat");
        assert_eq!(meta.uid(), current_euid());
    }

    #[test]
    fn a_directory_of_another_user_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        chmod(dir.path(), 0o700);
        let meta = std::fs::metadata(dir.path()).expect("stat");
        let me = meta.uid();
        assert_eq!(check_dir_metadata(dir.path(), &meta, me, false), Ok(()));
        let other = me.wrapping_add(1);
        let err = check_dir_metadata(dir.path(), &meta, other, false).expect_err("not ours");
        assert!(
            err.contains(&format!(
                "belongs to user id {me}, not to this user ({other})"
            )),
            "{err}"
        );
    }

    #[test]
    fn a_directory_others_may_write_is_refused_but_readable_is_fine() {
        let dir = tempfile::tempdir().expect("temp dir");
        let me = current_euid();
        for mode in [0o770, 0o702, 0o777] {
            chmod(dir.path(), mode);
            let meta = std::fs::metadata(dir.path()).expect("stat");
            let err = check_dir_metadata(dir.path(), &meta, me, false).expect_err("writable");
            assert!(err.contains("chmod go-w"), "{mode:o}: {err}");
        }
        chmod(dir.path(), 0o755);
        let meta = std::fs::metadata(dir.path()).expect("stat");
        assert_eq!(check_dir_metadata(dir.path(), &meta, me, false), Ok(()));
    }

    #[test]
    fn a_file_is_not_a_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").expect("write");
        let meta = std::fs::metadata(&file).expect("stat");
        let err = check_dir_metadata(&file, &meta, current_euid(), false).expect_err("file");
        assert!(err.contains("is not a directory"), "{err}");
    }

    #[test]
    fn a_key_file_with_group_or_other_permissions_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("cache-key");
        std::fs::write(&key, b"k").expect("write");
        let me = current_euid();
        for mode in [0o640, 0o604, 0o644, 0o660, 0o606, 0o610] {
            chmod(&key, mode);
            let meta = std::fs::metadata(&key).expect("stat");
            let err = check_key_file_metadata(&key, &meta, me).expect_err("shared");
            assert!(err.contains("chmod 600"), "{mode:o}: {err}");
        }
        for mode in [0o600, 0o400] {
            chmod(&key, mode);
            let meta = std::fs::metadata(&key).expect("stat");
            assert_eq!(check_key_file_metadata(&key, &meta, me), Ok(()), "{mode:o}");
        }
        let meta = std::fs::metadata(&key).expect("stat");
        let err = check_key_file_metadata(&key, &meta, me.wrapping_add(1)).expect_err("theirs");
        assert!(err.contains("belongs to user id"), "{err}");
    }

    #[test]
    fn private_dirs_and_files_are_created_0700_and_0600() {
        let dir = tempfile::tempdir().expect("temp dir");
        let nested = dir.path().join("a").join("b");
        create_private_dir(&nested).expect("create");
        for d in [dir.path().join("a"), nested.clone()] {
            let mode = std::fs::metadata(&d).expect("stat").mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
        let file = nested.join("f");
        private_file_options().open(&file).expect("create");
        let mode = std::fs::metadata(&file).expect("stat").mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(private_file_options().open(&file).is_err(), "never reused");
    }
}
