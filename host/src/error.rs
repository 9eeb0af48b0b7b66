//! Typed errors, grouped by the phase that failed. Every error ends in exit
//! code 3 ("no decision could be made") and its message names what failed,
//! where, and what to do next.

use std::fmt;
use std::path::PathBuf;

/// Anything that stops Gatehouse from reaching a decision.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The release input is unreadable or malformed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A command-line value is malformed (`--set`, `--now`, ...).
    #[error("{0}")]
    Usage(String),
    /// A policy file could not be loaded as a Gatehouse policy.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A policy failed while running.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The policy set (`--config`) is invalid, or a policy's digest does not match its pin.
    #[error("{0}")]
    Config(String),
    /// The WebAssembly engine could not be started.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The WebAssembly engine could not be started: wasmtime refused its
/// configuration (e.g. the allocation pool does not fit the address space),
/// or a thread it needs could not be spawned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot start the WebAssembly engine: {message}")]
pub struct EngineError {
    message: String,
}

impl EngineError {
    /// An engine failure, with wasmtime's (or the OS's) reason.
    pub fn new(message: impl Into<String>) -> Self {
        EngineError {
            message: message.into(),
        }
    }
}

/// A release input problem: which input, where in it, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The input's name: a path, or `<stdin>`.
    pub source: String,
    /// A JSON path such as `$.resources[2].changeType`, when known.
    pub path: Option<String>,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

impl InputError {
    /// An error at a JSON path inside the input.
    pub fn at(source: &str, path: String, message: String) -> Self {
        InputError {
            source: source.to_string(),
            path: Some(path),
            message,
        }
    }

    /// An error about the input as a whole (unreadable, too large, ...).
    pub fn whole(source: &str, message: String) -> Self {
        InputError {
            source: source.to_string(),
            path: None,
            message,
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}: {}: {}", self.source, path, self.message),
            None => write!(f, "{}: {}", self.source, self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// A policy file that cannot be used, with the path and the reason.
#[derive(Debug, thiserror::Error)]
#[error("policy {path}: {kind}")]
pub struct LoadError {
    /// The policy file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub kind: LoadErrorKind,
}

/// Why a policy file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(std::io::Error),
    /// The file is empty.
    #[error("the file is empty; expected a WebAssembly component (.wasm)")]
    Empty,
    /// The file does not start with the WebAssembly magic bytes.
    #[error(
        "not a WebAssembly file (it does not start with \\0asm); expected a component built for wasm32-wasip2"
    )]
    NotWasm,
    /// The file is WebAssembly text, not binary.
    #[error(
        "this is WebAssembly text (.wat), not a binary; compile it with `wasm-tools parse` and wrap it with `wasm-tools component new`"
    )]
    WasmText,
    /// A core module rather than a component.
    #[error(
        "this is a core WebAssembly module, not a component; build Rust policies with `cargo build --target wasm32-wasip2`, or wrap a module with `wasm-tools component new MODULE.wasm -o POLICY.wasm` (add `--adapt` with the WASI preview-1 adapter if it uses WASI)"
    )]
    CoreModule,
    /// An unknown binary format version.
    #[error("unsupported WebAssembly binary version {0:#010x}; expected a component (layer 1)")]
    UnknownVersion(u32),
    /// The component does not validate or compile.
    #[error("invalid component: {0}")]
    Compile(String),
    /// The component does not target the `gatehouse:policy/policy` world.
    #[error(
        "not a Gatehouse policy: it does not export {missing} of world {world}; build it against wit/policy.wit"
    )]
    WrongWorld {
        /// The exports it lacks, quoted and comma-separated.
        missing: String,
        /// The world expected.
        world: &'static str,
    },
    /// The component imports interfaces the sandbox does not provide.
    #[error(
        "imports {0}, which Gatehouse does not provide; a policy may import only gatehouse:policy/host and types (0.1, 0.2) and input (0.2) and WASI 0.2 cli, clocks, filesystem, io, random and sockets (granted nothing by default)"
    )]
    ForbiddenImports(String),
    /// The component is too large to compile within bounded time and memory.
    #[error("too large to compile safely: {0}")]
    TooLarge(String),
    /// The component's imports or export types do not match what the host provides.
    #[error("cannot link the component: {0}")]
    Link(String),
}

impl PolicyErrorKind {
    /// The sandbox limit this error hit, as (name, value), for reports:
    /// `fuel` (units), `memory` (bytes), `table-elements`, `timeout-ms`.
    pub fn limit(&self) -> Option<(&'static str, u64)> {
        match self {
            PolicyErrorKind::OutOfFuel { limit, .. } => Some(("fuel", *limit)),
            PolicyErrorKind::MemoryLimit { limit_bytes, .. } => {
                Some(("memory", *limit_bytes as u64))
            }
            PolicyErrorKind::TableLimit { limit, .. } => Some(("table-elements", *limit as u64)),
            PolicyErrorKind::Timeout { limit_ms, .. } => Some(("timeout-ms", *limit_ms)),
            PolicyErrorKind::DataLimit { limit_bytes, .. } => {
                Some(("hostcall-bytes", *limit_bytes as u64))
            }
            _ => None,
        }
    }
}

/// A policy that failed while running, named by the policy and its file.
#[derive(Debug, thiserror::Error)]
#[error("policy '{policy}' ({path}): {kind}")]
pub struct PolicyError {
    /// The policy's name (from `describe`, or the file stem before that).
    pub policy: String,
    /// The policy file.
    pub path: String,
    /// What went wrong.
    pub kind: PolicyErrorKind,
}

/// How a policy failed while running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// `validate-settings` returned an error.
    #[error("settings rejected: {0}")]
    SettingsRejected(String),
    /// `evaluate` returned an error: the policy could not decide.
    #[error("could not decide: {0}")]
    CouldNotDecide(String),
    /// The guest trapped (panic, `unreachable`, out-of-bounds access, ...).
    #[error("trapped in {phase}: {message}{stderr}")]
    Trap {
        /// The export being called.
        phase: &'static str,
        /// The trap.
        message: String,
        /// The tail of the guest's stderr, prefixed with `; stderr: `, or empty.
        stderr: String,
    },
    /// The guest used up its fuel.
    #[error(
        "ran out of fuel in {phase} (limit {limit}); raise it with --fuel (limits.fuel in a policy set) if the policy is legitimately expensive"
    )]
    OutOfFuel {
        /// The export being called.
        phase: &'static str,
        /// The fuel limit.
        limit: u64,
    },
    /// The guest tried to grow a linear memory past the limit.
    #[error("exceeded its {} MiB memory limit in {phase}; raise it with --memory-mib (limits.memory_mib in a policy set) if the policy legitimately needs more", limit_bytes >> 20)]
    MemoryLimit {
        /// The export being called.
        phase: &'static str,
        /// The limit in bytes.
        limit_bytes: usize,
    },
    /// The guest tried to grow a table past the limit.
    #[error("exceeded its table limit of {limit} elements in {phase}")]
    TableLimit {
        /// The export being called.
        phase: &'static str,
        /// The limit in elements.
        limit: usize,
    },
    /// The guest passed more data to the host in one call than allowed.
    #[error("passed more than {} MiB to the host in one call in {phase} (a log line, a write, or its decision)", limit_bytes >> 20)]
    DataLimit {
        /// The export being called.
        phase: &'static str,
        /// The limit in bytes.
        limit_bytes: usize,
    },
    /// The evaluation ran past its wall-clock budget.
    #[error(
        "timed out after {limit_ms} ms in {phase}; raise it with --timeout-ms (limits.timeout_ms in a policy set) if the policy is legitimately slow"
    )]
    Timeout {
        /// The export being called.
        phase: &'static str,
        /// The budget in milliseconds.
        limit_ms: u64,
    },
    /// The host could not run the evaluation (not the policy's fault).
    #[error("internal error: {0}")]
    Internal(String),
    /// No evaluation slot could be had in time (see `runtime::SLOT_WAIT_BUDGETS`).
    #[error("could not start: {0}")]
    NoSlot(String),
    /// `describe` answered outside the limits of `runtime::describe`.
    #[error("returned an invalid describe answer: {0}")]
    InvalidDescribe(String),
    /// The guest returned a decision the contract forbids.
    #[error("returned an invalid decision: {0}")]
    InvalidDecision(String),
}
