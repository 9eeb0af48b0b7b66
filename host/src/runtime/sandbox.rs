//! The per-evaluation sandbox: a fresh `Store` whose WASI context grants
//! nothing (no files, no environment, no arguments, no sockets, empty stdin),
//! whose stdout / stderr and logs are captured within bounds, and whose clock
//! is the run's fixed evaluation time.

use super::bindings::gatehouse::policy::{host, types};
use super::capture::{BoundedPipe, LogCapture, LogLevel};
use super::grants::Grants;
use super::limiter::PolicyLimiter;
use super::limits::Limits;
use super::ticker::deadline_ticks;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store};
use wasmtime_wasi::{FsPerms, HostWallClock, WasiCtx, WasiCtxView, WasiView};

/// Everything a policy instance can reach, owned by its `Store`.
pub struct SandboxState {
    wasi: WasiCtx,
    table: ResourceTable,
    now: i64,
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

/// Creates a fresh store for one evaluation, with only the given grants.
pub fn new_store(
    engine: &Engine,
    limits: &Limits,
    grants: &Grants,
    now: i64,
) -> wasmtime::Result<Store<SandboxState>> {
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
