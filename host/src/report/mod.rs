//! The report of one `gatehouse eval`: one serialisable value, rendered as
//! text for people or as a versioned JSON object for CI (see docs/report-json.md).
//! Renderers write to a writer (never one string of the whole report) and
//! escape untrusted text with [`crate::untrusted`].

pub mod approvals;
#[cfg(test)]
pub(crate) mod fixture;
pub mod github;
mod text;

/// The escaping layer, which lived here before it became a top-level module
/// of its own (everything prints through it, reports included).
pub use crate::untrusted;

pub use approvals::{ApprovalsReport, approve_command};
pub use text::{render_text, write_text};

use crate::approvals::{ApprovedBy, Settlement};
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
    /// Set when no policy of the set applied, so that the verdict is the
    /// set's `when-nothing-applies` and nothing was checked; null otherwise.
    pub nothing_applied: Option<NothingApplied>,
    /// The approvals: valid, rejected with their reasons, or unverified.
    pub approvals: ApprovalsReport,
}

/// The outcome of a policy set none of whose policies applied to the release.
#[derive(Debug, Clone, Serialize)]
pub struct NothingApplied {
    /// The set's `when-nothing-applies` that gave the verdict: `fail`,
    /// `require-approval` or `auto-approve` (`error` gives no report).
    pub action: &'static str,
    /// Always false: no policy checked the release.
    pub checked: bool,
    /// What happened, in a sentence naming the environment and stream.
    pub message: String,
    /// With `require-approval`: who satisfied that request with valid
    /// signed approvals (the verdict is then auto-approve); empty otherwise.
    pub approved_by: Vec<ApprovedBy>,
}

/// The `required_approvals[].policy` of the approval a set's
/// `when-nothing-applies = "require-approval"` asks for: not a valid policy
/// name, so it cannot be confused with one.
pub const NOTHING_APPLIES_APPROVAL: &str = "(when-nothing-applies)";

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
    /// The release digest, `sha256:<hex>` ([`Release::digest`]): what
    /// approvals sign, the same whatever the input's format or layout.
    pub release_digest: String,
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
    /// The `gatehouse approve` command that approves this release for the
    /// request (`--group GROUP` to fill in unless one group is named).
    pub approve_command: String,
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
    /// Its verdict: the policy's own, or auto-approve when it required
    /// approval and valid signed approvals satisfied the request
    /// (`approved_by`).
    pub verdict: Verdict,
    /// Its reasons.
    pub reasons: Vec<Reason>,
    /// Who satisfied its request for approval (then `verdict` is
    /// auto-approve, and `approver_groups`, `min_approvals` and
    /// `instructions` are the request that was satisfied); empty otherwise.
    pub approved_by: Vec<ApprovedBy>,
    /// True when valid approvals met its request but it decides
    /// differently without them: it counts approvals itself, so the host
    /// left its verdict as it was.
    pub counts_approvals_itself: bool,
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
    /// The release digest (`sha256:<hex>`) when the input was read before
    /// the error, else null.
    pub release_digest: Option<String>,
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
            release_digest: None,
        }
    }

    /// The same report naming the digest of the release that was read.
    pub fn with_release_digest(mut self, release_digest: Option<String>) -> Self {
        self.release_digest = release_digest;
        self
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
            approved_by: Vec::new(),
            counts_approvals_itself: false,
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

    /// Applies what counting the approvals decided: a satisfied request
    /// makes the verdict auto-approve, naming who approved.
    pub fn settle(&mut self, settlement: Settlement) {
        match settlement {
            Settlement::Satisfied(approved_by) => {
                self.verdict = Verdict::AutoApprove;
                self.approved_by = approved_by;
            }
            Settlement::DecidedByPolicy => self.counts_approvals_itself = true,
            Settlement::NotRequested | Settlement::Unmet => {}
        }
    }
}

impl InputSummary {
    /// Summarises a parsed release whose digest is `release_digest` (computed
    /// once per run by the caller, see [`Release::digest`]).
    pub fn new(
        source: String,
        sha256: String,
        release_digest: String,
        release: &Release,
        warnings: Vec<String>,
    ) -> Self {
        InputSummary {
            source,
            sha256,
            release_digest,
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
    /// Assembles the report of the policies that ran; the verdict is the
    /// aggregate of theirs. `None` when no policy ran: that is no decision.
    pub fn new(
        evaluated_at: String,
        input: InputSummary,
        policies: Vec<PolicyReport>,
    ) -> Option<Self> {
        let verdict = crate::gate::aggregate(policies.iter().map(|p| p.verdict))?;
        let required_approvals = policies
            .iter()
            .filter(|p| p.verdict == Verdict::RequireApproval)
            .map(|p| RequiredApproval {
                policy: p.label().to_string(),
                approver_groups: p.approver_groups.clone(),
                min_approvals: p.min_approvals.unwrap_or(1),
                instructions: p.instructions.clone(),
                approve_command: approve_command(
                    &input.release_digest,
                    &input.environment,
                    &p.approver_groups,
                ),
            })
            .collect();
        Some(Report {
            schema: SCHEMA,
            verdict,
            exit_code: verdict.exit_code(),
            evaluated_at,
            input,
            required_approvals,
            policies,
            config: None,
            skipped: Vec::new(),
            nothing_applied: None,
            approvals: ApprovalsReport::default(),
        })
    }

    /// The report of a policy set none of whose policies applied, decided by
    /// the set's `when-nothing-applies`; `None` when that is `error`.
    pub fn nothing_applied(
        evaluated_at: String,
        input: InputSummary,
        when: &crate::config::WhenNothingApplies,
    ) -> Option<Self> {
        use crate::config::WhenNothingApplies;
        use crate::untrusted::quote;
        let verdict = when.verdict()?;
        let what = format!(
            "no policy of the set applies to environment {}, release stream {}",
            quote(&input.environment),
            quote(&input.release_stream)
        );
        let message = match when {
            WhenNothingApplies::AutoApprove => format!(
                "NOTHING WAS CHECKED: {what}; auto-approved only because the set says when-nothing-applies = \"auto-approve\""
            ),
            _ => format!(
                "nothing was checked: {what}; {} because the set says when-nothing-applies = \"{}\"",
                verdict.as_str(),
                when.as_str()
            ),
        };
        let required_approvals = match when {
            WhenNothingApplies::RequireApproval {
                approver_groups,
                min_approvals,
            } => vec![RequiredApproval {
                policy: NOTHING_APPLIES_APPROVAL.to_string(),
                approver_groups: approver_groups.clone(),
                min_approvals: *min_approvals,
                instructions: Some(
                    "No policy of the set applies to this release, so nothing was checked: review the whole release by hand before approving.".to_string(),
                ),
                approve_command: approve_command(
                    &input.release_digest,
                    &input.environment,
                    approver_groups,
                ),
            }],
            _ => Vec::new(),
        };
        Some(Report {
            schema: SCHEMA,
            verdict,
            exit_code: verdict.exit_code(),
            evaluated_at,
            input,
            required_approvals,
            policies: Vec::new(),
            config: None,
            skipped: Vec::new(),
            nothing_applied: Some(NothingApplied {
                action: when.as_str(),
                checked: false,
                message,
                approved_by: Vec::new(),
            }),
            approvals: ApprovalsReport::default(),
        })
    }

    /// Satisfies the request for approval of a set's `when-nothing-applies
    /// = "require-approval"` with the valid approvals, when they meet it: the
    /// host's own request (no policy decides it), so no re-evaluation is
    /// needed. The verdict becomes auto-approve; `nothing_applied` names who
    /// approved. Does nothing to any other report.
    pub fn satisfy_nothing_applied(mut self, approvals: &[crate::approvals::Counted]) -> Self {
        let Some(nothing) = self.nothing_applied.as_mut() else {
            return self;
        };
        let [request] = &self.required_approvals[..] else {
            return self;
        };
        if let Some(approved_by) =
            crate::approvals::meets(&request.approver_groups, request.min_approvals, approvals)
        {
            nothing.approved_by = approved_by;
            nothing
                .message
                .push_str("; the approval it asks for was given (signed and verified)");
            self.verdict = Verdict::AutoApprove;
            self.exit_code = Verdict::AutoApprove.exit_code();
            self.required_approvals.clear();
        }
        self
    }

    /// Records the approvals of the evaluation.
    pub fn with_approvals(mut self, approvals: ApprovalsReport) -> Self {
        self.approvals = approvals;
        self
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WhenNothingApplies;

    fn input() -> InputSummary {
        InputSummary {
            source: "r.json".into(),
            sha256: "ab".into(),
            release_digest: format!("sha256:{}", "0".repeat(64)),
            environment: "dev\n".into(),
            release_stream: "QA".into(),
            resources: 0,
            changes: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn no_policy_is_no_decision() {
        assert!(Report::new("t".into(), input(), Vec::new()).is_none());
        assert!(Report::nothing_applied("t".into(), input(), &WhenNothingApplies::Error).is_none());
    }

    #[test]
    fn nothing_applied_gives_the_sets_verdict_and_says_so() {
        let when = WhenNothingApplies::RequireApproval {
            approver_groups: vec!["release-managers".into()],
            min_approvals: 2,
        };
        let report = Report::nothing_applied("t".into(), input(), &when).expect("a verdict");
        assert_eq!(
            (report.verdict, report.exit_code),
            (Verdict::RequireApproval, 2)
        );
        assert!(report.policies.is_empty());
        let [approval] = &report.required_approvals[..] else {
            panic!("one approval")
        };
        assert_eq!(approval.policy, NOTHING_APPLIES_APPROVAL);
        assert_eq!(
            (approval.approver_groups.as_slice(), approval.min_approvals),
            (&["release-managers".to_string()][..], 2)
        );
        let nothing = report.nothing_applied.as_ref().expect("set");
        assert_eq!(
            (nothing.action, nothing.checked),
            ("require-approval", false)
        );
        assert!(
            nothing
                .message
                .contains("environment \"dev\\n\", release stream \"QA\""),
            "{}",
            nothing.message
        );
        let report = Report::nothing_applied("t".into(), input(), &WhenNothingApplies::AutoApprove)
            .expect("a verdict");
        assert_eq!(report.exit_code, 0);
        assert!(report.required_approvals.is_empty());
        let message = &report.nothing_applied.as_ref().expect("set").message;
        assert!(message.starts_with("NOTHING WAS CHECKED: "), "{message}");
        assert!(render_text(&report).starts_with("AUTO-APPROVE (exit 0): NOTHING WAS CHECKED\n"));
        let report = Report::nothing_applied("t".into(), input(), &WhenNothingApplies::Fail)
            .expect("a verdict");
        assert_eq!((report.verdict, report.exit_code), (Verdict::Fail, 1));
    }
}
