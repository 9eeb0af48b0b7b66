//! The compile cache's key: a 256-bit secret that only the user running
//! gatehouse holds. Every cache entry carries an HMAC-SHA256 under it, so an
//! entry is loaded only if this user's gatehouse wrote it: the header fields
//! alone can be computed by anyone, the MAC cannot.
//!
//! The key lives outside every cache directory, by default in
//! `$XDG_CONFIG_HOME/gatehouse/cache-key`, else `$HOME/.config/gatehouse/cache-key`
//! (created on first use: 32 bytes from the OS CSPRNG, written as 64
//! hexadecimal digits and a newline, mode 0600, in a directory of mode
//! 0700). `--cache-key-file FILE` or `GATEHOUSE_CACHE_KEY_FILE=FILE` names
//! another file (e.g. a CI secret shared by the machines that share a
//! cache); a file named that way is never created implicitly.
//!
//! Before a key is trusted, the file must be this user's, readable and
//! writable by nobody else, in a directory nobody else may write.

use super::private::{create_private_dir, private_file_options};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The MAC that authenticates cache entries.
pub type EntryMac = Hmac<Sha256>;

/// The environment variable naming a key file (the `--cache-key-file` flag wins).
pub const KEY_FILE_ENV: &str = "GATEHOUSE_CACHE_KEY_FILE";
/// The flag naming a key file.
pub const KEY_FILE_FLAG: &str = "--cache-key-file";
/// The default key's file name inside the `gatehouse` config directory.
pub const KEY_FILE_NAME: &str = "cache-key";
/// Length of a key, in bytes (256 bits).
pub const KEY_BYTES: usize = 32;
/// Length of a key id, in bytes.
pub const KEY_ID_BYTES: usize = 8;
/// A key file is 64 hex digits and optional surrounding whitespace; anything
/// longer than this is not a key file.
const MAX_KEY_FILE_BYTES: u64 = 1024;

/// A loaded cache key: the keyed MAC state (cloned per entry, so the key
/// schedule is computed once), a public id and the file it came from.
#[derive(Clone)]
pub struct CacheKey {
    mac: EntryMac,
    id: [u8; KEY_ID_BYTES],
    path: PathBuf,
}

impl std::fmt::Debug for CacheKey {
    /// Never prints the secret: only its id and where it is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheKey")
            .field("id", &hex::encode(self.id))
            .field("path", &self.path)
            .finish()
    }
}

impl CacheKey {
    /// A key from its 32 bytes; `path` is where it is kept (for messages and
    /// for the check that it lies outside the cache).
    pub fn from_bytes(bytes: &[u8; KEY_BYTES], path: PathBuf) -> Result<CacheKey, KeyError> {
        let keyed = |what: &str| {
            EntryMac::new_from_slice(bytes).map_err(|e| KeyError::Malformed {
                path: path.clone(),
                message: format!("cannot key HMAC-SHA256 for {what}: {e}"),
            })
        };
        let mac = keyed("cache entries")?;
        let mut id_mac = keyed("the key id")?;
        id_mac.update(b"gatehouse compile cache key id");
        let mut id = [0u8; KEY_ID_BYTES];
        id.copy_from_slice(&id_mac.finalize().into_bytes()[..KEY_ID_BYTES]);
        Ok(CacheKey { mac, id, path })
    }

    /// A public identifier of the key (the first 8 bytes of an HMAC under
    /// it): entries record it, so one written under another key is
    /// reported as such. Reveals nothing about the key.
    pub fn id(&self) -> [u8; KEY_ID_BYTES] {
        self.id
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh MAC computation under this key.
    pub fn mac(&self) -> EntryMac {
        self.mac.clone()
    }
}

/// Which key the cache uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum KeySource {
    /// This user's key in the default location ([`default_key_path`]),
    /// created on first use.
    #[default]
    Default,
    /// A key file named on the command line or in the environment; it must
    /// exist (only `gatehouse cache key` creates it).
    File {
        /// The key file.
        path: PathBuf,
        /// What named it: [`KEY_FILE_FLAG`] or [`KEY_FILE_ENV`].
        origin: &'static str,
    },
}

impl KeySource {
    /// The source the flag and the environment ask for: the flag wins, then
    /// a non-empty [`KEY_FILE_ENV`]; an empty variable is an error (it
    /// names no file, and falling back to another key silently would hide a
    /// broken CI secret).
    pub fn from_flag_and_env(
        flag: Option<&Path>,
        env: Option<std::ffi::OsString>,
    ) -> Result<KeySource, String> {
        if let Some(path) = flag {
            if path.as_os_str().is_empty() {
                return Err(format!("{KEY_FILE_FLAG} is empty; name the key file"));
            }
            return Ok(KeySource::File {
                path: path.to_path_buf(),
                origin: KEY_FILE_FLAG,
            });
        }
        match env {
            Some(value) if value.is_empty() => Err(format!(
                "{KEY_FILE_ENV} is set but empty; name the compile cache key file or unset it"
            )),
            Some(value) => Ok(KeySource::File {
                path: PathBuf::from(value),
                origin: KEY_FILE_ENV,
            }),
            None => Ok(KeySource::Default),
        }
    }

    /// Whether the key file was named explicitly (flag or environment).
    pub fn is_explicit(&self) -> bool {
        matches!(self, KeySource::File { .. })
    }

    /// Where the key is.
    pub fn path(&self) -> Result<PathBuf, KeyError> {
        match self {
            KeySource::Default => default_key_path().ok_or(KeyError::NoLocation),
            KeySource::File { path, .. } => Ok(path.clone()),
        }
    }
}

/// The default key file: `$XDG_CONFIG_HOME/gatehouse/cache-key`, else
/// `$HOME/.config/gatehouse/cache-key`. Relative values are ignored (the XDG
/// rule), so the key never lands in the working directory, e.g. a
/// repository; `None` when neither gives an absolute path.
pub fn default_key_path() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(config) = absolute("XDG_CONFIG_HOME") {
        return Some(config.join("gatehouse").join(KEY_FILE_NAME));
    }
    absolute("HOME").map(|home| home.join(".config").join("gatehouse").join(KEY_FILE_NAME))
}

/// Why no key could be used. Only [`KeyError::Unsafe`] is a refusal of a
/// key that exists; the others mean there is no usable key at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Neither XDG_CONFIG_HOME nor HOME says where the default key lives.
    #[error(
        "no place for the compile cache key: set XDG_CONFIG_HOME or HOME to an absolute path, or name a key file with {flag} or {env}",
        flag = KEY_FILE_FLAG, env = KEY_FILE_ENV
    )]
    NoLocation,
    /// An explicitly named key file does not exist.
    #[error(
        "the compile cache key file {path} named by {origin} does not exist: restore it (e.g. from your CI's secret store) or create a new one with `gatehouse {flag} {path} cache key`",
        path = .path.display(), flag = KEY_FILE_FLAG
    )]
    Missing {
        /// The key file.
        path: PathBuf,
        /// What named it.
        origin: &'static str,
    },
    /// The key file could not be read.
    #[error("cannot read the compile cache key file {}: {message}", .path.display())]
    Unreadable {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// The key file does not hold a key.
    #[error("the compile cache key file {} is not a key: {message}", .path.display())]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The key file or its directory could be read or changed by someone
    /// else, or lies inside a cache directory.
    #[error("compile cache key {} refused: {message}", .path.display())]
    Unsafe {
        /// The key file.
        path: PathBuf,
        /// Why, and how to fix it.
        message: String,
    },
    /// A new key could not be created.
    #[error("cannot create the compile cache key {}: {message}", .path.display())]
    Create {
        /// The key file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Loads the key `source` names: the default key is created if absent; an
/// explicitly named key file must exist.
pub fn load(source: &KeySource) -> Result<CacheKey, KeyError> {
    match source {
        KeySource::Default => load_or_create(&source.path()?).map(|(key, _)| key),
        KeySource::File { path, origin } => read_key(path)?.ok_or_else(|| KeyError::Missing {
            path: path.clone(),
            origin,
        }),
    }
}

/// Loads the key at `path`, creating it first if there is none (whatever
/// the source: this is `gatehouse cache key`). The flag says whether it
/// was created now.
pub fn load_or_create(path: &Path) -> Result<(CacheKey, bool), KeyError> {
    if let Some(key) = read_key(path)? {
        return Ok((key, false));
    }
    create_key(path)?;
    match read_key(path)? {
        Some(key) => Ok((key, true)),
        None => Err(KeyError::Create {
            path: path.to_path_buf(),
            message: "it vanished right after it was created".into(),
        }),
    }
}

/// Reads and checks the key file at `path`; `None` when there is none.
pub fn read_key(path: &Path) -> Result<Option<CacheKey>, KeyError> {
    let unreadable = |e: std::io::Error| KeyError::Unreadable {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e)),
    };
    // The checks look at the file that was opened, and its bytes are read
    // from that same handle: a rename after the check cannot swap the key.
    let meta = file.metadata().map_err(unreadable)?;
    check_ownership(path, &meta)?;
    let mut text = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(unreadable)?;
    let bytes = parse_key_text(&text).map_err(|message| KeyError::Malformed {
        path: path.to_path_buf(),
        message,
    })?;
    CacheKey::from_bytes(&bytes, path.to_path_buf()).map(Some)
}

/// The file and its directory must be this user's and private.
#[cfg(unix)]
fn check_ownership(path: &Path, meta: &std::fs::Metadata) -> Result<(), KeyError> {
    use super::private::{check_dir_metadata, check_key_file_metadata, current_euid};
    let unsafe_key = |message: String| KeyError::Unsafe {
        path: path.to_path_buf(),
        message,
    };
    let euid = current_euid();
    check_key_file_metadata(path, meta, euid).map_err(unsafe_key)?;
    let real = std::fs::canonicalize(path)
        .map_err(|e| unsafe_key(format!("cannot resolve its path: {e}")))?;
    let dir = real.parent().unwrap_or(Path::new("/"));
    let dir_meta = std::fs::metadata(dir)
        .map_err(|e| unsafe_key(format!("cannot stat its directory {}: {e}", dir.display())))?;
    // A root-owned directory nobody else may write (e.g. under /etc) is as
    // safe as one of our own: root can replace anything anyway.
    check_dir_metadata(dir, &dir_meta, euid, true).map_err(unsafe_key)
}

/// No POSIX ownership to check outside Unix.
#[cfg(not(unix))]
fn check_ownership(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), KeyError> {
    Ok(())
}

/// Parses a key file: 64 hexadecimal digits (either case), optionally
/// surrounded by whitespace (a trailing newline). Never echoes the text.
fn parse_key_text(text: &[u8]) -> Result<[u8; KEY_BYTES], String> {
    let expected =
        "expected 64 hexadecimal digits (a 256-bit key, as `gatehouse cache key` writes)";
    if text.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(format!(
            "larger than {MAX_KEY_FILE_BYTES} bytes; {expected}"
        ));
    }
    let trimmed = text.trim_ascii();
    if trimmed.len() != 2 * KEY_BYTES {
        return Err(format!("{} characters where {expected}", trimmed.len()));
    }
    let mut bytes = [0u8; KEY_BYTES];
    hex::decode_to_slice(trimmed, &mut bytes)
        .map_err(|_| format!("a character that is not a hexadecimal digit; {expected}"))?;
    Ok(bytes)
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates a new key at `path` (its directory with mode 0700 if missing,
/// the file with mode 0600). The key is written to a temporary file and
/// hard-linked into place, which fails rather than replace a key another
/// process created meanwhile: every process ends up using the same key.
fn create_key(path: &Path) -> Result<(), KeyError> {
    let fail = |message: String| KeyError::Create {
        path: path.to_path_buf(),
        message,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.exists() {
        create_private_dir(dir).map_err(|e| {
            fail(format!(
                "cannot create the directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let mut secret = [0u8; KEY_BYTES];
    getrandom::fill(&mut secret)
        .map_err(|e| fail(format!("the OS random number generator failed: {e}")))?;
    let mut text = hex::encode(secret).into_bytes();
    text.push(b'\n');
    let temp = dir.join(format!(
        ".{KEY_FILE_NAME}.tmp-{}-{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = private_file_options().open(&temp)?;
        file.write_all(&text)?;
        file.sync_all()
    })();
    let linked = written.and_then(|()| match std::fs::hard_link(&temp, path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = std::fs::remove_file(&temp);
    linked.map_err(|e| fail(e.to_string()))
}

/// Refuses a key that lies inside the cache directory `cache_root` (both
/// must exist): whoever can add files to a cache must never be able to
/// choose or read the key that authenticates it.
pub fn check_outside_cache(key: &CacheKey, cache_root: &Path) -> Result<(), KeyError> {
    let unsafe_key = |message: String| KeyError::Unsafe {
        path: key.path().to_path_buf(),
        message,
    };
    let real_key = std::fs::canonicalize(key.path())
        .map_err(|e| unsafe_key(format!("cannot resolve its path: {e}")))?;
    let real_root = std::fs::canonicalize(cache_root).map_err(|e| {
        unsafe_key(format!(
            "cannot resolve the cache directory {}: {e}",
            cache_root.display()
        ))
    })?;
    if real_key.starts_with(&real_root) {
        return Err(unsafe_key(format!(
            "it lies inside the cache directory {}; keep the key outside every cache directory (default: $XDG_CONFIG_HOME/gatehouse/{KEY_FILE_NAME})",
            cache_root.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn key_text_is_64_hex_digits_with_optional_whitespace() {
        let expected: Vec<u8> = (0u8..32).collect();
        assert_eq!(
            parse_key_text(HEX_KEY.as_bytes()).expect("plain")[..],
            expected[..]
        );
        let upper = format!("  {}\r\n", HEX_KEY.to_uppercase());
        assert_eq!(
            parse_key_text(upper.as_bytes()).expect("upper")[..],
            expected[..]
        );
        let short = parse_key_text(&HEX_KEY.as_bytes()[..62]).expect_err("short");
        assert!(short.contains("62 characters where expected 64"), "{short}");
        let bad = format!("{}zz", &HEX_KEY[..62]);
        let err = parse_key_text(bad.as_bytes()).expect_err("not hex");
        assert!(err.contains("not a hexadecimal digit"), "{err}");
        assert!(!err.contains("zz"), "the key text is never echoed: {err}");
        assert!(parse_key_text(&[b'0'; 2000]).is_err());
    }

    #[test]
    fn the_key_id_depends_on_the_key_and_debug_hides_the_key() {
        let a = CacheKey::from_bytes(&[1; 32], PathBuf::from("a")).expect("a");
        let a2 = CacheKey::from_bytes(&[1; 32], PathBuf::from("b")).expect("a2");
        let b = CacheKey::from_bytes(&[2; 32], PathBuf::from("a")).expect("b");
        assert_eq!(a.id(), a2.id());
        assert_ne!(a.id(), b.id());
        let debug = format!("{a:?}");
        assert!(debug.contains(&hex::encode(a.id())), "{debug}");
        assert!(!debug.contains("0101010101"), "{debug}");
    }

    #[test]
    fn an_empty_env_var_is_an_error_and_the_flag_wins() {
        let env = Some(std::ffi::OsString::from("/env/key"));
        assert_eq!(
            KeySource::from_flag_and_env(Some(Path::new("/flag/key")), env.clone()),
            Ok(KeySource::File {
                path: PathBuf::from("/flag/key"),
                origin: KEY_FILE_FLAG
            })
        );
        assert_eq!(
            KeySource::from_flag_and_env(None, env),
            Ok(KeySource::File {
                path: PathBuf::from("/env/key"),
                origin: KEY_FILE_ENV
            })
        );
        assert_eq!(
            KeySource::from_flag_and_env(None, None),
            Ok(KeySource::Default)
        );
        let err = KeySource::from_flag_and_env(None, Some("".into())).expect_err("empty");
        assert!(err.contains("set but empty"), "{err}");
    }

    #[test]
    fn a_missing_named_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ci-key");
        let source = KeySource::File {
            path: path.clone(),
            origin: KEY_FILE_ENV,
        };
        let err = load(&source).expect_err("missing");
        assert!(matches!(err, KeyError::Missing { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("named by GATEHOUSE_CACHE_KEY_FILE"),
            "{err}"
        );
        assert!(!path.exists(), "never created implicitly");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_is_created_0600_in_a_0700_dir_on_first_use_and_then_reused() {
        use std::os::unix::fs::MetadataExt;
        let home = tempfile::tempdir().expect("temp dir");
        let path = home
            .path()
            .join("config")
            .join("gatehouse")
            .join(KEY_FILE_NAME);
        let (first, created) = load_or_create(&path).expect("create");
        assert!(created);
        let file_mode = std::fs::metadata(&path).expect("stat").mode() & 0o777;
        assert_eq!(file_mode, 0o600);
        for dir in [
            home.path().join("config"),
            home.path().join("config/gatehouse"),
        ] {
            let mode = std::fs::metadata(&dir).expect("stat").mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", dir.display());
        }
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.len(), 65, "64 hex digits and a newline");
        let (second, created) = load_or_create(&path).expect("reuse");
        assert!(!created);
        assert_eq!(first.id(), second.id(), "the same key is read back");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(leftovers, [KEY_FILE_NAME], "no temporary files left");
        // Two fresh keys differ (they come from the CSPRNG).
        let other = home.path().join("other").join(KEY_FILE_NAME);
        let (third, _) = load_or_create(&other).expect("create");
        assert_ne!(first.id(), third.id());
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_may_read_or_in_a_shared_dir_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("keys").join(KEY_FILE_NAME);
        load_or_create(&path).expect("create");
        let chmod = |p: &Path, mode: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod")
        };
        chmod(&path, 0o644);
        let err = read_key(&path).expect_err("readable by others");
        assert!(matches!(err, KeyError::Unsafe { .. }), "{err}");
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert!(load_or_create(&path).is_err(), "never replaced either");
        chmod(&path, 0o600);
        chmod(path.parent().expect("dir"), 0o777);
        let err = read_key(&path).expect_err("dir writable by others");
        assert!(err.to_string().contains("chmod go-w"), "{err}");
        chmod(path.parent().expect("dir"), 0o700);
        assert!(read_key(&path).expect("ok").is_some());
    }

    #[test]
    fn a_key_file_that_holds_no_key_is_malformed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("k");
        std::fs::write(&path, "not a key\n").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let err = read_key(&path).expect_err("malformed");
        assert!(matches!(err, KeyError::Malformed { .. }), "{err}");
    }

    #[test]
    fn a_key_inside_the_cache_directory_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = dir.path().join("cache");
        std::fs::create_dir_all(cache.join("sub")).expect("dirs");
        let inside = cache.join("sub").join("key");
        std::fs::write(&inside, HEX_KEY).expect("write");
        let key = CacheKey::from_bytes(&[3; 32], inside).expect("key");
        let err = check_outside_cache(&key, &cache).expect_err("inside");
        assert!(
            err.to_string().contains("inside the cache directory"),
            "{err}"
        );
        let outside = dir.path().join("key");
        std::fs::write(&outside, HEX_KEY).expect("write");
        let key = CacheKey::from_bytes(&[3; 32], outside).expect("key");
        assert_eq!(check_outside_cache(&key, &cache), Ok(()));
    }
}
