//! Big-stack worker threads for running guests, and the caller-side deadline.
//!
//! wasmtime runs guest code on the calling thread's native stack. The guest
//! may use up to [`super::limits::MAX_WASM_STACK`] of it before it traps, and
//! the host side (wasmtime, WASI) needs room on top; a caller on a small stack
//! (a test harness thread, a library user's worker) would crash instead of
//! trapping. So guests run on a thread with a stack of known, ample size.
//!
//! Spawning that thread for every evaluation cost more than the evaluation
//! of a small policy, so each calling thread keeps one worker: jobs are sent
//! to it and their results come back over a channel. Nothing of a guest
//! survives a job (every job builds and drops its own store), so reusing the
//! thread shares no state between evaluations.
//!
//! The caller does not wait for ever. A job records when its evaluation
//! starts (its store exists, see [`Started`]); the caller waits at most the
//! evaluation's budget from then for the result. A job still running then
//! is blocked somewhere no deadline reaches (a host call reading a FIFO,
//! say): the caller abandons its worker ([`WorkerError::TimedOut`]) and the
//! next job gets a fresh one. The abandoned thread is left to finish or to
//! die with the process; whatever it holds (its evaluation slot, its store's
//! memory) stays held until then. The start is recorded in shared memory,
//! not sent, so it wakes nobody: the caller first waits a budget from the
//! hand-off (the start comes later), and only if that runs out reads the
//! start and waits the rest. One channel message per job, no polling, no
//! thread per evaluation.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, sync_channel};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// A unit of work for the worker.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// Native stack size of a worker thread.
pub(crate) const WORKER_STACK: usize = super::limits::MAX_WASM_STACK * 8 + (8 << 20);

/// Native stack a thread must be created with for guests to run on it
/// directly ([`declare_big_stack_thread`]): the same as a worker's.
pub const EVALUATION_THREAD_STACK: usize = WORKER_STACK;

thread_local! {
    /// This thread's worker, started on first use.
    static WORKER: RefCell<Option<Sender<Job>>> = const { RefCell::new(None) };
    /// Whether this thread was declared to have [`EVALUATION_THREAD_STACK`].
    static BIG_STACK: Cell<bool> = const { Cell::new(false) };
}

/// Declares that the calling thread was created with at least
/// [`EVALUATION_THREAD_STACK`] bytes of native stack (for a tokio runtime:
/// `Builder::thread_stack_size` and `on_thread_start`). Evaluations called
/// on it then run on it directly, without the hand-off to a worker thread,
/// whenever nothing the guest may call can block (no directory is granted):
/// fuel and the epoch deadline end the guest's own code, so no caller needs
/// to abandon it. Declaring a thread with a smaller stack would let a deep
/// guest recursion overflow it (a crash, not a trap): do not.
pub fn declare_big_stack_thread() {
    BIG_STACK.with(|big| big.set(true));
}

/// Whether the calling thread was declared big ([`declare_big_stack_thread`]).
pub(crate) fn on_big_stack_thread() -> bool {
    BIG_STACK.with(Cell::get)
}

/// Runs `job` on the calling thread, which must be a declared big-stack
/// thread; a panic in it is [`WorkerError::Failed`], as on a worker.
pub(crate) fn run_here<R>(job: impl FnOnce(&Started<'_>) -> R) -> Result<R, WorkerError> {
    let at = OnceLock::new();
    let started = Started { at: &at };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&started)))
        .map_err(|_| WorkerError::Failed("the evaluation thread panicked".into()))
}

/// Handed to a job: call [`Started::now`] when its evaluation starts.
pub(crate) struct Started<'a> {
    at: &'a OnceLock<Instant>,
}

impl Started<'_> {
    /// Records that the evaluation starts now (the first call counts).
    pub(crate) fn now(&self) {
        let _ = self.at.set(Instant::now());
    }
}

/// Why a job gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WorkerError {
    /// No worker could be started, the job panicked, or it ended without a result.
    Failed(String),
    /// The job did not start, or did not finish, within its budget; its
    /// worker was abandoned.
    TimedOut {
        /// Whether the job had reported its start.
        started: bool,
    },
}

/// Runs `job` on this thread's big-stack worker and returns its result. The
/// job must call [`Started::now`] when its evaluation starts; the caller
/// waits at most `budget` for that, and at most `budget` from then on for
/// the result, else abandons the worker.
pub(crate) fn run_on_worker<R: Send + 'static>(
    budget: Duration,
    job: impl FnOnce(&Started<'_>) -> R + Send + 'static,
) -> Result<R, WorkerError> {
    let (result_tx, result_rx) = sync_channel::<std::thread::Result<R>>(1);
    let start = Arc::new(OnceLock::new());
    let job_start = Arc::clone(&start);
    let job: Job = Box::new(move || {
        let started = Started { at: &job_start };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&started)));
        // The caller may have given up: nobody to tell, then.
        let _ = result_tx.send(outcome);
    });
    send(job)?;

    // The job starts after the hand-off, so its deadline is no earlier than
    // this first one; only when this one passes is the start looked at.
    let mut deadline = Instant::now().checked_add(budget);
    loop {
        let outcome = match deadline {
            Some(deadline) => {
                result_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            }
            None => result_rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match outcome {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(_)) => {
                return Err(WorkerError::Failed("the evaluation thread panicked".into()));
            }
            Err(RecvTimeoutError::Timeout) => {
                let started = start.get().copied();
                match started.map(|at| at.checked_add(budget)) {
                    // A budget too large for an `Instant`: no deadline.
                    Some(None) => deadline = None,
                    Some(Some(due)) if due > Instant::now() => deadline = Some(due),
                    _ => {
                        abandon();
                        return Err(WorkerError::TimedOut {
                            started: started.is_some(),
                        });
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(WorkerError::Failed(
                    "the evaluation thread ended without a result".into(),
                ));
            }
        }
    }
}

/// Sends `job` to this thread's worker, starting one if there is none (or
/// the one there has exited).
fn send(job: Job) -> Result<(), WorkerError> {
    let mut job = Some(job);
    WORKER.with(|cell| {
        let mut worker = cell.borrow_mut();
        for _ in 0..2 {
            let sender = match worker.as_ref() {
                Some(sender) => sender.clone(),
                None => {
                    let sender = start_worker().map_err(WorkerError::Failed)?;
                    *worker = Some(sender.clone());
                    sender
                }
            };
            let Some(boxed) = job.take() else {
                return Ok(());
            };
            match sender.send(boxed) {
                Ok(()) => return Ok(()),
                Err(returned) => {
                    job = Some(returned.0);
                    *worker = None;
                }
            }
        }
        Err(WorkerError::Failed(
            "the evaluation thread stopped accepting work".into(),
        ))
    })
}

/// Forgets this thread's worker: its job queue closes, so the thread exits
/// once (if ever) its current job returns; the next job starts a new worker.
fn abandon() {
    WORKER.with(|cell| *cell.borrow_mut() = None);
}

/// Starts a worker thread and returns the sender of its job queue. The
/// thread ends when the sender (held by the calling thread) is dropped.
fn start_worker() -> Result<Sender<Job>, String> {
    let (sender, receiver) = std::sync::mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("gatehouse-evaluation".into())
        .stack_size(WORKER_STACK)
        .spawn(move || {
            declare_big_stack_thread();
            serve(receiver)
        })
        .map_err(|e| format!("cannot start the evaluation thread: {e}"))?;
    Ok(sender)
}

fn serve(jobs: Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        job();
    }
}

/// The phases of an evaluation, in order: what a timeout message names.
pub(crate) const PHASES: [&str; 4] = ["instantiation", "describe", "validate-settings", "evaluate"];

/// What the caller may need to know about a job it abandons: the phase it
/// was in and, once `describe` answered, the policy's name.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    phase: AtomicU8,
    name: Mutex<Option<String>>,
}

impl Progress {
    /// Records the phase about to run (one of [`PHASES`]).
    pub(crate) fn enter(&self, phase: &'static str) {
        let index = PHASES.iter().position(|p| *p == phase).unwrap_or(0);
        self.phase
            .store(u8::try_from(index).unwrap_or(0), Ordering::Relaxed);
    }

    /// The phase the job was last in.
    pub(crate) fn phase(&self) -> &'static str {
        PHASES[usize::from(self.phase.load(Ordering::Relaxed)).min(PHASES.len() - 1)]
    }

    /// Records the name `describe` returned.
    pub(crate) fn named(&self, name: &str) {
        *self.name.lock().unwrap_or_else(PoisonError::into_inner) = Some(name.to_string());
    }

    /// The name `describe` returned, if it did.
    pub(crate) fn name(&self) -> Option<String> {
        self.name
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Long enough never to matter.
    const AMPLE: Duration = Duration::from_secs(600);

    fn run<R: Send + 'static>(job: impl FnOnce() -> R + Send + 'static) -> Result<R, WorkerError> {
        run_on_worker(AMPLE, move |started| {
            started.now();
            job()
        })
    }

    #[test]
    fn jobs_run_on_one_big_stack_thread_per_caller() {
        let first = run(|| std::thread::current().id()).expect("runs");
        let second = run(|| std::thread::current().id()).expect("runs");
        assert_eq!(first, second, "the worker is reused");
        assert_ne!(first, std::thread::current().id());
        let name = run(|| std::thread::current().name().map(str::to_string));
        assert_eq!(name.expect("runs").as_deref(), Some("gatehouse-evaluation"));

        let other = std::thread::spawn(|| run(|| std::thread::current().id()))
            .join()
            .expect("thread")
            .expect("runs");
        assert_ne!(other, first, "each calling thread has its own worker");
    }

    #[test]
    fn only_declared_threads_are_big_and_workers_are_declared() {
        assert!(!on_big_stack_thread(), "a test thread is not declared");
        assert!(run(on_big_stack_thread).expect("runs"), "a worker is big");
        let declared = std::thread::Builder::new()
            .stack_size(EVALUATION_THREAD_STACK)
            .spawn(|| {
                declare_big_stack_thread();
                let here = std::thread::current().id();
                let ran_on = run_here(|started| {
                    started.now();
                    std::thread::current().id()
                })
                .expect("runs");
                (on_big_stack_thread(), here == ran_on)
            })
            .expect("spawn")
            .join()
            .expect("join");
        assert_eq!(declared, (true, true), "run_here runs on the caller");
        let panicked = run_here(|_| -> u32 { panic!("boom") }).expect_err("panic reported");
        assert!(matches!(&panicked, WorkerError::Failed(m) if m.contains("panicked")));
    }

    #[test]
    fn a_panicking_job_is_an_error_and_the_worker_goes_on() {
        let err = run(|| -> u32 { panic!("boom") }).expect_err("panic reported");
        assert!(
            matches!(&err, WorkerError::Failed(m) if m.contains("panicked")),
            "{err:?}"
        );
        assert_eq!(run(|| 7).expect("still works"), 7);
    }

    #[test]
    fn deep_host_recursion_fits_the_worker_stack() {
        fn depth(n: u32) -> u32 {
            let pad = std::hint::black_box([0u8; 1024]);
            if n == 0 {
                u32::from(pad[0])
            } else {
                depth(n - 1) + u32::from(pad[1])
            }
        }
        // 4-8 MiB of frames: more than a default 2 MiB thread could hold.
        assert_eq!(run(|| depth(4 * 1024)).expect("fits"), 0);
    }

    #[test]
    fn a_stuck_job_is_abandoned_at_its_deadline_and_a_fresh_worker_serves_the_next() {
        let before = run(|| std::thread::current().id()).expect("runs");
        let (release, stuck) = std::sync::mpsc::channel::<()>();
        let (ended_tx, ended) = std::sync::mpsc::channel::<()>();
        let budget = Duration::from_millis(200);
        let waited = Instant::now();
        let outcome = run_on_worker(budget, move |started| {
            started.now();
            // Blocked where no deadline reaches, until the test lets go.
            let _ = stuck.recv();
            let _ = ended_tx.send(());
        });
        let elapsed = waited.elapsed();
        assert_eq!(outcome, Err(WorkerError::TimedOut { started: true }));
        assert!(elapsed >= budget, "waited the whole budget: {elapsed:?}");
        assert!(elapsed < AMPLE, "{elapsed:?}");

        let after = run(|| std::thread::current().id()).expect("a fresh worker runs");
        assert_ne!(after, before, "the stuck worker was replaced");
        assert_eq!(run(|| std::thread::current().id()).expect("runs"), after);

        // The abandoned job finishes when unblocked, and nobody hears of it.
        release.send(()).expect("the stuck job is still waiting");
        ended.recv().expect("the abandoned job ran to its end");
    }

    #[test]
    fn a_job_that_never_starts_is_abandoned_too() {
        let (release, stuck) = std::sync::mpsc::channel::<()>();
        let outcome = run_on_worker(Duration::from_millis(100), move |_started| {
            let _ = stuck.recv();
        });
        assert_eq!(outcome, Err(WorkerError::TimedOut { started: false }));
        release.send(()).expect("still waiting");
    }

    #[test]
    fn the_deadline_runs_from_the_start_not_from_the_hand_off() {
        // 400 ms before the start and 400 ms after it, with a 700 ms budget:
        // 800 ms in all, yet within the budget from the start.
        let budget = Duration::from_millis(700);
        let outcome = run_on_worker(budget, |started| {
            std::thread::sleep(Duration::from_millis(400));
            started.now();
            std::thread::sleep(Duration::from_millis(400));
            42
        });
        assert_eq!(outcome, Ok(42));
    }

    #[test]
    fn progress_names_the_phase_and_the_policy() {
        let progress = Progress::default();
        assert_eq!(progress.phase(), "instantiation");
        progress.enter("validate-settings");
        assert_eq!(progress.phase(), "validate-settings");
        assert_eq!(progress.name(), None);
        progress.named("p");
        assert_eq!(progress.name().as_deref(), Some("p"));
    }
}
