//! The bounded evaluation pool: `workers` evaluation threads of its own
//! (created with the evaluation stack and declared so, so they run the guest
//! themselves), at most `queue` more jobs waiting, and anything beyond
//! refused at once ([`PoolError::Busy`], a 503 with `Retry-After`) instead of
//! queueing without bound.
//!
//! The threads take the waiting jobs themselves: a thread that finishes an
//! evaluation starts the next one queued without a round trip through the
//! async runtime (tokio's blocking pool needed two thread hand-offs per
//! evaluation under load: a worker woken when a place freed, then a blocking
//! thread woken to run the job). The caller awaits the result on a oneshot.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a job gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError {
    /// Running and waiting places are all taken.
    Busy,
    /// The job panicked, or the pool stopped (a bug): the message.
    Failed(String),
}

/// A job as the threads run it.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// The jobs waiting, and whether anyone can still queue one.
#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    closed: bool,
}

/// What the pool's handles and threads share.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    ready: Condvar,
}

impl Shared {
    /// Queues a job and wakes a thread that is waiting for one.
    fn push(&self, job: Job) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.jobs.push_back(job);
        drop(state);
        self.ready.notify_one();
    }

    /// The next job, waiting for one; `None` once the pool is dropped and
    /// nothing is left.
    fn next(&self) -> Option<Job> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(job) = state.jobs.pop_front() {
                return Some(job);
            }
            if state.closed {
                return None;
            }
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Closes the queue when the last handle of the pool goes: its threads
/// finish what is queued and end.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.shared.ready.notify_all();
    }
}

/// The pool.
#[derive(Clone)]
pub struct Pool {
    admitted: Arc<Semaphore>,
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("free_places", &self.admitted.available_permits())
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool of `workers` evaluation threads with `queue` more jobs
    /// waiting; an error when a thread cannot be created.
    pub fn new(workers: usize, queue: usize) -> Result<Pool, String> {
        let workers = workers.max(1);
        let shared = Arc::new(Shared::default());
        for n in 0..workers {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("gatehouse-eval-{n}"))
                .stack_size(gatehouse_core::runtime::EVALUATION_THREAD_STACK)
                .spawn(move || {
                    gatehouse_core::runtime::declare_big_stack_thread();
                    while let Some(job) = shared.next() {
                        job();
                    }
                })
                .map_err(|e| format!("cannot start evaluation thread {n}: {e}"))?;
        }
        Ok(Pool {
            admitted: Arc::new(Semaphore::new(workers + queue)),
            handle: Arc::new(Handle { shared }),
        })
    }

    /// Takes a place (running or waiting) for one job, or
    /// [`PoolError::Busy`] at once when every place is taken. Handlers take
    /// it before they read the request body, so a refused request costs
    /// neither the body's memory nor its parse.
    pub fn admit(&self) -> Result<Admission, PoolError> {
        let admitted = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| PoolError::Busy)?;
        Ok(Admission {
            handle: Arc::clone(&self.handle),
            admitted,
        })
    }

    /// Runs `job` on an evaluation thread when one is free; [`PoolError::Busy`]
    /// at once when every running and waiting place is taken.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        self.admit()?.run(job).await
    }
}

/// A place in the pool, held until its job has run (or it is dropped).
pub struct Admission {
    handle: Arc<Handle>,
    admitted: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission").finish_non_exhaustive()
    }
}

impl Admission {
    /// Queues `job` for the next free evaluation thread and waits for its
    /// result. A job whose caller has gone (its client disconnected) by the
    /// time a thread takes it is not run. A job that panics is
    /// [`PoolError::Failed`], and its thread goes on with the next job.
    pub async fn run<T: Send + 'static>(
        self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let Admission { handle, admitted } = self;
        let (done, result) = tokio::sync::oneshot::channel();
        handle.shared.push(Box::new(move || {
            if done.is_closed() {
                return;
            }
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).map_err(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    PoolError::Failed(format!("the evaluation panicked (a bug): {what}"))
                });
            // The place frees before the caller hears of it, as it did when
            // the job's thread returned.
            drop(admitted);
            let _ = done.send(outcome);
        }));
        result.await.map_err(|_| {
            PoolError::Failed("the evaluation thread stopped before answering".into())
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_pool_refuses_at_once_and_serves_again_when_free() {
        let pool = Pool::new(1, 1).expect("pool");
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let first = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = started_tx.send(());
                    let _ = release_rx.recv();
                    1
                })
                .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv())
            .await
            .expect("join")
            .expect("started");
        // One waits (the queue place)...
        let second = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|| 2).await })
        };
        while pool.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        // ...and a third finds no place.
        assert_eq!(pool.run(|| 3).await, Err(PoolError::Busy));
        release_tx.send(()).expect("release");
        assert_eq!(first.await.expect("join"), Ok(1));
        assert_eq!(second.await.expect("join"), Ok(2));
        assert_eq!(pool.run(|| 4).await, Ok(4));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_admission_holds_its_place_until_its_job_has_run() {
        let pool = Pool::new(1, 0).expect("pool");
        let place = pool.admit().expect("a free place");
        // Nothing runs yet, but the only place is taken.
        assert_eq!(pool.admit().err(), Some(PoolError::Busy));
        assert_eq!(place.run(|| 5).await, Ok(5));
        let place = pool.admit().expect("free again after the job");
        drop(place);
        assert!(pool.admit().is_ok(), "a dropped admission frees its place");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_that_panics_fails_alone_and_the_thread_goes_on() {
        let pool = Pool::new(1, 4).expect("pool");
        let failed = pool.run(|| -> i32 { panic!("boom") }).await;
        match failed {
            Err(PoolError::Failed(message)) => assert!(message.contains("boom"), "{message}"),
            other => panic!("{other:?}"),
        }
        // The one thread survived and its place was given back.
        assert_eq!(pool.run(|| 6).await, Ok(6));
        assert_eq!(pool.admitted.available_permits(), 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_run_on_threads_with_the_evaluation_stack_and_one_at_a_time_per_thread() {
        let pool = Pool::new(2, 64).expect("pool");
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let jobs: Vec<_> = (0..40)
            .map(|i| {
                let pool = pool.clone();
                let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                tokio::spawn(async move {
                    pool.run(move || {
                        use std::sync::atomic::Ordering::SeqCst;
                        let now = running.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(now, SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        running.fetch_sub(1, SeqCst);
                        let name = std::thread::current().name().map(str::to_string);
                        (i, name)
                    })
                    .await
                })
            })
            .collect();
        for (i, job) in jobs.into_iter().enumerate() {
            let (n, name) = job.await.expect("join").expect("ran");
            assert_eq!(n, i);
            assert!(
                name.as_deref()
                    .is_some_and(|n| n.starts_with("gatehouse-eval-")),
                "{name:?}"
            );
        }
        assert!(most.load(std::sync::atomic::Ordering::SeqCst) <= 2);
    }
}
