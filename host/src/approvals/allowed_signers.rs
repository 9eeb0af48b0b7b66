//! Who may sign: OpenSSH's allowed_signers file (ssh-keygen(1), "ALLOWED
//! SIGNERS"), as git uses it for commit signing.
//!
//! ```text
//! # principals  [options]                       keytype      base64-key  [comment]
//! alice@example.com,bob@example.com             ssh-ed25519  AAAAC3...   laptop
//! *@example.com,!mallory@example.com namespaces="gatehouse-approval" ecdsa-sha2-nistp256 AAAAE2...
//! "carol smith" valid-after="20260101Z",valid-before="20270101Z" ssh-ed25519 AAAAC3...
//! ```
//!
//! Read as OpenSSH reads it — principals a [pattern list](super::pattern)
//! (quoted when it holds spaces), option keywords case-insensitive, option
//! values double-quoted, blank lines and `#` lines ignored — with these
//! deliberate differences, each failing closed:
//!
//! - The whole file is checked when loaded: any malformed line is an error
//!   naming the file and line, not only the lines a lookup happens to reach.
//! - `valid-after` / `valid-before` must end in `Z` (UTC). OpenSSH reads a
//!   time without `Z` in the machine's time zone, which would make a verdict
//!   depend on where it runs; Gatehouse refuses it and says to add the `Z`.
//! - `cert-authority` lines and certificate keys are refused: Gatehouse does
//!   not verify SSH certificates, so list each signer's own key instead.
//! - Only Ed25519 and ECDSA (P-256, P-384, P-521) keys are accepted; a line
//!   with an RSA, DSA or security-key (FIDO) key is refused, naming it.
//! - Text right after a quoted principals field's closing quote is refused
//!   (OpenSSH would silently start the next field there).

use super::pattern::{ListMatch, match_list};
use super::signature::check_algorithm;
use ssh_key::PublicKey;
use std::fmt;
use std::path::Path;

/// Largest allowed_signers file accepted, in bytes.
pub const MAX_ALLOWED_SIGNERS_BYTES: u64 = 16 << 20;

/// Key type names OpenSSH knows; the field after the principals is options
/// unless it is one of these.
const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "ssh-dss",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// A parsed allowed_signers file.
#[derive(Debug, Clone)]
pub struct AllowedSigners {
    source: String,
    sha256: String,
    entries: Vec<SignerEntry>,
}

/// One line of the file: principals, options and a key.
#[derive(Debug, Clone)]
pub struct SignerEntry {
    /// The line number (1-based) in the file.
    pub line: usize,
    /// The principals pattern list, quotes removed.
    pub principals: String,
    /// The `namespaces="…"` pattern list, if the line has one.
    pub namespaces: Option<String>,
    /// `valid-after`: the key counts from this time (Unix seconds) on.
    pub valid_after: Option<i64>,
    /// `valid-before`: the key counts up to and including this time.
    pub valid_before: Option<i64>,
    /// The signer's public key (without the line's comment).
    pub key: PublicKey,
}

impl SignerEntry {
    /// How `principal` fares against this line's principals.
    pub fn principal_match(&self, principal: &str) -> ListMatch {
        match_list(principal, &self.principals)
    }

    /// Whether this line lets its key sign in `namespace`: no `namespaces=`
    /// option, or one whose pattern list matches.
    pub fn allows_namespace(&self, namespace: &str) -> bool {
        self.namespaces
            .as_deref()
            .is_none_or(|list| match_list(namespace, list) == ListMatch::Matched)
    }

    /// Whether the key is valid at `at` (Unix seconds): at or after
    /// `valid-after` and at or before `valid-before`, as in OpenSSH.
    pub fn valid_at(&self, at: i64) -> bool {
        self.valid_after.is_none_or(|after| at >= after)
            && self.valid_before.is_none_or(|before| at <= before)
    }
}

/// A problem with an allowed_signers file: which file, which line, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedSignersError {
    /// The file's name as given.
    pub source: String,
    /// The line (1-based), when one line is to blame.
    pub line: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for AllowedSignersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.source, self.message),
            None => write!(f, "{}: {}", self.source, self.message),
        }
    }
}

impl std::error::Error for AllowedSignersError {}

impl AllowedSigners {
    /// Reads and parses an allowed_signers file of at most
    /// [`MAX_ALLOWED_SIGNERS_BYTES`].
    pub fn load(path: &Path) -> Result<AllowedSigners, AllowedSignersError> {
        use std::io::Read;
        let source = path.display().to_string();
        let whole = |message: String| AllowedSignersError {
            source: source.clone(),
            line: None,
            message,
        };
        let file = std::fs::File::open(path)
            .map_err(|e| whole(format!("cannot open the allowed_signers file: {e}")))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(whole(
                "is a directory; expected an allowed_signers file (ssh-keygen(1), ALLOWED SIGNERS)"
                    .into(),
            ));
        }
        let mut bytes = Vec::new();
        file.take(MAX_ALLOWED_SIGNERS_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| whole(format!("cannot read the allowed_signers file: {e}")))?;
        if bytes.len() as u64 > MAX_ALLOWED_SIGNERS_BYTES {
            return Err(whole(format!(
                "larger than {} MiB; an allowed_signers file is one short line per key",
                MAX_ALLOWED_SIGNERS_BYTES >> 20
            )));
        }
        AllowedSigners::parse(&bytes, &source)
    }

    /// Parses the text of an allowed_signers file; `source` names it in
    /// errors. Every line is checked.
    pub fn parse(text: &[u8], source: &str) -> Result<AllowedSigners, AllowedSignersError> {
        let mut entries = Vec::new();
        for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = index + 1;
            let error = |message: String| AllowedSignersError {
                source: source.to_string(),
                line: Some(line),
                message,
            };
            let text = std::str::from_utf8(raw).map_err(|e| {
                error(format!(
                    "not UTF-8 (invalid byte at column {})",
                    e.valid_up_to() + 1
                ))
            })?;
            if let Some(entry) = parse_line(text, line).map_err(error)? {
                entries.push(entry);
            }
        }
        Ok(AllowedSigners {
            source: source.to_string(),
            sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text)),
            entries,
        })
    }

    /// The file's name as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Hex sha256 of the file's bytes: names exactly which file approvals
    /// were verified against (audit records carry it; `audit replay`
    /// refuses any other file).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Every key line, in file order.
    pub fn entries(&self) -> &[SignerEntry] {
        &self.entries
    }

    /// The lines whose key may sign for `principal` in `namespace` at `at`
    /// (Unix seconds): the principals match (and no `!pattern` excludes
    /// it), the namespaces allow it, and the key is valid at that time.
    pub fn keys_for(&self, principal: &str, namespace: &str, at: i64) -> Vec<&SignerEntry> {
        self.entries
            .iter()
            .filter(|e| {
                e.principal_match(principal) == ListMatch::Matched
                    && e.allows_namespace(namespace)
                    && e.valid_at(at)
            })
            .collect()
    }
}

/// Whitespace between fields, as OpenSSH's parser sees it.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r')
}

/// One line: `None` for a blank or comment line.
fn parse_line(text: &str, line: usize) -> Result<Option<SignerEntry>, String> {
    let rest = text.trim_start_matches(is_space);
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    let (principals, rest) = principals_field(rest)?;
    if principals.is_empty() {
        return Err("the principals field is empty".into());
    }
    let (second, rest) = options_field(rest)?;
    let Some(second) = second else {
        return Err(format!(
            "missing key after the principals {principals:?}; expected `principals [options] keytype base64-key`"
        ));
    };
    let (options, key_type, rest) = if KEY_TYPES.contains(&second) {
        (None, second, rest)
    } else {
        let (third, after) = plain_field(rest);
        match third {
            Some(third) if KEY_TYPES.contains(&third) => (Some(second), third, after),
            third => {
                let unknown = if looks_like_options(second) {
                    match third {
                        Some(t) => t,
                        None => return Err(format!("missing key after the options {second:?}")),
                    }
                } else {
                    second
                };
                return Err(unknown_key_type(unknown));
            }
        }
    };
    let (data, _comment) = plain_field(rest);
    let Some(data) = data else {
        return Err(format!("missing the base64 key data after {key_type}"));
    };
    let key = PublicKey::from_openssh(&format!("{key_type} {data}")).map_err(|e| {
        format!("invalid {key_type} key data ({e}); copy the key line from the signer's .pub file")
    })?;
    check_algorithm(&key.algorithm())
        .map_err(|why| format!("{why}; remove this line or replace its key"))?;
    let mut entry = SignerEntry {
        line,
        principals,
        namespaces: None,
        valid_after: None,
        valid_before: None,
        key: PublicKey::new(key.key_data().clone(), ""),
    };
    if let Some(options) = options {
        apply_options(options, &mut entry)?;
    }
    Ok(Some(entry))
}

/// The principals field: up to whitespace, with OpenSSH's quoting (a `"`
/// starts a quoted run, up to the next `"`, that may hold spaces and ends the
/// field). Returns the principals without quotes and the rest of the line
/// after the whitespace.
fn principals_field(text: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    for (i, c) in text.char_indices() {
        if is_space(c) {
            return Ok((out, text[i..].trim_start_matches(is_space)));
        }
        if c == '"' {
            let inner = &text[i + 1..];
            let Some(close) = inner.find('"') else {
                return Err("unterminated quote in the principals field".into());
            };
            out.push_str(&inner[..close]);
            let after = &inner[close + 1..];
            if after.starts_with(|c: char| !is_space(c)) {
                return Err(
                    "text right after the closing quote of the principals field; put a space between the principals and the next field"
                        .into(),
                );
            }
            return Ok((out, after.trim_start_matches(is_space)));
        }
        out.push(c);
    }
    Ok((out, ""))
}

/// The next field, where double quotes (with `\"` escapes) may hide
/// whitespace, as options are scanned; `None` at the end of the line.
fn options_field(text: &str) -> Result<(Option<&str>, &str), String> {
    if text.is_empty() {
        return Ok((None, text));
    }
    let mut quoted = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|&(_, next)| next == '"') {
            chars.next();
        } else if c == '"' {
            quoted = !quoted;
        } else if !quoted && is_space(c) {
            return Ok((Some(&text[..i]), text[i..].trim_start_matches(is_space)));
        }
    }
    if quoted {
        return Err("unterminated quote in the options".into());
    }
    Ok((Some(text), ""))
}

/// The next whitespace-delimited field; `None` at the end of the line.
fn plain_field(text: &str) -> (Option<&str>, &str) {
    if text.is_empty() {
        return (None, text);
    }
    match text.find(is_space) {
        Some(i) => (Some(&text[..i]), text[i..].trim_start_matches(is_space)),
        None => (Some(text), ""),
    }
}

fn looks_like_options(field: &str) -> bool {
    field.contains('=') || field.contains(',') || field.eq_ignore_ascii_case("cert-authority")
}

fn unknown_key_type(name: &str) -> String {
    if name.ends_with("-cert-v01@openssh.com") {
        return format!(
            "{name:?} is an SSH certificate; Gatehouse does not verify certificates: list the signer's own key (its .pub file) instead"
        );
    }
    format!(
        "unknown key type {name:?}; expected ssh-ed25519 or ecdsa-sha2-nistp256/384/521 (the first word of the signer's .pub file)"
    )
}

/// Applies `name[="value"],...` (OpenSSH's sshsigopt_parse rules) to `entry`.
fn apply_options(options: &str, entry: &mut SignerEntry) -> Result<(), String> {
    let mut rest = options;
    loop {
        let (name, value, after) = next_option(rest)?;
        match name.to_ascii_lowercase().as_str() {
            "cert-authority" if value.is_none() => {
                return Err(
                    "cert-authority (trusting certificates signed by a CA) is not supported; list each signer's own key instead"
                        .into(),
                );
            }
            "namespaces" if value.is_some() => {
                if entry.namespaces.is_some() {
                    return Err("namespaces= is given twice; give it once".into());
                }
                entry.namespaces = value;
            }
            key @ ("valid-after" | "valid-before") if value.is_some() => {
                let text = value.unwrap_or_default();
                let time = parse_time(&text).map_err(|why| format!("{key}={text:?}: {why}"))?;
                let slot = if key == "valid-after" {
                    &mut entry.valid_after
                } else {
                    &mut entry.valid_before
                };
                if slot.is_some() {
                    return Err(format!("{key}= is given twice; give it once"));
                }
                *slot = Some(time);
            }
            _ => {
                return Err(format!(
                    "unknown option {:?}; allowed_signers options are namespaces=\"…\", valid-after=\"…\", valid-before=\"…\" (and cert-authority, which Gatehouse does not support)",
                    match &value {
                        Some(v) => format!("{name}=\"{v}\""),
                        None => name.to_string(),
                    }
                ));
            }
        }
        match after {
            None => break,
            Some(next) => rest = next,
        }
    }
    if let (Some(after), Some(before)) = (entry.valid_after, entry.valid_before)
        && before <= after
    {
        return Err("valid-before is not after valid-after".into());
    }
    Ok(())
}

/// One option: its name, its dequoted value (for `name="value"`), and the
/// text after the comma that follows it (`None` when it was the last).
fn next_option(text: &str) -> Result<(&str, Option<String>, Option<&str>), String> {
    let end = text.find([',', '=']).unwrap_or(text.len());
    let name = &text[..end];
    let rest = &text[end..];
    let (value, rest) = match rest.strip_prefix('=') {
        Some(quoted) => {
            let Some(body) = quoted.strip_prefix('"') else {
                return Err(format!(
                    "the value of {name}= must be in double quotes, e.g. {name}=\"…\""
                ));
            };
            let mut value = String::new();
            let mut chars = body.char_indices().peekable();
            let mut close = None;
            while let Some((i, c)) = chars.next() {
                if c == '\\' && chars.peek().is_some_and(|&(_, next)| next == '"') {
                    chars.next();
                    value.push('"');
                } else if c == '"' {
                    close = Some(i);
                    break;
                } else {
                    value.push(c);
                }
            }
            let Some(close) = close else {
                return Err(format!("the value of {name}= has no closing quote"));
            };
            (Some(value), &body[close + 1..])
        }
        None => (None, rest),
    };
    if rest.is_empty() {
        return Ok((name, value, None));
    }
    match rest.strip_prefix(',') {
        Some("") => Err("the options end with a comma; remove it".into()),
        Some(next) => Ok((name, value, Some(next))),
        None => Err(format!(
            "unexpected {:?} after the option {name}; separate options with commas",
            rest.chars().next().unwrap_or(' ')
        )),
    }
}

/// `YYYYMMDD[HHMM[SS]]Z` as Unix seconds (UTC). The `Z` is required: see
/// the module documentation.
fn parse_time(text: &str) -> Result<i64, String> {
    const FORMAT: &str = "expected YYYYMMDDZ, YYYYMMDDHHMMZ or YYYYMMDDHHMMSSZ";
    let Some(digits) = text.strip_suffix(['Z', 'z']) else {
        return Err(
            if text.bytes().all(|b| b.is_ascii_digit()) && matches!(text.len(), 8 | 12 | 14) {
                format!(
                    "a time without Z is local time to OpenSSH, which would make the verdict depend on the machine's time zone; Gatehouse reads UTC only: write {text}Z (UTC)"
                )
            } else {
                format!("{FORMAT} (UTC)")
            },
        );
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 8 | 12 | 14) {
        return Err(format!("{FORMAT} (UTC)"));
    }
    let number = |range: std::ops::Range<usize>| -> u32 {
        digits.get(range).and_then(|d| d.parse().ok()).unwrap_or(0)
    };
    let month = u8::try_from(number(4..6))
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or_else(|| format!("{FORMAT}: no month {}", number(4..6)))?;
    let date = time::Date::from_calendar_date(number(0..4) as i32, month, number(6..8) as u8)
        .map_err(|e| format!("{FORMAT}: {e}"))?;
    let (hour, minute, second) = match digits.len() {
        8 => (0, 0, 0),
        12 => (number(8..10), number(10..12), 0),
        _ => (number(8..10), number(10..12), number(12..14)),
    };
    let clock = time::Time::from_hms(hour as u8, minute as u8, second as u8)
        .map_err(|e| format!("{FORMAT}: {e}"))?;
    let unix = date.with_time(clock).assume_utc().unix_timestamp();
    if unix <= 0 {
        return Err("the time must be after 1970-01-01T00:00:00Z".into());
    }
    Ok(unix)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Public keys from ssh-keygen (comments removed).
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHqkY+Z7MxRNtbWf801qfZbD8MzWThKwnoC9Xu+2THQS";
    const ED25519_OTHER: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIASGtvhplDpfi/bfZPuMwrhGIGXJNLe+03MDgwJ1k8OF";
    const P256: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBN7k52Z80qfMAUzg0FK/hntpj+QkvAlYoG+MWBmh7NlKT/74Oa+pUDvDkKmCcyfgBolEZnUwstqGqniVUfRE1Uo=";
    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDj9npuV1x4mO/N2XVMfbJCt3jBfYcsSHpR2fzX7HeKkItj7ZsoIqokWaVONNrijPQVtt/+TyAKQ2ifdncbJQYwywAblI/bGywkYJihTNrTXsicceH1p6XS4MtA67frajWxV/Z3fqmnpWyHOb34CfC7MmSPKbfScPJpwpV8wiFgKQ==";

    fn parse(text: &str) -> Result<AllowedSigners, String> {
        AllowedSigners::parse(text.as_bytes(), "signers").map_err(|e| e.to_string())
    }

    fn error(text: &str) -> String {
        parse(text).expect_err("must be refused")
    }

    fn key(line: &str) -> PublicKey {
        PublicKey::from_openssh(line).expect("test key")
    }

    #[test]
    fn plain_lines_comments_and_blanks() {
        let text = format!(
            "# team\n\n   \t\nalice@example.com {ED25519} alice's laptop\r\n  bob@example.com,carol@example.com\t{P256}\n"
        );
        let signers = parse(&text).expect("valid");
        let entries = signers.entries();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].line, 4);
        assert_eq!(entries[0].principals, "alice@example.com");
        assert_eq!(entries[0].key.key_data(), key(ED25519).key_data());
        assert_eq!(entries[1].line, 5);
        assert_eq!(entries[1].key.key_data(), key(P256).key_data());
        assert_eq!(
            signers
                .keys_for("carol@example.com", "gatehouse-approval", 0)
                .len(),
            1
        );
        assert!(
            signers
                .keys_for("dave@example.com", "gatehouse-approval", 0)
                .is_empty()
        );
    }

    #[test]
    fn patterns_and_negation_select_principals() {
        let text = format!("*@example.com,!mallory@example.com {ED25519}\n");
        let signers = parse(&text).expect("valid");
        assert_eq!(
            signers
                .keys_for("alice@example.com", "gatehouse-approval", 0)
                .len(),
            1
        );
        assert!(
            signers
                .keys_for("mallory@example.com", "gatehouse-approval", 0)
                .is_empty()
        );
        assert!(
            signers
                .keys_for("alice@example.org", "gatehouse-approval", 0)
                .is_empty()
        );
        let text = format!("alic?@example.com {ED25519}\n");
        let signers = parse(&text).expect("valid");
        assert_eq!(
            signers
                .keys_for("alice@example.com", "gatehouse-approval", 0)
                .len(),
            1
        );
        assert!(
            signers
                .keys_for("alicia@example.com", "gatehouse-approval", 0)
                .is_empty()
        );
    }

    #[test]
    fn namespaces_are_honoured() {
        let text = format!(
            "alice namespaces=\"git,file\" {ED25519}\nbob NAMESPACES=\"gatehouse-*\" {ED25519_OTHER}\ncarol namespaces=\"\" {P256}\n"
        );
        let signers = parse(&text).expect("valid");
        assert!(
            signers
                .keys_for("alice", "gatehouse-approval", 0)
                .is_empty(),
            "git and file only"
        );
        assert_eq!(signers.keys_for("alice", "git", 0).len(), 1);
        assert_eq!(
            signers.keys_for("bob", "gatehouse-approval", 0).len(),
            1,
            "keywords are case-insensitive"
        );
        assert!(
            signers
                .keys_for("carol", "gatehouse-approval", 0)
                .is_empty(),
            "an empty list allows nothing"
        );
    }

    #[test]
    fn validity_bounds_are_inclusive_and_utc() {
        let text = format!(
            "alice valid-after=\"20260101Z\",valid-before=\"202601311230Z\" {ED25519}\nbob valid-before=\"20260101000001z\" {P256}\n"
        );
        let signers = parse(&text).expect("valid");
        let alice = &signers.entries()[0];
        assert_eq!(alice.valid_after, Some(1_767_225_600)); // 2026-01-01T00:00:00Z
        assert_eq!(alice.valid_before, Some(1_769_862_600)); // 2026-01-31T12:30:00Z
        assert!(!alice.valid_at(1_767_225_599));
        assert!(alice.valid_at(1_767_225_600));
        assert!(alice.valid_at(1_769_862_600));
        assert!(!alice.valid_at(1_769_862_601));
        assert_eq!(signers.entries()[1].valid_before, Some(1_767_225_601));
        assert!(
            signers
                .keys_for("alice", "gatehouse-approval", 1_700_000_000)
                .is_empty()
        );
        assert_eq!(
            signers
                .keys_for("alice", "gatehouse-approval", 1_768_000_000)
                .len(),
            1
        );
    }

    #[test]
    fn quoted_principals_may_hold_spaces() {
        let text =
            format!("\"carol smith,dave jones\" namespaces=\"gatehouse-approval\" {ED25519}\n");
        let signers = parse(&text).expect("valid");
        assert_eq!(signers.entries()[0].principals, "carol smith,dave jones");
        assert_eq!(
            signers
                .keys_for("carol smith", "gatehouse-approval", 0)
                .len(),
            1
        );
        assert_eq!(
            signers
                .keys_for("dave jones", "gatehouse-approval", 0)
                .len(),
            1
        );
        assert!(
            signers
                .keys_for("carol", "gatehouse-approval", 0)
                .is_empty()
        );
        // A quoted value may itself hold an escaped quote and a space.
        let text = format!("erin namespaces=\"a b,x\\\"y\" {ED25519}\n");
        let signers = parse(&text).expect("valid");
        assert_eq!(signers.entries()[0].namespaces.as_deref(), Some("a b,x\"y"));
    }

    #[test]
    fn bad_lines_are_named_by_file_and_line() {
        let cases: Vec<(String, &str)> = vec![
            (
                format!("\n* cert-authority {ED25519}"),
                "signers:2: cert-authority (trusting certificates signed by a CA) is not supported",
            ),
            (
                format!("alice CERT-AUTHORITY,namespaces=\"x\" {ED25519}"),
                "signers:1: cert-authority",
            ),
            (
                "alice ssh-ed25519 AAAA!!notbase64".into(),
                "signers:1: invalid ssh-ed25519 key data",
            ),
            (
                "alice ssh-ed25519".into(),
                "signers:1: missing the base64 key data after ssh-ed25519",
            ),
            (
                "alice ssh-foo AAAAC3NzaC1lZDI1NTE5".into(),
                "signers:1: unknown key type \"ssh-foo\"",
            ),
            (
                "alice namespaces=\"x\" ssh-foo AAAA".into(),
                "signers:1: unknown key type \"ssh-foo\"",
            ),
            (
                "alice ssh-ed25519-cert-v01@openssh.com AAAA".into(),
                "is an SSH certificate",
            ),
            (
                format!("alice {RSA}"),
                "signers:1: ssh-rsa keys are not supported",
            ),
            (
                "alice".into(),
                "signers:1: missing key after the principals \"alice\"",
            ),
            (
                "alice namespaces=\"x\"".into(),
                "missing key after the options",
            ),
            (
                format!("alice foo=\"bar\" {ED25519}"),
                "signers:1: unknown option \"foo=\\\"bar\\\"\"",
            ),
            (
                format!("alice namespaces=x {ED25519}"),
                "the value of namespaces= must be in double quotes",
            ),
            (
                format!("alice namespaces=\"x\",namespaces=\"y\" {ED25519}"),
                "namespaces= is given twice",
            ),
            (
                format!("alice namespaces=\"x\", {ED25519}"),
                "the options end with a comma",
            ),
            (
                format!("alice namespaces=\"x\",valid-after=\"20260101Z\", {ED25519}"),
                "the options end with a comma",
            ),
            (
                format!("alice namespaces=\"x {ED25519}"),
                "unterminated quote in the options",
            ),
            (
                format!("\"alice {ED25519}"),
                "unterminated quote in the principals field",
            ),
            (
                format!("\"alice\"bob {ED25519}"),
                "text right after the closing quote",
            ),
            (
                format!("alice valid-after=\"20260101\" {ED25519}"),
                "valid-after=\"20260101\": a time without Z is local time to OpenSSH",
            ),
            (
                format!("alice valid-after=\"2026-01-01Z\" {ED25519}"),
                "expected YYYYMMDDZ",
            ),
            (
                format!("alice valid-before=\"20261301Z\" {ED25519}"),
                "no month 13",
            ),
            (
                format!("alice valid-before=\"20260230Z\" {ED25519}"),
                "valid-before=\"20260230Z\": expected YYYYMMDDZ",
            ),
            (
                format!("alice valid-before=\"202601012460Z\" {ED25519}"),
                "valid-before=\"202601012460Z\"",
            ),
            (
                format!("alice valid-after=\"19700101Z\" {ED25519}"),
                "must be after 1970",
            ),
            (
                format!("alice valid-after=\"20270101Z\",valid-before=\"20260101Z\" {ED25519}"),
                "valid-before is not after valid-after",
            ),
            (
                format!("alice valid-after=\"20260101Z\",valid-after=\"20260102Z\" {ED25519}"),
                "valid-after= is given twice",
            ),
            (
                format!("alice {}", P256.replace("nistp256 ", "nistp384 ")),
                "signers:1: invalid ecdsa-sha2-nistp384 key data",
            ),
        ];
        for (text, expected) in &cases {
            let err = error(text);
            assert!(
                err.contains(expected),
                "{text:?}\n  gave {err}\n  expected {expected}"
            );
        }
        let err =
            AllowedSigners::parse(b"alice\xff ssh-ed25519 AAAA", "signers").expect_err("not UTF-8");
        assert_eq!(
            err.to_string(),
            "signers:1: not UTF-8 (invalid byte at column 6)"
        );
    }

    #[test]
    fn the_key_comment_is_not_part_of_the_key() {
        let text = format!("alice {ED25519} a comment with namespaces=\"x\" in it\n");
        let signers = parse(&text).expect("valid");
        assert_eq!(signers.entries()[0].namespaces, None);
        assert_eq!(signers.entries()[0].key.comment(), "");
    }

    #[test]
    fn a_missing_file_and_a_directory_are_errors_naming_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = AllowedSigners::load(&dir.path().join("nope")).expect_err("missing");
        assert!(
            err.to_string()
                .contains("nope: cannot open the allowed_signers file"),
            "{err}"
        );
        let err = AllowedSigners::load(dir.path()).expect_err("directory");
        assert!(err.to_string().contains("is a directory"), "{err}");
    }
}
