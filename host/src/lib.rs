//! # gatehouse
//!
//! Gatehouse decides whether a release may proceed. It reads a release change
//! (the Facets pre-release hook JSON), runs release-approval policies compiled
//! to WebAssembly components in a sandbox, and answers auto-approve (exit 0),
//! require approval (exit 2) or fail (exit 1); exit 3 means no decision could
//! be made.
//!
//! The library is what the `gatehouse` binary is built from:
//! [`release::read_release`] reads input (release JSON, Terraform plans, Pulumi previews), [`runtime::Runtime`] loads and
//! evaluates policies, [`gate::aggregate`] combines verdicts and
//! [`report::Report`] renders the result.

#![deny(unsafe_code)]

pub mod approvals;
pub mod audit;
pub mod audit_checkpoint;
pub mod config;
pub mod decision;
pub mod error;
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
