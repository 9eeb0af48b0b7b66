//! What `wasi:random` gives a policy: by default a deterministic stream, so
//! the same release, settings, policy and evaluation time give the same
//! verdict and reasons on every run (and `audit replay` can reproduce them);
//! real randomness only when a grant asks for it (`--allow-random`,
//! `[policy.grants] random = true`).
//!
//! The stream is seeded with [`random_seed`]: SHA-256 over a domain tag, the
//! release digest ([`crate::release::Release::digest`]) and the policy's wasm
//! sha256. Each of the three WASI sources (`random`, `insecure`,
//! `insecure-seed`) gets its own ChaCha20 stream keyed by SHA-256 of the seed
//! and the source's name, so no source reveals another.

use chacha20::ChaCha20Rng;
use chacha20::rand_core::SeedableRng;
use sha2::{Digest, Sha256};
use std::fmt;

/// The seed of one evaluation's deterministic `wasi:random` streams.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RandomSeed([u8; 32]);

impl RandomSeed {
    /// The seed's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A seed from 64 hex digits (how an audit record stores it).
    pub fn from_hex(hex_digits: &str) -> Result<RandomSeed, String> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_digits, &mut bytes)
            .map_err(|e| format!("random seed {hex_digits:?}: expected 64 hex digits ({e})"))?;
        Ok(RandomSeed(bytes))
    }

    /// The ChaCha20 stream for the WASI source `source`.
    fn stream(&self, source: &str) -> ChaCha20Rng {
        ChaCha20Rng::from_seed(self.derive(source))
    }

    fn derive(&self, source: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(b"gatehouse wasi:random source\0");
        hasher.update(self.0);
        hasher.update(source.as_bytes());
        hasher.finalize().into()
    }
}

/// 64 lowercase hex digits.
impl fmt::Display for RandomSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for RandomSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RandomSeed({self})")
    }
}

/// The seed of the deterministic `wasi:random` streams for a release (its
/// [`crate::release::Release::digest`], `sha256:<hex>`) and a policy (the hex
/// sha256 of its wasm bytes): SHA-256 of a domain tag and both, each ended by
/// a NUL byte so that no two pairs give the same input.
pub fn random_seed(release_digest: &str, policy_sha256: &str) -> RandomSeed {
    let mut hasher = Sha256::new();
    hasher.update(b"gatehouse wasi:random seed v1\0");
    hasher.update(release_digest.as_bytes());
    hasher.update(b"\0");
    hasher.update(policy_sha256.as_bytes());
    hasher.update(b"\0");
    RandomSeed(hasher.finalize().into())
}

/// Where one evaluation's `wasi:random` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RandomSource {
    /// Deterministic streams from this seed.
    Seeded(RandomSeed),
    /// The host's randomness (granted explicitly).
    Real,
}

/// Configures `builder`'s three random sources from `source`.
pub(crate) fn configure(builder: &mut wasmtime_wasi::WasiCtxBuilder, source: RandomSource) {
    let RandomSource::Seeded(seed) = source else {
        // wasmtime-wasi's defaults: the thread RNG and fresh random seeds.
        return;
    };
    let insecure_seed: [u8; 32] = seed.derive("insecure-seed");
    let mut half = [0u8; 16];
    half.copy_from_slice(&insecure_seed[..16]);
    builder
        .secure_random(seed.stream("random"))
        .insecure_random(seed.stream("insecure"))
        .insecure_random_seed(u128::from_le_bytes(half));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20::rand_core::Rng;

    #[test]
    fn the_seed_depends_on_both_digests_and_nothing_else() {
        let a = random_seed("sha256:aa", "bb");
        assert_eq!(a, random_seed("sha256:aa", "bb"));
        assert_ne!(a, random_seed("sha256:ab", "bb"));
        assert_ne!(a, random_seed("sha256:aa", "bc"));
        // The separator keeps ("x", "yz") and ("xy", "z") apart.
        assert_ne!(random_seed("x", "yz"), random_seed("xy", "z"));
    }

    #[test]
    fn a_seed_round_trips_through_hex() {
        let seed = random_seed("sha256:00", "11");
        let text = seed.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(RandomSeed::from_hex(&text), Ok(seed));
        assert!(RandomSeed::from_hex("xyz").is_err());
    }

    #[test]
    fn streams_repeat_per_seed_and_differ_per_source() {
        let seed = random_seed("sha256:00", "11");
        let bytes = |source: &str| {
            let mut buf = [0u8; 32];
            seed.stream(source).fill_bytes(&mut buf);
            buf
        };
        assert_eq!(bytes("random"), bytes("random"));
        assert_ne!(bytes("random"), bytes("insecure"));
        let mut other = [0u8; 32];
        random_seed("sha256:00", "12")
            .stream("random")
            .fill_bytes(&mut other);
        assert_ne!(bytes("random"), other);
    }
}
