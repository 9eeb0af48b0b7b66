//! The approver's key for `gatehouse approve --key PATH`, as
//! `ssh-keygen -Y sign -f PATH` takes it:
//!
//! - an unencrypted OpenSSH private key (`-----BEGIN OPENSSH PRIVATE
//!   KEY-----`) signs in-process;
//! - a public key (`KEY.pub`) signs through ssh-agent, which must hold its
//!   private half;
//! - a passphrase-protected private key signs through ssh-agent when the
//!   agent holds it; Gatehouse never reads passphrases (a CI job has no
//!   terminal, and a passphrase prompt is one more secret to handle), so
//!   otherwise it is refused with the `ssh-add` command to run.
//!
//! Every signature made is verified before it is returned, so a key or an
//! agent that signs wrongly is an error, never a useless approval.

use super::agent::Agent;
use super::signature::{NAMESPACE, SIGNING_HASH, check, check_algorithm};
use ssh_key::{PrivateKey, PublicKey, SshSig};
use std::path::Path;

/// Largest key file read, in bytes (an OpenSSH private key of any type is
/// far smaller).
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// A key ready to sign approvals.
#[derive(Debug)]
pub enum Signer {
    /// An unencrypted private key, read from a file.
    File(Box<PrivateKey>),
    /// A key held by ssh-agent, named by its public key.
    Agent {
        /// The connected agent.
        agent: Agent,
        /// The key (with the comment of the file it came from).
        key: PublicKey,
    },
}

impl Signer {
    /// Loads `--key PATH`; `agent_socket` is `SSH_AUTH_SOCK`, if set. Errors
    /// name the file and say what to do.
    pub fn load(path: &Path, agent_socket: Option<&Path>) -> Result<Signer, String> {
        Signer::load_for("--key", path, agent_socket)
    }

    /// Loads a key named by the command-line flag `flag` (`--key`,
    /// `--audit-key`), which errors name: the same key files and agent
    /// lookups as [`Signer::load`].
    pub fn load_for(
        flag: &str,
        path: &Path,
        agent_socket: Option<&Path>,
    ) -> Result<Signer, String> {
        let name = format!("{flag} {}", path.display());
        let name = name.as_str();
        let path_name = path.display();
        let text = read_key_file(flag, path)?;
        if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
            let private = match PrivateKey::from_openssh(text.trim()) {
                Ok(private) => private,
                // OpenSSH writes some ECDSA scalars one byte short, which
                // ssh-key 0.6 refuses; read those again at full width.
                Err(e) => super::ecdsa_key_file::read(&text)
                    .ok_or_else(|| format!("{name}: not a valid OpenSSH private key ({e})"))?,
            };
            check_algorithm(&private.algorithm()).map_err(|why| format!("{name}: {why}"))?;
            if !private.is_encrypted() {
                return Ok(Signer::File(Box::new(private)));
            }
            let key = private.public_key().clone();
            let refusal = format!(
                "{name} is protected by a passphrase, which Gatehouse does not read: add it to ssh-agent (ssh-add {path_name}) and run again with SSH_AUTH_SOCK set"
            );
            let Some(socket) = agent_socket else {
                return Err(refusal);
            };
            let mut agent = Agent::connect(socket).map_err(|e| format!("{refusal} ({e})"))?;
            let Some(held) = agent.find(&key)? else {
                return Err(format!(
                    "{refusal} (the ssh-agent at {} does not hold it)",
                    socket.display()
                ));
            };
            // The file's comment is encrypted with the key; the agent's copy
            // has the one it was added with.
            return Ok(Signer::Agent { agent, key: held });
        }
        if text.trim_start().starts_with("-----BEGIN ") {
            return Err(format!(
                "{name}: a PEM private key in an older format; convert it to the OpenSSH format with ssh-keygen -p -f {path_name}, or use an Ed25519 key"
            ));
        }
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("");
        let key = PublicKey::from_openssh(line).map_err(|e| {
            format!(
                "{name}: neither an OpenSSH private key nor a public key ({e}); pass a private key file, or the .pub file of a key held by ssh-agent"
            )
        })?;
        check_algorithm(&key.algorithm()).map_err(|why| format!("{name}: {why}"))?;
        let Some(socket) = agent_socket else {
            return Err(format!(
                "{name} is a public key, so its private half must be in ssh-agent, but SSH_AUTH_SOCK is not set: start ssh-agent and ssh-add the private key, or pass the private key file"
            ));
        };
        let mut agent = Agent::connect(socket)?;
        let Some(held) = agent.find(&key)? else {
            return Err(format!(
                "the ssh-agent at {} does not hold the key of {name} ({}): add it with ssh-add",
                socket.display(),
                super::signature::fingerprint(&key)
            ));
        };
        // The .pub file's comment, else the one the agent has.
        let key = if key.comment().is_empty() { held } else { key };
        Ok(Signer::Agent { agent, key })
    }

    /// The signing key's public half (with its comment).
    pub fn public_key(&self) -> &PublicKey {
        match self {
            Signer::File(private) => private.public_key(),
            Signer::Agent { key, .. } => key,
        }
    }

    /// Signs `message` (a statement file's exact bytes) in the approval
    /// namespace with SHA-512, and checks the signature before returning it.
    pub fn sign(&mut self, message: &[u8]) -> Result<SshSig, String> {
        self.sign_in(NAMESPACE, message)
    }

    /// Signs `message` in the SSHSIG `namespace` with SHA-512 (as
    /// `ssh-keygen -Y sign -n NAMESPACE` does), and checks the signature
    /// before returning it. Each use has its own namespace, so that a
    /// signature made for one never counts for another.
    pub fn sign_in(&mut self, namespace: &str, message: &[u8]) -> Result<SshSig, String> {
        let signature = match self {
            Signer::File(private) => private
                .sign(namespace, SIGNING_HASH, message)
                .map_err(|e| format!("cannot sign with the key: {e}"))?,
            Signer::Agent { agent, key } => {
                let data = SshSig::signed_data(namespace, SIGNING_HASH, message)
                    .map_err(|e| format!("cannot prepare the data to sign: {e}"))?;
                let raw = agent.sign(key, &data)?;
                SshSig::new(key.key_data().clone(), namespace, SIGNING_HASH, raw)
                    .map_err(|e| format!("cannot assemble the signature: {e}"))?
            }
        };
        let signer = check(&signature, namespace, message).map_err(|_| {
            "the signature just made does not verify; nothing was written".to_string()
        })?;
        if signer.key_data() != self.public_key().key_data() {
            return Err("the signature just made names another key; nothing was written".into());
        }
        Ok(signature)
    }
}

/// Reads a key file (at most [`MAX_KEY_FILE_BYTES`], UTF-8); errors name
/// it as `flag PATH`.
fn read_key_file(flag: &str, path: &Path) -> Result<String, String> {
    use std::io::Read;
    let name = format!("{flag} {}", path.display());
    let file =
        std::fs::File::open(path).map_err(|e| format!("{name}: cannot open the key file: {e}"))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(format!("{name} is a directory; expected an SSH key file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: cannot read the key file: {e}"))?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(format!(
            "{name} is larger than {} KiB; expected an SSH key file",
            MAX_KEY_FILE_BYTES >> 10
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{name} is not text; expected an SSH key file"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::signature::tests::{test_key, test_p256_key};

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn an_unencrypted_private_key_signs_verifiably() {
        let dir = tempfile::tempdir().expect("dir");
        for key in [test_key(3), test_p256_key()] {
            let pem = key.to_openssh(ssh_key::LineEnding::LF).expect("pem");
            let path = write(dir.path(), "id", &pem);
            let mut signer = Signer::load(&path, None).expect("loads");
            assert_eq!(signer.public_key().key_data(), key.public_key().key_data());
            let signature = signer.sign(b"statement").expect("signs");
            assert_eq!(
                check(&signature, NAMESPACE, b"statement")
                    .expect("ok")
                    .key_data(),
                key.public_key().key_data()
            );
        }
    }

    /// A short-scalar key file (read again at full width) whose scalar was
    /// changed so that it no longer belongs to the file's public key: ssh-key
    /// does not check that, but the signature made with it does not verify,
    /// so nothing is signed.
    #[test]
    fn a_widened_key_whose_scalar_is_not_its_public_keys_signs_nothing() {
        use base64ct::{Base64, Encoding};
        let text = include_str!("testdata/short-scalar-p256");
        let armoured: String = text
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let mut body = Base64::decode_vec(&armoured).expect("base64");
        // The scalar: a 31-byte mpint after the private section's copy of
        // the curve name and public point.
        let curve = b"nistp256";
        let last_curve = body
            .windows(curve.len())
            .rposition(|w| w == curve)
            .expect("curve name");
        let length = body[last_curve..]
            .windows(4)
            .position(|w| w == [0, 0, 0, 31])
            .expect("31-byte scalar")
            + last_curve;
        body[length + 4 + 30] ^= 1;
        let pem = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            Base64::encode_string(&body)
        );
        let dir = tempfile::tempdir().expect("dir");
        let path = write(dir.path(), "id", &pem);
        let mut signer = Signer::load(&path, None).expect("read at full width");
        let err = signer.sign(b"statement").expect_err("a mismatched key");
        assert_eq!(
            err,
            "the signature just made does not verify; nothing was written"
        );
    }

    #[test]
    fn a_public_key_without_an_agent_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().expect("dir");
        let public = test_key(3).public_key().to_openssh().expect("pub");
        let path = write(dir.path(), "id.pub", &format!("{public}\n"));
        let err = Signer::load(&path, None).expect_err("no agent");
        assert!(err.contains("is a public key, so its private half must be in ssh-agent, but SSH_AUTH_SOCK is not set"), "{err}");
        let err =
            Signer::load(&path, Some(&dir.path().join("no-socket"))).expect_err("no agent there");
        assert!(err.contains("cannot connect to the ssh-agent at"), "{err}");
    }

    #[test]
    fn files_that_are_not_usable_keys_are_refused_by_name() {
        let dir = tempfile::tempdir().expect("dir");
        let cases = [
            (
                "garbage",
                "hello world\n",
                "neither an OpenSSH private key nor a public key",
            ),
            (
                "pem",
                "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
                "a PEM private key in an older format",
            ),
            (
                "broken",
                "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
                "not a valid OpenSSH private key",
            ),
            (
                "rsa.pub",
                "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDj9npuV1x4mO/N2XVMfbJCt3jBfYcsSHpR2fzX7HeKkItj7ZsoIqokWaVONNrijPQVtt/+TyAKQ2ifdncbJQYwywAblI/bGywkYJihTNrTXsicceH1p6XS4MtA67frajWxV/Z3fqmnpWyHOb34CfC7MmSPKbfScPJpwpV8wiFgKQ== x\n",
                "ssh-rsa keys are not supported",
            ),
        ];
        for (name, text, expected) in cases {
            let path = write(dir.path(), name, text);
            let err = Signer::load(&path, None).expect_err(name);
            assert!(err.contains(expected), "{name}: {err}");
            assert!(err.contains(&path.display().to_string()), "{name}: {err}");
        }
        let err = Signer::load(&dir.path().join("missing"), None).expect_err("missing");
        assert!(err.contains("cannot open the key file"), "{err}");
        let err = Signer::load(dir.path(), None).expect_err("directory");
        assert!(err.contains("is a directory"), "{err}");
    }
}
