//! What the host offers a policy: log lines captured into the report, and the
//! evaluation time (fixed for a run, so verdicts are reproducible).
//!
//! Outside a Gatehouse host (for example in a policy's native unit tests) the
//! log functions print to stderr and [`now`] reads the system clock.

use crate::time::Timestamp;

#[cfg(target_arch = "wasm32")]
use crate::bindings::gatehouse::policy::host as imports;

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Detail for policy authors.
    Debug,
    /// Normal progress.
    Info,
    /// Something a release approver should notice.
    Warn,
    /// Something went wrong inside the policy.
    Error,
}

/// Records a line in the report.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        let level = match level {
            Level::Debug => imports::Level::Debug,
            Level::Info => imports::Level::Info,
            Level::Warn => imports::Level::Warn,
            Level::Error => imports::Level::Error,
        };
        imports::log(level, message);
    }
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

/// Logs at debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Logs at info level.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Logs at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Logs at error level.
pub fn error(message: &str) {
    log(Level::Error, message);
}

/// The evaluation time: `gatehouse eval --now` or the host's clock at the start of the run.
pub fn now() -> Timestamp {
    #[cfg(target_arch = "wasm32")]
    {
        Timestamp(imports::now())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}
