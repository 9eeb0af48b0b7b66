//! Host bindings generated from `wit/policy.wit`, the contract shared with the SDK.

#![allow(missing_docs)]

// `wit` is a link to the repository's wit/, so the published crate carries
// the WIT it was built from.
wasmtime::component::bindgen!({
    path: "wit",
    world: "policy",
    imports: { default: trappable },
});

/// The world every policy must target, as named in error messages.
pub const WORLD: &str = "gatehouse:policy/policy@0.1.0";

/// The exports that make a component a Gatehouse policy.
pub const REQUIRED_EXPORTS: [&str; 3] = ["describe", "validate-settings", "evaluate"];
