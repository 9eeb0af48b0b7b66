//! Unencrypted OpenSSH ECDSA private key files whose private scalar OpenSSH
//! wrote shorter than the curve's size, read anyway.
//!
//! OpenSSH writes the scalar as an `mpint`, the minimal big-endian form: when
//! its top byte is zero (and the next byte's high bit is clear) the value is
//! one byte shorter than the curve's size. ssh-key 0.6 reads the scalar only
//! at its full size (or one byte longer, with a leading zero) and refuses
//! those files with "length invalid" (RustCrypto/SSH#350, fixed only in its
//! 0.7 line): about 1 in 512 P-256 and P-384 keys made by `ssh-keygen`, and
//! about half of all P-521 keys, whose top byte is 0 or 1.
//!
//! [`read`] takes such a file apart with ssh-encoding's decoder (the one
//! ssh-key uses), writes the scalar again at the curve's full size, left-padded
//! with zeros, re-pads the private section, and hands the result back to
//! ssh-key's own decoder, which checks everything as for any other file (the
//! check integers, the public key against the private one, the padding).
//! Nothing else in the file is changed, and a file that does not have this
//! exact shape is left to ssh-key's error.

use ssh_encoding::{Decode, Encode};
use ssh_key::{Mpint, PrivateKey};

/// The binary format's magic, `openssh-key-v1` and a NUL.
const MAGIC: &[u8] = b"openssh-key-v1\0";

/// The block size an unencrypted key's private section is padded to.
const BLOCK: usize = 8;

/// The private key of an unencrypted OpenSSH ECDSA key file (`text`: the
/// whole file) whose scalar is shorter than its curve's size, or `None` when
/// the file is anything else.
pub(super) fn read(text: &str) -> Option<PrivateKey> {
    read_body(&key_file_body(text)?)
}

/// The binary contents of an OpenSSH private key file: its base64 body
/// between the armour lines, decoded.
fn key_file_body(text: &str) -> Option<Vec<u8>> {
    use base64ct::{Base64, Encoding};
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("-----"))
        .collect();
    Base64::decode_vec(&body).ok()
}

/// [`read`] on the file's binary contents.
fn read_body(body: &[u8]) -> Option<PrivateKey> {
    let (outer, private) = split(body)?;
    let private = widen_scalar(&private)?;
    let mut bytes = outer;
    private.encode(&mut bytes).ok()?;
    PrivateKey::from_bytes(&bytes).ok()
}

/// The file up to its private section (unchanged), and the private section,
/// when the file is unencrypted and holds one key.
fn split(body: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut reader = body.strip_prefix(MAGIC)?;
    let cipher = String::decode(&mut reader).ok()?;
    let kdf = String::decode(&mut reader).ok()?;
    let kdf_options = Vec::<u8>::decode(&mut reader).ok()?;
    let keys = u32::decode(&mut reader).ok()?;
    let _public = Vec::<u8>::decode(&mut reader).ok()?;
    if cipher != "none" || kdf != "none" || !kdf_options.is_empty() || keys != 1 {
        return None;
    }
    let outer_len = body.len() - reader.len();
    let private = Vec::<u8>::decode(&mut reader).ok()?;
    if !reader.is_empty() {
        return None;
    }
    Some((body[..outer_len].to_vec(), private))
}

/// The private section with its ECDSA scalar written at the curve's full
/// size and padded again, when the scalar is shorter than that.
fn widen_scalar(section: &[u8]) -> Option<Vec<u8>> {
    let mut reader = section;
    let check_1 = u32::decode(&mut reader).ok()?;
    let check_2 = u32::decode(&mut reader).ok()?;
    let algorithm = String::decode(&mut reader).ok()?;
    let curve = String::decode(&mut reader).ok()?;
    let point = Vec::<u8>::decode(&mut reader).ok()?;
    let scalar = Mpint::decode(&mut reader).ok()?;
    let comment = String::decode(&mut reader).ok()?;
    let size = match (algorithm.as_str(), curve.as_str()) {
        ("ecdsa-sha2-nistp256", "nistp256") => 32,
        ("ecdsa-sha2-nistp384", "nistp384") => 48,
        ("ecdsa-sha2-nistp521", "nistp521") => 66,
        _ => return None,
    };
    let magnitude = scalar.as_positive_bytes()?;
    let padding_is_sound = reader.len() < BLOCK
        && reader
            .iter()
            .zip(1u8..)
            .all(|(byte, expected)| *byte == expected);
    if magnitude.len() >= size || !padding_is_sound {
        return None;
    }
    let mut widened = vec![0u8; size - magnitude.len()];
    widened.extend_from_slice(magnitude);

    let mut out = Vec::with_capacity(section.len() + BLOCK);
    check_1.encode(&mut out).ok()?;
    check_2.encode(&mut out).ok()?;
    algorithm.encode(&mut out).ok()?;
    curve.encode(&mut out).ok()?;
    point.encode(&mut out).ok()?;
    widened.encode(&mut out).ok()?;
    comment.encode(&mut out).ok()?;
    let mut pad = 1u8;
    while out.len() % BLOCK != 0 {
        out.push(pad);
        pad += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::signature::{NAMESPACE, SIGNING_HASH, check};

    /// A P-256 key made by `ssh-keygen -t ecdsa -b 256 -N ''` (a throwaway
    /// test key) whose scalar OpenSSH wrote in 31 bytes.
    const SHORT_P256: &str = include_str!("testdata/short-scalar-p256");

    /// A P-384 key made the same way whose scalar OpenSSH wrote in 47 bytes.
    const SHORT_P384: &str = include_str!("testdata/short-scalar-p384");

    fn body(text: &str) -> Vec<u8> {
        key_file_body(text).expect("base64")
    }

    #[test]
    fn ssh_key_alone_refuses_these_files_and_the_widened_read_signs_verifiably() {
        for (text, size) in [(SHORT_P256, 32), (SHORT_P384, 48)] {
            let err = PrivateKey::from_openssh(text.trim()).expect_err("ssh-key 0.6 refuses it");
            assert!(err.to_string().contains("length"), "{err}");
            let key = read(text).expect("widened");
            let private = key.key_data().ecdsa().expect("ecdsa").private_key_bytes();
            assert_eq!(private.len(), size);
            assert_eq!(private[0], 0, "the short scalar is left-padded");
            let signature = key
                .sign(NAMESPACE, SIGNING_HASH, b"statement")
                .expect("signs");
            let signer = check(&signature, NAMESPACE, b"statement").expect("verifies");
            assert_eq!(signer.key_data(), key.public_key().key_data());
        }
    }

    #[test]
    fn files_of_any_other_shape_are_left_to_ssh_key() {
        let full = crate::approvals::signature::tests::test_p256_key()
            .to_openssh(ssh_key::LineEnding::LF)
            .expect("pem");
        assert!(read(&full).is_none(), "a full-size scalar");
        let ed = crate::approvals::signature::tests::test_key(3)
            .to_openssh(ssh_key::LineEnding::LF)
            .expect("pem");
        assert!(read(&ed).is_none(), "not ECDSA");
        assert!(read("").is_none());
        assert!(read_body(MAGIC).is_none());
        let mut trailing = body(SHORT_P256);
        trailing.push(0);
        assert!(read_body(&trailing).is_none(), "trailing bytes");
        let mut truncated = body(SHORT_P256);
        truncated.truncate(truncated.len() - 9);
        assert!(read_body(&truncated).is_none(), "truncated");
    }
}
