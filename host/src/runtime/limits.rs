//! Resource limits for one policy evaluation, with documented defaults, and
//! the fixed limits of the engine itself.

/// Guest stack limit: deep recursion traps with a stack overflow at this depth.
/// The host evaluates on threads with a much larger native stack
/// (see `worker::WORKER_STACK`), so the trap always comes first.
pub const MAX_WASM_STACK: usize = 1 << 20;

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The SECURITY.md "Defaults" table, written out as numbers: a change to
    /// any default must change this test and that table together.
    #[test]
    fn the_defaults_are_the_documented_numbers() {
        let limits = Limits::default();
        assert_eq!(limits.fuel, 2_000_000_000, "fuel per call");
        assert_eq!(limits.timeout_ms, 10_000, "time budget per evaluation");
        assert_eq!(limits.memory_bytes, 256 * 1024 * 1024, "256 MiB of memory");
        assert_eq!(limits.table_elements, 200_000, "elements per table");
        assert_eq!(limits.instances, 100, "core instances per evaluation");
        assert_eq!(limits.tables, 100, "tables per evaluation");
        assert_eq!(limits.memories, 100, "memories per evaluation");
        assert_eq!(limits.max_log_lines, 1_000, "log lines");
        assert_eq!(limits.max_log_bytes, 256 * 1024, "256 KiB of log text");
        assert_eq!(
            limits.max_output_bytes,
            64 * 1024,
            "64 KiB of stdout, of stderr"
        );
        assert_eq!(
            limits.max_hostcall_bytes,
            24 * 1024 * 1024,
            "24 MiB per host call"
        );
        // The constants the CLI's defaults are built from.
        assert_eq!(Limits::DEFAULT_FUEL, limits.fuel);
        assert_eq!(Limits::DEFAULT_TIMEOUT_MS, limits.timeout_ms);
        assert_eq!(Limits::DEFAULT_MEMORY_BYTES, limits.memory_bytes);
        // The limits that live beside the code they guard.
        assert_eq!(super::super::convert::MAX_REASONS, 100_000, "reasons");
        assert_eq!(
            super::super::convert::MAX_DECISION_BYTES,
            16 * 1024 * 1024,
            "16 MiB of decision text"
        );
        assert_eq!(super::super::MAX_FUNCTIONS, 50_000, "functions");
        assert_eq!(
            super::super::MAX_CODE_BYTES,
            64 * 1024 * 1024,
            "64 MiB of code"
        );
        assert_eq!(MAX_WASM_STACK, 1024 * 1024, "1 MiB guest stack");
        assert_eq!(
            super::super::ticker::TICK,
            std::time::Duration::from_millis(10),
            "the time budget is checked every 10 ms"
        );
    }

    #[test]
    fn max_takes_each_limit_from_whichever_is_larger() {
        let small = Limits {
            fuel: 1,
            memory_bytes: 1,
            timeout_ms: 1,
            table_elements: 1,
            instances: 1,
            tables: 1,
            memories: 1,
            max_log_lines: 1,
            max_log_bytes: 1,
            max_output_bytes: 1,
            max_hostcall_bytes: 1,
        };
        let mixed = Limits {
            fuel: 5,
            tables: 7,
            ..small.clone()
        };
        assert_eq!(small.max(&mixed), mixed);
        assert_eq!(mixed.max(&small), mixed);
        assert_eq!(Limits::default().max(&small), Limits::default());
    }
}
