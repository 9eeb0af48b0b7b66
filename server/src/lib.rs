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
//! `gatehouse eval --config` runs it, on a bounded pool of blocking
//! threads ([`pool`]). The state is in a SQL store ([`store`]): SQLite now,
//! PostgreSQL through the same code. Clients authenticate with bearer
//! tokens whose hashes a tokens file lists ([`tokens`]); approvals are
//! trusted for their signature only, never for the token that uploaded them.
//!
//! | module | job |
//! |---|---|
//! | `api/` | routes, authorisation, bounded bodies, the JSON answers |
//! | `evaluate.rs` | a submission and uploaded approvals → the core's evaluation and its record |
//! | `metrics.rs` | the counters and histograms `GET /metrics` shows |
//! | `pool.rs` | at most N evaluations at once, M waiting, 503 beyond |
//! | `store/` | decisions, approval requests, approvals; versioned migrations |
//! | `tokens.rs` | the tokens file, new tokens, constant-time checks |

#![forbid(unsafe_code)]

pub mod api;
pub mod evaluate;
pub mod metrics;
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
    /// Evaluations waiting beyond those (default: 4 per worker).
    pub queue: Option<usize>,
    /// How long an approval request waits, in hours.
    pub request_ttl_hours: u64,
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
async fn watch_policies(app: Arc<App>, log: fn(&str)) {
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
            log(&format!(
                "warning: policy {} ({}) changed on disk since the start: it {now}; still evaluating the loaded version (sha256 {}); restart gatehouse serve to load the file",
                gatehouse_core::untrusted::quote(&change.name),
                change.path.display(),
                change.loaded_sha256
            ));
        }
        reported = changed;
    }
}

/// Runs the service until SIGINT or SIGTERM: loads the policies, opens and
/// migrates the store, listens, and prints `gatehouse: listening on
/// http://ADDR` on stderr once it accepts connections. `log` gets each
/// line the service writes.
pub fn serve(
    options: ServeOptions,
    engines: Arc<dyn EngineSource + Send + Sync>,
    log: fn(&str),
) -> Result<(), String> {
    let policies = load_policies(&options.config, engines.as_ref())?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = options.workers.unwrap_or(cores).max(1);
    let queue = options.queue.unwrap_or(workers * 4);
    let max_body_bytes = usize::try_from(options.max_input_mib.saturating_mul(1 << 20))
        .map_err(|_| format!("--max-input-mib {} is too large", options.max_input_mib))?;
    let listen: SocketAddr = options.listen.parse().map_err(|e| {
        format!(
            "--listen {}: {e}; expected ADDRESS:PORT such as 127.0.0.1:8080",
            gatehouse_core::untrusted::quote(&options.listen)
        )
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.clamp(1, 4))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let store = store::Store::open(&options.store)
            .await
            .map_err(|e| e.to_string())?;
        let tokens = tokens::TokenSource::new(&options.tokens_file);
        match tokens.current() {
            Ok(t) if t.is_empty() => log(&format!(
                "warning: {} holds no token, so every /v1 request is refused (401); add one with `gatehouse serve token add NAME --scopes evaluate,approve,read --tokens-file {}`",
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
            pool: pool::Pool::new(workers, queue),
            max_body_bytes,
            request_ttl_secs: i64::try_from(options.request_ttl_hours.saturating_mul(3600))
                .unwrap_or(i64::MAX),
            metrics: metrics::Metrics::new(),
        });
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("--listen {listen}: cannot listen: {e}"))?;
        let bound = listener
            .local_addr()
            .map_err(|e| format!("--listen {listen}: {e}"))?;
        log(&format!(
            "listening on http://{bound} (store {}, {} policies, {workers} workers, queue {queue})",
            store::redact(&options.store),
            app.set.policies.len()
        ));
        tokio::spawn(watch_policies(Arc::clone(&app), log));
        axum::serve(listener, api::router(app))
            .with_graceful_shutdown(shutdown())
            .await
            .map_err(|e| format!("the server stopped: {e}"))
    })
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
