//! `gatehouse approve`: write an approval statement for one release and
//! environment, and sign it with the approver's SSH key (a private key file,
//! or a key held by ssh-agent) into `FILE.sig`, as `ssh-keygen -Y sign -n
//! gatehouse-approval` would.

use crate::args::ReleaseFlags;
use crate::output::EXIT_ERROR;
use gatehouse_core::approvals::{Decision, Signer, Statement, check_digest, check_name};
use gatehouse_core::untrusted::{line, line_list};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit codes and notes of `gatehouse approve`.
pub const APPROVE_HELP: &str = "\
The statement is written to FILE (default: PRINCIPAL-DIGEST12.approval.json in
the current directory) and its signature to FILE.sig. Check it with OpenSSH:
  ssh-keygen -Y verify -f allowed_signers -I PRINCIPAL -n gatehouse-approval \\
    -s FILE.sig < FILE

--key takes an OpenSSH private key file, or a public key (KEY.pub) whose
private half is held by ssh-agent ($SSH_AUTH_SOCK). A passphrase-protected
key is used through ssh-agent: ssh-add it first. Ed25519 and ECDSA keys.

With --server URL --request ID (and --token-file), the statement is signed for
the request's release digest and environment and uploaded to the server, which
verifies it under its policy set's trust section (docs/api.md). This is the
command the server's pages and answers print for approvers.

Exit codes:
  0  the statement and its signature were written; with --server: the request
     is approved
  2  with --server: accepted, and the request still waits for more approvals
  1  with --server: the request is rejected
  3  error: nothing usable was written, or the server refused the approval or
     could not be asked (the reason is on stderr)";

/// Longest `--expires-in`: an approval is for one release, given when it is
/// ready to ship, not a standing permission.
pub const MAX_EXPIRES_IN_SECONDS: i64 = 30 * 86_400;

/// Arguments of `gatehouse approve`. The release flags are the shared
/// [`ReleaseFlags`], with `--environment` required (it is what the approval
/// is for) and the others allowed only with `--input`.
#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("release-source").required(true).args(["input", "digest", "request"])),
    mut_arg("environment", |a| a.required_unless_present("request").conflicts_with("request").help(
        "The environment the approval is for (with --input, also the release's environment, as eval --environment)"
    )),
    mut_arg("format", |a| a.requires("input")),
    mut_arg("release_stream", |a| a.requires("input")),
    mut_arg("meta", |a| a.requires("input")),
)]
pub struct ApproveArgs {
    /// The release to approve, read exactly as eval reads it (a release JSON,
    /// Terraform plan or Pulumi preview, or - for stdin); its digest is signed.
    #[arg(long, value_name = "FILE|-")]
    pub input: Option<String>,

    /// The release digest to approve instead of --input, as `gatehouse digest`
    /// or eval prints it.
    #[arg(long, value_name = "sha256:HEX", conflicts_with = "input")]
    pub digest: Option<String>,

    /// The environment, and how --input is read (as for eval).
    #[command(flatten)]
    pub release: ReleaseFlags,

    /// An approver group the approval counts for. Repeatable.
    #[arg(long = "group", value_name = "G", required = true)]
    pub groups: Vec<String>,

    /// The approver's SSH key: a private key file, or a public key held by
    /// ssh-agent.
    #[arg(long, value_name = "PATH")]
    pub key: PathBuf,

    /// Who approves, as the allowed_signers file names them (default: the key's
    /// comment, when it looks like user@domain.tld).
    #[arg(long, value_name = "NAME")]
    pub principal: Option<String>,

    /// How long the approval counts: minutes, hours or days, e.g. 90m, 24h, 7d
    /// (at most 30d).
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub expires_in: String,

    /// A note for the record.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,

    /// Where to write the statement (the signature goes to FILE.sig).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace FILE and FILE.sig if they exist.
    #[arg(long)]
    pub force: bool,

    /// The approval time (RFC 3339) instead of the clock.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,

    /// With --request: the `gatehouse serve` (http:// or https://) holding the
    /// approval request; the signed statement is uploaded to it instead of
    /// written to files (docs/api.md).
    #[arg(long, value_name = "URL", requires = "request", conflicts_with_all = ["out", "force"])]
    pub server: Option<String>,

    /// The server's approval request to decide (its id, r-...): its release
    /// digest and environment are what is signed.
    #[arg(long, value_name = "ID", requires = "server")]
    pub request: Option<String>,

    /// With --server: the file holding the bearer token (scopes approve and
    /// read), as `gatehouse serve token add` printed it (default:
    /// $GATEHOUSE_TOKEN_FILE). The token is never taken on the command line.
    #[arg(long, value_name = "FILE", requires = "server")]
    pub token_file: Option<PathBuf>,

    /// With --server: approve (the default), or reject, which closes the
    /// request as rejected.
    #[arg(long, value_enum, default_value_t = DecisionArg::Approve, requires = "server")]
    pub decision: DecisionArg,
}

/// `--decision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DecisionArg {
    /// The release may proceed as far as this approver is concerned.
    Approve,
    /// The release must not proceed: the request closes as rejected.
    Reject,
}

impl DecisionArg {
    /// The statement's decision.
    pub fn decision(self) -> Decision {
        match self {
            DecisionArg::Approve => Decision::Approve,
            DecisionArg::Reject => Decision::Reject,
        }
    }
}

/// Runs `gatehouse approve` and returns the exit code.
pub fn run(args: &ApproveArgs) -> i32 {
    if let Some(server) = &args.server {
        return run_server(args, server);
    }
    match approve(args) {
        Ok(summary) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(summary.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => 0,
                Err(e) => {
                    crate::output::print_error(&format!(
                        "the approval was written, but printing its summary failed: {e}"
                    ));
                    EXIT_ERROR
                }
            }
        }
        Err(message) => {
            crate::output::print_error(&message);
            EXIT_ERROR
        }
    }
}

/// `approve --server`: sign and upload onto the server's request.
#[cfg(feature = "client")]
fn run_server(args: &ApproveArgs, server: &str) -> i32 {
    crate::client::approve::run(args, server)
}

/// `approve --server` in a binary built without the `client` feature.
#[cfg(not(feature = "client"))]
fn run_server(_args: &ApproveArgs, _server: &str) -> i32 {
    crate::output::print_error(crate::output::NO_CLIENT);
    EXIT_ERROR
}

/// Does the work; returns the summary to print.
fn approve(args: &ApproveArgs) -> Result<String, String> {
    let environment = args
        .release
        .environment
        .as_deref()
        .ok_or("pass --environment E: the environment the approval is for")?;
    check_name(environment).map_err(|why| format!("--environment {why}"))?;
    let signed = sign(args, release_digest(args)?, environment, Decision::Approve)?;
    let statement = &signed.statement;

    let statement_path = match &args.out {
        Some(path) => path.clone(),
        None => PathBuf::from(default_file_name(statement)),
    };
    let signature_path = sig_path(&statement_path);
    write_pair(
        &statement_path,
        &signed.json,
        &signature_path,
        &signed.armored,
        args.force,
    )?;
    if !statement_path.to_string_lossy().ends_with(".approval.json") {
        crate::output::print_warning(&format!(
            "{} does not end in .approval.json: eval --approvals DIR reads only files named so",
            statement_path.display()
        ));
    }
    Ok(format!(
        "statement: {}\nsignature: {}\n{}",
        line(&statement_path.display().to_string()),
        line(&signature_path.display().to_string()),
        signed.summary(),
    ))
}

/// A statement signed by the approver's key: what `approve` writes to
/// files, or `approve --server` uploads.
pub(crate) struct Signed {
    /// The statement.
    pub statement: Statement,
    /// Its JSON text, exactly as signed.
    pub json: String,
    /// The armored SSH signature of `json`.
    pub armored: String,
    /// Whether the principal was taken from the key's comment.
    from_comment: bool,
    /// The key's fingerprint, algorithm and how it signed, for the summary.
    key: String,
}

impl Signed {
    /// The summary lines after the file names: release, environment,
    /// principal, groups, expiry, key.
    pub fn summary(&self) -> String {
        let statement = &self.statement;
        format!(
            "release: {}\nenvironment: {}\n{}: {}{}\ngroups: {}\nexpires: {}\nkey: {}\n",
            statement.release_digest,
            line(&statement.environment),
            match statement.decision {
                Decision::Approve => "principal",
                Decision::Reject => "rejected by",
            },
            line(&statement.principal),
            if self.from_comment {
                " (from the key's comment)"
            } else {
                ""
            },
            line_list(&statement.groups, ", "),
            gatehouse_core::time::format_utc(statement.expires),
            self.key,
        )
    }
}

/// Builds the statement for `release_digest` in `environment` from the
/// flags (groups, principal, expiry, comment, time) and signs it with
/// `--key`, exactly as `gatehouse approve` always has: the one signing path
/// of both the local and the `--server` form.
pub(crate) fn sign(
    args: &ApproveArgs,
    release_digest: String,
    environment: &str,
    decision: Decision,
) -> Result<Signed, String> {
    let now = super::evaluation_time(args.now.as_deref()).map_err(|e| e.to_string())?;
    let expires_in = parse_duration(&args.expires_in)?;
    for group in &args.groups {
        check_name(group).map_err(|why| format!("--group {why}"))?;
    }
    let agent_socket = std::env::var_os("SSH_AUTH_SOCK")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    let mut signer = Signer::load(&args.key, agent_socket.as_deref())?;
    let (principal, from_comment) = match &args.principal {
        Some(p) => {
            check_name(p).map_err(|why| format!("--principal {why}"))?;
            (p.clone(), false)
        }
        None => {
            let comment = signer.public_key().comment();
            if !plausible_principal(comment) {
                return Err(format!(
                    "pass --principal NAME (the name the allowed_signers file lists for this key); the key's comment {:?} does not look like one",
                    line(comment)
                ));
            }
            (comment.to_string(), true)
        }
    };
    let statement = Statement {
        release_digest,
        environment: environment.to_string(),
        principal,
        groups: args.groups.clone(),
        decision,
        time: now,
        expires: now.saturating_add(expires_in),
        comment: args.comment.clone(),
    };
    let json = statement.to_json().map_err(|e| match &e.field {
        Some(field) => format!("{} {}", flag_of(field), e.message),
        None => e.to_string(),
    })?;
    let signature = signer.sign(json.as_bytes())?;
    let armored = gatehouse_core::approvals::armor(&signature)?;
    let key = signer.public_key();
    let via = match &signer {
        Signer::File(_) => "",
        Signer::Agent { .. } => ", via ssh-agent",
    };
    let key = format!(
        "{} ({}{via})",
        gatehouse_core::approvals::fingerprint(key),
        key.algorithm().as_str()
    );
    Ok(Signed {
        statement,
        json,
        armored,
        from_comment,
        key,
    })
}

/// The digest to sign: `--digest`, or that of `--input` read as eval reads
/// it (with `--environment` as the release's environment).
fn release_digest(args: &ApproveArgs) -> Result<String, String> {
    if let Some(digest) = &args.digest {
        check_digest(digest).map_err(|why| format!("--digest: {why}"))?;
        return Ok(digest.clone());
    }
    let Some(input) = &args.input else {
        return Err("pass --input FILE (the release) or --digest sha256:…".into());
    };
    let loaded = args
        .release
        .request(input, &[])
        .and_then(|request| request.load())
        .map_err(|e| e.to_string())?;
    for warning in &loaded.warnings {
        crate::output::print_warning(warning);
    }
    Ok(loaded.release.digest())
}

/// The flag that set a statement field, for error messages.
fn flag_of(field: &str) -> &str {
    match field {
        "environment" => "--environment",
        "principal" => "--principal",
        "comment" => "--comment",
        "expires" | "time" => "--now/--expires-in: the time",
        f if f.starts_with("groups") => "--group",
        _ => field,
    }
}

/// `90m`, `24h`, `7d` as seconds: at least a minute, at most
/// [`MAX_EXPIRES_IN_SECONDS`].
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "--expires-in {:?}: expected a number of minutes, hours or days such as 90m, 24h or 7d",
            line(text)
        )
    };
    let unit_at = text.len().checked_sub(1).ok_or_else(bad)?;
    let (number, unit) = text.split_at(unit_at);
    let seconds_per = match unit {
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = number.parse().map_err(|_| bad())?;
    let seconds = n.checked_mul(seconds_per).unwrap_or(i64::MAX);
    if seconds == 0 {
        return Err(format!("--expires-in {text}: must be at least 1m"));
    }
    if seconds > MAX_EXPIRES_IN_SECONDS {
        return Err(format!(
            "--expires-in {text} is longer than the 30d maximum: an approval is for one release, given when it is ready to ship"
        ));
    }
    Ok(seconds)
}

/// Whether a key comment can stand for the principal: one `user@domain.tld`
/// word (ssh-keygen's default `user@host` comment only passes with a
/// dotted host name, so check what `approve` prints).
fn plausible_principal(comment: &str) -> bool {
    let Some((user, domain)) = comment.split_once('@') else {
        return false;
    };
    check_name(comment).is_ok()
        && !comment.chars().any(char::is_whitespace)
        && !user.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// `<principal>-<first 12 hex of the digest>.approval.json`, the principal
/// reduced to characters safe in a file name (others become `_`; no
/// leading dot; at most 64 characters).
fn default_file_name(statement: &Statement) -> String {
    let mut name: String = statement
        .principal
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.starts_with('.') {
        name.replace_range(..1, "_");
    }
    let hex = statement
        .release_digest
        .strip_prefix("sha256:")
        .unwrap_or(&statement.release_digest);
    format!("{name}-{}.approval.json", &hex[..hex.len().min(12)])
}

/// `FILE.sig`.
fn sig_path(statement: &Path) -> PathBuf {
    let mut name = statement.as_os_str().to_os_string();
    name.push(".sig");
    PathBuf::from(name)
}

/// Writes the statement and then its signature. Without `force` neither
/// may exist (checked for both first, then each created exclusively); if
/// the signature cannot be written, the statement just written is removed.
fn write_pair(
    statement_path: &Path,
    statement: &str,
    signature_path: &Path,
    signature: &str,
    force: bool,
) -> Result<(), String> {
    if !force {
        for path in [statement_path, signature_path] {
            if path.symlink_metadata().is_ok() {
                return Err(format!(
                    "{} exists; pass --force to replace it, or -o to write elsewhere",
                    path.display()
                ));
            }
        }
    }
    write_file(statement_path, statement, force)?;
    if let Err(e) = write_file(signature_path, signature, force) {
        let _ = std::fs::remove_file(statement_path);
        return Err(format!(
            "{e}; the statement {} was removed",
            statement_path.display()
        ));
    }
    Ok(())
}

fn write_file(path: &Path, text: &str, replace: bool) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    options
        .open(path)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_minutes_hours_or_days_up_to_30_days() {
        assert_eq!(parse_duration("90m"), Ok(5_400));
        assert_eq!(parse_duration("24h"), Ok(86_400));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("30d"), Ok(2_592_000));
        assert!(
            parse_duration("31d")
                .expect_err("too long")
                .contains("longer than the 30d maximum")
        );
        assert!(
            parse_duration("721h")
                .expect_err("too long")
                .contains("30d maximum")
        );
        assert!(
            parse_duration("99999999999999999999d")
                .expect_err("huge")
                .contains("expected a number")
        );
        assert!(
            parse_duration("0m")
                .expect_err("zero")
                .contains("at least 1m")
        );
        for bad in ["", "m", "24", "1.5h", "-1h", "1w", "1 h", "1H"] {
            assert!(
                parse_duration(bad)
                    .expect_err(bad)
                    .contains("expected a number of minutes"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_principal_is_taken_from_the_comment_only_when_it_looks_like_one() {
        assert!(plausible_principal("alice@example.com"));
        assert!(plausible_principal("a.b+ci@corp.example.org"));
        for comment in [
            "",
            "alice",
            "root@buildbox",
            "alice smith@example.com",
            "a@b@example.com",
            "@example.com",
            "alice@example.com.",
            "alice@.com",
            "al\u{202e}ice@example.com",
        ] {
            assert!(!plausible_principal(comment), "{comment:?}");
        }
    }

    #[test]
    fn default_file_names_are_safe() {
        let statement = |principal: &str| Statement {
            release_digest: format!("sha256:{}", "0123456789ab".repeat(5) + "cdef"),
            environment: "prod".into(),
            principal: principal.into(),
            groups: vec!["dba".into()],
            decision: Decision::Approve,
            time: 0,
            expires: 1,
            comment: None,
        };
        assert_eq!(
            default_file_name(&statement("alice@example.com")),
            "alice@example.com-0123456789ab.approval.json"
        );
        assert_eq!(
            default_file_name(&statement("../etc/x y")),
            "_._etc_x_y-0123456789ab.approval.json"
        );
        assert_eq!(
            default_file_name(&statement(".hidden")),
            "_hidden-0123456789ab.approval.json"
        );
        assert_eq!(
            default_file_name(&statement(&"é".repeat(100))).len(),
            64 + "-0123456789ab.approval.json".len()
        );
    }
}
