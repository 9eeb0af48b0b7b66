//! # gatehouse-core
//!
//! Gatehouse decides whether a release may proceed. It reads a release change
//! (the Facets pre-release hook JSON), runs release-approval policies compiled
//! to WebAssembly components in a sandbox, and answers auto-approve (exit 0),
//! require approval (exit 2) or fail (exit 1); exit 3 means no decision could
//! be made.
//!
//! This crate is the engine; the `gatehouse` binary (crate `gatehouse`) is a
//! thin front-end to it, and others (a server) build on it the same way.
//! It holds no global state: [`runtime::Runtime::builder`] takes every
//! choice (limits, compile cache, where warnings go). The one-way flow of a
//! decision and the module layers are in docs/architecture.md:
//!
//! - input: [`input::ReleaseRequest`] reads a file or stdin, bounded;
//! - release model: [`release::read_release`] reads a release, a Terraform
//!   plan or a Pulumi preview into a [`release::Release`];
//! - policy set: [`config::PolicySet`] says which policies apply, with what;
//! - sandbox: [`runtime::Runtime`] loads a policy ([`runtime::LoadedPolicy`])
//!   and evaluates it in a fresh sandboxed store;
//! - decision: [`gate::run_and_settle`] settles a policy's request for
//!   approval, [`gate::aggregate`] combines verdicts;
//! - report / audit: [`report::Report`] renders the result, [`audit`]
//!   records it.
//!
//! [`evaluation::evaluate`] runs those steps for one release: the one entry
//! point the command line and the server both call.
//!
//! # Example
//!
//! ```no_run
//! use gatehouse_core::input::ReleaseRequest;
//! use gatehouse_core::runtime::{Grants, Limits, RunOptions, Runtime};
//! use std::path::Path;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::builder().build()?;
//! let policy = runtime.load(Path::new("destructive-changes.wasm"))?;
//! let request = ReleaseRequest {
//!     input: "release.json".into(),
//!     ..ReleaseRequest::default()
//! };
//! let release = request.load()?.release;
//! let options = RunOptions::new(gatehouse_core::time::now_unix(), Limits::default(), Grants::default())
//!     .with_release_digest(release.digest());
//! let verdict = policy.evaluate(&release, &[], &options)?.decision.verdict;
//! println!("{}", verdict.as_str());
//! # Ok(())
//! # }
//! ```

#![deny(unsafe_code)]

pub mod approvals;
pub mod audit;
pub mod audit_checkpoint;
pub mod config;
pub mod decision;
pub mod error;
pub mod evaluation;
pub mod gate;
pub mod input;
pub mod inspect;
#[cfg(test)]
mod layering;
pub mod release;
pub mod report;
pub mod runtime;
pub mod scaffold;
pub mod settings;
pub mod testsuite;
pub mod time;
pub mod untrusted;
