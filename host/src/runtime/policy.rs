//! A compiled, linked policy and one evaluation of it in a fresh sandbox.

use super::bindings::ReleaseHandle;
use super::bindings::gatehouse::policy::types::Release as WitRelease;
use super::bindings::{Policy, PolicyPre, WORLD, WORLD_0_2, v0_2};
use super::capture::{Captured, LogLine};
use super::convert::{decision_from_wit, decision_from_wit_0_2, release_to_wit};
use super::grants::Grants;
use super::limiter::LimitHit;
use super::limits::Limits;
use super::random::{RandomSource, random_seed};
use super::sandbox::{SandboxState, StoreConfig, new_store};
use super::slots::SlotError;
use super::worker::{Progress, Started, WorkerError};
use crate::decision::Decision;
use crate::error::{PolicyError, PolicyErrorKind};
use crate::release::Release;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use wasmtime::{Store, Trap};

/// How long after an evaluation's time budget the caller still waits for
/// its result before abandoning it (see [`super::worker`]). The epoch
/// deadline fires within one tick (10 ms) of the budget; the rest is room
/// for the trap to unwind on a loaded machine.
pub const CALLER_SLACK: Duration = Duration::from_millis(100);

/// How many evaluation budgets (timeout plus [`CALLER_SLACK`]) a caller
/// waits for a free evaluation slot: every holder ends, or is abandoned,
/// within one budget; the others allow for losing the race for a freed slot
/// to other waiters.
pub const SLOT_WAIT_BUDGETS: u32 = 3;

/// The digest [`RunOptions::new`] uses when no release is evaluated
/// (`inspect`, `check`): the sha256 of no bytes.
pub const NO_RELEASE_DIGEST: &str =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A policy ready to evaluate: compiled, its exports checked, its imports
/// linked. Cloning is cheap (the compiled code is shared).
#[derive(Clone)]
pub struct LoadedPolicy {
    path: PathBuf,
    sha256: String,
    size: usize,
    pre: WorldPre,
    compile: CompileInfo,
    slots: super::slots::Slots,
    known: Arc<Known>,
}

/// A policy's instance factory, per world version it targets.
#[derive(Clone)]
pub(crate) enum WorldPre {
    /// `gatehouse:policy@0.1.0`: the release is lowered whole into `evaluate`.
    V0_1(PolicyPre<SandboxState>),
    /// `gatehouse:policy@0.2.0`: the release is a resource read in place.
    V0_2(v0_2::PolicyPre<SandboxState>),
}

/// One instance of a policy, per world version.
enum Instance {
    V0_1(Policy),
    V0_2(v0_2::Policy),
}

/// The release as an evaluation hands it in, per world version.
enum Input {
    /// Lowered whole into the 0.1.0 `evaluate`.
    Record(WitRelease),
    /// Shared with the 0.2.0 policy's `release` resource.
    Shared(Arc<Release>),
}

/// Most distinct settings whose acceptance one loaded 0.2.0 policy keeps;
/// past it the oldest is forgotten (and validated again when it returns).
const MAX_KNOWN_SETTINGS: usize = 64;

/// What a loaded 0.2.0 policy's `describe` and `validate-settings` answered,
/// kept so that each is called once per loaded policy (and settings), not
/// per evaluation. 0.1.0 policies keep their per-instance calls.
#[derive(Default)]
struct Known {
    info: OnceLock<PolicyInfo>,
    accepted: Mutex<Vec<Vec<(String, String)>>>,
}

impl Known {
    fn accepts(&self, settings: &[(String, String)]) -> bool {
        let accepted = self.accepted.lock().unwrap_or_else(|p| p.into_inner());
        accepted.iter().any(|known| known.as_slice() == settings)
    }

    fn accept(&self, settings: &[(String, String)]) {
        let mut accepted = self.accepted.lock().unwrap_or_else(|p| p.into_inner());
        if accepted.iter().any(|known| known.as_slice() == settings) {
            return;
        }
        if accepted.len() == MAX_KNOWN_SETTINGS {
            accepted.remove(0);
        }
        accepted.push(settings.to_vec());
    }
}

/// How a policy's machine code was obtained when it was loaded.
#[derive(Debug, Clone)]
pub struct CompileInfo {
    /// Whether the compile cache supplied it.
    pub cache: super::cache::CacheOutcome,
    /// Time spent compiling or loading from the cache.
    pub duration: Duration,
    /// A cache problem worth telling the user (the policy loaded anyway).
    pub warning: Option<String>,
}

/// Who a policy says it is (`describe`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyInfo {
    /// Stable identifier, e.g. `destructive-changes`.
    pub name: String,
    /// The policy's version.
    pub version: String,
    /// What it checks.
    pub description: String,
}

/// Per-run inputs that are not part of the release. Build with
/// [`RunOptions::new`] (and [`RunOptions::with_release_digest`]) so that new
/// fields get their defaults without touching every caller.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The evaluation time, Unix seconds (`host.now`, and the WASI wall clock).
    pub now: i64,
    /// Resource limits for this evaluation.
    pub limits: Limits,
    /// Capabilities granted beyond the empty default.
    pub grants: Grants,
    /// The digest of the release evaluated ([`Release::digest`], computed
    /// once per run by the caller), which seeds the policy's deterministic
    /// `wasi:random` with the policy's sha256 ([`super::random_seed`]).
    pub release_digest: String,
}

impl RunOptions {
    /// Options for evaluations at `now` with these limits and grants, and
    /// [`NO_RELEASE_DIGEST`] as the release digest.
    pub fn new(now: i64, limits: Limits, grants: Grants) -> RunOptions {
        RunOptions {
            now,
            limits,
            grants,
            release_digest: NO_RELEASE_DIGEST.to_string(),
        }
    }

    /// The same options for the release whose [`Release::digest`] is `digest`.
    pub fn with_release_digest(mut self, digest: String) -> RunOptions {
        self.release_digest = digest;
        self
    }
}

/// Everything one evaluation produced.
#[derive(Debug, Clone)]
pub struct PolicyRun {
    /// From `describe`.
    pub info: PolicyInfo,
    /// From `evaluate`, validated.
    pub decision: Decision,
    /// Captured `log` lines.
    pub logs: Vec<LogLine>,
    /// Log lines dropped over the cap.
    pub logs_dropped: u64,
    /// Captured stdout.
    pub stdout: Captured,
    /// Captured stderr.
    pub stderr: Captured,
    /// Wall time of the evaluation: lowering the release, creating the store, instantiating, and the three calls.
    pub duration: Duration,
    /// Of which: creating the store and instantiating the component.
    pub instantiate: Duration,
    /// How the policy's code was obtained when it was loaded.
    pub compile: CompileInfo,
    /// Fuel consumed by instantiation and the three calls together.
    pub fuel_used: u64,
}

/// Which export a call is in, for error messages (one of `worker::PHASES`).
type Phase = &'static str;

impl LoadedPolicy {
    pub(crate) fn new(
        path: &Path,
        sha256: String,
        size: usize,
        pre: WorldPre,
        compile: CompileInfo,
        slots: super::slots::Slots,
    ) -> Self {
        LoadedPolicy {
            path: path.to_path_buf(),
            sha256,
            size,
            pre,
            compile,
            slots,
            known: Arc::default(),
        }
    }

    /// The world the policy targets, e.g. `gatehouse:policy/policy@0.2.0`.
    pub fn world(&self) -> &'static str {
        match self.pre {
            WorldPre::V0_1(_) => WORLD,
            WorldPre::V0_2(_) => WORLD_0_2,
        }
    }

    /// How the machine code was obtained (compiled or from the cache), and how long it took.
    pub fn compile_info(&self) -> &CompileInfo {
        &self.compile
    }

    /// The file the policy came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hex sha256 of the wasm bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Size of the wasm file in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The file stem, the policy's name until `describe` says otherwise.
    pub fn file_stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }

    /// Evaluates the release in a fresh store: instantiate, `describe`,
    /// `validate-settings`, `evaluate`. Each step gets the full fuel budget;
    /// the time budget covers them all (see [`Limits::timeout_ms`]). Runs on a thread whose native
    /// stack is far larger than the guest stack limit, so deep guest
    /// recursion ends in a stack-overflow trap, never a host crash.
    ///
    /// A 0.2.0 policy reads the release in place: this copies it once to
    /// share it with the evaluation; [`LoadedPolicy::evaluate_shared`]
    /// avoids even that. Its `describe` and `validate-settings` run in the
    /// first evaluation only (per settings); later ones reuse the answers.
    pub fn evaluate(
        &self,
        release: &Release,
        settings: &[(String, String)],
        options: &RunOptions,
    ) -> Result<PolicyRun, PolicyError> {
        let started = Instant::now();
        let input = match &self.pre {
            WorldPre::V0_1(_) => Input::Record(release_to_wit(release)),
            WorldPre::V0_2(_) => Input::Shared(Arc::new(release.clone())),
        };
        self.evaluate_input(started, input, settings, options)
    }

    /// [`LoadedPolicy::evaluate`] on a shared release: a 0.2.0 policy reads
    /// it in place, without a copy.
    pub fn evaluate_shared(
        &self,
        release: &Arc<Release>,
        settings: &[(String, String)],
        options: &RunOptions,
    ) -> Result<PolicyRun, PolicyError> {
        let started = Instant::now();
        let input = match &self.pre {
            WorldPre::V0_1(_) => Input::Record(release_to_wit(release)),
            WorldPre::V0_2(_) => Input::Shared(Arc::clone(release)),
        };
        self.evaluate_input(started, input, settings, options)
    }

    fn evaluate_input(
        &self,
        started: Instant,
        input: Input,
        settings: &[(String, String)],
        options: &RunOptions,
    ) -> Result<PolicyRun, PolicyError> {
        let this = self.clone();
        let settings = settings.to_vec();
        let job_options = options.clone();
        self.on_big_stack(options, move |job| {
            this.evaluate_here(job, started, input, settings, &job_options)
        })
    }

    /// Instantiates the policy in a fresh store and calls `describe` and
    /// `validate-settings` only: checks settings without a release (`gatehouse check`).
    pub fn check_settings(
        &self,
        settings: &[(String, String)],
        options: &RunOptions,
    ) -> Result<PolicyInfo, PolicyError> {
        let this = self.clone();
        let settings = settings.to_vec();
        let job_options = options.clone();
        self.on_big_stack(options, move |job| {
            this.check_settings_here(job, &settings, &job_options)
        })
    }

    /// Instantiates the policy in a fresh store and calls `describe` only:
    /// who the policy says it is, without settings (`gatehouse inspect`).
    /// A 0.2.0 policy's answer is kept: it is asked once per loaded policy.
    pub fn describe(&self, options: &RunOptions) -> Result<PolicyInfo, PolicyError> {
        if let Some(info) = self.known_info() {
            return Ok(info.clone());
        }
        let this = self.clone();
        let job_options = options.clone();
        self.on_big_stack(options, move |job| {
            let mut store = this.new_store(job, &job_options)?;
            let mut fuel_used = 0u64;
            let (instance, _) = this.instantiate(&mut store, &job_options, &mut fuel_used)?;
            this.describe_in(&mut store, &instance, &job_options, &mut fuel_used)
        })
    }

    /// The kept `describe` answer of a 0.2.0 policy, once there is one.
    fn known_info(&self) -> Option<&PolicyInfo> {
        match self.pre {
            WorldPre::V0_1(_) => None,
            WorldPre::V0_2(_) => self.known.info.get(),
        }
    }

    /// The compiled component, for reading its import and export types.
    pub(crate) fn component(&self) -> &wasmtime::component::Component {
        match &self.pre {
            WorldPre::V0_1(pre) => pre.instance_pre().component(),
            WorldPre::V0_2(pre) => pre.instance_pre().component(),
        }
    }

    fn engine(&self) -> &wasmtime::Engine {
        match &self.pre {
            WorldPre::V0_1(pre) => pre.engine(),
            WorldPre::V0_2(pre) => pre.engine(),
        }
    }

    /// Takes an evaluation slot (waiting a bounded time), then runs `work`
    /// on this thread's big-stack worker ([`super::worker`]) and waits for
    /// its result at most the time budget plus [`CALLER_SLACK`] from when
    /// its store is created. A job still running then is abandoned and
    /// reported as a timeout in the phase it was in; a failure to start the
    /// worker, or a panic in it, is an internal error.
    fn on_big_stack<R: Send + 'static>(
        &self,
        options: &RunOptions,
        work: impl FnOnce(&Job<'_>) -> Result<R, PolicyError> + Send + 'static,
    ) -> Result<R, PolicyError> {
        let limit_ms = options.limits.timeout_ms;
        let budget = Duration::from_millis(limit_ms).saturating_add(CALLER_SLACK);
        let slot = self
            .slots
            .acquire(budget.saturating_mul(SLOT_WAIT_BUDGETS))
            .map_err(|e| self.slot_error(e))?;
        let ticket = slot.ticket();
        let progress = Arc::new(Progress::default());
        let job_progress = Arc::clone(&progress);
        let job = move |started: &Started<'_>| {
            // Dropped after the store, which `work` owns and drops first.
            let _slot = slot;
            work(&Job {
                started,
                progress: job_progress,
            })
        };
        // On a declared big-stack thread, and when no host call can block
        // (only a granted directory can hold a FIFO), the guest runs right
        // here: fuel and the epoch deadline end it, nobody needs to abandon
        // it, and the hand-off to a worker (two thread wake-ups) is saved.
        let outcome = if runs_here(&options.grants) {
            super::worker::run_here(job)
        } else {
            super::worker::run_on_worker(budget, job)
        };
        match outcome {
            Ok(result) => result,
            Err(WorkerError::TimedOut { .. }) => {
                self.slots.abandon(&ticket);
                let name = progress.name().unwrap_or_else(|| self.file_stem());
                Err(self.error(
                    &name,
                    PolicyErrorKind::Timeout {
                        phase: progress.phase(),
                        limit_ms,
                    },
                ))
            }
            Err(WorkerError::Failed(message)) => {
                Err(self.error(&self.file_stem(), PolicyErrorKind::Internal(message)))
            }
        }
    }

    fn slot_error(&self, err: SlotError) -> PolicyError {
        self.error(&self.file_stem(), PolicyErrorKind::NoSlot(err.to_string()))
    }

    fn check_settings_here(
        &self,
        job: &Job<'_>,
        settings: &[(String, String)],
        options: &RunOptions,
    ) -> Result<PolicyInfo, PolicyError> {
        let mut store = self.new_store(job, options)?;
        let mut fuel_used = 0u64;
        let (_, info, _) = self.start(&mut store, settings, options, &mut fuel_used)?;
        Ok(info)
    }

    /// Instantiates the policy in `store` and makes sure of who it is and
    /// that it accepts `settings`: the common start of every evaluation and
    /// check. A 0.1.0 policy is asked `describe` and `validate-settings` in
    /// every instance, as its world promises; a 0.2.0 policy only until the
    /// answers are kept ([`Known`]). The instant returned is when
    /// instantiation finished.
    fn start(
        &self,
        store: &mut Store<SandboxState>,
        settings: &[(String, String)],
        options: &RunOptions,
        fuel_used: &mut u64,
    ) -> Result<(Instance, PolicyInfo, Instant), PolicyError> {
        let (instance, instantiated) = self.instantiate(store, options, fuel_used)?;
        let info = match self.known_info() {
            Some(info) => {
                store.data().progress().named(&info.name);
                info.clone()
            }
            None => self.describe_in(store, &instance, options, fuel_used)?,
        };
        let v0_2 = matches!(instance, Instance::V0_2(_));
        if !(v0_2 && self.known.accepts(settings)) {
            let validated = self.call(
                store,
                "validate-settings",
                &info.name,
                &options.limits,
                fuel_used,
                |store| match &instance {
                    Instance::V0_1(policy) => {
                        policy.call_validate_settings(store, &settings.to_vec())
                    }
                    Instance::V0_2(policy) => {
                        policy.call_validate_settings(store, &settings.to_vec())
                    }
                },
            )?;
            validated.map_err(|message| {
                self.error(&info.name, PolicyErrorKind::SettingsRejected(message))
            })?;
            if v0_2 {
                self.known.accept(settings);
            }
        }
        Ok((instance, info, instantiated))
    }

    /// Instantiates the policy in `store`; the instant returned is when
    /// instantiation finished.
    fn instantiate(
        &self,
        store: &mut Store<SandboxState>,
        options: &RunOptions,
        fuel_used: &mut u64,
    ) -> Result<(Instance, Instant), PolicyError> {
        let stem = self.file_stem();
        let instance = self.call(
            store,
            "instantiation",
            &stem,
            &options.limits,
            fuel_used,
            |store| match &self.pre {
                WorldPre::V0_1(pre) => pre.instantiate(store).map(Instance::V0_1),
                WorldPre::V0_2(pre) => pre.instantiate(store).map(Instance::V0_2),
            },
        )?;
        Ok((instance, Instant::now()))
    }

    /// Calls `describe` in `instance` and checks the answer; a 0.2.0
    /// policy's answer is kept.
    fn describe_in(
        &self,
        store: &mut Store<SandboxState>,
        instance: &Instance,
        options: &RunOptions,
        fuel_used: &mut u64,
    ) -> Result<PolicyInfo, PolicyError> {
        let stem = self.file_stem();
        let info = self.call(
            store,
            "describe",
            &stem,
            &options.limits,
            fuel_used,
            |store| match instance {
                Instance::V0_1(policy) => policy.call_describe(store).map(|i| PolicyInfo {
                    name: i.name,
                    version: i.version,
                    description: i.description,
                }),
                Instance::V0_2(policy) => policy.call_describe(store).map(|i| PolicyInfo {
                    name: i.name,
                    version: i.version,
                    description: i.description,
                }),
            },
        )?;
        super::describe::check(&info.name, &info.version, &info.description)
            .map_err(|message| self.error(&stem, PolicyErrorKind::InvalidDescribe(message)))?;
        store.data().progress().named(&info.name);
        if matches!(instance, Instance::V0_2(_)) {
            // Another evaluation may have got there first; both answers
            // come from the same code, so either may be kept.
            let _ = self.known.info.set(info.clone());
        }
        Ok(info)
    }

    /// Where this evaluation's `wasi:random` comes from: the host's when
    /// granted, else the stream seeded by the release and this policy.
    fn random_source(&self, options: &RunOptions) -> RandomSource {
        if options.grants.random {
            RandomSource::Real
        } else {
            RandomSource::Seeded(random_seed(&options.release_digest, &self.sha256))
        }
    }

    /// Creates the evaluation's store and tells the caller the evaluation
    /// (and its deadline) starts now.
    fn new_store(
        &self,
        job: &Job<'_>,
        options: &RunOptions,
    ) -> Result<Store<SandboxState>, PolicyError> {
        let store = new_store(
            self.engine(),
            StoreConfig {
                limits: &options.limits,
                grants: &options.grants,
                now: options.now,
                random: self.random_source(options),
                progress: Arc::clone(&job.progress),
            },
        );
        job.started.now();
        store.map_err(|e| {
            self.error(
                &self.file_stem(),
                PolicyErrorKind::Internal(format!(
                    "cannot set up the sandbox: {}",
                    super::errors::first_line(&e)
                )),
            )
        })
    }

    fn evaluate_here(
        &self,
        job: &Job<'_>,
        started: Instant,
        input: Input,
        settings: Vec<(String, String)>,
        options: &RunOptions,
    ) -> Result<PolicyRun, PolicyError> {
        let entered = Instant::now();
        let mut store = self.new_store(job, options)?;
        let mut fuel_used = 0u64;
        let (instance, info, instantiated) =
            self.start(&mut store, &settings, options, &mut fuel_used)?;
        let instantiate = instantiated.duration_since(entered);
        let name = info.name.clone();

        let decision = match (&instance, input) {
            (Instance::V0_1(policy), Input::Record(release)) => {
                let outcome = self.call(
                    &mut store,
                    "evaluate",
                    &name,
                    &options.limits,
                    &mut fuel_used,
                    |store| policy.call_evaluate(store, &release, &settings),
                )?;
                let wit_decision = outcome.map_err(|message| {
                    self.error(&name, PolicyErrorKind::CouldNotDecide(message))
                })?;
                decision_from_wit(wit_decision)
            }
            (Instance::V0_2(policy), Input::Shared(release)) => {
                let handle = store
                    .data_mut()
                    .table()
                    .push(ReleaseHandle::new(release))
                    .map_err(|e| {
                        self.error(
                            &name,
                            PolicyErrorKind::Internal(format!("cannot hand over the release: {e}")),
                        )
                    })?;
                let outcome = self.call(
                    &mut store,
                    "evaluate",
                    &name,
                    &options.limits,
                    &mut fuel_used,
                    |store| policy.call_evaluate(store, handle, &settings),
                )?;
                let wit_decision = outcome.map_err(|message| {
                    self.error(&name, PolicyErrorKind::CouldNotDecide(message))
                })?;
                decision_from_wit_0_2(wit_decision)
            }
            _ => {
                return Err(self.error(
                    &name,
                    PolicyErrorKind::Internal(
                        "the release was prepared for another world version".into(),
                    ),
                ));
            }
        }
        .map_err(|message| self.error(&name, PolicyErrorKind::InvalidDecision(message)))?;

        let duration = started.elapsed();
        let state = store.into_data();
        let stdout = state.stdout.contents();
        let stderr = state.stderr.contents();
        let (logs, logs_dropped) = state.logs.finish();
        Ok(PolicyRun {
            info,
            decision,
            logs,
            logs_dropped,
            stdout,
            stderr,
            duration,
            instantiate,
            compile: self.compile.clone(),
            fuel_used,
        })
    }

    /// Runs one step with a fresh fuel budget, adding what it used to
    /// `fuel_used`, and turns a trap into a [`PolicyError`] naming the step.
    fn call<R>(
        &self,
        store: &mut Store<SandboxState>,
        phase: Phase,
        name: &str,
        limits: &Limits,
        fuel_used: &mut u64,
        step: impl FnOnce(&mut Store<SandboxState>) -> wasmtime::Result<R>,
    ) -> Result<R, PolicyError> {
        let fuel = limits.fuel;
        store.data().progress().enter(phase);
        store
            .set_fuel(fuel)
            .map_err(|e| self.trap(store, name, phase, &e))?;
        let result = step(store);
        let left = store.get_fuel().unwrap_or(0);
        *fuel_used = fuel_used.saturating_add(fuel.saturating_sub(left));
        result.map_err(|e| {
            if let Some(hit) = store.data().limiter.hit {
                let kind = match hit {
                    LimitHit::Memory(limit_bytes) => {
                        PolicyErrorKind::MemoryLimit { phase, limit_bytes }
                    }
                    LimitHit::TableElements(limit) => PolicyErrorKind::TableLimit { phase, limit },
                };
                return self.error(name, kind);
            }
            if store.data().clock().overrun()
                || e.downcast_ref::<super::clock::VirtualTimeout>().is_some()
            {
                // A wait on the virtual clock that would pass the budget.
                return self.error(
                    name,
                    PolicyErrorKind::Timeout {
                        phase,
                        limit_ms: limits.timeout_ms,
                    },
                );
            }
            if e.chain().any(|c| {
                c.to_string()
                    .contains("fuel allocated for hostcalls has been exhausted")
            }) {
                let limit_bytes = limits.max_hostcall_bytes;
                return self.error(name, PolicyErrorKind::DataLimit { phase, limit_bytes });
            }
            match e.downcast_ref::<Trap>() {
                Some(Trap::OutOfFuel) => {
                    self.error(name, PolicyErrorKind::OutOfFuel { phase, limit: fuel })
                }
                Some(Trap::Interrupt) => self.error(
                    name,
                    PolicyErrorKind::Timeout {
                        phase,
                        limit_ms: limits.timeout_ms,
                    },
                ),
                _ => self.trap(store, name, phase, &e),
            }
        })
    }

    fn trap(
        &self,
        store: &Store<SandboxState>,
        name: &str,
        phase: Phase,
        err: &wasmtime::Error,
    ) -> PolicyError {
        let message = match err.downcast_ref::<Trap>() {
            Some(trap) => trap.to_string(),
            None => super::errors::first_line(err),
        };
        let stderr = store.data().stderr.contents().text;
        let stderr = stderr_tail(&stderr);
        self.error(
            name,
            PolicyErrorKind::Trap {
                phase,
                message,
                stderr,
            },
        )
    }

    fn error(&self, name: &str, kind: PolicyErrorKind) -> PolicyError {
        PolicyError {
            policy: name.to_string(),
            path: self.path.display().to_string(),
            kind,
        }
    }
}

/// What a job on the worker gets: the start signal and the progress it
/// shares with the caller.
struct Job<'a> {
    started: &'a Started<'a>,
    progress: Arc<Progress>,
}

/// Whether an evaluation with `grants` runs on the calling thread: only on
/// a declared big-stack thread ([`super::declare_big_stack_thread`]), and
/// only when no directory is granted, since reading a FIFO there would block
/// in a host call where no deadline reaches and only a caller on another
/// thread can give up on it.
fn runs_here(grants: &Grants) -> bool {
    grants.read_dirs.is_empty() && super::worker::on_big_stack_thread()
}

/// The guest's stderr on one line, for trap messages (a Rust panic message
/// ends up there). Keeps the last 512 bytes and drops the backtrace hint.
fn stderr_tail(stderr: &str) -> String {
    const MAX: usize = 512;
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE=1`"))
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let mut text = lines.join(" ");
    if text.len() > MAX {
        let mut start = text.len() - MAX;
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text = format!("…{}", &text[start..]);
    }
    format!("; stderr: {text}")
}

#[cfg(test)]
mod tests {
    use super::{Grants, runs_here, stderr_tail};

    #[test]
    fn evaluations_run_here_only_on_declared_threads_and_without_granted_directories() {
        assert!(
            !runs_here(&Grants::default()),
            "an undeclared thread hands off"
        );
        let (plain, with_dir) = std::thread::Builder::new()
            .stack_size(crate::runtime::EVALUATION_THREAD_STACK)
            .spawn(|| {
                crate::runtime::declare_big_stack_thread();
                let mut granted = Grants::default();
                granted.read_dirs.push(std::env::temp_dir());
                (runs_here(&Grants::default()), runs_here(&granted))
            })
            .expect("spawn")
            .join()
            .expect("join");
        assert!(
            plain,
            "a declared thread runs an ungranted evaluation itself"
        );
        assert!(!with_dir, "a granted directory may block: a worker runs it");
    }

    #[test]
    fn stderr_is_one_line_without_the_backtrace_hint() {
        let panic = "thread '<unnamed>' panicked at src/lib.rs:3:5:\nboom\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            stderr_tail(panic),
            "; stderr: thread '<unnamed>' panicked at src/lib.rs:3:5: boom"
        );
        assert_eq!(stderr_tail("\n\n"), "");
        let long = "x".repeat(2000);
        assert!(stderr_tail(&long).len() < 600);
    }
}
