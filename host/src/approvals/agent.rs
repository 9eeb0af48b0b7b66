//! Signing with a key held by ssh-agent, through the `ssh-agent-client-rs`
//! crate (the agent protocol over the Unix socket `SSH_AUTH_SOCK` names):
//! the private key never leaves the agent, exactly as with
//! `ssh-keygen -Y sign -f KEY.pub`.

use ssh_agent_client_rs::{Client, Identity};
use ssh_key::{PublicKey, Signature};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one exchange with the agent may take: generous, because an
/// agent may ask its user to confirm each use (`ssh-add -c`).
const AGENT_TIMEOUT: Duration = Duration::from_secs(120);

/// A connection to an ssh-agent.
pub struct Agent {
    socket: PathBuf,
    client: Client,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("socket", &self.socket)
            .finish()
    }
}

impl Agent {
    /// Connects to the agent at `socket`, with a time limit on every read
    /// and write so that a stuck agent ends in an error, not a hang.
    pub fn connect(socket: &Path) -> Result<Agent, String> {
        Ok(Agent {
            socket: socket.to_path_buf(),
            client: open(socket)?,
        })
    }

    /// The socket this agent was reached at.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The agent's own copy of `key` (with the comment it was added with),
    /// if it holds the private half.
    pub fn find(&mut self, key: &PublicKey) -> Result<Option<PublicKey>, String> {
        let identities = self.client.list_all_identities().map_err(|e| {
            format!(
                "cannot list the keys of the ssh-agent at {}: {e}",
                self.socket.display()
            )
        })?;
        Ok(identities.into_iter().find_map(|identity| match identity {
            Identity::PublicKey(held) if held.key_data() == key.key_data() => {
                Some(held.into_owned())
            }
            _ => None,
        }))
    }

    /// Asks the agent to sign `data` with `key`'s private half.
    pub fn sign(&mut self, key: &PublicKey, data: &[u8]) -> Result<Signature, String> {
        self.client.sign(key, data).map_err(|e| {
            format!(
                "the ssh-agent at {} did not sign with the key: {e} (was the key removed, or the confirmation refused?)",
                self.socket.display()
            )
        })
    }
}

/// The agent's Unix socket, with [`AGENT_TIMEOUT`] on reads and writes.
#[cfg(unix)]
fn open(socket: &Path) -> Result<Client, String> {
    let place = || format!("the ssh-agent at {} (SSH_AUTH_SOCK)", socket.display());
    let stream = std::os::unix::net::UnixStream::connect(socket)
        .map_err(|e| format!("cannot connect to {}: {e}", place()))?;
    stream
        .set_read_timeout(Some(AGENT_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(AGENT_TIMEOUT)))
        .map_err(|e| format!("cannot set a time limit on {}: {e}", place()))?;
    Ok(Client::with_read_write(Box::new(stream)))
}

/// The agent's named pipe (Windows), through the crate's own connection.
#[cfg(not(unix))]
fn open(socket: &Path) -> Result<Client, String> {
    Client::connect(socket).map_err(|e| {
        format!(
            "cannot connect to the ssh-agent at {} (SSH_AUTH_SOCK): {e}",
            socket.display()
        )
    })
}
