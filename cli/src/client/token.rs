//! The bearer token for `--server`: read from a file (`--token-file`, or
//! `$GATEHOUSE_TOKEN_FILE`), never from the command line, where `ps` and
//! shell histories would show it; and never printed.

use std::io::Read;
use std::path::Path;

/// The environment variable naming the token file when `--token-file` is
/// not given.
pub const TOKEN_FILE_ENV: &str = "GATEHOUSE_TOKEN_FILE";

/// `ght_` and 64 hex digits, as `gatehouse serve token add` prints.
const TOKEN_LEN: usize = 4 + 64;

/// The token file the flag or [`TOKEN_FILE_ENV`] names (the flag wins).
pub fn file(flag: Option<&Path>) -> Result<std::path::PathBuf, String> {
    if let Some(path) = flag {
        return Ok(path.to_path_buf());
    }
    match std::env::var_os(TOKEN_FILE_ENV) {
        Some(path) if !path.is_empty() => Ok(path.into()),
        _ => Err(format!(
            "--server needs a token: pass --token-file FILE (or set ${TOKEN_FILE_ENV}), a file holding the token `gatehouse serve token add` printed"
        )),
    }
}

/// Reads the token from `path`: one line, `ght_` and 64 hex digits. A file
/// that other users can read is refused (the token is a password); a file
/// holding anything else is refused without quoting it.
pub fn read(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let mut file = std::fs::File::open(path)
        .map_err(|e| format!("--token-file {shown}: cannot open it: {e}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .map_err(|e| format!("--token-file {shown}: {e}"))?
            .permissions()
            .mode();
        if mode & 0o004 != 0 {
            return Err(format!(
                "--token-file {shown}: every user of this machine can read it (mode {:o}); the token is a password: chmod o-r {shown} (or 600)",
                mode & 0o777
            ));
        }
    }
    let mut bytes = Vec::new();
    file.by_ref()
        .take(1024)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("--token-file {shown}: cannot read it: {e}"))?;
    parse(&bytes).map_err(|why| format!("--token-file {shown}: {why}"))
}

/// The token in a file's bytes (surrounding white space allowed).
fn parse(bytes: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(bytes).unwrap_or_default().trim();
    let valid = text.len() == TOKEN_LEN
        && text
            .strip_prefix("ght_")
            .is_some_and(|hex| hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    if valid {
        Ok(text.to_string())
    } else {
        Err("does not hold a gatehouse token (one line: ght_ and 64 hex digits, as `gatehouse serve token add` prints it)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_ght_and_64_hex_digits() {
        let token = format!("ght_{}", "0a".repeat(32));
        assert_eq!(parse(format!("{token}\n").as_bytes()), Ok(token.clone()));
        assert_eq!(parse(format!("  {token}  ").as_bytes()), Ok(token.clone()));
        for bad in [
            String::new(),
            "ght_".into(),
            format!("ght_{}", "0A".repeat(32)),
            format!("{token}x"),
            format!("xyz_{}", "0a".repeat(32)),
            "-----BEGIN OPENSSH PRIVATE KEY-----".into(),
        ] {
            let err = parse(bad.as_bytes()).expect_err(&bad);
            // The message names the form (`ght_`), never the content.
            assert!(!err.contains(&bad) || bad.len() <= "ght_".len(), "{err}");
        }
    }
}
