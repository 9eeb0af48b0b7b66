//! The report of one `gatehouse eval`: one serialisable value, rendered as
//! text for people or as a versioned JSON object for CI (see docs/report-json.md).
//! Renderers write to a writer (never one string of the whole report) and
//! escape untrusted text with [`untrusted`].

#[cfg(test)]
mod fixture;
pub mod github;
mod text;
pub mod untrusted;

pub use text::{render_text, write_text};

use crate::decision::{Reason, Verdict};
use crate::release::Release;
use crate::runtime::capture::LogLine;
use crate::runtime::{Grants, PolicyRun};
use serde::Serialize;
use std::collections::BTreeMap;

/// The JSON schema identifier; bumped on any incompatible change.
pub const SCHEMA: &str = "gatehouse.report/v1";

/// Everything CI and approvers need to know about one evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The overall verdict.
    pub verdict: Verdict,
    /// The process exit code (0, 2 or 1).
    pub exit_code: i32,
    /// The evaluation time, RFC 3339 UTC.
    pub evaluated_at: String,
    /// What was evaluated.
    pub input: InputSummary,
    /// Approvals needed, one entry per policy that requires approval.
    pub required_approvals: Vec<RequiredApproval>,
    /// Each policy's result, in the order given.
    pub policies: Vec<PolicyReport>,
    /// The policy set (`--config`) path, or null when policies were given with `--policy`.
    pub config: Option<String>,
    /// Policies of the policy set whose conditions did not match, in file order.
    pub skipped: Vec<SkippedPolicy>,
}

/// A policy of the policy set that did not run because its conditions did not match.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedPolicy {
    /// Its name in the config.
    pub name: String,
    /// Its file.
    pub path: String,
    /// Why it did not apply, e.g. `environment "dev" matches none of prod*, staging`.
    pub reason: String,
}

/// What was evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    /// File path, or `<stdin>`.
    pub source: String,
    /// Hex sha256 of the input bytes.
    pub sha256: String,
    /// The environment.
    pub environment: String,
    /// The release stream.
    pub release_stream: String,
    /// Number of resources.
    pub resources: usize,
    /// Resources per change type (`DELETE` → 2), only types present.
    pub changes: BTreeMap<String, usize>,
    /// Non-fatal notes about the input (e.g. ignored unknown fields).
    pub warnings: Vec<String>,
}

/// An approval a policy asks for.
#[derive(Debug, Clone, Serialize)]
pub struct RequiredApproval {
    /// The policy asking.
    pub policy: String,
    /// Who may approve; empty means anyone with release rights.
    pub approver_groups: Vec<String>,
    /// How many approvals (from each group when groups are named).
    pub min_approvals: u32,
    /// What the approver should check.
    pub instructions: Option<String>,
}

/// One policy's result.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyReport {
    /// From `describe`.
    pub name: String,
    /// Its name in the policy set (`--config`), or null without one.
    pub config_name: Option<String>,
    /// From `describe`.
    pub version: String,
    /// From `describe`.
    pub description: String,
    /// The policy file.
    pub path: String,
    /// Hex sha256 of the wasm file.
    pub wasm_sha256: String,
    /// The settings it received.
    pub settings: BTreeMap<String, String>,
    /// Capabilities granted beyond the empty default: `read_dirs` (read-only
    /// directories), `env` (variable names) and `random` (real randomness).
    pub grants: Grants,
    /// Its verdict.
    pub verdict: Verdict,
    /// Its reasons.
    pub reasons: Vec<Reason>,
    /// Who may approve (require-approval only).
    pub approver_groups: Vec<String>,
    /// Approvals needed (require-approval only, else null).
    pub min_approvals: Option<u32>,
    /// What to check (require-approval only, else null).
    pub instructions: Option<String>,
    /// Captured `log` lines.
    pub logs: Vec<LogLine>,
    /// Log lines dropped over the cap.
    pub logs_dropped: u64,
    /// Captured stdout (truncated with a marker over the cap).
    pub stdout: String,
    /// Captured stderr (truncated with a marker over the cap).
    pub stderr: String,
    /// Bytes of stdout dropped over the cap.
    pub stdout_dropped_bytes: u64,
    /// Bytes of stderr dropped over the cap.
    pub stderr_dropped_bytes: u64,
    /// Wall time of the evaluation in milliseconds (varies run to run).
    pub duration_ms: f64,
    /// Fuel consumed (deterministic for a given policy and input).
    pub fuel_used: u64,
    /// Where the policy's machine code came from: `hit` (the compile
    /// cache), `miss` (compiled, then cached) or `off` (compiled, no cache).
    pub compile_cache: &'static str,
    /// Time spent compiling or loading it from the cache, in milliseconds.
    pub compile_ms: f64,
}

/// The JSON printed instead of a report when no decision could be made.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Always `error`.
    pub verdict: &'static str,
    /// Always 3.
    pub exit_code: i32,
    /// The one-line error message.
    pub error: String,
    /// The policy that failed, when a policy failed.
    pub policy: Option<String>,
    /// The sandbox limit hit, when one was: `{"name": "fuel", "value": 50000000}`;
    /// names are `fuel`, `memory` (bytes), `table-elements`, `timeout-ms`.
    pub limit: Option<LimitReport>,
}

/// A sandbox limit that stopped a policy.
#[derive(Debug, Clone, Serialize)]
pub struct LimitReport {
    /// `fuel`, `memory`, `table-elements` or `timeout-ms`.
    pub name: &'static str,
    /// The configured value.
    pub value: u64,
}

impl ErrorReport {
    /// The error report for a message.
    pub fn new(error: String) -> Self {
        ErrorReport {
            schema: SCHEMA,
            verdict: "error",
            exit_code: 3,
            error,
            policy: None,
            limit: None,
        }
    }

    /// The error report for any error, naming the policy and limit when known.
    pub fn from_error(error: &crate::error::Error) -> Self {
        let mut report = ErrorReport::new(error.to_string());
        if let crate::error::Error::Policy(policy_error) = error {
            report.policy = Some(policy_error.policy.clone());
            report.limit = policy_error
                .kind
                .limit()
                .map(|(name, value)| LimitReport { name, value });
        }
        report
    }
}

impl PolicyReport {
    /// The name reports attribute the policy's results to: its name in the
    /// policy set, else its `describe` name.
    pub fn label(&self) -> &str {
        self.config_name.as_deref().unwrap_or(&self.name)
    }

    /// Builds a policy's section from its run.
    pub fn new(
        path: String,
        wasm_sha256: String,
        settings: &[(String, String)],
        grants: &Grants,
        run: PolicyRun,
    ) -> Self {
        PolicyReport {
            name: run.info.name,
            config_name: None,
            version: run.info.version,
            description: run.info.description,
            path,
            wasm_sha256,
            settings: settings.iter().cloned().collect(),
            grants: grants.clone(),
            verdict: run.decision.verdict,
            reasons: run.decision.reasons,
            approver_groups: run.decision.approver_groups,
            min_approvals: run.decision.min_approvals,
            instructions: run.decision.instructions,
            logs: run.logs,
            logs_dropped: run.logs_dropped,
            stdout: run.stdout.text,
            stderr: run.stderr.text,
            stdout_dropped_bytes: run.stdout.dropped_bytes,
            stderr_dropped_bytes: run.stderr.dropped_bytes,
            duration_ms: run.duration.as_secs_f64() * 1000.0,
            fuel_used: run.fuel_used,
            compile_cache: run.compile.cache.as_str(),
            compile_ms: run.compile.duration.as_secs_f64() * 1000.0,
        }
    }
}

impl InputSummary {
    /// Summarises a parsed release.
    pub fn new(source: String, sha256: String, release: &Release, warnings: Vec<String>) -> Self {
        InputSummary {
            source,
            sha256,
            environment: release.environment_name.clone(),
            release_stream: release.release_stream.clone(),
            resources: release.resources.len(),
            changes: release
                .change_counts()
                .into_iter()
                .map(|(kind, n)| (kind.as_str().to_string(), n))
                .collect(),
            warnings,
        }
    }
}

impl Report {
    /// Assembles the report; the verdict is the aggregate of the policies'.
    pub fn new(evaluated_at: String, input: InputSummary, policies: Vec<PolicyReport>) -> Self {
        let verdict = crate::gate::aggregate(policies.iter().map(|p| p.verdict));
        let required_approvals = policies
            .iter()
            .filter(|p| p.verdict == Verdict::RequireApproval)
            .map(|p| RequiredApproval {
                policy: p.label().to_string(),
                approver_groups: p.approver_groups.clone(),
                min_approvals: p.min_approvals.unwrap_or(1),
                instructions: p.instructions.clone(),
            })
            .collect();
        Report {
            schema: SCHEMA,
            verdict,
            exit_code: verdict.exit_code(),
            evaluated_at,
            input,
            required_approvals,
            policies,
            config: None,
            skipped: Vec::new(),
        }
    }

    /// Records the policy set the policies came from and the policies it skipped.
    pub fn with_config(mut self, config: String, skipped: Vec<SkippedPolicy>) -> Self {
        self.config = Some(config);
        self.skipped = skipped;
        self
    }

    /// Writes the report as pretty JSON and a newline, streamed: the exact
    /// text of every field, escaped only as JSON requires.
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self).map_err(std::io::Error::from)?;
        writeln!(out)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            serde_json::to_string(&ErrorReport::new(format!(
                "cannot serialise the report: {e}"
            )))
            .unwrap_or_default()
        })
    }
}
