//! Big-stack worker threads for running guests.
//!
//! wasmtime runs guest code on the calling thread's native stack. The guest
//! may use up to [`super::engine::MAX_WASM_STACK`] of it before it traps, and
//! the host side (wasmtime, WASI) needs room on top; a caller on a small stack
//! (a test harness thread, a library user's worker) would crash instead of
//! trapping. So guests run on a thread with a stack of known, ample size.
//!
//! Spawning that thread for every evaluation cost more than the evaluation
//! of a small policy, so each calling thread keeps one worker: jobs are sent
//! to it and their results come back over a channel. Nothing of a guest
//! survives a job (every job builds and drops its own store), so reusing the
//! thread shares no state between evaluations.

use std::cell::RefCell;
use std::sync::mpsc::{Receiver, Sender, sync_channel};

/// A unit of work for the worker.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// Native stack size of a worker thread.
pub(crate) const WORKER_STACK: usize = super::engine::MAX_WASM_STACK * 8 + (8 << 20);

thread_local! {
    /// This thread's worker, started on first use.
    static WORKER: RefCell<Option<Sender<Job>>> = const { RefCell::new(None) };
}

/// Runs `job` on this thread's big-stack worker and returns its result.
/// Errors only when no worker can be started, or the job panicked.
pub(crate) fn run_on_worker<R: Send + 'static>(
    job: impl FnOnce() -> R + Send + 'static,
) -> Result<R, String> {
    let (result_tx, result_rx) = sync_channel::<std::thread::Result<R>>(1);
    let mut job: Option<Job> = Some(Box::new(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        let _ = result_tx.send(outcome);
    }));
    WORKER.with(|cell| {
        let mut worker = cell.borrow_mut();
        // A worker whose channel is closed has exited: start another once.
        for _ in 0..2 {
            let sender = match worker.as_ref() {
                Some(sender) => sender.clone(),
                None => {
                    let sender = start_worker()?;
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
        Err("the evaluation thread stopped accepting work".to_string())
    })?;
    match result_rx.recv() {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err("the evaluation thread panicked".to_string()),
        Err(_) => Err("the evaluation thread ended without a result".to_string()),
    }
}

/// Starts a worker thread and returns the sender of its job queue. The
/// thread ends when the sender (held by the calling thread) is dropped.
fn start_worker() -> Result<Sender<Job>, String> {
    let (sender, receiver) = std::sync::mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("gatehouse-evaluation".into())
        .stack_size(WORKER_STACK)
        .spawn(move || serve(receiver))
        .map_err(|e| format!("cannot start the evaluation thread: {e}"))?;
    Ok(sender)
}

fn serve(jobs: Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        job();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_one_big_stack_thread_per_caller() {
        let first = run_on_worker(|| std::thread::current().id()).expect("runs");
        let second = run_on_worker(|| std::thread::current().id()).expect("runs");
        assert_eq!(first, second, "the worker is reused");
        assert_ne!(first, std::thread::current().id());
        let name = run_on_worker(|| std::thread::current().name().map(str::to_string));
        assert_eq!(name.expect("runs").as_deref(), Some("gatehouse-evaluation"));

        let other = std::thread::spawn(|| run_on_worker(|| std::thread::current().id()))
            .join()
            .expect("thread")
            .expect("runs");
        assert_ne!(other, first, "each calling thread has its own worker");
    }

    #[test]
    fn a_panicking_job_is_an_error_and_the_worker_goes_on() {
        let err = run_on_worker(|| -> u32 { panic!("boom") }).expect_err("panic reported");
        assert!(err.contains("panicked"), "{err}");
        assert_eq!(run_on_worker(|| 7).expect("still works"), 7);
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
        assert_eq!(run_on_worker(|| depth(4 * 1024)).expect("fits"), 0);
    }
}
