//! The audit trail (`eval --audit-log FILE`): one JSON line per evaluation,
//! each chained to the previous line by its sha256, appended under an
//! exclusive file lock; and the check of such a file (`gatehouse audit verify`).
//! The format is described in docs/audit.md.
//!
//! A file is only ever modified when it is a Gatehouse audit log: [`append`]
//! checks first (the file is empty, or its last records parse and chain) and
//! repairs after (a torn last line left by an interrupted gatehouse is
//! removed only when everything before it is a valid chain). Anything else is
//! refused with the file untouched.
//!
//! With `--audit-key`, signed checkpoint lines ([`crate::audit_checkpoint`])
//! are part of the same chain: each [`Line`] is a record or a checkpoint.

pub mod checkpoint;
pub mod replay;

use checkpoint::Checkpoint;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The schema identifier of every audit line.
pub const SCHEMA: &str = "gatehouse.audit/v1";

/// The text whose sha256 the first line chains to (its `prev_sha256`).
pub const GENESIS_TEXT: &str = "gatehouse.audit/v1 genesis";

/// The `prev_sha256` of the first line: hex sha256 of [`GENESIS_TEXT`].
pub fn genesis() -> String {
    sha256_hex(GENESIS_TEXT.as_bytes())
}

/// Hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The release a record keeps, as JSON text: serialised once from the
/// release the policies saw and kept byte for byte when a record is read
/// back (verifying or storing a record never builds a JSON tree of a
/// release that may have 100,000 resources).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordedInput(Box<serde_json::value::RawValue>);

impl RecordedInput {
    /// The release as a record keeps it.
    pub fn of(release: &crate::release::Release) -> Result<RecordedInput, serde_json::Error> {
        serde_json::value::to_raw_value(release).map(RecordedInput)
    }

    /// Wraps JSON text that is known to be valid (a release read back from
    /// a store); an error names what is wrong with it.
    pub fn from_json(text: String) -> Result<RecordedInput, serde_json::Error> {
        serde_json::value::RawValue::from_string(text).map(RecordedInput)
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The JSON text, owned.
    pub fn into_string(self) -> String {
        Box::<str>::from(self.0).into_string()
    }

    /// The release it records (for a replay).
    pub fn release(&self) -> Result<crate::release::Release, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

/// The JSON text.
impl std::fmt::Display for RecordedInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

/// Two recorded inputs are equal when their texts are.
impl PartialEq for RecordedInput {
    fn eq(&self, other: &RecordedInput) -> bool {
        self.get() == other.get()
    }
}

/// One audit line: one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// 1-based position in the file; set by [`append`].
    pub seq: u64,
    /// When the record was written (RFC 3339 UTC, wall clock).
    pub time: String,
    /// The evaluation time the policies saw (`--now` or the clock), RFC 3339 UTC.
    pub evaluated_at: Option<String>,
    /// The gatehouse version that wrote the line.
    pub host_version: String,
    /// Hex sha256 of the input bytes, null when the input could not be read.
    pub input_sha256: Option<String>,
    /// The normalised release JSON the policies saw (null when the input
    /// could not be read or converted).
    pub input: Option<RecordedInput>,
    /// The release's metadata (who triggered it, pipeline: pass them with `--meta`).
    pub metadata: BTreeMap<String, String>,
    /// The policy set (`--config`), or null with `--policy`.
    pub config: Option<String>,
    /// Each policy that ran.
    pub policies: Vec<PolicyRecord>,
    /// `auto-approve`, `require-approval`, `fail` or `error`.
    pub verdict: String,
    /// The process exit code.
    pub exit_code: i32,
    /// The error message when no decision could be made (exit 3).
    pub error: Option<String>,
    /// The sandbox limit hit when a policy was stopped by one:
    /// `{"name": "fuel", "value": 50000000}`.
    pub limit_hit: Option<LimitHit>,
    /// The release digest ([`crate::release::Release::digest`], what
    /// approvals sign and what seeds a policy's deterministic random
    /// stream), null without input.
    #[serde(default)]
    pub release_digest: Option<String>,
    /// The policy set's `when-nothing-applies` when it gave the verdict
    /// because no policy applied (`fail`, `require-approval`,
    /// `auto-approve`), else null.
    #[serde(default)]
    pub nothing_applied: Option<String>,
    /// On a record written because the decision of an earlier record could
    /// not be delivered (its report not written): that record's `seq`. This
    /// record (exit 3) is then the decision's final outcome.
    #[serde(default)]
    pub outcome_of: Option<u64>,
    /// The approvals: unverified, or each signed approval with its status,
    /// reason and bytes, and the trust settings they were checked by
    /// ([`crate::approvals::ApprovalsRecord`]); null in older records and
    /// when the input could not be read.
    #[serde(default)]
    pub approvals: Option<crate::approvals::ApprovalsRecord>,
    /// Hex sha256 of the previous line's bytes (without its newline), or of
    /// [`GENESIS_TEXT`] for the first line; set by [`append`].
    pub prev_sha256: String,
}

/// One policy's part of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRecord {
    /// From `describe`.
    pub name: String,
    /// Its name in the policy set, or null.
    pub config_name: Option<String>,
    /// From `describe`.
    pub version: String,
    /// The policy file as given.
    pub path: String,
    /// Hex sha256 of the wasm file.
    pub wasm_sha256: String,
    /// The settings it received.
    pub settings: BTreeMap<String, String>,
    /// Capabilities granted.
    pub grants: GrantsRecord,
    /// The limits it ran under.
    pub limits: LimitsRecord,
    /// Its verdict.
    pub verdict: String,
    /// Its reasons (`[{"message", "resource_path"}]`).
    pub reasons: serde_json::Value,
    /// Whether `wasi:random` gave it real random bytes (not reproducible on
    /// replay) rather than a stream seeded from the release and policy
    /// digests; null in records written before this was recorded.
    #[serde(default)]
    pub random_real: Option<bool>,
    /// The hex seed of its deterministic `wasi:random` stream
    /// (`runtime::random_seed` of the release digest and `wasm_sha256`);
    /// null when randomness was real, or in older records.
    #[serde(default)]
    pub random_seed: Option<String>,
    /// Who satisfied its request for approval (its `verdict` is then
    /// auto-approve); empty otherwise and in older records.
    #[serde(default)]
    pub approved_by: Vec<crate::approvals::ApprovedBy>,
    /// True when valid approvals met its request but it decided differently
    /// without them, so its own verdict stood.
    #[serde(default)]
    pub counts_approvals_itself: bool,
}

/// Grants as recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GrantsRecord {
    /// Read-only directories.
    pub read_dirs: Vec<PathBuf>,
    /// Environment variable names.
    pub env: Vec<String>,
}

/// The limits a policy ran under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitsRecord {
    /// Fuel per call.
    pub fuel: u64,
    /// Linear memory, bytes.
    pub memory_bytes: u64,
    /// Wall-clock budget, milliseconds.
    pub timeout_ms: u64,
}

/// A sandbox limit that stopped a policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitHit {
    /// `fuel`, `memory`, `table-elements`, `timeout-ms`, `hostcall-bytes`.
    pub name: String,
    /// The configured value.
    pub value: u64,
}

/// What [`append`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The sequence number written.
    pub seq: u64,
    /// Bytes of a torn last line (an interrupted gatehouse's) removed first.
    pub repaired_bytes: u64,
}

/// Appends `record` to the audit log at `path` (created if missing): under
/// an exclusive lock, checks that the file is a Gatehouse audit log (empty,
/// or its last line parses and chains to the one before it), removes a
/// torn last line left by an interrupted writer when everything before it
/// is a valid chain, sets `seq` and `prev_sha256` from the last line,
/// writes the line and its newline in one write and syncs it to disk.
/// Anything else is an error and leaves the file's bytes untouched.
pub fn append(path: &Path, record: &mut Record) -> Result<Appended, String> {
    let mut log = Appender::open(path)?;
    let seq = log.append_record(record)?;
    Ok(Appended {
        seq,
        repaired_bytes: log.repaired_bytes(),
    })
}

/// An audit log opened for appending: locked (exclusively, until dropped),
/// its end checked as [`append`] describes and a torn last line removed.
/// Several lines appended through one `Appender` (a record and the
/// checkpoint signing it) are written under one lock.
#[derive(Debug)]
pub struct Appender {
    file: File,
    /// The `seq` and line sha256 of the last line, `None` when empty.
    last: Option<(u64, String)>,
    repaired_bytes: u64,
}

impl Appender {
    /// Opens (creating it) and locks the log at `path`, and checks its end;
    /// an error leaves the file's bytes as they were.
    pub fn open(path: &Path) -> Result<Appender, String> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| format!("cannot open the audit log: {e}"))?;
        file.lock()
            .map_err(|e| format!("cannot lock the audit log: {e}"))?;
        // Dropping the file on an error releases the lock.
        let (last, repaired_bytes) = check_for_append(&mut file)?;
        Ok(Appender {
            file,
            last,
            repaired_bytes,
        })
    }

    /// Bytes of a torn last line (an interrupted gatehouse's) removed when
    /// the log was opened.
    pub fn repaired_bytes(&self) -> u64 {
        self.repaired_bytes
    }

    /// The `seq` and the hex sha256 of the log's last line, `None` for an
    /// empty log.
    pub fn last(&self) -> Option<(u64, &str)> {
        self.last.as_ref().map(|(seq, hash)| (*seq, hash.as_str()))
    }

    /// The `seq` and `prev_sha256` the next line must have.
    pub fn next_link(&self) -> (u64, String) {
        match &self.last {
            None => (1, genesis()),
            Some((seq, hash)) => (seq + 1, hash.clone()),
        }
    }

    /// Appends `record` with the next `seq` and `prev_sha256` (set on it);
    /// returns its `seq`.
    pub fn append_record(&mut self, record: &mut Record) -> Result<u64, String> {
        let (seq, prev) = self.next_link();
        record.schema = SCHEMA.to_string();
        record.seq = seq;
        record.prev_sha256 = prev;
        let line =
            serde_json::to_vec(record).map_err(|e| format!("cannot serialise the record: {e}"))?;
        self.write(line, seq)
    }

    /// Appends one serialised line (without its newline), which must carry
    /// the link [`Appender::next_link`] gives (checked); returns its `seq`.
    pub(crate) fn write_line(&mut self, line: Vec<u8>) -> Result<u64, String> {
        let (seq, prev) = self.next_link();
        let parsed = Line::parse(&line).map_err(|e| format!("internal: not an audit line: {e}"))?;
        if parsed.seq() != seq || parsed.prev_sha256() != prev {
            return Err(format!("internal: the line does not chain as line {seq}"));
        }
        self.write(line, seq)
    }

    /// Writes line `seq` and its newline in one write, syncs it, and makes
    /// it the last line.
    fn write(&mut self, mut line: Vec<u8>, seq: u64) -> Result<u64, String> {
        let hash = sha256_hex(&line);
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| format!("cannot write the audit log: {e}"))?;
        self.last = Some((seq, hash));
        Ok(seq)
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Checks the end of a locked log for an append and removes a torn last
/// line; returns the last line's `seq` and sha256, and the bytes removed.
fn check_for_append(file: &mut File) -> Result<(Option<(u64, String)>, u64), String> {
    let read_error = |e: std::io::Error| format!("cannot read the audit log: {e}");
    let tail = Tail::read(file).map_err(read_error)?;
    if tail.torn.is_empty() {
        return Ok((check_end(&tail)?, 0));
    }
    let last = check_torn(file, &tail)?;
    file.set_len(tail.valid_len)
        .map_err(|e| format!("cannot remove the torn last line: {e}"))?;
    Ok((last, tail.torn.len() as u64))
}

/// The advice every refusal to touch a file ends with.
const NOT_AN_AUDIT_LOG: &str = "refusing to modify it: it is not a Gatehouse audit log, or it is damaged; check it with `gatehouse audit verify`, or pass another --audit-log file";

/// Checks the end of a file that ends in a newline (or is empty): its last
/// line is a record or a checkpoint and chains to the line before it (or,
/// when it is the only line, is record 1 chained to genesis). Returns the
/// last line's `seq` and sha256, `None` for an empty file.
fn check_end(tail: &Tail) -> Result<Option<(u64, String)>, String> {
    let Some(last) = &tail.last else {
        return Ok(None);
    };
    let line = Line::parse(last)
        .map_err(|e| format!("its last line is not a {SCHEMA} record ({e}); {NOT_AN_AUDIT_LOG}"))?;
    let (expected_seq, expected_prev) = match &tail.before_last {
        None => (1, genesis()),
        Some(before) => {
            let previous = Line::parse(before).map_err(|e| {
                format!("its last line but one is not a {SCHEMA} record ({e}); {NOT_AN_AUDIT_LOG}")
            })?;
            (previous.seq().saturating_add(1), sha256_hex(before))
        }
    };
    if line.seq() != expected_seq || line.prev_sha256() != expected_prev {
        return Err(format!(
            "its last {} (seq {}) does not chain to the line before it; {NOT_AN_AUDIT_LOG}",
            line.kind(),
            line.seq()
        ));
    }
    Ok(Some((line.seq(), sha256_hex(last))))
}

/// Checks a file whose last line is torn (no newline): everything before it
/// must be a valid chain, and the torn bytes must be the start of the next
/// record as gatehouse writes it (optionally followed by NUL bytes, which
/// some file systems leave after a crash). Returns what [`check_end`] does.
fn check_torn(file: &mut File, tail: &Tail) -> Result<Option<(u64, String)>, String> {
    let mut before = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| (&mut *file).take(tail.valid_len).read_to_end(&mut before))
        .map_err(|e| format!("cannot read the audit log: {e}"))?;
    let lines: Vec<Vec<u8>> = before
        .split(|&b| b == b'\n')
        .take(before.iter().filter(|&&b| b == b'\n').count())
        .map(<[u8]>::to_vec)
        .collect();
    let verified = check_lines(&lines, false).map_err(|p| {
        format!(
            "its last line has no newline, and the records before it are not a valid chain (line {} {}: {}); {NOT_AN_AUDIT_LOG}",
            p.line, p.kind, p.message
        )
    })?;
    let next = verified.lines + 1;
    let torn = &tail.torn[..];
    let text = &torn[..torn.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)];
    // The next line as gatehouse writes it: a record, or a checkpoint
    // (which follows a record).
    let checkpoint_allowed = verified
        .checkpoints
        .last()
        .is_none_or(|c| c.line < verified.lines)
        && verified.lines > 0;
    let starts_record = [SCHEMA, checkpoint::SCHEMA]
        .iter()
        .filter(|schema| **schema == SCHEMA || checkpoint_allowed)
        .any(|schema| {
            let prefix = format!("{{\"schema\":\"{schema}\",\"seq\":{next},");
            text.starts_with(prefix.as_bytes()) || prefix.as_bytes().starts_with(text)
        });
    // NULs alone are a crash artefact only after a record gatehouse wrote.
    if !starts_record || (text.is_empty() && lines.is_empty()) {
        return Err(format!(
            "its last line has no newline and is not the start of record {next} as gatehouse writes it; {NOT_AN_AUDIT_LOG}"
        ));
    }
    Ok(lines.last().map(|line| (verified.lines, sha256_hex(line))))
}

/// One line of an audit log: a record, or (with `--audit-key`) a signed
/// checkpoint. Both carry the chain link (`seq`, `prev_sha256`).
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// A `gatehouse.audit/v1` record.
    Record(Box<Record>),
    /// A `gatehouse.audit-checkpoint/v1` line.
    Checkpoint(Box<Checkpoint>),
}

impl Line {
    /// Parses a line by its `schema`: a checkpoint, or a record (of
    /// [`SCHEMA`]; another schema is an error naming it).
    pub fn parse(line: &[u8]) -> Result<Line, String> {
        // A record (which may be large) is parsed once; only a line that
        // is not one is tried as a (small) checkpoint.
        let record_error = match serde_json::from_slice::<Record>(line) {
            Ok(record) if record.schema == SCHEMA => return Ok(Line::Record(Box::new(record))),
            Ok(record) => return Err(format!("schema is {:?}", record.schema)),
            Err(e) => e.to_string(),
        };
        #[derive(Deserialize)]
        struct Schema {
            schema: String,
        }
        match serde_json::from_slice::<Schema>(line) {
            Ok(s) if s.schema == checkpoint::SCHEMA => {
                let checkpoint: Checkpoint =
                    serde_json::from_slice(line).map_err(|e| e.to_string())?;
                Ok(Line::Checkpoint(Box::new(checkpoint)))
            }
            _ => Err(record_error),
        }
    }

    /// The line's `seq`.
    pub fn seq(&self) -> u64 {
        match self {
            Line::Record(r) => r.seq,
            Line::Checkpoint(c) => c.seq,
        }
    }

    /// The line's `prev_sha256`.
    pub fn prev_sha256(&self) -> &str {
        match self {
            Line::Record(r) => &r.prev_sha256,
            Line::Checkpoint(c) => &c.prev_sha256,
        }
    }

    /// `record` or `checkpoint`, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Line::Record(_) => "record",
            Line::Checkpoint(_) => "checkpoint",
        }
    }
}

/// The end of a file, read backwards: its last two complete lines and the
/// bytes after its last newline.
#[derive(Debug, Default)]
struct Tail {
    /// The length up to and including the last newline.
    valid_len: u64,
    /// The last complete line, without its newline.
    last: Option<Vec<u8>>,
    /// The complete line before it.
    before_last: Option<Vec<u8>>,
    /// The bytes after the last newline (a torn line), possibly empty.
    torn: Vec<u8>,
}

impl Tail {
    fn read(file: &mut File) -> std::io::Result<Tail> {
        const CHUNK: u64 = 64 * 1024;
        let len = file.metadata()?.len();
        let mut pos = len;
        let mut buf: Vec<u8> = Vec::new(); // the bytes pos..len
        // Three newlines bound the last two complete lines (the third
        // precedes the last line but one).
        while pos > 0 && buf.iter().filter(|&&b| b == b'\n').count() < 3 {
            let start = pos.saturating_sub(CHUNK);
            let mut chunk = vec![0; usize::try_from(pos - start).unwrap_or(0)];
            file.seek(SeekFrom::Start(start))?;
            file.read_exact(&mut chunk)?;
            chunk.extend_from_slice(&buf);
            buf = chunk;
            pos = start;
        }
        let Some(last_newline) = buf.iter().rposition(|&b| b == b'\n') else {
            // pos == 0: no complete line, the whole file is torn.
            return Ok(Tail {
                torn: buf,
                ..Tail::default()
            });
        };
        let torn = buf[last_newline + 1..].to_vec();
        let complete = &buf[..last_newline];
        let mut lines = complete.rsplit(|&b| b == b'\n');
        let last = lines.next().map(<[u8]>::to_vec);
        // A line is complete only if a newline (or the start of the file) precedes it.
        let newlines = complete.iter().filter(|&&b| b == b'\n').count();
        let before_last = if newlines >= 2 || (newlines == 1 && pos == 0) {
            lines.next().map(<[u8]>::to_vec)
        } else {
            None
        };
        Ok(Tail {
            valid_len: pos + last_newline as u64 + 1,
            last,
            before_last,
            torn,
        })
    }
}

/// The first problem [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The 1-based line number.
    pub line: u64,
    /// `edited`, `deleted`, `inserted`, `reordered`, `truncated` or `invalid`.
    pub kind: &'static str,
    /// What is wrong, in a sentence.
    pub message: String,
}

/// A log whose chain is intact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// Number of lines (records and checkpoints).
    pub lines: u64,
    /// Number of records (lines that are not checkpoints).
    pub records: u64,
    /// The checkpoints, in order, with their place; their signatures are
    /// checked by [`crate::audit_checkpoint::check_signatures`], not here.
    pub checkpoints: Vec<checkpoint::Placed>,
    /// Hex sha256 of the last line: anchor it elsewhere to detect an edit
    /// of the last line, which the chain alone cannot.
    pub last_sha256: String,
    /// Decisions whose report could not be delivered, each with the later
    /// record (exit 3) that is its final outcome.
    pub undelivered: Vec<Undelivered>,
}

/// A decision whose report could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undelivered {
    /// The `seq` of the decision's record.
    pub seq: u64,
    /// The `seq` of the record of the failure, the decision's final outcome.
    pub outcome_seq: u64,
}

/// Checks an audit log: every line parses, has the schema, `seq` counts up
/// from 1 and `prev_sha256` chains to the previous line (the first to the
/// genesis value), and every `outcome_of` names an earlier decision that has
/// no other outcome record. Returns the first problem.
pub fn verify(path: &Path) -> Result<Result<Verified, Problem>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open the audit log: {e}"))?;
    let mut reader = std::io::BufReader::new(file);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut truncated = false;
    loop {
        let mut line = Vec::new();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read the audit log: {e}"))?;
        if n == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        } else {
            truncated = true;
        }
        lines.push(line);
    }
    Ok(check_lines(&lines, truncated))
}

/// Checks lines read from somewhere other than a file (the service's store,
/// `gatehouse audit verify --store`), each without its newline, exactly as
/// [`verify`] checks a file's; line `n` is the 1-based position.
pub fn verify_lines(lines: &[Vec<u8>]) -> Result<Verified, Problem> {
    check_lines(lines, false)
}

fn check_lines(lines: &[Vec<u8>], truncated: bool) -> Result<Verified, Problem> {
    let problem = |line: usize, kind, message: String| Problem {
        line: line as u64 + 1,
        kind,
        message,
    };
    let mut seqs: Vec<Option<u64>> = Vec::with_capacity(lines.len());
    let mut parsed: Vec<Result<Line, (&'static str, String)>> = Vec::with_capacity(lines.len());
    for line in lines {
        let entry = parse_for_verify(line);
        seqs.push(entry.as_ref().ok().map(Line::seq));
        parsed.push(entry);
    }
    let mut prev_hash = genesis();
    let mut undelivered: Vec<Undelivered> = Vec::new();
    let mut checkpoints: Vec<checkpoint::Placed> = Vec::new();
    let mut records = 0u64;
    for (i, entry) in parsed.iter().enumerate() {
        let is_last = i + 1 == lines.len();
        if is_last && truncated {
            return Err(problem(
                i,
                "truncated",
                "the last line has no newline: it was cut short (a write that did not finish, or a truncated file)".into(),
            ));
        }
        let entry = match entry {
            Ok(entry) => entry,
            Err((kind, message)) => return Err(problem(i, kind, message.clone())),
        };
        let expected = i as u64 + 1;
        let seq = entry.seq();
        if seq != expected {
            let later = seqs[i + 1..].iter().position(|s| *s == Some(expected));
            return Err(match later {
                Some(offset) if seq > expected => problem(
                    i,
                    "reordered",
                    format!(
                        "holds record seq {seq}, expected {expected}; record {expected} is at line {}: lines were reordered",
                        i + offset + 2
                    ),
                ),
                _ if seq > expected => problem(
                    i,
                    "deleted",
                    format!(
                        "holds record seq {seq}, expected {expected}: {} deleted before this line",
                        if seq - expected == 1 {
                            format!("record {expected} was")
                        } else {
                            format!("records {expected} to {} were", seq - 1)
                        }
                    ),
                ),
                _ => problem(
                    i,
                    "inserted",
                    format!(
                        "holds record seq {seq}, expected {expected}: this line was inserted (or copied)"
                    ),
                ),
            });
        }
        if entry.prev_sha256() != prev_hash {
            return Err(if i == 0 {
                problem(
                    i,
                    "edited",
                    "prev_sha256 is not the genesis value: the line was edited, or the file does not start at record 1".into(),
                )
            } else {
                problem(
                    i - 1,
                    "edited",
                    format!(
                        "its sha256 {prev_hash} does not match the prev_sha256 line {} records: this line was edited (or line {} replaced)",
                        i + 1,
                        i + 1
                    ),
                )
            });
        }
        let record = match entry {
            Line::Record(record) => record,
            Line::Checkpoint(checkpoint) => {
                let follows_record = i > 0 && matches!(parsed[i - 1], Ok(Line::Record(_)));
                checkpoint
                    .check_form(follows_record)
                    .map_err(|why| problem(i, "invalid", why))?;
                checkpoints.push(checkpoint::Placed {
                    line: expected,
                    records_before: records,
                    checkpoint: (**checkpoint).clone(),
                });
                prev_hash = sha256_hex(&lines[i]);
                continue;
            }
        };
        records += 1;
        if let Some(decision) = record.outcome_of {
            let bad = |why: String| {
                problem(
                    i,
                    "invalid",
                    format!(
                        "outcome_of {decision}: {why}: the line was edited, or not written by gatehouse"
                    ),
                )
            };
            let target = usize::try_from(decision)
                .ok()
                .filter(|d| (1..=i).contains(d))
                .and_then(|d| parsed[d - 1].as_ref().ok());
            let Some(target) = target else {
                return Err(bad("no earlier record has that seq".into()));
            };
            let Line::Record(target) = target else {
                return Err(bad("that line is a checkpoint, not a decision".into()));
            };
            if target.outcome_of.is_some() || target.verdict == "error" {
                return Err(bad("that record is not a decision".into()));
            }
            if record.exit_code != 3 || record.verdict != "error" {
                return Err(bad("an outcome record must be an error (exit 3)".into()));
            }
            if undelivered.iter().any(|u| u.seq == decision) {
                return Err(bad("that decision already has an outcome record".into()));
            }
            undelivered.push(Undelivered {
                seq: decision,
                outcome_seq: record.seq,
            });
        }
        prev_hash = sha256_hex(&lines[i]);
    }
    Ok(Verified {
        lines: lines.len() as u64,
        records,
        checkpoints,
        last_sha256: prev_hash,
        undelivered,
    })
}

/// Parses a line for [`verify`]: `invalid` when it is not a record or a
/// checkpoint, `edited` when it is a record of another schema.
fn parse_for_verify(line: &[u8]) -> Result<Line, (&'static str, String)> {
    let invalid = |e: String| {
        (
            "invalid",
            format!("not an audit record ({e}): the line was edited or damaged"),
        )
    };
    match Line::parse(line) {
        Ok(line) => Ok(line),
        Err(e) => match serde_json::from_slice::<Record>(line) {
            Ok(record) if record.schema != SCHEMA => Err((
                "edited",
                format!("schema is {:?}, expected {SCHEMA:?}", record.schema),
            )),
            _ => Err(invalid(e)),
        },
    }
}

/// Reads every record of a log, with its line number; checkpoint lines are
/// skipped (after verifying nothing; see [`verify`]).
pub fn read_records(path: &Path) -> Result<Vec<(u64, Record)>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open the audit log: {e}"))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read the audit log: {e}"))?;
        match Line::parse(line.as_bytes()) {
            Ok(Line::Record(record)) => out.push((i as u64 + 1, *record)),
            Ok(Line::Checkpoint(_)) => {}
            Err(_) => {
                // Keep the record parser's own error (older logs, other schemas).
                let record: Record = serde_json::from_str(&line)
                    .map_err(|e| format!("line {}: not an audit record: {e}", i + 1))?;
                out.push((i as u64 + 1, record));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(verdict: &str) -> Record {
        Record {
            schema: SCHEMA.into(),
            seq: 0,
            time: "2026-11-22T10:00:00Z".into(),
            evaluated_at: Some("2026-11-22T10:00:00Z".into()),
            host_version: "0.1.0".into(),
            input_sha256: Some("ab".into()),
            input: Some(
                RecordedInput::from_json(r#"{"environmentName":"dev"}"#.into()).expect("JSON"),
            ),
            metadata: BTreeMap::new(),
            config: None,
            policies: Vec::new(),
            verdict: verdict.into(),
            exit_code: 0,
            error: None,
            limit_hit: None,
            release_digest: None,
            nothing_applied: None,
            outcome_of: None,
            approvals: None,
            prev_sha256: String::new(),
        }
    }

    fn log(n: usize) -> (tempfile_dir::Dir, PathBuf) {
        let dir = tempfile_dir::Dir::new();
        let path = dir.0.join("audit.jsonl");
        for _ in 0..n {
            append(&path, &mut record("auto-approve")).expect("append");
        }
        (dir, path)
    }

    /// A throwaway directory under the system temp dir (no dev-dependency).
    mod tempfile_dir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let path = std::env::temp_dir().join(format!(
                    "gatehouse-audit-test-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                std::fs::create_dir_all(&path).expect("temp dir");
                Dir(path)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .expect("read")
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn write(path: &Path, lines: &[String]) {
        std::fs::write(
            path,
            lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
        )
        .expect("write");
    }

    fn problem(path: &Path) -> Problem {
        verify(path).expect("readable").expect_err("a problem")
    }

    #[test]
    fn the_genesis_value_is_fixed() {
        assert_eq!(genesis(), sha256_hex(b"gatehouse.audit/v1 genesis"));
        assert_eq!(genesis().len(), 64);
    }

    #[test]
    fn appends_chain_and_verify() {
        let (_dir, path) = log(3);
        let verified = verify(&path).expect("readable").expect("intact");
        assert_eq!(verified.records, 3);
        let lines = lines(&path);
        assert_eq!(verified.last_sha256, sha256_hex(lines[2].as_bytes()));
        let first: Record = serde_json::from_str(&lines[0]).expect("json");
        assert_eq!((first.seq, first.prev_sha256), (1, genesis()));
        let second: Record = serde_json::from_str(&lines[1]).expect("json");
        assert_eq!(second.prev_sha256, sha256_hex(lines[0].as_bytes()));
    }

    #[test]
    fn an_empty_log_is_intact() {
        let (_dir, path) = log(0);
        std::fs::write(&path, "").expect("write");
        assert_eq!(verify(&path).expect("readable").expect("ok").records, 0);
    }

    #[test]
    fn detects_an_edited_line() {
        let (_dir, path) = log(4);
        let mut lines = lines(&path);
        lines[1] = lines[1].replace("auto-approve", "fail");
        write(&path, &lines);
        let p = problem(&path);
        assert_eq!((p.line, p.kind), (2, "edited"), "{p:?}");
    }

    #[test]
    fn detects_a_deleted_line() {
        let (_dir, path) = log(4);
        let mut lines = lines(&path);
        lines.remove(1);
        write(&path, &lines);
        let p = problem(&path);
        assert_eq!((p.line, p.kind), (2, "deleted"), "{p:?}");
    }

    #[test]
    fn detects_a_swapped_pair() {
        let (_dir, path) = log(4);
        let mut lines = lines(&path);
        lines.swap(1, 2);
        write(&path, &lines);
        let p = problem(&path);
        assert_eq!((p.line, p.kind), (2, "reordered"), "{p:?}");
    }

    #[test]
    fn detects_an_inserted_line() {
        let (_dir, path) = log(3);
        let mut lines = lines(&path);
        let copy = lines[0].clone();
        lines.insert(2, copy);
        write(&path, &lines);
        let p = problem(&path);
        assert_eq!((p.line, p.kind), (3, "inserted"), "{p:?}");
    }

    #[test]
    fn a_partial_last_line_is_reported_then_repaired_by_the_next_append() {
        let (_dir, path) = log(3);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, &text[..text.len() - 10]).expect("truncate");
        let p = problem(&path);
        assert_eq!((p.line, p.kind), (3, "truncated"), "{p:?}");
        let appended = append(&path, &mut record("fail")).expect("append");
        assert_eq!(appended.seq, 3);
        assert!(appended.repaired_bytes > 0);
        assert_eq!(verify(&path).expect("readable").expect("ok").records, 3);
    }

    #[test]
    fn tail_reads_across_chunks() {
        let dir = tempfile_dir::Dir::new();
        let path = dir.0.join("big");
        let long = "x".repeat(200_000);
        std::fs::write(&path, format!("{long}\n{long}y\n{long}z\npartial")).expect("write");
        let mut file = File::open(&path).expect("open");
        let tail = Tail::read(&mut file).expect("tail");
        assert_eq!(tail.valid_len, 600_005);
        assert_eq!(tail.last.expect("a line").len(), 200_001);
        assert_eq!(tail.before_last.expect("a line").len(), 200_001);
        assert_eq!(tail.torn, b"partial");
        std::fs::write(&path, "one\n").expect("write");
        let tail = Tail::read(&mut File::open(&path).expect("open")).expect("tail");
        assert_eq!(
            (tail.last.as_deref(), tail.before_last),
            (Some(&b"one"[..]), None)
        );
        std::fs::write(&path, "one\ntwo\n").expect("write");
        let tail = Tail::read(&mut File::open(&path).expect("open")).expect("tail");
        assert_eq!(tail.before_last.as_deref(), Some(&b"one"[..]));
        std::fs::write(&path, "torn").expect("write");
        let tail = Tail::read(&mut File::open(&path).expect("open")).expect("tail");
        assert_eq!(
            (tail.valid_len, tail.last, &tail.torn[..]),
            (0, None, &b"torn"[..])
        );
    }

    /// Asserts that appending to a file holding `bytes` is refused with a
    /// message containing `fragment`, and leaves the bytes as they were.
    fn refused(bytes: &[u8], fragment: &str) {
        let dir = tempfile_dir::Dir::new();
        let path = dir.0.join("file");
        std::fs::write(&path, bytes).expect("write");
        let err = append(&path, &mut record("fail")).expect_err("refused");
        assert!(err.contains(fragment), "{err}");
        assert!(err.contains("refusing to modify it"), "{err}");
        assert_eq!(std::fs::read(&path).expect("read"), bytes);
    }

    #[test]
    fn a_file_that_is_not_an_audit_log_is_left_untouched() {
        refused(
            b"notes\nkeep me",
            "the records before it are not a valid chain (line 1 invalid",
        );
        refused(b"keep me", "is not the start of record 1");
        refused(
            b"notes\n",
            "its last line is not a gatehouse.audit/v1 record",
        );
        refused(b"\n", "its last line is not");
        refused(&[0xff, 0xfe, b'\n', 0x00, 0x80], "are not a valid chain");
        refused(&[0; 32], "is not the start of record 1");
        let (_dir, path) = log(3);
        let valid = std::fs::read(&path).expect("read");
        let mut other_schema = valid.clone();
        let second_schema = String::from_utf8(valid.clone())
            .expect("utf-8")
            .replace("gatehouse.audit/v1", "other/v1");
        other_schema.extend_from_slice(second_schema.lines().last().unwrap_or_default().as_bytes());
        other_schema.push(b'\n');
        refused(&other_schema, "schema is \"other/v1\"");
        let mut note = valid.clone();
        note.extend_from_slice(b"rotate me");
        refused(&note, "is not the start of record 4");
        // The last two records do not chain (one deleted between them).
        let text = String::from_utf8(valid).expect("utf-8");
        let kept: Vec<&str> = text.lines().collect();
        refused(
            format!("{}\n{}\n", kept[0], kept[2]).as_bytes(),
            "does not chain to the line before it",
        );
        // A single record must be record 1, chained to genesis.
        refused(format!("{}\n", kept[1]).as_bytes(), "does not chain");
    }

    #[test]
    fn a_torn_tail_is_repaired_only_after_a_valid_chain() {
        let (_dir, path) = log(2);
        let valid = std::fs::read(&path).expect("read");
        for torn in [
            &b"{"[..],
            b"{\"schema\":\"gatehouse.audit/v1\",\"seq\":3,\"ti",
            b"{\"schema\":\"gatehouse.audit/v1\",\"seq\":3,\"ti\0\0\0",
            b"\0\0\0\0",
        ] {
            let mut bytes = valid.clone();
            bytes.extend_from_slice(torn);
            std::fs::write(&path, &bytes).expect("write");
            let appended = append(&path, &mut record("fail")).expect("repaired");
            assert_eq!(appended.seq, 3);
            assert_eq!(appended.repaired_bytes, torn.len() as u64);
            assert_eq!(verify(&path).expect("readable").expect("ok").records, 3);
            std::fs::write(&path, &valid).expect("restore");
        }
        // A torn first record of an empty log.
        std::fs::write(&path, "{\"schema\":\"gatehouse.audit/v1\",\"seq\":1,").expect("write");
        assert_eq!(append(&path, &mut record("fail")).expect("repaired").seq, 1);
        // Not after a broken chain.
        let text = String::from_utf8(valid).expect("utf-8");
        let kept: Vec<&str> = text.lines().collect();
        refused(
            format!(
                "{}\n{{\"schema\":\"gatehouse.audit/v1\",\"seq\":3,",
                kept[1]
            )
            .as_bytes(),
            "are not a valid chain (line 1 deleted",
        );
    }

    #[test]
    fn outcome_records_must_name_an_earlier_decision() {
        let (_dir, path) = log(2);
        let mut outcome = record("error");
        outcome.exit_code = 3;
        outcome.outcome_of = Some(2);
        append(&path, &mut outcome).expect("append");
        let verified = verify(&path).expect("readable").expect("ok");
        assert_eq!(
            verified.undelivered,
            [Undelivered {
                seq: 2,
                outcome_seq: 3
            }]
        );
        // A second outcome for the same decision, one for itself or a later
        // record, one for an outcome, and a non-error outcome are all invalid.
        for (target, verdict, exit_code, why) in [
            (2, "error", 3, "already has an outcome record"),
            (4, "error", 3, "no earlier record has that seq"),
            (9, "error", 3, "no earlier record has that seq"),
            (3, "error", 3, "is not a decision"),
            (1, "auto-approve", 0, "must be an error"),
        ] {
            let before = std::fs::read(&path).expect("read");
            let mut bad = record(verdict);
            bad.exit_code = exit_code;
            bad.outcome_of = Some(target);
            append(&path, &mut bad).expect("append");
            let p = problem(&path);
            assert_eq!((p.line, p.kind), (4, "invalid"), "{p:?}");
            assert!(p.message.contains(why), "{p:?}");
            std::fs::write(&path, before).expect("restore");
        }
    }

    #[test]
    fn old_records_without_the_new_fields_still_parse() {
        let (_dir, path) = log(1);
        let line = lines(&path).remove(0);
        let mut value: serde_json::Value = serde_json::from_str(&line).expect("json");
        if let Some(object) = value.as_object_mut() {
            for key in ["release_digest", "nothing_applied", "outcome_of"] {
                object.remove(key);
            }
        }
        let record: Record = serde_json::from_str(&value.to_string()).expect("parses");
        assert_eq!(record.outcome_of, None);
    }
}
