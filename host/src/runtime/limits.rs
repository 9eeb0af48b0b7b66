//! Resource limits for one policy evaluation, with documented defaults.

/// What one evaluation of one policy may consume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Fuel per call into the policy (`describe`, `validate-settings`,
    /// `evaluate` each get this budget). Fuel counts executed WebAssembly
    /// instructions, so the same policy on the same input always uses the
    /// same amount: a verdict never depends on machine load.
    pub fuel: u64,
    /// Maximum linear memory per evaluation, in bytes, all memories together.
    pub memory_bytes: usize,
    /// Time budget for a whole evaluation (instantiation and the three
    /// calls), in milliseconds: real time plus the virtual time the policy
    /// waits on its clock (`runtime::clock`). Fuel bounds CPU
    /// deterministically; this bounds time spent anywhere: the epoch deadline
    /// in guest code, the virtual clock in waits, and the caller's deadline
    /// (plus `CALLER_SLACK`) in any other host call.
    pub timeout_ms: u64,
    /// Maximum elements per table.
    pub table_elements: usize,
    /// Maximum core instances per evaluation.
    pub instances: usize,
    /// Maximum tables per evaluation.
    pub tables: usize,
    /// Maximum linear memories per evaluation.
    pub memories: usize,
    /// Maximum number of `log` lines kept per evaluation.
    pub max_log_lines: usize,
    /// Maximum bytes of `log` text kept per evaluation.
    pub max_log_bytes: usize,
    /// Maximum bytes of stdout, and separately of stderr, kept per evaluation.
    pub max_output_bytes: usize,
    /// Maximum bytes the guest may pass to the host in one call: a `log`
    /// message, a WASI write, or the decision `evaluate` returns (wasmtime's
    /// hostcall fuel, which counts about 48 bytes per reason plus its text).
    /// Sized so that a decision at the caps of `convert` always fits.
    pub max_hostcall_bytes: usize,
}

impl Limits {
    /// Default fuel: about a second of guest compute, ample for Rust, Python and JS policies.
    pub const DEFAULT_FUEL: u64 = 2_000_000_000;
    /// Default memory: 256 MiB, room for Python and JS runtimes.
    pub const DEFAULT_MEMORY_BYTES: usize = 256 << 20;
    /// Default time budget per evaluation: 10 s.
    pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

    /// The element-wise maximum of two sets of limits: what an engine that
    /// runs policies with either must be sized for.
    pub fn max(&self, other: &Limits) -> Limits {
        Limits {
            fuel: self.fuel.max(other.fuel),
            memory_bytes: self.memory_bytes.max(other.memory_bytes),
            timeout_ms: self.timeout_ms.max(other.timeout_ms),
            table_elements: self.table_elements.max(other.table_elements),
            instances: self.instances.max(other.instances),
            tables: self.tables.max(other.tables),
            memories: self.memories.max(other.memories),
            max_log_lines: self.max_log_lines.max(other.max_log_lines),
            max_log_bytes: self.max_log_bytes.max(other.max_log_bytes),
            max_output_bytes: self.max_output_bytes.max(other.max_output_bytes),
            max_hostcall_bytes: self.max_hostcall_bytes.max(other.max_hostcall_bytes),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: Self::DEFAULT_FUEL,
            memory_bytes: Self::DEFAULT_MEMORY_BYTES,
            timeout_ms: Self::DEFAULT_TIMEOUT_MS,
            table_elements: 200_000,
            instances: 100,
            tables: 100,
            memories: 100,
            max_log_lines: 1_000,
            max_log_bytes: 256 << 10,
            max_output_bytes: 64 << 10,
            max_hostcall_bytes: 24 << 20,
        }
    }
}
