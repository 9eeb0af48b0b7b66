//! The accept loop: HTTP/1.1 connections served by hyper with the limits a
//! public-facing service needs and `axum::serve` does not set.
//!
//! - A client must send its request head within `--request-timeout`
//!   (hyper's header read timeout; also bounds an idle keep-alive
//!   connection), else the connection is closed. The body's own bound is
//!   in [`crate::api::json_body`] (408).
//! - At most `--max-connections` connections at once; past them the
//!   listener stops accepting (the kernel's backlog holds new ones) until
//!   one closes, so stalled clients cannot exhaust file descriptors.
//! - On the shutdown signal it stops accepting (new connections are
//!   refused), lets every request in flight finish and be answered, closes
//!   idle connections, and returns once all are done or after
//!   `--shutdown-timeout`, whichever is first.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// The limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client may take to send its request head.
    pub header_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long the shutdown waits for requests in flight.
    pub shutdown_timeout: Duration,
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Every connection finished.
    Drained,
    /// `n` connections were still open at the shutdown timeout.
    TimedOut(usize),
}

/// Serves `router` on `listener` until `signal` resolves, then drains.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    signal: impl Future<Output = ()> + Send + 'static,
) -> Stopped {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Dropping `stop_tx` tells every connection to shut down gracefully.
    let (stop_tx, stop_rx) = watch::channel(());
    let mut connections = tokio::task::JoinSet::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit,
            () = &mut signal => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut signal => break,
        };
        // Reap finished connection tasks as we go.
        while connections.try_join_next().is_some() {}
        let Ok((stream, _peer)) = accepted else {
            // A transient accept error (EMFILE, a reset before accept):
            // give the system a moment instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let mut stop = stop_rx.clone();
        let header_timeout = limits.header_timeout;
        connections.spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = stop.changed() => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    drop(listener);
    drop(stop_tx);
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    match drained {
        Ok(()) => Stopped::Drained,
        Err(_) => {
            let open = connections.len();
            connections.abort_all();
            Stopped::TimedOut(open)
        }
    }
}
