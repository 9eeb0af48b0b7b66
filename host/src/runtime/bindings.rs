//! Host bindings generated from the WIT shared with the SDK: `wit/policy.wit`
//! (`gatehouse:policy@0.1.0`, at the top of this module, where it has always
//! been) and `wit/0.2.0/policy.wit` ([`v0_2`]). The host runs both.

#![allow(missing_docs)]

// `wit` is a link to the repository's wit/, so the published crate carries
// the WIT it was built from.
wasmtime::component::bindgen!({
    path: "wit",
    world: "policy",
    imports: { default: trappable },
});

/// Bindings of `gatehouse:policy@0.2.0`: the release is a host resource the
/// policy reads through accessors ([`super::input`]).
pub mod v0_2 {
    wasmtime::component::bindgen!({
        path: "wit/0.2.0",
        world: "policy",
        imports: { default: trappable },
        with: {
            "gatehouse:policy/input.release": super::ReleaseHandle,
        },
    });
}

/// The release behind a policy's `borrow<release>`: the caller's release,
/// shared with the evaluation. Defined here, below the accessors that read
/// it ([`super::input`]), so that the generated bindings need nothing above them.
pub struct ReleaseHandle {
    pub(crate) release: std::sync::Arc<crate::release::Release>,
}

impl ReleaseHandle {
    /// A handle on `release`.
    pub fn new(release: std::sync::Arc<crate::release::Release>) -> Self {
        ReleaseHandle { release }
    }
}

/// The first policy world, named in error messages about a component that
/// shows no version of its own.
pub const WORLD: &str = "gatehouse:policy/policy@0.1.0";

/// The world whose release is a resource read in place.
pub const WORLD_0_2: &str = "gatehouse:policy/policy@0.2.0";

/// The exports that make a component a Gatehouse policy (the same names in
/// every version).
pub const REQUIRED_EXPORTS: [&str; 3] = ["describe", "validate-settings", "evaluate"];
