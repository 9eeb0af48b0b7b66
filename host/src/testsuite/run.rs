//! Running suites: each case reads its release, evaluates its policy in a
//! fresh sandbox (each policy file compiled once per run) and is judged
//! against its expectation.

use super::{Case, Expectation, Expected, Input, Suite, SuiteError};
use crate::decision::{Decision, Verdict};
use crate::release::{Format, InputOptions};
use crate::runtime::{Grants, Limits, LoadedPolicy, RunOptions, Runtime, RuntimeBuilder};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Largest input file a case may read.
const MAX_INPUT_BYTES: u64 = 256 << 20;

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The policy did what the case expects.
    Pass,
    /// The policy did something else.
    Fail,
    /// The case could not be run: a bad suite, an unreadable input, a
    /// policy that does not load.
    Error,
}

impl Status {
    /// `PASS`, `FAIL` or `ERROR`, as the text report prints it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
        }
    }
}

/// What a policy actually produced, in the words a suite uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actual {
    /// `approve`, `require-approval`, `fail` or `error`.
    pub verdict: &'static str,
    /// The reasons' messages, in order.
    pub reasons: Vec<String>,
    /// The approver groups requested (require-approval only).
    pub approvers: Vec<String>,
    /// The error, when the evaluation failed.
    pub error: Option<String>,
}

/// The result of one case (or, with no `name`, of a suite file that could
/// not be used at all).
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The suite file, as found.
    pub suite: String,
    /// The case; `None` for a problem with the suite file as a whole.
    pub name: Option<String>,
    /// Pass, fail or error.
    pub status: Status,
    /// The policy file the case ran, when known.
    pub policy: Option<String>,
    /// What the case expects, when it was parsed.
    pub expected: Option<Expectation>,
    /// What the policy produced, when it ran.
    pub actual: Option<Actual>,
    /// For a failure the diff lines; for an error the problems.
    pub messages: Vec<String>,
    /// Time spent on the case, policy compilation included.
    pub duration: Duration,
}

impl CaseResult {
    /// An error about a whole suite file (or the search for suites).
    pub fn suite_error(suite: &str, messages: Vec<String>) -> Self {
        CaseResult {
            suite: suite.to_string(),
            name: None,
            status: Status::Error,
            policy: None,
            expected: None,
            actual: None,
            messages,
            duration: Duration::ZERO,
        }
    }
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Every result.
    pub total: usize,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases (or suite files) that could not be run.
    pub errors: usize,
}

impl Summary {
    /// Counts results.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Self {
        let mut summary = Summary::default();
        for result in results {
            summary.total += 1;
            match result.status {
                Status::Pass => summary.passed += 1,
                Status::Fail => summary.failed += 1,
                Status::Error => summary.errors += 1,
            }
        }
        summary
    }

    /// 0 when every case passed, 3 on any error, else 1.
    pub fn exit_code(&self) -> i32 {
        if self.errors > 0 {
            3
        } else if self.failed > 0 {
            1
        } else {
            0
        }
    }
}

/// What `gatehouse test` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RunConfig {
    /// Suite files and directories to search.
    pub paths: Vec<PathBuf>,
    /// Overrides every suite's and case's policy (`--policy`).
    pub policy: Option<PathBuf>,
    /// Runs only cases whose name or suite path contains this (`--filter`).
    pub filter: Option<String>,
    /// Builds the runtime the cases run in (once, when the first case needs
    /// it): the compile cache and where its warnings go. Its limits are
    /// replaced by the defaults every case runs with.
    pub runtime: RuntimeBuilder,
}

/// Finds the suites, runs every selected case and returns the results in
/// order; `on_result` sees each result as soon as it is known (the text
/// report streams). Finding no case at all is an error: a gate that tests
/// nothing must not pass.
pub fn run_all(config: &RunConfig, on_result: &mut dyn FnMut(&CaseResult)) -> Vec<CaseResult> {
    let mut results = Vec::new();
    let mut emit = |result: CaseResult, results: &mut Vec<CaseResult>| {
        on_result(&result);
        results.push(result);
    };
    let files = match super::discover::discover(&config.paths) {
        Ok(files) => files,
        Err(message) => {
            emit(CaseResult::suite_error("", vec![message]), &mut results);
            return results;
        }
    };
    let mut runner = Runner::new(config.policy.clone(), config.runtime.clone());
    let mut selected = 0usize;
    for file in &files {
        let suite = match super::load(file) {
            Ok(suite) => suite,
            Err(errors) => {
                let messages = errors.iter().map(SuiteError::to_string).collect();
                emit(
                    CaseResult::suite_error(&file.display().to_string(), messages),
                    &mut results,
                );
                continue;
            }
        };
        let suite_name = suite.path.display().to_string();
        for case in &suite.cases {
            if let Some(filter) = &config.filter
                && !case.name.contains(filter.as_str())
                && !suite_name.contains(filter.as_str())
            {
                continue;
            }
            selected += 1;
            let result = runner.run_case(&suite, case);
            emit(result, &mut results);
        }
    }
    if selected == 0 && results.is_empty() {
        let searched: Vec<String> = config
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let message = match &config.filter {
            Some(filter) if !files.is_empty() => format!(
                "--filter {filter:?} matches no case in {} suite file(s); it matches case names and suite paths",
                files.len()
            ),
            _ => format!(
                "no suite files (*{}) under {}; see docs/testing-policies.md",
                super::SUITE_SUFFIX,
                searched.join(", ")
            ),
        };
        emit(CaseResult::suite_error("", vec![message]), &mut results);
    }
    results
}

/// Runs cases, compiling each policy file once.
pub struct Runner {
    policy_override: Option<PathBuf>,
    builder: RuntimeBuilder,
    runtime: Option<Result<Runtime, String>>,
    policies: HashMap<PathBuf, Result<LoadedPolicy, String>>,
}

/// What an evaluation came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The policy decided.
    Decided(Decision),
    /// The evaluation failed; the error message.
    Errored(String),
    /// The evaluation hit a sandbox limit (fuel, memory, the time budget,
    /// host-call data): the policy could not be judged, as `eval` exits 3.
    LimitHit(String),
}

impl Runner {
    /// A runner; `policy_override` replaces every case's policy (`--policy`);
    /// `builder` makes its runtime when a case first needs one.
    pub fn new(policy_override: Option<PathBuf>, builder: RuntimeBuilder) -> Self {
        Runner {
            policy_override,
            builder,
            runtime: None,
            policies: HashMap::new(),
        }
    }

    /// Runs one case of `suite`.
    pub fn run_case(&mut self, suite: &Suite, case: &Case) -> CaseResult {
        let started = Instant::now();
        let suite_name = suite.path.display().to_string();
        let policy_path = self.policy_override.clone().or_else(|| case.policy.clone());
        let mut result = CaseResult {
            suite: suite_name.clone(),
            name: Some(case.name.clone()),
            status: Status::Error,
            policy: policy_path.as_ref().map(|p| p.display().to_string()),
            expected: Some(case.expect.clone()),
            actual: None,
            messages: Vec::new(),
            duration: Duration::ZERO,
        };
        let at = format!("{suite_name}:{}: case {:?}", case.line, case.name);
        match self.evaluate(case, policy_path.as_deref()) {
            Err(message) => result.messages.push(format!("{at}: {message}")),
            Ok(outcome) => {
                let (status, actual, messages) = judge(&case.expect, &outcome);
                result.status = status;
                result.actual = Some(actual);
                result.messages = messages;
            }
        }
        result.duration = started.elapsed();
        result
    }

    /// Reads the case's release and evaluates its policy. `Err` means the
    /// case could not be run at all.
    fn evaluate(&mut self, case: &Case, policy_path: Option<&Path>) -> Result<Outcome, String> {
        let Some(policy_path) = policy_path else {
            return Err(
                "no policy: add policy = \"PATH.wasm\" at the top of the suite or to the case, or pass --policy"
                    .into(),
            );
        };
        let policy = self.policy(policy_path)?;
        let release = read_case_release(case)?;
        let options = RunOptions::new(
            case.now.unwrap_or_else(crate::time::now_unix),
            Limits::default(),
            Grants::default(),
        )
        .with_release_digest(release.digest());
        Ok(match policy.evaluate(&release, &case.settings, &options) {
            Ok(run) => Outcome::Decided(run.decision),
            Err(e) if e.kind.limit().is_some() => Outcome::LimitHit(e.to_string()),
            Err(e) => Outcome::Errored(e.to_string()),
        })
    }

    /// The compiled policy, compiling it on first use (keyed by canonical
    /// path, so `a/../p.wasm` and `p.wasm` compile once).
    fn policy(&mut self, path: &Path) -> Result<&LoadedPolicy, String> {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.policies.contains_key(&key) {
            let builder = &self.builder;
            let loaded = match self.runtime.get_or_insert_with(|| {
                builder
                    .clone()
                    .limits(&Limits::default())
                    .build()
                    .map_err(|e| e.to_string())
            }) {
                Ok(runtime) => runtime.load(path).map_err(|e| e.to_string()),
                Err(e) => Err(e.clone()),
            };
            self.policies.insert(key.clone(), loaded);
        }
        match self.policies.get(&key) {
            Some(Ok(policy)) => Ok(policy),
            Some(Err(e)) => Err(e.clone()),
            None => Err(format!("policy {}: not loaded", path.display())),
        }
    }
}

/// Reads a case's release from its file or inline table, with the case's
/// overrides, metadata and approvals applied.
fn read_case_release(case: &Case) -> Result<crate::release::Release, String> {
    let options = InputOptions {
        format: match case.input {
            Input::Inline(_) => Some(Format::Release),
            Input::File(_) => case.format,
        },
        environment: case.environment.clone(),
        release_stream: case.release_stream.clone(),
        meta: case.meta.clone(),
        approvals: case.approvals.clone(),
    };
    match &case.input {
        Input::File(path) => {
            let bytes = read_input_file(path)?;
            let source = path.display().to_string();
            let (release, _warnings) = crate::release::read_release(&bytes, &source, &options)
                .map_err(|e| e.to_string())?;
            Ok(release)
        }
        Input::Inline(json) => {
            let source = "the inline release".to_string();
            let (release, warnings) =
                crate::release::read_release(json.as_bytes(), &source, &options).map_err(|e| {
                    e.to_string()
                        .replace("--environment", "environment")
                        .replace("--release-stream", "release-stream")
                })?;
            match warnings.first() {
                Some(w) => Err(format!(
                    "the inline release has an unknown key {}; a release has environmentName, releaseStream, resources, metadata and approvals (see docs/input-formats.md)",
                    w.trim_start_matches("ignored unknown field ")
                )),
                None => Ok(release),
            }
        }
    }
}

/// Reads an input file, refusing directories, empty files and more than
/// [`MAX_INPUT_BYTES`].
fn read_input_file(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| {
        format!("input {name}: cannot open the input file: {e} (input paths are relative to the suite file)")
    })?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(format!(
            "input {name}: is a directory; name a release JSON, a Terraform plan or a Pulumi preview"
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("input {name}: cannot read the input file: {e}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!(
            "input {name}: larger than {} MiB",
            MAX_INPUT_BYTES >> 20
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("input {name}: the file is empty"));
    }
    Ok(bytes)
}

/// The verdict in a suite's words.
fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::AutoApprove => Expected::Approve.as_str(),
        Verdict::RequireApproval => Expected::RequireApproval.as_str(),
        Verdict::Fail => Expected::Fail.as_str(),
    }
}

/// Compares an outcome with a case's expectation: the status, what actually
/// happened, and (on failure) the diff lines.
pub fn judge(expect: &Expectation, outcome: &Outcome) -> (Status, Actual, Vec<String>) {
    let actual = match outcome {
        Outcome::Decided(d) => Actual {
            verdict: verdict_name(d.verdict),
            reasons: d.reasons.iter().map(|r| r.message.clone()).collect(),
            approvers: d.approver_groups.clone(),
            error: None,
        },
        Outcome::Errored(e) | Outcome::LimitHit(e) => Actual {
            verdict: Expected::Error.as_str(),
            reasons: Vec::new(),
            approvers: Vec::new(),
            error: Some(e.clone()),
        },
    };
    let verdict_ok = actual.verdict == expect.outcome.as_str();
    let haystacks: Vec<&str> = match &actual.error {
        Some(e) => vec![e.as_str()],
        None => actual.reasons.iter().map(String::as_str).collect(),
    };
    let missing: Vec<&String> = expect
        .reasons
        .iter()
        .filter(|f| !haystacks.iter().any(|h| h.contains(f.as_str())))
        .collect();
    let approvers_ok = match &expect.approvers {
        Some(want) if verdict_ok => {
            want.iter().collect::<BTreeSet<_>>() == actual.approvers.iter().collect::<BTreeSet<_>>()
        }
        _ => true,
    };
    if verdict_ok && missing.is_empty() && approvers_ok {
        return (Status::Pass, actual, Vec::new());
    }
    // A limit hit where a verdict was expected says nothing about the rule
    // under test: the case could not be judged (an ERROR, exit 3, as `eval`
    // would exit), not a wrong verdict.
    if let Outcome::LimitHit(e) = outcome
        && expect.outcome != Expected::Error
    {
        let lines = vec![
            format!("expected: {}", expect.outcome.as_str()),
            format!("could not be judged: the evaluation hit a sandbox limit: {e}"),
        ];
        return (Status::Error, actual, lines);
    }
    let mut lines = Vec::new();
    let mut expected_line = format!("expected: {}", expect.outcome.as_str());
    if let Some(groups) = &expect.approvers {
        expected_line.push_str(&groups_label(groups));
    }
    lines.push(expected_line);
    lines.push(match &actual.error {
        Some(e) => format!("actual:   error: {e}"),
        None if actual.verdict == Expected::RequireApproval.as_str() => {
            format!(
                "actual:   {}{}",
                actual.verdict,
                groups_label(&actual.approvers)
            )
        }
        None => format!("actual:   {}", actual.verdict),
    });
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|f| format!("{f:?}")).collect();
        let what = if actual.error.is_some() {
            "the error"
        } else {
            "any reason"
        };
        lines.push(format!(
            "missing reason fragment{} (not in {what}): {}",
            if missing.len() == 1 { "" } else { "s" },
            list.join(", ")
        ));
    }
    if actual.error.is_none() {
        if actual.reasons.is_empty() {
            lines.push("actual reasons: none".into());
        } else {
            lines.push("actual reasons:".into());
            lines.extend(actual.reasons.iter().map(|r| format!("  - {r}")));
        }
    }
    (Status::Fail, actual, lines)
}

fn groups_label(groups: &[String]) -> String {
    if groups.is_empty() {
        " [groups: none]".to_string()
    } else {
        format!(" [groups: {}]", groups.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Reason;

    fn decision(verdict: Verdict, reasons: &[&str], groups: &[&str]) -> Outcome {
        Outcome::Decided(Decision {
            verdict,
            reasons: reasons
                .iter()
                .map(|m| Reason {
                    message: m.to_string(),
                    resource_path: None,
                })
                .collect(),
            approver_groups: groups.iter().map(|g| g.to_string()).collect(),
            min_approvals: None,
            instructions: None,
        })
    }

    fn expect(outcome: Expected, reasons: &[&str], approvers: Option<&[&str]>) -> Expectation {
        Expectation {
            outcome,
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
            approvers: approvers.map(|a| a.iter().map(|g| g.to_string()).collect()),
        }
    }

    #[test]
    fn matching_verdict_fragments_and_groups_pass() {
        let d = decision(
            Verdict::RequireApproval,
            &["DELETE of mysql datastores/orders", "REPLACE of s3 b"],
            &["sre", "dba"],
        );
        let e = expect(
            Expected::RequireApproval,
            &["mysql", "REPLACE of s3"],
            Some(&["dba", "sre"]),
        );
        let (status, actual, lines) = judge(&e, &d);
        assert_eq!(status, Status::Pass, "{lines:?}");
        assert_eq!(actual.verdict, "require-approval");
        let (status, ..) = judge(
            &expect(Expected::Approve, &[], None),
            &decision(Verdict::AutoApprove, &[], &[]),
        );
        assert_eq!(status, Status::Pass);
    }

    #[test]
    fn a_wrong_verdict_shows_the_diff() {
        let d = decision(Verdict::AutoApprove, &["no destructive change"], &[]);
        let e = expect(Expected::RequireApproval, &["database"], Some(&["dba"]));
        let (status, _, lines) = judge(&e, &d);
        assert_eq!(status, Status::Fail);
        assert_eq!(
            lines,
            [
                "expected: require-approval [groups: dba]",
                "actual:   approve",
                "missing reason fragment (not in any reason): \"database\"",
                "actual reasons:",
                "  - no destructive change",
            ]
        );
    }

    #[test]
    fn groups_are_compared_as_sets() {
        let d = decision(Verdict::RequireApproval, &["r"], &["dba"]);
        let (status, _, lines) = judge(
            &expect(Expected::RequireApproval, &[], Some(&["dba", "sre"])),
            &d,
        );
        assert_eq!(status, Status::Fail);
        assert_eq!(lines[1], "actual:   require-approval [groups: dba]");
        let (status, ..) = judge(
            &expect(Expected::RequireApproval, &[], Some(&[])),
            &decision(Verdict::RequireApproval, &["r"], &[]),
        );
        assert_eq!(status, Status::Pass);
    }

    #[test]
    fn a_limit_hit_where_a_verdict_was_expected_cannot_be_judged() {
        let hit = Outcome::LimitHit(
            "policy 'p' (p.wasm): timed out after 1000 ms in evaluate; raise it with --timeout-ms"
                .into(),
        );
        let (status, actual, lines) = judge(&expect(Expected::Approve, &[], None), &hit);
        assert_eq!(
            status,
            Status::Error,
            "not a wrong verdict: no verdict at all"
        );
        assert_eq!(actual.verdict, "error");
        assert!(
            lines[1].contains("timed out after 1000 ms in evaluate"),
            "{lines:?}"
        );
        // A case that expects the limit passes, and can match its message.
        let (status, ..) = judge(&expect(Expected::Error, &["timed out after"], None), &hit);
        assert_eq!(status, Status::Pass);
        let (status, ..) = judge(&expect(Expected::Error, &["ran out of fuel"], None), &hit);
        assert_eq!(status, Status::Fail);
    }

    #[test]
    fn expected_errors_match_the_error_text() {
        let err =
            Outcome::Errored("policy 'p' (p.wasm): settings rejected: setting 'x': bad".into());
        let (status, ..) = judge(
            &expect(Expected::Error, &["settings rejected", "'x'"], None),
            &err,
        );
        assert_eq!(status, Status::Pass);
        let (status, _, lines) = judge(&expect(Expected::Error, &["'y'"], None), &err);
        assert_eq!(status, Status::Fail);
        assert_eq!(
            lines[2],
            "missing reason fragment (not in the error): \"'y'\""
        );
        let (status, _, lines) = judge(&expect(Expected::Approve, &[], None), &err);
        assert_eq!(status, Status::Fail);
        assert!(
            lines[1].starts_with("actual:   error: policy 'p'"),
            "{lines:?}"
        );
        let (status, _, lines) = judge(
            &expect(Expected::Error, &[], None),
            &decision(Verdict::Fail, &["f"], &[]),
        );
        assert_eq!(status, Status::Fail);
        assert_eq!(lines[..2], ["expected: error", "actual:   fail"]);
    }

    #[test]
    fn summary_and_exit_codes() {
        let r = |status| CaseResult {
            status,
            ..CaseResult::suite_error("s", vec![])
        };
        assert_eq!(Summary::of(&[r(Status::Pass)]).exit_code(), 0);
        assert_eq!(
            Summary::of(&[r(Status::Pass), r(Status::Fail)]).exit_code(),
            1
        );
        let s = Summary::of(&[r(Status::Fail), r(Status::Error), r(Status::Pass)]);
        assert_eq!((s.total, s.passed, s.failed, s.errors), (3, 1, 1, 1));
        assert_eq!(s.exit_code(), 3);
    }
}
