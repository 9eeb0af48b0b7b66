//! One evaluation, end to end: a release already read, the policies (a
//! policy set or a list of policy files), the approvals given → the
//! [`Report`] (verdict and exit code) and what its audit record needs.
//!
//! This is the one entry point every front-end calls: `gatehouse eval` and
//! `gatehouse serve` decide the same release the same way because neither
//! has its own copy of the steps (docs/architecture.md):
//!
//! 1. the input is observed (its sha256 and the release digest);
//! 2. the policies are chosen: a policy set's whose conditions match, the
//!    others reported as skipped, or every policy of a list;
//! 3. the approvals are gathered under the trust section ([`approvals`]);
//! 4. each policy is evaluated in its own sandbox and its request for
//!    approval settled ([`crate::gate::run_and_settle`]);
//! 5. the report is assembled; [`record::decision_record`] turns the
//!    outcome into an audit [`crate::audit::Record`].
//!
//! # Example
//!
//! ```no_run
//! use gatehouse_core::config::PolicySet;
//! use gatehouse_core::evaluation::{ApprovalsInput, Evaluation, Observed, Policies, evaluate};
//! use gatehouse_core::input::ReleaseRequest;
//! use gatehouse_core::runtime::Runtime;
//! use std::path::Path;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let set = PolicySet::load(Path::new("gatehouse.toml")).map_err(|p| p.join("; "))?;
//! let input = ReleaseRequest { input: "release.json".into(), ..ReleaseRequest::default() }.load()?;
//! let engines = |_: Option<&Path>| Runtime::builder();
//! let evaluation = Evaluation {
//!     policies: Policies::Set(&set),
//!     approvals: ApprovalsInput::Collected(Default::default()),
//!     now: gatehouse_core::time::now_unix(),
//!     keep_release: false,
//! };
//! let mut seen = Observed::default();
//! let report = evaluate(input, evaluation, &engines, &mut seen)?;
//! println!("{}", report.verdict.as_str());
//! # Ok(())
//! # }
//! ```

pub mod approvals;
pub mod prepared;
pub mod record;

pub use approvals::Gathered;
pub use prepared::PreparedSet;
pub use record::{
    Observed, RecordContext, base_record, decision_record, limits_record, release_record_json,
};

use crate::approvals::Collected;
use crate::config::{Applicability, PolicyEntry, PolicySet, Trust};
use crate::error::Error;
use crate::input::LoadedInput;
use crate::release::Release;
use crate::report::{InputSummary, PolicyReport, Report, SkippedPolicy};
use crate::runtime::{Grants, Limits, RunOptions, RuntimeBuilder};
use crate::settings::{Assignment, check_assignments, settings_for};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the engines of an evaluation come from: given a policy set's
/// `cache-dir` (or `None`), a runtime builder with the front-end's compile
/// cache, key and warning sink. The evaluation sets the limits.
///
/// Any `Fn(Option<&Path>) -> RuntimeBuilder` is one.
pub trait EngineSource {
    /// A builder for the engine of a policy set with this `cache-dir`
    /// (`None` for a list of policies, or a set without one).
    fn builder_for(&self, set_cache_dir: Option<&Path>) -> RuntimeBuilder;
}

impl<F: Fn(Option<&Path>) -> RuntimeBuilder> EngineSource for F {
    fn builder_for(&self, set_cache_dir: Option<&Path>) -> RuntimeBuilder {
        self(set_cache_dir)
    }
}

/// Which policies decide.
#[derive(Debug)]
pub enum Policies<'a> {
    /// A policy set file, loaded (and checked) when the evaluation reaches
    /// it, after the input: `gatehouse eval --config`.
    Config(&'a Path),
    /// A policy set loaded already; its policies are loaded (compiled and
    /// linked) for this evaluation.
    Set(&'a PolicySet),
    /// A policy set whose policies were loaded once ([`PreparedSet`]: a
    /// server loads them at start); each is instantiated afresh with its
    /// entry's limits and grants, as with [`Policies::Set`].
    Prepared(&'a PreparedSet),
    /// Policy files, each with the same limits and grants.
    List(Box<PolicyList>),
}

/// A list of policy files and what each gets (`eval --policy`).
#[derive(Debug, Clone, Default)]
pub struct PolicyList {
    /// The policy components, in order.
    pub paths: Vec<PathBuf>,
    /// Settings, for every policy or one by file stem (`--set`).
    pub assignments: Vec<Assignment>,
    /// The limits of every policy.
    pub limits: Limits,
    /// Directories every policy may read.
    pub allow_read: Vec<PathBuf>,
    /// Host environment variables every policy sees.
    pub allow_env: Vec<String>,
    /// Whether policies get real randomness.
    pub allow_random: bool,
    /// Who may approve, without a policy set.
    pub trust: TrustFlags,
}

/// Who may approve without a policy set: the `--allowed-signers` family of
/// flags, checked by [`Trust::from_flags`] when the evaluation reaches them.
#[derive(Debug, Clone, Default)]
pub struct TrustFlags {
    /// The allowed_signers file; `None` means no trust section.
    pub allowed_signers: Option<PathBuf>,
    /// `GROUP=P1,P2` items.
    pub groups: Vec<String>,
    /// Whether a release's author may approve it.
    pub allow_self_approval: bool,
    /// The metadata key naming the author.
    pub author_key: Option<String>,
}

/// The approvals given to an evaluation.
#[derive(Debug, Clone)]
pub enum ApprovalsInput {
    /// Paths to read ([`crate::approvals::collect`]): signed statements with
    /// their `.sig`, directories of them, or unsigned lists (each list at
    /// most `max_input_mib` MiB). Read after the trust section is known.
    Paths {
        /// The paths, in order.
        paths: Vec<PathBuf>,
        /// The largest unsigned list accepted, in MiB.
        max_input_mib: u64,
    },
    /// Statements and signatures (and unsigned lists) already in memory,
    /// each as bounded as [`crate::approvals::collect`] reads them.
    Collected(Collected),
}

impl Default for ApprovalsInput {
    fn default() -> Self {
        ApprovalsInput::Collected(Collected::default())
    }
}

/// One evaluation's inputs besides the release.
#[derive(Debug)]
pub struct Evaluation<'a> {
    /// The policies.
    pub policies: Policies<'a>,
    /// The approvals given.
    pub approvals: ApprovalsInput,
    /// The evaluation time, Unix seconds.
    pub now: i64,
    /// Whether [`Observed::release`] keeps the release (for an audit
    /// record's `input`; it can be large).
    pub keep_release: bool,
}

/// Evaluates `input` as `evaluation` says, with engines from `engines`,
/// recording in `seen` what an audit record needs as it goes (also when it
/// fails). The report's verdict is the most restrictive of the policies';
/// an error means no decision (exit 3).
pub fn evaluate(
    input: LoadedInput,
    evaluation: Evaluation<'_>,
    engines: &dyn EngineSource,
    seen: &mut Observed,
) -> Result<Report, Error> {
    let Evaluation {
        policies,
        approvals,
        now,
        keep_release,
    } = evaluation;
    seen.now = Some(now);
    let LoadedInput {
        source,
        bytes,
        mut release,
        mut warnings,
    } = input;
    let input_sha256 = hex::encode(Sha256::digest(&bytes));
    drop(bytes);
    let release_digest = release.digest();
    seen.input_sha256 = Some(input_sha256.clone());
    seen.release_digest = Some(release_digest.clone());

    let loaded;
    let (set, prepared, list) = match policies {
        Policies::Config(path) => {
            loaded =
                PolicySet::load(path).map_err(|problems| Error::Config(problems.join("; ")))?;
            (Some(&loaded), None, None)
        }
        Policies::Set(set) => (Some(set), None, None),
        Policies::Prepared(prepared) => (Some(prepared.set()), Some(prepared), None),
        Policies::List(list) => (None, None, Some(*list)),
    };
    let trust = match (&set, &list) {
        (Some(set), _) => set.trust.clone(),
        (None, Some(list)) => Trust::from_flags(
            list.trust.allowed_signers.as_deref(),
            &list.trust.groups,
            list.trust.allow_self_approval,
            list.trust.author_key.as_deref(),
        )
        .map_err(Error::Usage)?,
        (None, None) => None,
    };
    let approvals = match approvals::gather(
        approvals,
        trust.as_ref(),
        &mut release,
        &release_digest,
        now,
    ) {
        Ok(approvals) => approvals,
        Err(e) => {
            // The record of the failure still shows the release.
            seen.release = keep_release.then(|| Arc::new(release));
            return Err(e);
        }
    };
    warnings.extend(approvals.warnings.iter().cloned());
    seen.approvals = Some(approvals.record.clone());
    // One release, shared by the record and every policy (a 0.2.0 policy
    // reads it in place): never copied per policy.
    let release = Arc::new(release);
    seen.release = keep_release.then(|| Arc::clone(&release));

    if let Some(set) = set {
        seen.set_limits = set
            .policies
            .iter()
            .map(|e| (e.name.clone(), e.limits.clone()))
            .collect();
        let input = InputSummary::new(source, input_sha256, release_digest, &release, warnings);
        let source = match prepared {
            Some(prepared) => SetSource::Prepared(prepared),
            None => SetSource::Load(engines),
        };
        return evaluate_set(set, source, &release, now, input, approvals);
    }
    let list = list.unwrap_or_default();
    let input = InputSummary::new(source, input_sha256, release_digest, &release, warnings);
    evaluate_list(&list, engines, &release, now, input, approvals)
}

/// Evaluates every policy of a list with the same limits and grants.
fn evaluate_list(
    list: &PolicyList,
    engines: &dyn EngineSource,
    release: &Arc<Release>,
    now: i64,
    input: InputSummary,
    approvals: Gathered,
) -> Result<Report, Error> {
    let runtime = engines.builder_for(None).limits(&list.limits).build()?;
    let policies = list
        .paths
        .iter()
        .map(|path| runtime.load(path))
        .collect::<Result<Vec<_>, _>>()?;
    let stems: Vec<String> = policies.iter().map(|p| p.file_stem()).collect();
    check_assignments(&list.assignments, &stems).map_err(Error::Usage)?;

    let mut grants = Grants::default();
    for dir in &list.allow_read {
        grants.allow_read(dir).map_err(Error::Usage)?;
    }
    for name in &list.allow_env {
        grants.allow_env(name).map_err(Error::Usage)?;
    }
    grants.random = list.allow_random;
    let run_options = RunOptions::new(now, list.limits.clone(), grants)
        .with_release_digest(input.release_digest.clone());
    let mut reports = Vec::with_capacity(policies.len());
    for policy in &policies {
        let settings =
            settings_for(&list.assignments, &policy.file_stem()).map_err(Error::Usage)?;
        let (run, settlement) = crate::gate::run_and_settle(
            policy,
            release,
            &settings,
            &run_options,
            &approvals.counted,
        )?;
        let mut report = PolicyReport::new(
            policy.path().display().to_string(),
            policy.sha256().to_string(),
            &settings,
            &run_options.grants,
            run,
        );
        report.settle(settlement);
        reports.push(report);
    }
    Report::new(crate::time::format_utc(now), input, reports)
        .map(|report| report.with_approvals(approvals.report))
        .ok_or_else(|| Error::Usage("no policy to evaluate; pass --policy or --config".into()))
}

/// Where a policy set's policies come from.
enum SetSource<'a> {
    /// Loaded for this evaluation, with engines from here.
    Load(&'a dyn EngineSource),
    /// Loaded once already.
    Prepared(&'a PreparedSet),
}

impl SetSource<'_> {
    /// The loaded policy and grants of each of `applicable` (entries of `set`).
    fn load(
        &self,
        set: &PolicySet,
        applicable: &[&PolicyEntry],
    ) -> Result<Vec<(crate::runtime::LoadedPolicy, Grants)>, Error> {
        let mut loaded = Vec::with_capacity(applicable.len());
        match self {
            SetSource::Load(engines) => {
                let limits = PolicySet::max_limits(applicable.iter().copied());
                let runtime = engines
                    .builder_for(set.cache_dir.as_deref())
                    .limits(&limits)
                    .build()?;
                for entry in applicable {
                    let grants = entry.grants().map_err(Error::Config)?;
                    loaded.push((entry.load_pinned(&runtime)?, grants));
                }
            }
            SetSource::Prepared(prepared) => {
                for entry in applicable {
                    let found = set
                        .policies
                        .iter()
                        .position(|e| std::ptr::eq(e, *entry))
                        .and_then(|index| prepared.policy(index))
                        .ok_or_else(|| {
                            Error::Config(format!("policy {}: not loaded", entry.name))
                        })?;
                    loaded.push(found.clone());
                }
            }
        }
        Ok(loaded)
    }
}

/// Evaluates the policies of a policy set whose conditions match the release;
/// the others are reported as skipped. A release that some policy matches
/// only when case is ignored is refused, and one that no policy applies to
/// gets the set's `when-nothing-applies` (an error unless it says otherwise).
fn evaluate_set(
    set: &PolicySet,
    source: SetSource<'_>,
    release: &Arc<Release>,
    now: i64,
    input: InputSummary,
    approvals: Gathered,
) -> Result<Report, Error> {
    let matched = set.applicability(&release.environment_name, &release.release_stream);
    if let Some(refusal) = set.refusal(&release.environment_name, &release.release_stream, &matched)
    {
        return Err(Error::Config(refusal));
    }
    let mut applicable: Vec<&PolicyEntry> = Vec::new();
    let mut skipped = Vec::new();
    for (entry, applicability) in matched {
        match applicability {
            Applicability::Applies(_) => applicable.push(entry),
            Applicability::Skipped(reason) | Applicability::CaseMismatch(reason) => {
                skipped.push(SkippedPolicy {
                    name: entry.name.clone(),
                    path: entry.path.display().to_string(),
                    reason,
                })
            }
        }
    }
    let evaluated_at = crate::time::format_utc(now);
    let config = set.path.display().to_string();
    if applicable.is_empty() {
        // `refusal` returned the error for `when-nothing-applies = "error"`.
        let report = Report::nothing_applied(evaluated_at, input, &set.when_nothing_applies)
            .ok_or_else(|| Error::Config(format!("{config}: no policy applies")))?;
        return Ok(report
            .with_config(config, skipped)
            .satisfy_nothing_applied(&approvals.counted)
            .with_approvals(approvals.report));
    }
    let loaded = source.load(set, &applicable)?;
    let mut reports = Vec::with_capacity(applicable.len());
    for (entry, (policy, grants)) in applicable.iter().zip(loaded) {
        let options = RunOptions::new(now, entry.limits.clone(), grants)
            .with_release_digest(input.release_digest.clone());
        // Errors name the policy as the config does.
        let (run, settlement) = crate::gate::run_and_settle(
            &policy,
            release,
            &entry.settings,
            &options,
            &approvals.counted,
        )
        .map_err(|mut e| {
            e.policy = entry.name.clone();
            e
        })?;
        let mut report = PolicyReport::new(
            policy.path().display().to_string(),
            policy.sha256().to_string(),
            &entry.settings,
            &options.grants,
            run,
        );
        report.settle(settlement);
        report.config_name = Some(entry.name.clone());
        reports.push(report);
    }
    let report = Report::new(evaluated_at, input, reports)
        .ok_or_else(|| Error::Config(format!("{config}: no policy ran")))?;
    Ok(report
        .with_config(config, skipped)
        .with_approvals(approvals.report))
}
