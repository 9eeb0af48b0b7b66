//! Host bindings generated from `wit/policy.wit`, the contract shared with the SDK.

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "policy",
    imports: { default: trappable },
});

/// The world every policy must target, as named in error messages.
pub const WORLD: &str = "gatehouse:policy/policy@0.1.0";

/// The exports that make a component a Gatehouse policy.
pub const REQUIRED_EXPORTS: [&str; 3] = ["describe", "validate-settings", "evaluate"];
