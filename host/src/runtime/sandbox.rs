//! The per-evaluation sandbox: a fresh `Store` whose WASI context grants
//! nothing (no files, no environment, no arguments, no sockets, empty stdin),
//! whose stdout / stderr and logs are captured within bounds, whose wall
//! clock is the run's fixed evaluation time, whose monotonic clock is virtual
//! ([`super::clock`]) and whose randomness is a deterministic stream unless
//! granted ([`super::random`]).

use super::bindings::gatehouse::policy::{host, types};
use super::capture::{BoundedPipe, LogCapture, LogLevel};
use super::clock::VirtualClock;
use super::grants::Grants;
use super::limiter::PolicyLimiter;
use super::limits::Limits;
use super::random::RandomSource;
use super::ticker::deadline_ticks;
use super::worker::Progress;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store};
use wasmtime_wasi::{FsPerms, HostWallClock, WasiCtx, WasiCtxView, WasiView};

/// Everything a policy instance can reach, owned by its `Store`.
pub struct SandboxState {
    wasi: WasiCtx,
    table: ResourceTable,
    now: i64,
    /// The virtual monotonic clock, shared with its pollables.
    clock: Arc<VirtualClock>,
    /// Which phase the evaluation is in, shared with the caller.
    progress: Arc<Progress>,
    /// Memory and table caps, and which one was hit.
    pub limiter: PolicyLimiter,
    /// The policy's `log` lines.
    pub logs: LogCapture,
    /// The policy's stdout.
    pub stdout: BoundedPipe,
    /// The policy's stderr.
    pub stderr: BoundedPipe,
}

/// A wall clock frozen at the evaluation time, so that guests reading WASI
/// time directly (Python's `datetime.now()`, JS `Date.now()`) agree with `now`.
struct FixedClock(Duration);

impl HostWallClock for FixedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        self.0
    }
}

/// What one store is made from, besides the engine.
pub(crate) struct StoreConfig<'a> {
    /// Resource limits, including the time budget.
    pub limits: &'a Limits,
    /// Capabilities granted beyond the empty default.
    pub grants: &'a Grants,
    /// The evaluation time, Unix seconds.
    pub now: i64,
    /// Where `wasi:random` comes from.
    pub random: RandomSource,
    /// Shared with the caller, which reads the phase on a caller-side timeout.
    pub progress: Arc<Progress>,
}

/// Creates a fresh store for one evaluation, with only the given grants. The
/// evaluation's time budget (the epoch deadline and the virtual clock's)
/// starts here.
pub(crate) fn new_store(
    engine: &Engine,
    config: StoreConfig<'_>,
) -> wasmtime::Result<Store<SandboxState>> {
    let StoreConfig {
        limits,
        grants,
        now,
        random,
        progress,
    } = config;
    let stdout = BoundedPipe::new(limits.max_output_bytes);
    let stderr = BoundedPipe::new(limits.max_output_bytes);
    let mut wasi = WasiCtx::builder();
    wasi.stdout(stdout.clone())
        .stderr(stderr.clone())
        .wall_clock(FixedClock(Duration::from_secs(
            u64::try_from(now).unwrap_or(0),
        )))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    super::random::configure(&mut wasi, random);
    for dir in &grants.read_dirs {
        let guest_path = dir.to_string_lossy();
        wasi.preopened_dir(dir, guest_path.as_ref(), FsPerms::ReadOnly)?;
    }
    for (name, value) in grants.env_values() {
        wasi.env(name, value);
    }
    let state = SandboxState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        now,
        clock: VirtualClock::new(Duration::from_millis(limits.timeout_ms)),
        progress,
        limiter: PolicyLimiter::new(
            limits.memory_bytes,
            limits.table_elements,
            limits.instances,
            limits.tables,
            limits.memories,
        ),
        logs: LogCapture::new(limits.max_log_lines, limits.max_log_bytes),
        stdout,
        stderr,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limiter);
    store.set_hostcall_fuel(limits.max_hostcall_bytes);
    store.set_epoch_deadline(deadline_ticks(limits.timeout_ms));
    store.epoch_deadline_trap();
    Ok(store)
}

impl SandboxState {
    /// The evaluation's virtual monotonic clock.
    pub(crate) fn clock(&self) -> &Arc<VirtualClock> {
        &self.clock
    }

    /// The WASI resource table (pollables, streams, ...).
    pub(crate) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// The progress shared with the caller.
    pub(crate) fn progress(&self) -> &Progress {
        &self.progress
    }

    /// The evaluation time, Unix seconds (`host.now` of every world version).
    pub(crate) fn now_seconds(&self) -> i64 {
        self.now
    }
}

impl WasiView for SandboxState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for SandboxState {}

impl host::Host for SandboxState {
    fn log(&mut self, level: host::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            host::Level::Debug => LogLevel::Debug,
            host::Level::Info => LogLevel::Info,
            host::Level::Warn => LogLevel::Warn,
            host::Level::Error => LogLevel::Error,
        };
        self.logs.push(level, &message);
        Ok(())
    }

    fn now(&mut self) -> wasmtime::Result<i64> {
        Ok(self.now)
    }
}
