//! The bounded evaluation pool: at most `workers` evaluations run at once
//! (on tokio's blocking threads, which have the evaluation stack and run the
//! guest themselves), at most `queue` more wait, and anything beyond is
//! refused at once ([`PoolError::Busy`], a 503 with `Retry-After`) instead of queueing
//! without bound.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a job gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError {
    /// Running and waiting places are all taken.
    Busy,
    /// The job panicked or was cancelled (a bug): the message.
    Failed(String),
}

/// The pool.
#[derive(Debug, Clone)]
pub struct Pool {
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

impl Pool {
    /// A pool running `workers` jobs at once with `queue` more waiting.
    pub fn new(workers: usize, queue: usize) -> Pool {
        let workers = workers.max(1);
        Pool {
            admitted: Arc::new(Semaphore::new(workers + queue)),
            running: Arc::new(Semaphore::new(workers)),
        }
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
            running: Arc::clone(&self.running),
            admitted,
        })
    }

    /// Runs `job` on a blocking thread when a worker is free; [`PoolError::Busy`]
    /// at once when every running and waiting place is taken.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        self.admit()?.run(job).await
    }
}

/// A place in the pool, held until its job has run (or it is dropped).
#[derive(Debug)]
pub struct Admission {
    running: Arc<Semaphore>,
    admitted: OwnedSemaphorePermit,
}

impl Admission {
    /// Runs `job` on a blocking thread when a worker is free.
    pub async fn run<T: Send + 'static>(
        self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let Admission { running, admitted } = self;
        let running = running
            .acquire_owned()
            .await
            .map_err(|e| PoolError::Failed(e.to_string()))?;
        let handle = tokio::task::spawn_blocking(move || {
            let result = job();
            drop(running);
            drop(admitted);
            result
        });
        handle.await.map_err(|e| PoolError::Failed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_pool_refuses_at_once_and_serves_again_when_free() {
        let pool = Pool::new(1, 1);
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
        let pool = Pool::new(1, 0);
        let place = pool.admit().expect("a free place");
        // Nothing runs yet, but the only place is taken.
        assert_eq!(pool.admit().err(), Some(PoolError::Busy));
        assert_eq!(place.run(|| 5).await, Ok(5));
        let place = pool.admit().expect("free again after the job");
        drop(place);
        assert!(pool.admit().is_ok(), "a dropped admission frees its place");
    }
}
