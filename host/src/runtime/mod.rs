//! Running policies: a [`Runtime`] (one engine, made by
//! [`Runtime::builder`]), a compiled and linked [`LoadedPolicy`] per file,
//! and a fresh sandboxed store per evaluation.

pub mod bindings;
mod builder;
pub mod cache;
pub mod capture;
pub mod clock;
mod clock_imports;
pub mod convert;
pub mod describe;
mod engine;
mod errors;
pub mod grants;
pub mod imports;
pub mod input;
mod limiter;
pub mod limits;
mod policy;
pub mod random;
mod sandbox;
mod slots;
mod ticker;
mod worker;
pub use worker::{EVALUATION_THREAD_STACK, declare_big_stack_thread};

pub use bindings::WORLD;
pub use builder::RuntimeBuilder;
pub(crate) use engine::{MAX_CODE_BYTES, MAX_FUNCTIONS, check_header};
pub use engine::{Runtime, SLOW_COMPILE_BYTES, WarningSink, compile_notice};
pub use grants::Grants;
pub use limits::Limits;
pub use policy::{
    CALLER_SLACK, CompileInfo, LoadedPolicy, NO_RELEASE_DIGEST, PolicyInfo, PolicyRun, RunOptions,
    SLOT_WAIT_BUDGETS,
};
pub use random::{RandomSeed, random_seed};
