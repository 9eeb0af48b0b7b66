//! `gatehouse audit verify|replay|export` (docs/audit.md): check an audit
//! log's chain and checkpoints (a file, or the chain in a `gatehouse serve`
//! store), re-evaluate its decisions ([`gatehouse_core::audit::replay`]) and
//! print what differs, or export a store's chain as a file. Writing the
//! records is `eval`'s ([`super::eval_audit`]) and the server's.

use crate::args::OutputFormat;
use crate::engines::EngineSettings;
use crate::output::report_error;
use gatehouse_core::approvals::AllowedSigners;
use gatehouse_core::audit::replay::{self, ReplayOptions};
use gatehouse_core::report::ErrorReport;
use gatehouse_core::settings::parse_assignment;
use gatehouse_core::untrusted::line;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Exit codes of `gatehouse audit`.
pub const AUDIT_HELP: &str = "\
Exit codes (verify):
  0  the chain is intact (the record count and the last line's sha256 are printed);
     with --allowed-signers, every checkpoint's signature verifies too (records
     after the last checkpoint are an unsigned tail: a warning)
  3  a line was edited, deleted, inserted, reordered or truncated (the first
     such line is named), a checkpoint's signature does not verify or its key is
     not allowed (bad-signature, unknown-key), the tail is unsigned with
     --require-signed, or the file cannot be read
Exit codes (replay):
  0  every replayed record has its recorded verdict
  1  some records now get a different verdict, or an approval another outcome
     (each is listed)
  3  a record could not be replayed (policy or allowed_signers file not found,
     error), or the file cannot be read";

/// Exit codes of `gatehouse audit export`.
pub const EXPORT_HELP: &str = "\
Exit codes:
  0  every record was written
  3  the store cannot be opened or read (or is at another schema version),
     or the output cannot be written";

/// Arguments of `gatehouse audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// What to do with the audit log.
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// The `gatehouse audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check an audit log's hash chain; report the first edited, deleted,
    /// inserted, reordered or truncated line, or OK with the record count.
    #[command(after_help = AUDIT_HELP)]
    Verify {
        /// The audit log (written by `eval --audit-log`, or `audit export`).
        #[arg(value_name = "FILE", required_unless_present = "store")]
        file: Option<PathBuf>,
        /// Verify the chain kept in a `gatehouse serve` store instead of a
        /// file: sqlite://FILE or postgres://USER@HOST/DB (read only; never
        /// created or migrated).
        #[arg(long, value_name = "URL", conflicts_with_all = ["file", "allowed_signers"])]
        store: Option<String>,
        /// Check every checkpoint's signature (`eval --audit-key`) against this
        /// OpenSSH allowed_signers file: the key must be listed, with the
        /// gatehouse-audit namespace allowed, valid at the checkpoint's time.
        /// Without it, checkpoints are checked for chain consistency only.
        #[arg(long, value_name = "FILE")]
        allowed_signers: Option<PathBuf>,
        /// Accept only checkpoint keys the allowed_signers file lists for this
        /// principal (default: any principal listed for the key).
        #[arg(long, value_name = "NAME", requires = "allowed_signers")]
        principal: Option<String>,
        /// Fail (exit 3) when records follow the last checkpoint (an unsigned
        /// tail), instead of warning.
        #[arg(long, requires = "allowed_signers")]
        require_signed: bool,
        /// Report format (github prints text).
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
    /// Write the audit chain of a `gatehouse serve` store as JSON lines, one
    /// record per line, exactly the stored bytes: `audit verify FILE`
    /// accepts the result.
    #[command(after_help = EXPORT_HELP)]
    Export {
        /// The store: sqlite://FILE or postgres://USER@HOST/DB (read only).
        #[arg(long, value_name = "URL")]
        store: String,
        /// Write to this file (created or replaced) instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Re-evaluate every recorded input with the policy of the recorded digest
    /// and list the records whose verdict differs.
    #[command(after_help = AUDIT_HELP)]
    Replay {
        /// The audit log (written by `eval --audit-log`).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Where to look for the policies, by sha256 of their .wasm files
        /// (repeatable). Default: the directories of the recorded policy paths.
        #[arg(long = "policy-dir", value_name = "DIR")]
        policy_dirs: Vec<PathBuf>,
        /// Replace a recorded setting: KEY=VALUE for every policy, or
        /// POLICY:KEY=VALUE for the policy of that name (config name, describe
        /// name or file stem). Repeatable. Shows what a settings change would decide.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
        /// The allowed_signers file the recorded signed approvals were verified
        /// against, to verify them again (repeatable; each record's is found by
        /// its recorded sha256). Default: the path each record names. A file
        /// whose sha256 is not the recorded one is refused.
        #[arg(long = "allowed-signers", value_name = "FILE")]
        allowed_signers: Vec<PathBuf>,
        /// Report format (github prints text).
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
}

/// Runs `gatehouse audit` and returns the exit code.
pub fn run(args: &AuditArgs, engines: &EngineSettings) -> i32 {
    match &args.command {
        AuditCommand::Verify {
            store: Some(url), ..
        } => verify_store(url, output_of(&args.command)),
        AuditCommand::Export { store, output } => export(store, output.as_deref()),
        AuditCommand::Verify { file: None, .. } => report_error(
            &ErrorReport::new("audit verify: give a FILE or --store URL".to_string()),
            output_of(&args.command),
        ),
        AuditCommand::Verify {
            file: Some(file),
            store: None,
            allowed_signers,
            principal,
            require_signed,
            output,
        } => verify(
            file,
            &KeyCheck {
                allowed_signers: allowed_signers.as_deref(),
                principal: principal.as_deref(),
                require_signed: *require_signed,
            },
            *output,
        ),
        AuditCommand::Replay {
            file,
            policy_dirs,
            settings,
            allowed_signers,
            output,
        } => replay(
            file,
            policy_dirs,
            settings,
            allowed_signers,
            *output,
            engines,
        ),
    }
}

fn output_of(command: &AuditCommand) -> OutputFormat {
    match command {
        AuditCommand::Verify { output, .. } | AuditCommand::Replay { output, .. } => *output,
        AuditCommand::Export { .. } => OutputFormat::Text,
    }
}

/// Reads a store's chain, each line's bytes ([`gatehouse_server::store::chain`]).
#[cfg(feature = "serve")]
fn store_lines(
    url: &str,
    each: impl FnMut(i64, String) -> Result<(), String>,
) -> Result<(), String> {
    gatehouse_server::store::chain::read_chain(url, each)
}

/// The store URL for messages, a PostgreSQL password hidden.
#[cfg(feature = "serve")]
fn store_name(url: &str) -> String {
    gatehouse_server::store::redact(url)
}

#[cfg(not(feature = "serve"))]
fn store_name(url: &str) -> String {
    line(url)
}

#[cfg(not(feature = "serve"))]
fn store_lines(
    _url: &str,
    _each: impl FnMut(i64, String) -> Result<(), String>,
) -> Result<(), String> {
    Err("--store: this gatehouse was built without the `serve` feature; build the default features (cargo install gatehouse) to read a store".into())
}

/// `audit verify --store`: the same checks and messages as for a file; a
/// line number is the record's seq (`SELECT * FROM decisions WHERE seq = N`).
fn verify_store(url: &str, output: OutputFormat) -> i32 {
    let name = format!("--store {}", store_name(url));
    let mut lines: Vec<Vec<u8>> = Vec::new();
    if let Err(e) = store_lines(url, |_, text| {
        lines.push(text.into_bytes());
        Ok(())
    }) {
        return report_error(&ErrorReport::new(e), output);
    }
    match gatehouse_core::audit::verify_lines(&lines) {
        Err(mut problem) => {
            problem.message = format!(
                "{} (the record with seq {}: SELECT * FROM decisions WHERE seq = {} in the store)",
                problem.message, problem.line, problem.line
            );
            verify_failed_named(&name, &problem, output)
        }
        Ok(verified) => {
            if output == OutputFormat::Json {
                print_json(&serde_json::json!({
                    "schema": "gatehouse.audit-verify/v1",
                    "ok": true,
                    "records": verified.records,
                    "last_sha256": verified.last_sha256,
                    "undelivered": verified.undelivered,
                    "lines": verified.lines,
                    "checkpoints": 0,
                    "signatures": "not-verified",
                }));
            } else {
                println!(
                    "OK: {} records, chain intact (last line sha256 {})",
                    verified.records, verified.last_sha256
                );
            }
            0
        }
    }
}

/// `audit export --store`: every chain line and a newline, as stored.
fn export(url: &str, output: Option<&Path>) -> i32 {
    use std::io::Write;
    let text = OutputFormat::Text;
    let mut out: Box<dyn Write> = match output {
        Some(path) => match std::fs::File::create(path) {
            Ok(file) => Box::new(std::io::BufWriter::new(file)),
            Err(e) => {
                return report_error(
                    &ErrorReport::new(format!(
                        "--output {}: cannot create it: {e}",
                        path.display()
                    )),
                    text,
                );
            }
        },
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut count = 0u64;
    let written = store_lines(url, |_, record| {
        count += 1;
        out.write_all(record.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| format!("cannot write the export: {e}"))
    })
    .and_then(|()| {
        out.flush()
            .map_err(|e| format!("cannot write the export: {e}"))
    });
    if let Err(e) = written {
        return report_error(&ErrorReport::new(e), text);
    }
    if let Some(path) = output {
        eprintln!("exported {count} records to {}", path.display());
    }
    0
}

fn print_json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(json) => println!("{json}"),
        Err(e) => crate::output::print_error(&format!("cannot serialise the result: {e}")),
    }
}

/// What `audit verify` checks of the checkpoints' keys.
struct KeyCheck<'a> {
    /// `--allowed-signers`: check every checkpoint's signature against it.
    allowed_signers: Option<&'a Path>,
    /// `--principal`: the only principal whose keys count.
    principal: Option<&'a str>,
    /// `--require-signed`: records after the last checkpoint are an error.
    require_signed: bool,
}

fn verify(file: &Path, keys: &KeyCheck, output: OutputFormat) -> i32 {
    let signers = match keys.allowed_signers.map(AllowedSigners::load).transpose() {
        Ok(signers) => signers,
        Err(e) => {
            return report_error(&ErrorReport::new(format!("--allowed-signers {e}")), output);
        }
    };
    let verified = match gatehouse_core::audit::verify(file) {
        Ok(Ok(verified)) => verified,
        Ok(Err(problem)) => return verify_failed(file, &problem, output),
        Err(e) => {
            return report_error(
                &ErrorReport::new(format!("{}: {e}", file.display())),
                output,
            );
        }
    };
    let signed = match signers
        .as_ref()
        .map(|s| gatehouse_core::audit_checkpoint::check_signatures(&verified, s, keys.principal))
        .transpose()
    {
        Ok(signed) => signed,
        Err(problem) => return verify_failed(file, &problem, output),
    };
    let tail = gatehouse_core::audit_checkpoint::unsigned_tail(&verified);
    let tail_text = tail.as_ref().map(|t| {
        let after = if verified.checkpoints.is_empty() {
            "there is no checkpoint:"
        } else {
            "after the last checkpoint"
        };
        let lines = if t.first_line == t.last_line {
            format!("line {}", t.first_line)
        } else {
            format!("lines {} to {}", t.first_line, t.last_line)
        };
        format!(
            "{} {} {after} ({lines}) {} not signed",
            t.records,
            plural(t.records, "record", "records"),
            plural(t.records, "is", "are")
        )
    });
    if let (Some(t), Some(text), true) = (&tail, &tail_text, keys.require_signed) {
        let problem = gatehouse_core::audit::Problem {
            line: t.first_line,
            kind: "unsigned",
            message: format!("{text}, and --require-signed refuses an unsigned tail"),
        };
        return verify_failed(file, &problem, output);
    }
    if let (Some(text), Some(_)) = (&tail_text, &signed) {
        crate::output::print_warning(&format!(
            "{}: {text}: whoever can write the log can change or remove them undetected (--require-signed makes this an error)",
            file.display()
        ));
    }
    let last = verified.checkpoints.last().map(|c| &c.checkpoint);
    if output == OutputFormat::Json {
        print_json(&serde_json::json!({
            "schema": "gatehouse.audit-verify/v1",
            "ok": true,
            "records": verified.records,
            "last_sha256": verified.last_sha256,
            "undelivered": verified.undelivered,
            "lines": verified.lines,
            "checkpoints": verified.checkpoints.len(),
            "signatures": if signed.is_some() { "verified" } else { "not-verified" },
            "signed_records": signed.as_ref().map(|s| s.signed_records),
            "signers": signed.as_ref().map(|s| s.signers.clone()).unwrap_or_default(),
            "last_checkpoint": last.map(|c| serde_json::json!({
                "line": c.seq,
                "covers_seq": c.covers_seq,
                "covers_sha256": c.covers_sha256,
                "time": c.time,
                "key_fingerprint": c.key_fingerprint,
            })),
            "unsigned_tail": tail,
        }));
        return 0;
    }
    let count = if verified.checkpoints.is_empty() {
        format!("{} records", verified.records)
    } else {
        format!(
            "{} records and {} {} ({} lines)",
            verified.records,
            verified.checkpoints.len(),
            plural(
                verified.checkpoints.len() as u64,
                "checkpoint",
                "checkpoints"
            ),
            verified.lines
        )
    };
    println!(
        "OK: {count}, chain intact (last line sha256 {})",
        verified.last_sha256
    );
    match (&signed, last) {
        (Some(signed), Some(last)) => {
            let by: Vec<String> = signed
                .signers
                .iter()
                .map(|s| {
                    format!(
                        "{} ({}; {} {})",
                        s.key_fingerprint,
                        gatehouse_core::untrusted::line_list(&s.principals, ", "),
                        s.checkpoints,
                        plural(s.checkpoints, "checkpoint", "checkpoints")
                    )
                })
                .collect();
            println!(
                "signed: every checkpoint's signature verifies; the {} {} up to line {} {} signed by {}",
                signed.signed_records,
                plural(signed.signed_records, "record", "records"),
                last.covers_seq,
                plural(signed.signed_records, "is", "are"),
                by.join(", ")
            );
            println!(
                "last checkpoint: line {} signs line {} (sha256 {}) at {}; anchor it outside the log: removing lines from the end back to an earlier checkpoint cannot be detected from the file alone",
                last.seq,
                last.covers_seq,
                last.covers_sha256,
                gatehouse_core::untrusted::line(&last.time)
            );
        }
        (Some(_), None) => {
            println!(
                "signed: no checkpoint, so no record is signed (eval --audit-key writes them)"
            );
        }
        (None, Some(_)) => {
            println!(
                "note: the checkpoints' signatures were not verified: pass --allowed-signers FILE to check them"
            );
        }
        (None, None) => {}
    }
    if let (Some(text), Some(_)) = (&tail_text, &signed) {
        println!("unsigned tail: {text}");
    }
    for u in &verified.undelivered {
        println!(
            "note: the decision of record {} was not delivered; its final outcome is record {} (exit 3)",
            u.seq, u.outcome_seq
        );
    }
    0
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// Reports the first problem `audit verify` found (exit 3).
fn verify_failed(
    file: &Path,
    problem: &gatehouse_core::audit::Problem,
    output: OutputFormat,
) -> i32 {
    verify_failed_named(&file.display().to_string(), problem, output)
}

fn verify_failed_named(
    name: &str,
    problem: &gatehouse_core::audit::Problem,
    output: OutputFormat,
) -> i32 {
    crate::output::print_error(&format!(
        "{}: line {}: {}: {}",
        name, problem.line, problem.kind, problem.message
    ));
    if output == OutputFormat::Json {
        print_json(&serde_json::json!({
            "schema": "gatehouse.audit-verify/v1",
            "ok": false,
            "line": problem.line,
            "kind": problem.kind,
            "message": problem.message,
        }));
    } else {
        println!(
            "FAILED: line {} {}: {}",
            problem.line,
            problem.kind,
            gatehouse_core::untrusted::line(&problem.message)
        );
    }
    crate::output::EXIT_ERROR
}

/// `audit replay`: re-evaluates the log's records in the core
/// ([`replay::replay`]) and prints what differs.
fn replay(
    file: &Path,
    policy_dirs: &[PathBuf],
    settings: &[String],
    allowed_signers: &[PathBuf],
    output: OutputFormat,
    engines: &EngineSettings,
) -> i32 {
    let fail = |message: String| report_error(&ErrorReport::new(message), output);
    let overrides = match settings
        .iter()
        .map(|s| parse_assignment(s))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(overrides) => overrides,
        Err(e) => return fail(e),
    };
    let records = match gatehouse_core::audit::read_records(file) {
        Ok(records) => records,
        Err(e) => return fail(format!("{}: {e}", file.display())),
    };
    let runtime = match engines.builder().limits(&replay::limits(&records)).build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(e.to_string()),
    };
    let options = ReplayOptions {
        policy_dirs: policy_dirs.to_vec(),
        overrides,
        allowed_signers: allowed_signers.to_vec(),
    };
    let result = replay::replay(&records, &runtime, &options);
    if output == OutputFormat::Json {
        print_json(&serde_json::json!({
            "schema": "gatehouse.audit-replay/v1",
            "records": result.records,
            "replayed": result.replayed,
            "skipped": result.skipped,
            "differences": result.differences,
            "errors": result.errors,
            "undelivered": result.undelivered,
        }));
    } else {
        for d in &result.differences {
            let detail: Vec<String> = d
                .policies
                .iter()
                .map(|p| format!("{}: {} -> {}", p.name, p.recorded, p.replayed))
                .chain(d.approvals.iter().map(|a| {
                    format!(
                        "approval {}: {} -> {}{}",
                        line(&a.file),
                        a.recorded,
                        a.replayed,
                        a.message
                            .as_deref()
                            .map(|m| format!(": {}", line(m)))
                            .unwrap_or_default()
                    )
                }))
                .collect();
            println!(
                "line {} (seq {}): recorded {}, replayed {} ({})",
                d.line,
                d.seq,
                d.recorded,
                d.replayed,
                detail.join("; ")
            );
        }
        for e in &result.errors {
            println!("line {}: cannot replay: {}", e.line, e.error);
        }
        for u in &result.undelivered {
            println!(
                "record {}: its decision was not delivered; the final outcome is record {} (exit 3)",
                u.seq, u.outcome_seq
            );
        }
        println!(
            "{} records: {} replayed, {} differ, {} skipped (errors, no input or no policy ran), {} could not be replayed",
            result.records,
            result.replayed,
            result.differences.len(),
            result.skipped,
            result.errors.len()
        );
    }
    for e in &result.errors {
        crate::output::print_error(&format!("line {}: cannot replay: {}", e.line, e.error));
    }
    if !result.errors.is_empty() {
        crate::output::EXIT_ERROR
    } else if !result.differences.is_empty() {
        1
    } else {
        0
    }
}
