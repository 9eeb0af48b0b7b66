//! `audit replay`: re-evaluate every recorded decision of an audit log with
//! the policies of the recorded digests, and list what now comes out
//! differently: a verdict, or a signed approval's outcome. The front-end
//! reads the records ([`super::read_records`]), builds a runtime sized by
//! [`limits`] and prints the [`Replay`] it gets back.

use super::{LimitsRecord, PolicyRecord, Record, Undelivered};
use crate::approvals::AllowedSigners;
use crate::decision::Verdict;
use crate::release::Release;
use crate::runtime::{Grants, Limits, LoadedPolicy, RunOptions, Runtime};
use crate::settings::Assignment;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// What to replay with, besides the records.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// Where to look for the policies, by sha256 of their `.wasm` files;
    /// empty: the directories of the recorded policy paths.
    pub policy_dirs: Vec<PathBuf>,
    /// Settings that replace recorded ones (`POLICY:` scopes match a
    /// policy's config name, describe name or file stem).
    pub overrides: Vec<Assignment>,
    /// The allowed_signers files to verify recorded signed approvals
    /// against (each record's is found by its recorded sha256); empty: the
    /// path each record names.
    pub allowed_signers: Vec<PathBuf>,
}

/// What a replay found.
#[derive(Debug, Clone, Serialize)]
pub struct Replay {
    /// Records in the log.
    pub records: usize,
    /// Records replayed.
    pub replayed: u64,
    /// Records with nothing to replay: errors, no input, no policy ran.
    pub skipped: u64,
    /// Records whose verdict or approvals differ now.
    pub differences: Vec<Difference>,
    /// Records that could not be replayed.
    pub errors: Vec<ReplayError>,
    /// Decisions whose report was not delivered: their final outcome is a
    /// later record (exit 3).
    pub undelivered: Vec<Undelivered>,
}

/// The limits a runtime for replaying `records` must be sized for: the
/// largest any recorded policy ran with.
pub fn limits(records: &[(u64, Record)]) -> Limits {
    records
        .iter()
        .flat_map(|(_, r)| &r.policies)
        .map(|p| to_limits(&p.limits))
        .reduce(|a, b| a.max(&b))
        .unwrap_or_default()
}

/// Replays `records` (line, record) with `runtime`, which must be sized by
/// [`limits`].
pub fn replay(records: &[(u64, Record)], runtime: &Runtime, options: &ReplayOptions) -> Replay {
    let mut index = WasmIndex {
        scanned: Vec::new(),
        by_sha: HashMap::new(),
        search_recorded_dirs: options.policy_dirs.is_empty(),
    };
    for dir in &options.policy_dirs {
        index.scan(dir);
    }
    let mut loaded: HashMap<String, LoadedPolicy> = HashMap::new();
    let mut signer_files = SignerFiles {
        given: options.allowed_signers.clone(),
        loaded: HashMap::new(),
    };
    let mut differences = Vec::new();
    let mut errors = Vec::new();
    let (mut replayed, mut skipped) = (0u64, 0u64);
    let undelivered: Vec<Undelivered> = records
        .iter()
        .filter_map(|(_, r)| {
            r.outcome_of.map(|seq| Undelivered {
                seq,
                outcome_seq: r.seq,
            })
        })
        .collect();
    for (line, record) in records {
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
            runtime,
            &mut index,
            &mut loaded,
            &options.overrides,
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
    Replay {
        records: records.len(),
        replayed,
        skipped,
        differences,
        errors,
        undelivered,
    }
}

/// One record whose verdict (or an approval's outcome) differs on replay.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// The record's line in the log.
    pub line: u64,
    /// The record's `seq`.
    pub seq: u64,
    /// The recorded verdict.
    pub recorded: String,
    /// The verdict now.
    pub replayed: String,
    /// The policies whose verdict differs.
    pub policies: Vec<PolicyDifference>,
    /// The signed approvals whose outcome differs.
    pub approvals: Vec<ApprovalDifference>,
}

/// A signed approval whose outcome differs when verified again: a
/// tampered statement or signature in the record, or another verdict.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalDifference {
    /// The approval's statement file, as recorded.
    pub file: String,
    /// Its recorded outcome.
    pub recorded: String,
    /// Its outcome now.
    pub replayed: String,
    /// Why it is rejected now, if it is.
    pub message: Option<String>,
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
    loaded: HashMap<PathBuf, Result<AllowedSigners, String>>,
}

impl SignerFiles {
    fn load(&mut self, path: &Path) -> &Result<AllowedSigners, String> {
        self.loaded
            .entry(path.to_path_buf())
            .or_insert_with(|| AllowedSigners::load(path).map_err(|e| e.to_string()))
    }

    /// The file with the recorded sha256, or why there is none.
    fn find(&mut self, trust: &crate::approvals::TrustRecord) -> Result<AllowedSigners, String> {
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

/// A policy whose verdict differs on replay.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyDifference {
    /// Its name in the policy set, else its `describe` name.
    pub name: String,
    /// The recorded verdict.
    pub recorded: String,
    /// The verdict now.
    pub replayed: String,
}

/// A record that could not be replayed.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayError {
    /// The record's line in the log.
    pub line: u64,
    /// Why.
    pub error: String,
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
                    .entry(crate::audit::sha256_hex(&bytes))
                    .or_insert(path);
            }
        }
    }
}

/// The limits a recorded policy ran with.
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
) -> Result<(Vec<crate::approvals::Counted>, Vec<ApprovalDifference>), String> {
    use crate::approvals::{ApprovalEntry, ReleaseFacts};
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
        .map(crate::approvals::Counted::to_release_approval)
        .collect();
    Ok((counted, differences))
}

/// Replays one record: its approvals verified again, each recorded policy
/// (found by its digest) evaluated again on the recorded release with the
/// recorded settings (and `overrides`), grants and limits.
fn replay_record(
    record: &Record,
    input: crate::audit::RecordedInput,
    runtime: &Runtime,
    index: &mut WasmIndex,
    loaded: &mut HashMap<String, LoadedPolicy>,
    overrides: &[Assignment],
    signer_files: &mut SignerFiles,
) -> Result<Replayed, String> {
    let mut release: Release = input
        .release()
        .map_err(|e| format!("the recorded input is not a release: {e}"))?;
    let when = record.evaluated_at.as_deref().unwrap_or(&record.time);
    let now = crate::time::parse_rfc3339(when).map_err(|e| format!("evaluated_at: {e}"))?;
    let release_digest = release.digest();
    if let Some(recorded) = &record.release_digest
        && recorded != &release_digest
    {
        return Err(format!(
            "the recorded release_digest {recorded} is not the digest of the recorded input ({release_digest}): the record was edited, or written before the {} digest",
            crate::release::digest::VERSION
        ));
    }
    let (counted, approval_differences) =
        replay_approvals(record, &mut release, &release_digest, now, signer_files)?;
    let release = std::sync::Arc::new(release);
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
            let seed = crate::runtime::random_seed(&release_digest, &p.wasm_sha256).to_string();
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
            crate::gate::run_and_settle(policy, &release, &settings, &options, &counted)
                .map_err(|e| e.to_string())?;
        let verdict = match settlement {
            crate::approvals::Settlement::Satisfied(_) => Verdict::AutoApprove,
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
    let verdict = crate::gate::aggregate(verdicts)
        .ok_or_else(|| "the record names no policy: nothing to replay".to_string())?;
    Ok(Replayed {
        verdict,
        policies: per_policy,
        approvals: approval_differences,
    })
}
