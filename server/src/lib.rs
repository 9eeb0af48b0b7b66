//! # gatehouse-server
//!
//! `gatehouse serve`: the approval loop as a service. Pipelines submit
//! releases over HTTP, a `require-approval` verdict opens (or joins) an
//! approval request that lives in the store, approvers post signed
//! approvals onto it, and every decision is recorded before it is answered
//! (docs/api.md).
//!
//! Every evaluation goes through the core's one entry point
//! ([`gatehouse_core::evaluation::evaluate`]), exactly as
//! `gatehouse eval --config` runs it, on a bounded pool of evaluation
//! threads ([`pool`]). The state is in a SQL store ([`store`]): SQLite now,
//! PostgreSQL through the same code. Clients authenticate with bearer
//! tokens whose hashes a tokens file lists ([`tokens`]); approvals are
//! trusted for their signature only, never for the token that uploaded them.
//!
//! | module | job |
//! |---|---|
//! | `api/` | routes, authorisation, bounded bodies, the JSON answers |
//! | `listener.rs` | the accept loop: header timeout, connection cap, graceful drain |
//! | `logging.rs` | text or JSON lines on stderr, one per request |
//! | `evaluate.rs` | a submission and uploaded approvals → the core's evaluation and its record |
//! | `page/` | the approvers' page (`--page`): HTML, login codes, sessions |
//! | `metrics.rs` | the counters and histograms `GET /metrics` shows |
//! | `pool.rs` | at most N evaluations at once, M waiting, 503 beyond |
//! | `store/` | decisions, approval requests, approvals; versioned migrations |
//! | `tokens.rs` | the tokens file, new tokens, constant-time checks |

#![forbid(unsafe_code)]

pub mod api;
pub mod evaluate;
pub mod listener;
pub mod logging;
pub mod metrics;
pub mod page;
pub mod pool;
pub mod store;
pub mod tokens;

use gatehouse_core::config::PolicySet;
use gatehouse_core::evaluation::{EngineSource, PreparedSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// The default `--listen`: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The default `--store`: a SQLite file in the working directory.
pub const DEFAULT_STORE: &str = "sqlite://gatehouse.db";

/// The default `--tokens-file`.
pub const DEFAULT_TOKENS_FILE: &str = "gatehouse.tokens";

/// The default `--max-input-mib`.
pub const DEFAULT_MAX_INPUT_MIB: u64 = 16;

/// The default `--queue` is this many waiting evaluations per worker: enough
/// that 32 clients on 2 cores wait their turn instead of being refused and
/// resending (which costs the server a request each time), while the bodies
/// held stay bounded by (workers + queue) × `--max-input-mib` (34 × 16 MiB on
/// 2 cores). A refused request is answered before its body is read.
pub const DEFAULT_QUEUE_PER_WORKER: usize = 16;

/// The default `--request-timeout`, in seconds: how long a client may take
/// to send its request head, and then its body.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;

/// The default `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// The default `--shutdown-timeout`, in seconds: below Kubernetes' default
/// 30 s grace period and systemd's 90 s stop timeout.
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 25;

/// How long an approval request waits for a decision, by default.
pub const DEFAULT_REQUEST_TTL_HOURS: u64 = 72;

/// Everything `gatehouse serve` is told.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The policy set.
    pub config: PathBuf,
    /// Where to listen (`ADDR:PORT`; port 0 picks a free one).
    pub listen: String,
    /// The store URL.
    pub store: String,
    /// The tokens file.
    pub tokens_file: PathBuf,
    /// The largest request body, in MiB.
    pub max_input_mib: u64,
    /// Evaluations at once (default: the cores).
    pub workers: Option<usize>,
    /// Evaluations waiting beyond those (default: [`DEFAULT_QUEUE_PER_WORKER`] per worker).
    pub queue: Option<usize>,
    /// How long an approval request waits, in hours.
    pub request_ttl_hours: u64,
    /// How long a client may take to send its request head, and then its
    /// body, in seconds.
    pub request_timeout_secs: u64,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long a shutdown waits for the requests in flight, in seconds.
    pub shutdown_timeout_secs: u64,
    /// How the log on stderr is written.
    pub log_format: logging::LogFormat,
    /// The approvers' page (`--page`): `None` leaves `/` a 404.
    pub page: Option<page::PageOptions>,
}

/// The state every request shares.
pub struct App {
    /// The policy set, read at start (the same as `policies.set()`).
    pub set: PolicySet,
    /// The set's policies, loaded (compiled and linked) once at start.
    pub policies: PreparedSet,
    /// Where engines come from (compile cache, key, warnings).
    pub engines: Arc<dyn EngineSource + Send + Sync>,
    /// The store.
    pub store: store::Store,
    /// The tokens file.
    pub tokens: tokens::TokenSource,
    /// The evaluation pool.
    pub pool: pool::Pool,
    /// The largest request body, in bytes.
    pub max_body_bytes: usize,
    /// How long an approval request waits, in seconds.
    pub request_ttl_secs: i64,
    /// This replica's counters (`GET /metrics`).
    pub metrics: metrics::Metrics,
    /// How long a client may take to send a request body (408 after).
    pub request_timeout: std::time::Duration,
    /// The log on stderr.
    pub log: logging::Logger,
    /// The approvers' page, when enabled.
    pub page: Option<page::PageState>,
}

/// Loads the policy set and every policy in it, once: compiled and linked
/// into one engine that every evaluation of this process shares (each still
/// gets fresh instances with its policy's limits and grants). A broken or
/// mis-pinned policy stops the start.
pub fn load_policies(
    config: &std::path::Path,
    engines: &dyn EngineSource,
) -> Result<PreparedSet, String> {
    let set = PolicySet::load(config).map_err(|problems| problems.join("; "))?;
    PreparedSet::prepare(set, engines).map_err(|e| e.to_string())
}

/// How often the policy files are compared with what was loaded.
pub const POLICY_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Watches the policy files: the service evaluates what it loaded at start,
/// so a file replaced since is logged (once per change) with the sha256
/// still in use, and restarting the service loads it.
async fn watch_policies(app: Arc<App>, logger: logging::Logger) {
    let mut reported = Vec::new();
    loop {
        tokio::time::sleep(POLICY_CHECK_INTERVAL).await;
        let shared = Arc::clone(&app);
        let Ok(changed) =
            tokio::task::spawn_blocking(move || shared.policies.changed_on_disk()).await
        else {
            continue;
        };
        for change in &changed {
            if reported.contains(change) {
                continue;
            }
            let now = match &change.now {
                Ok(sha256) => format!("now holds sha256 {sha256}"),
                Err(e) => format!("cannot be read ({e})"),
            };
            logger.warn(&format!(
                "policy {} ({}) changed on disk since the start: it {now}; still evaluating the loaded version (sha256 {}); restart gatehouse serve to load the file",
                gatehouse_core::untrusted::quote(&change.name),
                change.path.display(),
                change.loaded_sha256
            ));
        }
        reported = changed;
    }
}

/// Runs the service until SIGINT or SIGTERM: loads the policies, opens and
/// migrates the store, listens, and logs `listening on http://ADDR ...`
/// once it accepts connections. `log` writes one text line (used with
/// `--log-format text`). On the signal it stops accepting, finishes the
/// requests in flight (each answered only after it is recorded) and
/// returns, within `--shutdown-timeout`.
pub fn serve(
    options: ServeOptions,
    engines: Arc<dyn EngineSource + Send + Sync>,
    log: fn(&str),
) -> Result<(), String> {
    let logger = logging::Logger::new(options.log_format, log);
    if options.request_timeout_secs == 0 {
        return Err(
            "--request-timeout 0: a client must get some time to send its request; use 1 or more seconds"
                .into(),
        );
    }
    let limits = listener::Limits {
        header_timeout: std::time::Duration::from_secs(options.request_timeout_secs),
        max_connections: options.max_connections.max(1),
        shutdown_timeout: std::time::Duration::from_secs(options.shutdown_timeout_secs),
    };
    let policies = load_policies(&options.config, engines.as_ref())?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = options.workers.unwrap_or(cores).max(1);
    let queue = options.queue.unwrap_or(workers * DEFAULT_QUEUE_PER_WORKER);
    let max_body_bytes = usize::try_from(options.max_input_mib.saturating_mul(1 << 20))
        .map_err(|_| format!("--max-input-mib {} is too large", options.max_input_mib))?;
    let listen: SocketAddr = options.listen.parse().map_err(|e| {
        format!(
            "--listen {}: {e}; expected ADDRESS:PORT such as 127.0.0.1:8080",
            gatehouse_core::untrusted::quote(&options.listen)
        )
    })?;
    let page = options.page.clone().map(page::PageState::new).transpose()?;
    // The runtime never evaluates: the pool's own threads do ([`pool`]).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.clamp(1, 4))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let result = runtime.block_on(async move {
        let store = store::Store::open(&options.store)
            .await
            .map_err(|e| e.to_string())?;
        let tokens = tokens::TokenSource::new(&options.tokens_file);
        match tokens.current() {
            Ok(t) if t.is_empty() => logger.warn(&format!(
                "{} holds no token, so every /v1 request is refused (401); add one with `gatehouse serve token add NAME --scopes evaluate,approve,read --tokens-file {}`",
                options.tokens_file.display(),
                options.tokens_file.display()
            )),
            Ok(_) => {}
            Err(e) => return Err(e),
        }
        let app = Arc::new(App {
            set: policies.set().clone(),
            policies,
            engines,
            store,
            tokens,
            pool: pool::Pool::new(workers, queue)?,
            max_body_bytes,
            request_ttl_secs: i64::try_from(options.request_ttl_hours.saturating_mul(3600))
                .unwrap_or(i64::MAX),
            metrics: metrics::Metrics::new(),
            request_timeout: limits.header_timeout,
            log: logger,
            page,
        });
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("--listen {listen}: cannot listen: {e}"))?;
        let bound = listener
            .local_addr()
            .map_err(|e| format!("--listen {listen}: {e}"))?;
        if let Some(page) = &app.page {
            page.listening_on(bound);
        }
        logger.event(
            "info",
            &format!(
                "listening on http://{bound} (store {}, {} policies, {workers} workers, queue {queue})",
                store::redact(&options.store),
                app.set.policies.len()
            ),
            serde_json::Map::from_iter([
                ("event".to_string(), serde_json::json!("listening")),
                ("address".to_string(), serde_json::json!(bound.to_string())),
            ]),
        );
        tokio::spawn(watch_policies(Arc::clone(&app), logger));
        let signal = async move {
            shutdown().await;
            logger.info("stopping: no new connections; finishing the requests in flight");
        };
        match listener::run(listener, api::router(app), limits, signal).await {
            listener::Stopped::Drained => logger.info("stopped"),
            listener::Stopped::TimedOut(open) => logger.warn(&format!(
                "stopped after --shutdown-timeout {} s with {open} connections still open; their requests were not answered (and so count for nothing)",
                limits.shutdown_timeout.as_secs()
            )),
        }
        Ok(())
    });
    // An evaluation still running on a pool thread (or a blocking one) ends by its own
    // limits; do not wait for it past a moment.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

/// Resolves on SIGINT or SIGTERM: in-flight requests finish, then the
/// server stops.
async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
