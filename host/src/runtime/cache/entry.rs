//! The layout of one cache entry (format 2) and its verification.
//!
//! ```text
//! magic        16  "GATEHOUSE-CWASM\n"
//! format        4  2, little-endian
//! key id        8  CacheKey::id of the key that wrote it
//! wasm digest  32  SHA-256 of the policy's wasm
//! engine key   32  see `engine_key`
//! length        8  artifact length, little-endian
//! artifact sha 32  SHA-256 of the artifact (for tools; not checked on load)
//! mac          32  HMAC-SHA256 under the cache key of every byte above and the artifact
//! artifact      *  Component::serialize output
//! ```
//!
//! Every field before the MAC can be computed by anyone; the MAC can only be
//! computed by whoever holds the key. [`verify`] checks the layout, that the
//! key id is ours, the MAC (in constant time), then that the entry is for
//! this policy and engine. The MAC covers the artifact's own bytes, so it
//! already proves them whole and unaltered: hashing them a second time
//! against the recorded SHA-256 would add nothing but a pass over the
//! machine code on every load, and is not done.

use super::key::{CacheKey, KEY_ID_BYTES};
use hmac::Mac;
use sha2::{Digest, Sha256};

/// First bytes of every entry.
pub const MAGIC: &[u8; 16] = b"GATEHOUSE-CWASM\n";
/// The entry layout version (bump on any change to the layout).
pub const FORMAT_VERSION: u32 = 2;
/// Length of the MAC.
const MAC_BYTES: usize = 32;
/// The part of the header the MAC covers (everything before the MAC).
const SIGNED_HEADER_LEN: usize = 16 + 4 + KEY_ID_BYTES + 32 + 32 + 8 + 32;
/// The whole header.
pub const HEADER_LEN: usize = SIGNED_HEADER_LEN + MAC_BYTES;

/// What a lookup expects of an entry.
pub struct Expected<'a> {
    /// The policy's wasm digest.
    pub wasm_digest: &'a [u8; 32],
    /// This engine's key.
    pub engine_key: &'a [u8; 32],
    /// This user's cache key.
    pub key: &'a CacheKey,
}

/// The entry for `artifact`, authenticated with `expected.key`.
pub fn encode(expected: &Expected<'_>, artifact: &[u8]) -> Vec<u8> {
    let mut entry = Vec::with_capacity(HEADER_LEN + artifact.len());
    entry.extend_from_slice(MAGIC);
    entry.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    entry.extend_from_slice(&expected.key.id());
    entry.extend_from_slice(expected.wasm_digest);
    entry.extend_from_slice(expected.engine_key);
    entry.extend_from_slice(&(artifact.len() as u64).to_le_bytes());
    entry.extend_from_slice(&Sha256::digest(artifact));
    let mut mac = expected.key.mac();
    mac.update(&entry);
    mac.update(artifact);
    entry.extend_from_slice(&mac.finalize().into_bytes());
    entry.extend_from_slice(artifact);
    entry
}

/// Splits `n` bytes off the front of `bytes`.
fn take<'a>(bytes: &mut &'a [u8], n: usize) -> &'a [u8] {
    let (head, tail) = bytes.split_at(n.min(bytes.len()));
    *bytes = tail;
    head
}

/// Checks `bytes` against `expected` and returns the artifact it vouches
/// for, or why it was refused.
pub fn verify<'a>(bytes: &'a [u8], expected: &Expected<'_>) -> Result<&'a [u8], String> {
    if bytes.len() < HEADER_LEN {
        return Err(format!(
            "truncated: {} bytes, shorter than the {HEADER_LEN}-byte header",
            bytes.len()
        ));
    }
    let (header, artifact) = bytes.split_at(HEADER_LEN);
    let mut rest = header;
    if take(&mut rest, MAGIC.len()) != MAGIC {
        return Err("not a Gatehouse cache entry (wrong magic)".into());
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(take(&mut rest, 4));
    let version = u32::from_le_bytes(version);
    if version != FORMAT_VERSION {
        return Err(format!(
            "entry format {version}, this gatehouse writes {FORMAT_VERSION}"
        ));
    }
    let key_id = take(&mut rest, KEY_ID_BYTES);
    let digest = take(&mut rest, 32);
    let engine_key = take(&mut rest, 32);
    let mut length = [0u8; 8];
    length.copy_from_slice(take(&mut rest, 8));
    let length = u64::from_le_bytes(length);
    let _artifact_sha = take(&mut rest, 32);
    let recorded_mac = take(&mut rest, MAC_BYTES);
    if length != artifact.len() as u64 {
        return Err(format!(
            "truncated or extended: the header records {length} bytes of code, the file holds {}",
            artifact.len()
        ));
    }
    if key_id != expected.key.id() {
        return Err(format!(
            "written under another cache key (key id {}, this user's key {} has id {}); an entry is only loaded if this user's key authenticates it",
            hex::encode(key_id),
            expected.key.path().display(),
            hex::encode(expected.key.id())
        ));
    }
    let mut mac = expected.key.mac();
    mac.update(&header[..SIGNED_HEADER_LEN]);
    mac.update(artifact);
    if mac.verify_slice(recorded_mac).is_err() {
        return Err(
            "not authenticated by this user's cache key: the MAC does not match (a forged, altered or corrupt entry)"
                .into(),
        );
    }
    if digest != expected.wasm_digest {
        return Err(
            "the entry is for another policy (wasm digest differs: copied or renamed)".into(),
        );
    }
    if engine_key != expected.engine_key {
        return Err("the entry is from another engine configuration".into());
    }
    Ok(artifact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn key(byte: u8) -> CacheKey {
        CacheKey::from_bytes(&[byte; 32], PathBuf::from("/k")).expect("key")
    }

    const ARTIFACT: &[u8] = b"compiled machine code, say";

    fn expected<'a>(digest: &'a [u8; 32], engine: &'a [u8; 32], key: &'a CacheKey) -> Expected<'a> {
        Expected {
            wasm_digest: digest,
            engine_key: engine,
            key,
        }
    }

    #[test]
    fn an_entry_round_trips() {
        let k = key(1);
        let e = expected(&[7; 32], &[9; 32], &k);
        let entry = encode(&e, ARTIFACT);
        assert_eq!(entry.len(), HEADER_LEN + ARTIFACT.len());
        assert_eq!(verify(&entry, &e), Ok(ARTIFACT));
    }

    #[test]
    fn every_byte_is_authenticated() {
        let k = key(1);
        let e = expected(&[7; 32], &[9; 32], &k);
        let entry = encode(&e, ARTIFACT);
        for i in 0..entry.len() {
            let mut changed = entry.clone();
            changed[i] ^= 0x01;
            assert!(verify(&changed, &e).is_err(), "byte {i} changed unnoticed");
        }
    }

    #[test]
    fn a_rewritten_digest_is_not_authenticated() {
        // The planted-entry attack: an entry for policy A with the digest
        // field rewritten to B's and every other unkeyed field consistent.
        let k = key(1);
        let a = expected(&[0xa; 32], &[9; 32], &k);
        let b = expected(&[0xb; 32], &[9; 32], &k);
        let mut entry = encode(&a, ARTIFACT);
        entry[28..60].copy_from_slice(&[0xb; 32]);
        let err = verify(&entry, &b).expect_err("planted");
        assert!(err.contains("not authenticated"), "{err}");
        // Copied under B's name unchanged (or renamed): authenticated but for A.
        let err = verify(&encode(&a, ARTIFACT), &b).expect_err("copied");
        assert!(err.contains("another policy"), "{err}");
    }

    #[test]
    fn an_entry_under_another_key_is_refused_even_with_our_key_id() {
        let ours = key(1);
        let theirs = key(2);
        let e_ours = expected(&[7; 32], &[9; 32], &ours);
        let e_theirs = expected(&[7; 32], &[9; 32], &theirs);
        let mut entry = encode(&e_theirs, ARTIFACT);
        let err = verify(&entry, &e_ours).expect_err("their key");
        assert!(err.contains("another cache key"), "{err}");
        entry[20..28].copy_from_slice(&ours.id());
        let err = verify(&entry, &e_ours).expect_err("their key, our id");
        assert!(err.contains("not authenticated"), "{err}");
    }

    #[test]
    fn an_entry_of_another_engine_is_refused() {
        let k = key(1);
        let entry = encode(&expected(&[7; 32], &[8; 32], &k), ARTIFACT);
        let err = verify(&entry, &expected(&[7; 32], &[9; 32], &k)).expect_err("engine");
        assert!(err.contains("another engine configuration"), "{err}");
    }

    #[test]
    fn a_format_1_entry_is_never_read() {
        let k = key(1);
        let e = expected(&[7; 32], &[9; 32], &k);
        let mut entry = encode(&e, ARTIFACT);
        entry[16..20].copy_from_slice(&1u32.to_le_bytes());
        let err = verify(&entry, &e).expect_err("old format");
        assert!(err.contains("entry format 1"), "{err}");
    }
}
