//! Bearer tokens and their scopes: the tokens file, adding a token, and
//! checking a presented one.
//!
//! A token is `ght_` and 64 hex digits: 256 bits from the OS CSPRNG. The
//! file keeps only its SHA-256, one token a line:
//!
//! ```text
//! # gatehouse serve tokens: NAME SCOPES sha256:HEX
//! ci evaluate,read sha256:9f86d0…
//! alice approve,read sha256:60303a…
//! ```
//!
//! Tokens are random, so a plain hash is right (nothing to brute-force
//! from a dictionary); presented tokens are hashed and compared with every
//! entry in constant time ([`subtle`]).

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use subtle::ConstantTimeEq;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `POST /v1/evaluations`.
    Evaluate,
    /// `POST /v1/approval-requests/{id}/approvals`.
    Approve,
    /// Every `GET` of requests and decisions.
    Read,
}

impl Scope {
    /// The name in the tokens file and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Evaluate => "evaluate",
            Scope::Approve => "approve",
            Scope::Read => "read",
        }
    }

    /// Parses one scope name.
    pub fn parse(text: &str) -> Result<Scope, String> {
        match text {
            "evaluate" => Ok(Scope::Evaluate),
            "approve" => Ok(Scope::Approve),
            "read" => Ok(Scope::Read),
            other => Err(format!(
                "unknown scope {}: use evaluate, approve and/or read, comma-separated",
                gatehouse_core::untrusted::quote(other)
            )),
        }
    }

    /// Parses a comma-separated list (at least one).
    pub fn parse_list(text: &str) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for item in text.split(',').map(str::trim) {
            let scope = Scope::parse(item)?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err("no scope: use evaluate, approve and/or read".into());
        }
        Ok(scopes)
    }
}

/// One entry of the tokens file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    /// Who holds it (recorded as the principal of what it does).
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// SHA-256 of the token.
    pub hash: [u8; 32],
}

/// The tokens file, parsed.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    entries: Vec<TokenEntry>,
}

/// Largest tokens file read.
const MAX_TOKENS_FILE: u64 = 1 << 20;

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
    {
        return Err(format!(
            "token name {}: use 1 to 64 letters, digits, '-', '_', '.' or '@'",
            gatehouse_core::untrusted::quote(name)
        ));
    }
    Ok(())
}

impl Tokens {
    /// Parses a tokens file's text; `name` is used in errors.
    pub fn parse(text: &str, name: &str) -> Result<Tokens, String> {
        let mut entries: Vec<TokenEntry> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |why: String| format!("{name}:{}: {why}", i + 1);
            let fields: Vec<&str> = line.split_ascii_whitespace().collect();
            let [holder, scopes, hash] = fields[..] else {
                return Err(at("expected NAME SCOPES sha256:HEX".into()));
            };
            check_name(holder).map_err(at)?;
            let scopes = Scope::parse_list(scopes).map_err(at)?;
            let hash = hash
                .strip_prefix("sha256:")
                .and_then(|h| hex::decode(h).ok())
                .and_then(|h| <[u8; 32]>::try_from(h).ok())
                .ok_or_else(|| at("the hash is not sha256: and 64 hex digits".into()))?;
            if entries.iter().any(|e| e.name == holder) {
                return Err(at(format!("token name {holder} appears twice")));
            }
            entries.push(TokenEntry {
                name: holder.to_string(),
                scopes,
                hash,
            });
        }
        Ok(Tokens { entries })
    }

    /// Reads the tokens file at `path`; a missing file is no tokens.
    pub fn load(path: &Path) -> Result<Tokens, String> {
        use std::io::Read;
        let name = path.display().to_string();
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Tokens::default()),
            Err(e) => return Err(format!("{name}: cannot open the tokens file: {e}")),
        };
        let mut text = String::new();
        file.take(MAX_TOKENS_FILE + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("{name}: cannot read the tokens file: {e}"))?;
        if text.len() as u64 > MAX_TOKENS_FILE {
            return Err(format!("{name}: the tokens file is larger than 1 MiB"));
        }
        Tokens::parse(&text, &name)
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry named `name` (a login link names its token; the page
    /// checks the entry on every request, so removing it ends the session).
    pub fn by_name(&self, name: &str) -> Option<&TokenEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The entry whose token `presented` is, comparing its hash with every
    /// entry's in constant time.
    pub fn find(&self, presented: &str) -> Option<&TokenEntry> {
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for entry in &self.entries {
            if bool::from(entry.hash.ct_eq(&hash)) {
                found = Some(entry);
            }
        }
        found
    }
}

/// A new random secret for the page (a login code or a session id): 256
/// bits from the OS CSPRNG as 64 lowercase hex digits.
pub fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("cannot get random bytes: {e}"))?;
    Ok(hex::encode(bytes))
}

/// A new random token: `ght_` and 64 hex digits.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("cannot get random bytes: {e}"))?;
    Ok(format!("ght_{}", hex::encode(bytes)))
}

/// Adds a token for `name` with `scopes` to the tokens file at `path`
/// (created, readable by its owner only, when missing) and returns the
/// token, which is nowhere else: the file keeps its hash.
pub fn add(path: &Path, name: &str, scopes: &[Scope]) -> Result<String, String> {
    check_name(name)?;
    if scopes.is_empty() {
        return Err("no scope: use --scopes evaluate,approve,read (any of them)".into());
    }
    let existing = Tokens::load(path)?;
    if existing.entries.iter().any(|e| e.name == name) {
        return Err(format!(
            "{}: a token named {name} exists already; pick another name",
            path.display()
        ));
    }
    let token = new_token()?;
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("{}: cannot open the tokens file: {e}", path.display()))?;
    let header = if existing.is_empty() && file.metadata().map(|m| m.len() == 0).unwrap_or(false) {
        "# gatehouse serve tokens: NAME SCOPES sha256:HEX (the token itself is not kept)\n"
    } else {
        ""
    };
    let line = format!("{header}{name} {} sha256:{hash}\n", scopes.join(","));
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("{}: cannot write the tokens file: {e}", path.display()))?;
    Ok(token)
}

/// The tokens file as the server reads it: parsed again when it changes
/// (size or modification time), so that `gatehouse serve token add` takes
/// effect without a restart.
#[derive(Debug)]
pub struct TokenSource {
    path: std::path::PathBuf,
    cached: std::sync::Mutex<Option<(FileStamp, std::sync::Arc<Tokens>)>>,
}

type FileStamp = Option<(u64, Option<std::time::SystemTime>)>;

impl TokenSource {
    /// The tokens file at `path` (it may not exist yet: then no token is
    /// accepted).
    pub fn new(path: &Path) -> TokenSource {
        TokenSource {
            path: path.to_path_buf(),
            cached: std::sync::Mutex::new(None),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tokens as the file holds them now.
    pub fn current(&self) -> Result<std::sync::Arc<Tokens>, String> {
        let stamp: FileStamp = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.len(), m.modified().ok()));
        let mut cached = self
            .cached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((seen, tokens)) = cached.as_ref()
            && *seen == stamp
        {
            return Ok(std::sync::Arc::clone(tokens));
        }
        let tokens = std::sync::Arc::new(Tokens::load(&self.path)?);
        *cached = Some((stamp, std::sync::Arc::clone(&tokens)));
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_token_is_found_with_its_scopes_and_only_its_hash_is_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("tokens");
        let ci = add(&path, "ci", &[Scope::Evaluate, Scope::Read]).expect("add");
        let alice = add(&path, "alice", &[Scope::Approve]).expect("add");
        assert!(ci.starts_with("ght_") && ci.len() == 68);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains(&ci[4..]) && !text.contains(&alice[4..]));
        let tokens = Tokens::load(&path).expect("load");
        assert_eq!(tokens.len(), 2);
        let entry = tokens.find(&ci).expect("ci");
        assert_eq!(entry.name, "ci");
        assert_eq!(entry.scopes, vec![Scope::Evaluate, Scope::Read]);
        assert_eq!(
            tokens.find(&alice).expect("alice").scopes,
            vec![Scope::Approve]
        );
        assert!(tokens.find("ght_0000").is_none());
        assert!(tokens.find("").is_none());
    }

    #[test]
    fn a_duplicate_name_and_a_bad_line_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("tokens");
        add(&path, "ci", &[Scope::Read]).expect("add");
        assert!(
            add(&path, "ci", &[Scope::Read])
                .expect_err("refused")
                .contains("exists already")
        );
        let err = Tokens::parse("ci read sha256:zz\n", "t").expect_err("refused");
        assert!(err.contains("t:1:"), "{err}");
        let err = Tokens::parse("ci write sha256:00\n", "t").expect_err("refused");
        assert!(err.contains("unknown scope"), "{err}");
    }
}
