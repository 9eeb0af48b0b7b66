//! Detached signatures in OpenSSH's SSHSIG format (PROTOCOL.sshsig): the
//! armored `-----BEGIN SSH SIGNATURE-----` files `ssh-keygen -Y sign`
//! writes, read, checked and made with the RustCrypto `ssh-key` crate.
//!
//! Gatehouse signs with namespace [`NAMESPACE`] and SHA-512, as
//! `ssh-keygen -Y sign -n gatehouse-approval` does, and accepts SHA-256 or
//! SHA-512 (the two hashes SSHSIG defines). Keys: Ed25519 and ECDSA on
//! P-256, P-384 and P-521; anything else is refused by name.

use ssh_key::{Algorithm, HashAlg, LineEnding, PublicKey, SshSig};
use std::fmt;

/// The SSHSIG namespace of approval signatures: a signature made for git
/// (`git`), files (`file`) or anything else never counts as an approval.
pub const NAMESPACE: &str = "gatehouse-approval";

/// The hash Gatehouse signs with (what `ssh-keygen -Y sign` uses).
pub const SIGNING_HASH: HashAlg = HashAlg::Sha512;

/// Largest signature file accepted, in bytes (an armored Ed25519 or ECDSA
/// signature is well under 1 KiB).
pub const MAX_SIGNATURE_BYTES: usize = 16 * 1024;

/// Whether Gatehouse signs and verifies with keys of this algorithm: `Ok`
/// for Ed25519 and ECDSA, else a message naming the algorithm and saying
/// what to use instead.
pub fn check_algorithm(algorithm: &Algorithm) -> Result<(), String> {
    match algorithm {
        Algorithm::Ed25519 | Algorithm::Ecdsa { .. } => Ok(()),
        Algorithm::Rsa { .. } => Err(format!(
            "{} keys are not supported: Gatehouse signs and verifies approvals with Ed25519 or ECDSA keys (ssh-keygen -t ed25519)",
            algorithm.as_str()
        )),
        Algorithm::SkEd25519 | Algorithm::SkEcdsaSha2NistP256 => Err(format!(
            "security-key (FIDO) keys ({}) are not supported yet: use an Ed25519 or ECDSA key, which ssh-agent can hold",
            algorithm.as_str()
        )),
        other => Err(format!(
            "{} keys are not supported: use an Ed25519 or ECDSA key (ssh-keygen -t ed25519)",
            crate::untrusted::line(other.as_str())
        )),
    }
}

/// The key's SHA-256 fingerprint as `ssh-keygen -l` prints it
/// (`SHA256:` and unpadded base64).
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Why a signature file is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// Not an armored SSHSIG signature of a supported version, or too large.
    Malformed(String),
    /// Made with a key type Gatehouse does not verify.
    UnsupportedKey(String),
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Malformed(m) | SignatureError::UnsupportedKey(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SignatureError {}

/// Reads an armored SSHSIG signature: at most [`MAX_SIGNATURE_BYTES`],
/// version 1, a SHA-256 or SHA-512 message hash, an Ed25519 or ECDSA key.
pub fn parse(bytes: &[u8]) -> Result<SshSig, SignatureError> {
    if bytes.len() > MAX_SIGNATURE_BYTES {
        return Err(SignatureError::Malformed(format!(
            "the signature file is {} bytes; at most {MAX_SIGNATURE_BYTES} are accepted",
            bytes.len()
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        SignatureError::Malformed(
            "not an armored SSH signature (it is not text); expected -----BEGIN SSH SIGNATURE-----"
                .into(),
        )
    })?;
    if !text
        .trim_start()
        .starts_with("-----BEGIN SSH SIGNATURE-----")
    {
        return Err(SignatureError::Malformed(
            "not an armored SSH signature: it does not start with -----BEGIN SSH SIGNATURE----- (make it with gatehouse approve or ssh-keygen -Y sign)"
                .into(),
        ));
    }
    let signature = SshSig::from_pem(text.trim())
        .map_err(|e| SignatureError::Malformed(format!("not a valid SSHSIG signature: {e}")))?;
    if signature.version() != SshSig::VERSION {
        return Err(SignatureError::Malformed(format!(
            "SSHSIG version {} is not supported (expected {})",
            signature.version(),
            SshSig::VERSION
        )));
    }
    check_algorithm(&signature.public_key().algorithm()).map_err(SignatureError::UnsupportedKey)?;
    Ok(signature)
}

/// Armors a signature as `ssh-keygen -Y sign` writes it (LF line endings,
/// a final newline).
pub fn armor(signature: &SshSig) -> Result<String, String> {
    let mut text = signature
        .to_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the signature: {e}"))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// Why a parsed signature does not sign a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// It was made for another namespace (named).
    WrongNamespace(String),
    /// It does not verify over these bytes with the key it names.
    BadSignature,
}

/// Checks that `signature` is in `namespace` and signs exactly `message`
/// with the key embedded in it, which is returned (without a comment).
/// Who that key belongs to is the allowed_signers file's business
/// ([`super::AllowedSigners`]).
pub fn check(signature: &SshSig, namespace: &str, message: &[u8]) -> Result<PublicKey, CheckError> {
    if signature.namespace() != namespace {
        return Err(CheckError::WrongNamespace(
            signature.namespace().to_string(),
        ));
    }
    let key = PublicKey::new(signature.public_key().clone(), "");
    key.verify(namespace, message, signature)
        .map_err(|_| CheckError::BadSignature)?;
    Ok(key)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ssh_key::PrivateKey;
    use ssh_key::private::{Ed25519Keypair, KeypairData};

    /// A fixed Ed25519 key for tests (no randomness needed).
    pub(crate) fn test_key(seed: u8) -> PrivateKey {
        let pair = Ed25519Keypair::from_seed(&[seed; 32]);
        PrivateKey::new(KeypairData::Ed25519(pair), "test").expect("key")
    }

    /// A fixed ECDSA P-256 key for tests (made by ssh-keygen for them).
    pub(crate) fn test_p256_key() -> PrivateKey {
        PrivateKey::from_openssh(P256_PRIVATE).expect("key")
    }

    const P256_PRIVATE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAaAAAABNlY2RzYS
1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQTe5OdmfNKnzAFM4NBSv4Z7aY/kJLwJ
WKBvjFgZoezZSk/++DmvqVA7w5CpgnMn4AaJRGZ1MLLahqp4lVH0RNVKAAAAoFEXWtpRF1
raAAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBN7k52Z80qfMAUzg
0FK/hntpj+QkvAlYoG+MWBmh7NlKT/74Oa+pUDvDkKmCcyfgBolEZnUwstqGqniVUfRE1U
oAAAAhAO6Rlq9wzhKlALLHDjDmR9znRqUvTpA6DH+gQEepSSyQAAAAB3Jvb3RAdm0=
-----END OPENSSH PRIVATE KEY-----";

    fn signed(key: &PrivateKey, namespace: &str, message: &[u8]) -> SshSig {
        key.sign(namespace, SIGNING_HASH, message).expect("sign")
    }

    #[test]
    fn a_signature_round_trips_through_its_armor_and_verifies() {
        for key in [test_key(1), test_p256_key()] {
            let signature = signed(&key, NAMESPACE, b"statement\n");
            let armored = armor(&signature).expect("armor");
            assert!(
                armored.starts_with("-----BEGIN SSH SIGNATURE-----\n"),
                "{armored}"
            );
            assert!(
                armored.ends_with("-----END SSH SIGNATURE-----\n"),
                "{armored}"
            );
            let parsed = parse(armored.as_bytes()).expect("parse");
            let signer = check(&parsed, NAMESPACE, b"statement\n").expect("verifies");
            assert_eq!(signer.key_data(), key.public_key().key_data());
            assert!(fingerprint(&signer).starts_with("SHA256:"));
            assert_eq!(fingerprint(&signer), fingerprint(key.public_key()));
        }
    }

    #[test]
    fn one_changed_byte_or_another_namespace_fails() {
        let key = test_key(1);
        let signature = signed(&key, NAMESPACE, b"statement\n");
        assert_eq!(
            check(&signature, NAMESPACE, b"statemenT\n"),
            Err(CheckError::BadSignature)
        );
        let git = signed(&key, "git", b"statement\n");
        assert_eq!(
            check(&git, NAMESPACE, b"statement\n"),
            Err(CheckError::WrongNamespace("git".into()))
        );
    }

    #[test]
    fn malformed_files_are_refused_with_a_reason() {
        let key = test_key(1);
        let armored = armor(&signed(&key, NAMESPACE, b"x")).expect("armor");
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                b"hello".to_vec(),
                "does not start with -----BEGIN SSH SIGNATURE-----",
            ),
            (vec![0xff, 0xfe], "it is not text"),
            (
                armored
                    .replace("-----END SSH SIGNATURE-----", "")
                    .into_bytes(),
                "not a valid SSHSIG signature",
            ),
            (
                armored.replacen("\nU1NIU0lH", "\nU1NIU0lI", 1).into_bytes(),
                "not a valid SSHSIG signature",
            ),
            (
                armored.replacen("\nU1NIU0lH", "\n!1NIU0lH", 1).into_bytes(),
                "not a valid SSHSIG signature",
            ),
            (
                format!("{armored}{}", " ".repeat(MAX_SIGNATURE_BYTES)).into_bytes(),
                "at most 16384 are accepted",
            ),
        ];
        for (bytes, expected) in cases {
            let err = parse(&bytes).expect_err("refused").to_string();
            assert!(err.contains(expected), "{err}\nexpected {expected}");
        }
    }

    #[test]
    fn only_ed25519_and_ecdsa_are_supported() {
        assert!(check_algorithm(&Algorithm::Ed25519).is_ok());
        for curve in [
            ssh_key::EcdsaCurve::NistP256,
            ssh_key::EcdsaCurve::NistP384,
            ssh_key::EcdsaCurve::NistP521,
        ] {
            assert!(check_algorithm(&Algorithm::Ecdsa { curve }).is_ok());
        }
        let rsa = check_algorithm(&Algorithm::Rsa { hash: None }).expect_err("rsa");
        assert!(rsa.starts_with("ssh-rsa keys are not supported"), "{rsa}");
        assert!(
            check_algorithm(&Algorithm::Dsa)
                .expect_err("dsa")
                .starts_with("ssh-dss keys are not supported")
        );
        assert!(
            check_algorithm(&Algorithm::SkEd25519)
                .expect_err("sk")
                .contains("security-key (FIDO)")
        );
    }
}
