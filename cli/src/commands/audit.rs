//! `eval --audit-log FILE` (building the record of one evaluation) and
//! `gatehouse audit verify|replay` (docs/audit.md).

use super::cache::EngineSettings;
use super::{EvalArgs, OutputFormat, report_error};
use gatehouse_core::approvals::{AllowedSigners, Signer};
use gatehouse_core::audit::{Appender, GrantsRecord, LimitHit, LimitsRecord, PolicyRecord, Record};
use gatehouse_core::decision::Verdict;
use gatehouse_core::error::Error;
use gatehouse_core::release::Release;
use gatehouse_core::report::{ErrorReport, Report};
use gatehouse_core::runtime::{Grants, Limits, LoadedPolicy, RunOptions, Runtime};
use gatehouse_core::settings::{Assignment, parse_assignment};
use gatehouse_core::untrusted::line;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
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
        /// The audit log (written by `eval --audit-log`).
        #[arg(value_name = "FILE")]
        file: PathBuf,
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

/// What `eval` learned before it finished, for the audit record.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// Hex sha256 of the input bytes.
    pub input_sha256: Option<String>,
    /// The normalised release.
    pub release: Option<Release>,
    /// Its digest ([`Release::digest`]), once the input was read.
    pub release_digest: Option<String>,
    /// The evaluation time.
    pub now: Option<i64>,
    /// Each policy-set entry's limits, by name (`--config`).
    pub set_limits: Vec<(String, Limits)>,
    /// The approvals, once gathered.
    pub approvals: Option<gatehouse_core::approvals::ApprovalsRecord>,
}

fn limits_record(limits: &Limits) -> LimitsRecord {
    LimitsRecord {
        fuel: limits.fuel,
        memory_bytes: limits.memory_bytes as u64,
        timeout_ms: limits.timeout_ms,
    }
}

/// The part of a record every record of one `eval` shares: when, on what
/// input, with which policy set; verdict `error` (exit 3) until set.
fn base_record(args: &EvalArgs, seen: &Observed) -> Result<Record, String> {
    let time = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| gatehouse_core::time::format_utc(gatehouse_core::time::now_unix()));
    Ok(Record {
        schema: gatehouse_core::audit::SCHEMA.to_string(),
        seq: 0,
        time,
        evaluated_at: seen.now.map(gatehouse_core::time::format_utc),
        host_version: env!("CARGO_PKG_VERSION").to_string(),
        input_sha256: seen.input_sha256.clone(),
        input: None,
        metadata: seen
            .release
            .as_ref()
            .map(|r| r.metadata.clone())
            .unwrap_or_default(),
        config: args.config.as_ref().map(|c| c.display().to_string()),
        policies: Vec::new(),
        verdict: "error".to_string(),
        exit_code: super::EXIT_ERROR,
        error: None,
        limit_hit: None,
        release_digest: seen.release_digest.clone(),
        nothing_applied: None,
        outcome_of: None,
        approvals: seen.approvals.clone(),
        prev_sha256: String::new(),
    })
}

/// Opens the audit log at `path` for appending (locked until dropped),
/// warning on stderr when a torn last line was removed first.
fn open_log(path: &Path) -> Result<Appender, String> {
    let log = Appender::open(path)?;
    if log.repaired_bytes() > 0 {
        let (next, _) = log.next_link();
        let _ = writeln!(
            std::io::stderr(),
            "gatehouse: warning: --audit-log {}: removed a torn last line ({} bytes) left by an interrupted gatehouse before appending record {next}; the {} records before it form a valid chain",
            path.display(),
            log.repaired_bytes(),
            next - 1
        );
    }
    Ok(log)
}

/// Loads `--audit-key` (a private key file, or a public key whose private
/// half ssh-agent holds), `None` without it.
pub(crate) fn load_audit_key(args: &EvalArgs) -> Result<Option<Signer>, Error> {
    let Some(path) = &args.audit_key else {
        return Ok(None);
    };
    let agent_socket = std::env::var_os("SSH_AUTH_SOCK")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    Signer::load_for("--audit-key", path, agent_socket.as_deref())
        .map(Some)
        .map_err(Error::Usage)
}

/// Appends the record of one `eval` (a decision or an error) to `path` and
/// returns its `seq`.
///
/// With `key` (`--audit-key`), a checkpoint signing the record follows it
/// under the same lock. When the key cannot sign, the decision is not
/// delivered: a record of that (`outcome_of`, exit 3) follows instead, and
/// the error says so.
pub(crate) fn record_eval(
    path: &Path,
    args: &EvalArgs,
    seen: &Observed,
    outcome: &Result<Report, Error>,
    key: Option<&mut Signer>,
) -> Result<u64, String> {
    let cli_limits = LimitsRecord {
        fuel: args.fuel,
        memory_bytes: args.memory_mib.saturating_mul(1 << 20),
        timeout_ms: args.timeout_ms,
    };
    let mut record = base_record(args, seen)?;
    record.input = match &seen.release {
        Some(release) => Some(
            serde_json::to_value(release)
                .map_err(|e| format!("cannot serialise the input: {e}"))?,
        ),
        None => None,
    };
    let release_digest = record.release_digest.clone();
    match outcome {
        Ok(report) => {
            record.verdict = report.verdict.as_str().to_string();
            record.exit_code = report.exit_code;
            record.nothing_applied = report
                .nothing_applied
                .as_ref()
                .map(|n| n.action.to_string());
            for p in &report.policies {
                let limits = p
                    .config_name
                    .as_ref()
                    .and_then(|name| seen.set_limits.iter().find(|(n, _)| n == name))
                    .map_or_else(|| cli_limits.clone(), |(_, l)| limits_record(l));
                record.policies.push(PolicyRecord {
                    name: p.name.clone(),
                    config_name: p.config_name.clone(),
                    version: p.version.clone(),
                    path: p.path.clone(),
                    wasm_sha256: p.wasm_sha256.clone(),
                    settings: p.settings.clone(),
                    grants: GrantsRecord {
                        read_dirs: p.grants.read_dirs.clone(),
                        env: p.grants.env.clone(),
                    },
                    limits,
                    verdict: p.verdict.as_str().to_string(),
                    reasons: serde_json::to_value(&p.reasons).unwrap_or_default(),
                    random_real: Some(p.grants.random),
                    // What seeded its deterministic `wasi:random`, so replay
                    // can check it reproduces the same stream.
                    random_seed: release_digest.as_deref().filter(|_| !p.grants.random).map(
                        |digest| {
                            gatehouse_core::runtime::random_seed(digest, &p.wasm_sha256).to_string()
                        },
                    ),
                    approved_by: p.approved_by.clone(),
                    counts_approvals_itself: p.counts_approvals_itself,
                });
            }
        }
        Err(err) => {
            let report = ErrorReport::from_error(err);
            record.error = Some(report.error);
            record.limit_hit = report.limit.map(|l| LimitHit {
                name: l.name.to_string(),
                value: l.value,
            });
        }
    }
    let mut log = open_log(path)?;
    let seq = log.append_record(&mut record)?;
    let Some(key) = key else {
        return Ok(seq);
    };
    let Err(e) = gatehouse_core::audit_checkpoint::append(&mut log, key) else {
        return Ok(seq);
    };
    let failure = format!("cannot sign the checkpoint of record {seq} with --audit-key: {e}");
    if record.verdict == "error" {
        // No decision to withhold: the run fails (exit 3) as recorded.
        return Err(format!(
            "{failure}; record {seq} (exit 3: {}) is not signed",
            record.error.as_deref().unwrap_or("error")
        ));
    }
    let mut undelivered = base_record(args, seen)?;
    undelivered.error = Some(format!(
        "the decision of record {seq} was not delivered: {failure}"
    ));
    undelivered.outcome_of = Some(seq);
    match log.append_record(&mut undelivered) {
        Ok(outcome) => Err(format!(
            "{failure}; the decision was not delivered, and record {outcome} says so"
        )),
        Err(e) => Err(format!(
            "{failure}; and cannot record that the decision was not delivered: {e}"
        )),
    }
}

/// Appends the record that the decision of record `decided` could not be
/// delivered (`error`, the process's exit 3): that decision's final outcome;
/// with `key`, and a checkpoint signing it. The error says what failed.
pub(crate) fn record_undelivered(
    path: &Path,
    args: &EvalArgs,
    seen: &Observed,
    decided: u64,
    error: &str,
    key: Option<&mut Signer>,
) -> Result<u64, String> {
    let mut record = base_record(args, seen)?;
    record.error = Some(format!(
        "the decision of record {decided} was not delivered: {error}"
    ));
    record.outcome_of = Some(decided);
    let cannot =
        |e: String| format!("cannot record that decision {decided} was not delivered: {e}");
    let mut log = open_log(path).map_err(cannot)?;
    let seq = log.append_record(&mut record).map_err(cannot)?;
    if let Some(key) = key {
        gatehouse_core::audit_checkpoint::append(&mut log, key).map_err(|e| {
            format!("recorded that decision {decided} was not delivered (record {seq}), but cannot sign its checkpoint with --audit-key: {e}")
        })?;
    }
    Ok(seq)
}

/// Runs `gatehouse audit` and returns the exit code.
pub fn run(args: &AuditArgs, engines: &EngineSettings) -> i32 {
    match &args.command {
        AuditCommand::Verify {
            file,
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

fn print_json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(json) => println!("{json}"),
        Err(e) => super::print_error(&format!("cannot serialise the result: {e}")),
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
        super::print_warning(&format!(
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
    super::print_error(&format!(
        "{}: line {}: {}: {}",
        file.display(),
        problem.line,
        problem.kind,
        problem.message
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
    super::EXIT_ERROR
}

/// One record whose verdict (or an approval's outcome) differs on replay.
#[derive(Debug, Serialize)]
struct Difference {
    line: u64,
    seq: u64,
    recorded: String,
    replayed: String,
    policies: Vec<PolicyDifference>,
    approvals: Vec<ApprovalDifference>,
}

/// A signed approval whose outcome differs when verified again: a
/// tampered statement or signature in the record, or another verdict.
#[derive(Debug, Serialize)]
struct ApprovalDifference {
    file: String,
    recorded: String,
    replayed: String,
    message: Option<String>,
}

/// What replaying one record gave.
struct Replayed {
    verdict: Verdict,
    policies: Vec<PolicyDifference>,
    approvals: Vec<ApprovalDifference>,
}

/// The allowed_signers files replay may verify approvals against: those
/// given (`--allowed-signers`), else the path a record names; each loaded
/// once, and used only for a record whose recorded sha256 it has.
struct SignerFiles {
    given: Vec<PathBuf>,
    loaded: HashMap<PathBuf, Result<gatehouse_core::approvals::AllowedSigners, String>>,
}

impl SignerFiles {
    fn load(&mut self, path: &Path) -> &Result<gatehouse_core::approvals::AllowedSigners, String> {
        self.loaded.entry(path.to_path_buf()).or_insert_with(|| {
            gatehouse_core::approvals::AllowedSigners::load(path).map_err(|e| e.to_string())
        })
    }

    /// The file with the recorded sha256, or why there is none.
    fn find(
        &mut self,
        trust: &gatehouse_core::approvals::TrustRecord,
    ) -> Result<gatehouse_core::approvals::AllowedSigners, String> {
        let candidates = if self.given.is_empty() {
            vec![PathBuf::from(&trust.allowed_signers)]
        } else {
            self.given.clone()
        };
        let mut seen = Vec::new();
        for path in &candidates {
            match self.load(path) {
                Ok(signers) if signers.sha256() == trust.allowed_signers_sha256 => {
                    return Ok(signers.clone());
                }
                Ok(signers) => seen.push(format!(
                    "{} has sha256 {}",
                    path.display(),
                    signers.sha256()
                )),
                Err(e) => seen.push(e.clone()),
            }
        }
        Err(format!(
            "its signed approvals were verified against the allowed_signers file {} with sha256 {}, and no such file is at hand ({}); pass --allowed-signers with that file as it was then",
            trust.allowed_signers,
            trust.allowed_signers_sha256,
            seen.join("; ")
        ))
    }
}

#[derive(Debug, Serialize)]
struct PolicyDifference {
    name: String,
    recorded: String,
    replayed: String,
}

#[derive(Debug, Serialize)]
struct ReplayError {
    line: u64,
    error: String,
}

/// Finds policy files by the sha256 of their bytes, hashing each `.wasm`
/// of the searched directories once.
struct WasmIndex {
    scanned: Vec<PathBuf>,
    by_sha: HashMap<String, PathBuf>,
    /// Whether to search the directory of each recorded policy path (no
    /// `--policy-dir` given).
    search_recorded_dirs: bool,
}

impl WasmIndex {
    fn scan(&mut self, dir: &Path) {
        if self.scanned.iter().any(|d| d == dir) {
            return;
        }
        self.scanned.push(dir.to_path_buf());
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
            .collect();
        paths.sort();
        for path in paths {
            if let Ok(bytes) = std::fs::read(&path) {
                self.by_sha
                    .entry(gatehouse_core::audit::sha256_hex(&bytes))
                    .or_insert(path);
            }
        }
    }
}

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
    let limits = records
        .iter()
        .flat_map(|(_, r)| &r.policies)
        .map(|p| to_limits(&p.limits))
        .reduce(|a, b| a.max(&b))
        .unwrap_or_default();
    let runtime = match engines.builder().limits(&limits).build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(e.to_string()),
    };
    let mut index = WasmIndex {
        scanned: Vec::new(),
        by_sha: HashMap::new(),
        search_recorded_dirs: policy_dirs.is_empty(),
    };
    for dir in policy_dirs {
        index.scan(dir);
    }
    let mut loaded: HashMap<String, LoadedPolicy> = HashMap::new();
    let mut signer_files = SignerFiles {
        given: allowed_signers.to_vec(),
        loaded: HashMap::new(),
    };
    let mut differences = Vec::new();
    let mut errors = Vec::new();
    let (mut replayed, mut skipped) = (0u64, 0u64);
    // Decisions whose report was not delivered: their final outcome is the
    // later record (exit 3) that names them.
    let undelivered: Vec<gatehouse_core::audit::Undelivered> = records
        .iter()
        .filter_map(|(_, r)| {
            r.outcome_of.map(|seq| gatehouse_core::audit::Undelivered {
                seq,
                outcome_seq: r.seq,
            })
        })
        .collect();
    for (line, record) in &records {
        // Errors have no decision to compare; a decision no policy made (the
        // set's when-nothing-applies) has nothing to re-evaluate.
        let Some(input) = record
            .input
            .clone()
            .filter(|_| record.verdict != "error" && !record.policies.is_empty())
        else {
            skipped += 1;
            continue;
        };
        let result = replay_record(
            record,
            input,
            &runtime,
            &mut index,
            &mut loaded,
            &overrides,
            &mut signer_files,
        );
        match result {
            Ok(result) => {
                replayed += 1;
                if result.verdict.as_str() != record.verdict || !result.approvals.is_empty() {
                    differences.push(Difference {
                        line: *line,
                        seq: record.seq,
                        recorded: record.verdict.clone(),
                        replayed: result.verdict.as_str().to_string(),
                        policies: result.policies,
                        approvals: result.approvals,
                    });
                }
            }
            Err(error) => errors.push(ReplayError { line: *line, error }),
        }
    }
    if output == OutputFormat::Json {
        print_json(&serde_json::json!({
            "schema": "gatehouse.audit-replay/v1",
            "records": records.len(),
            "replayed": replayed,
            "skipped": skipped,
            "differences": differences,
            "errors": errors,
            "undelivered": undelivered,
        }));
    } else {
        for d in &differences {
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
        for e in &errors {
            println!("line {}: cannot replay: {}", e.line, e.error);
        }
        for u in &undelivered {
            println!(
                "record {}: its decision was not delivered; the final outcome is record {} (exit 3)",
                u.seq, u.outcome_seq
            );
        }
        println!(
            "{} records: {replayed} replayed, {} differ, {skipped} skipped (errors, no input or no policy ran), {} could not be replayed",
            records.len(),
            differences.len(),
            errors.len()
        );
    }
    for e in &errors {
        super::print_error(&format!("line {}: cannot replay: {}", e.line, e.error));
    }
    if !errors.is_empty() {
        super::EXIT_ERROR
    } else if !differences.is_empty() {
        1
    } else {
        0
    }
}

fn to_limits(l: &LimitsRecord) -> Limits {
    Limits {
        fuel: l.fuel,
        memory_bytes: usize::try_from(l.memory_bytes).unwrap_or(usize::MAX),
        timeout_ms: l.timeout_ms,
        ..Limits::default()
    }
}

/// Whether a `--set` override applies to a recorded policy.
fn applies(a: &Assignment, p: &PolicyRecord) -> bool {
    match &a.scope {
        None => true,
        Some(scope) => {
            p.config_name.as_deref() == Some(scope.as_str())
                || &p.name == scope
                || Path::new(&p.path)
                    .file_stem()
                    .is_some_and(|s| s == scope.as_str())
        }
    }
}

/// Verifies the record's signed approvals again (when it has any under a
/// trust section) and returns the valid ones, with every approval whose
/// outcome now differs; `release.approvals` becomes the valid ones.
fn replay_approvals(
    record: &Record,
    release: &mut Release,
    release_digest: &str,
    now: i64,
    signer_files: &mut SignerFiles,
) -> Result<
    (
        Vec<gatehouse_core::approvals::Counted>,
        Vec<ApprovalDifference>,
    ),
    String,
> {
    use gatehouse_core::approvals::{ApprovalEntry, ReleaseFacts};
    let Some(recorded) = record.approvals.as_ref() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let Some(trust) = recorded.trust.as_ref() else {
        return Ok((Vec::new(), Vec::new()));
    };
    if recorded.entries.is_empty() {
        release.approvals.clear();
        return Ok((Vec::new(), Vec::new()));
    }
    let signers = signer_files.find(trust)?;
    let facts = ReleaseFacts {
        digest: release_digest,
        environment: &release.environment_name,
        at: now,
    };
    let assessed = recorded.reassess(&signers, &release.metadata, facts)?;
    let mut differences = Vec::new();
    for (entry, again) in recorded.entries.iter().zip(&assessed) {
        let again = ApprovalEntry::new(again);
        if again.outcome() != entry.outcome() || again.groups != entry.groups {
            differences.push(ApprovalDifference {
                file: entry.file.clone(),
                recorded: entry.outcome(),
                replayed: again.outcome(),
                message: again.message,
            });
        }
    }
    let counted: Vec<_> = assessed.iter().filter_map(|a| a.counted()).collect();
    release.approvals = counted
        .iter()
        .map(gatehouse_core::approvals::Counted::to_release_approval)
        .collect();
    Ok((counted, differences))
}

fn replay_record(
    record: &Record,
    input: serde_json::Value,
    runtime: &Runtime,
    index: &mut WasmIndex,
    loaded: &mut HashMap<String, LoadedPolicy>,
    overrides: &[Assignment],
    signer_files: &mut SignerFiles,
) -> Result<Replayed, String> {
    let mut release: Release = serde_json::from_value(input)
        .map_err(|e| format!("the recorded input is not a release: {e}"))?;
    let when = record.evaluated_at.as_deref().unwrap_or(&record.time);
    let now =
        gatehouse_core::time::parse_rfc3339(when).map_err(|e| format!("evaluated_at: {e}"))?;
    let release_digest = release.digest();
    if let Some(recorded) = &record.release_digest
        && recorded != &release_digest
    {
        return Err(format!(
            "the recorded release_digest {recorded} is not the digest of the recorded input ({release_digest}): the record was edited, or written before the {} digest",
            gatehouse_core::release::digest::VERSION
        ));
    }
    let (counted, approval_differences) =
        replay_approvals(record, &mut release, &release_digest, now, signer_files)?;
    let mut verdicts = Vec::with_capacity(record.policies.len());
    let mut per_policy = Vec::new();
    for p in &record.policies {
        if !loaded.contains_key(&p.wasm_sha256) {
            if index.search_recorded_dirs {
                let dir = Path::new(&p.path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                index.scan(dir);
            }
            let path = index.by_sha.get(&p.wasm_sha256).ok_or_else(|| {
                format!(
                    "no .wasm file with sha256 {} (policy {}, recorded at {}) in {}",
                    p.wasm_sha256,
                    p.name,
                    p.path,
                    index
                        .scanned
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let policy = runtime.load(path).map_err(|e| e.to_string())?;
            loaded.insert(p.wasm_sha256.clone(), policy);
        }
        let policy = loaded
            .get(&p.wasm_sha256)
            .ok_or_else(|| "internal: policy not loaded".to_string())?;
        let mut settings: BTreeMap<String, String> = p.settings.clone();
        for a in overrides.iter().filter(|a| applies(a, p)) {
            settings.insert(a.key.clone(), a.value.clone());
        }
        let settings: Vec<(String, String)> = settings.into_iter().collect();
        let mut grants = Grants::default();
        for dir in &p.grants.read_dirs {
            grants.allow_read(dir)?;
        }
        for name in &p.grants.env {
            grants.allow_env(name)?;
        }
        if let Some(recorded) = &p.random_seed {
            let seed =
                gatehouse_core::runtime::random_seed(&release_digest, &p.wasm_sha256).to_string();
            if &seed != recorded {
                return Err(format!(
                    "policy {}: the recorded release gives the random seed {seed}, but the record says {recorded}; the release digest changed since the decision, so its wasi:random stream cannot be reproduced",
                    p.name
                ));
            }
        }
        grants.random = p.random_real == Some(true);
        let options = RunOptions::new(now, to_limits(&p.limits), grants)
            .with_release_digest(release_digest.clone());
        let (run, settlement) =
            super::eval_approvals::run_and_settle(policy, &release, &settings, &options, &counted)
                .map_err(|e| e.to_string())?;
        let verdict = match settlement {
            gatehouse_core::approvals::Settlement::Satisfied(_) => Verdict::AutoApprove,
            _ => run.decision.verdict,
        };
        if verdict.as_str() != p.verdict {
            per_policy.push(PolicyDifference {
                name: p.config_name.clone().unwrap_or_else(|| p.name.clone()),
                recorded: p.verdict.clone(),
                replayed: verdict.as_str().to_string(),
            });
        }
        verdicts.push(verdict);
    }
    let verdict = gatehouse_core::gate::aggregate(verdicts)
        .ok_or_else(|| "the record names no policy: nothing to replay".to_string())?;
    Ok(Replayed {
        verdict,
        policies: per_policy,
        approvals: approval_differences,
    })
}
