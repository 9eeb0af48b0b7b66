//! A `gatehouse serve` world for the end-to-end tests (serve.rs,
//! serve_postgres.rs): keys made with Debian's `ssh-keygen`, an
//! allowed_signers file, a policy set with a trust section, a tokens file
//! and a store; the real binary started on a free loopback port; approvals
//! signed by `gatehouse approve` (and by `ssh-keygen -Y sign` for a
//! rejection); a real HTTP client (ureq), every answer of which is checked
//! against docs/openapi.json ([`crate::openapi::check`]).

use crate::{Run, gatehouse_command, openssh};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `who@example.com`.
pub fn principal(who: &str) -> String {
    format!("{who}@example.com")
}

/// A release deleting a mysql database in `environment` (plus a service
/// update with `extra`), by erin.
pub fn destructive_release(environment: &str, extra: bool) -> Value {
    let mut resources = vec![json!({
        "resourceType": "mysql", "resourceName": "orders",
        "resourcePath": "datastores/orders", "changeType": "DELETE"})];
    if extra {
        resources.push(json!({
            "resourceType": "service", "resourceName": "api",
            "resourcePath": "services/api", "changeType": "UPDATE_IN_PLACE"}));
    }
    json!({
        "environmentName": environment,
        "releaseStream": "PROD",
        "resources": resources,
        "metadata": {"author": principal("erin")},
    })
}

/// A release that only updates a service.
pub fn harmless_release(environment: &str) -> Value {
    json!({
        "environmentName": environment,
        "releaseStream": "PROD",
        "resources": [{"resourceType": "service", "resourceName": "api",
            "resourcePath": "services/api", "changeType": "UPDATE_IN_PLACE"}],
        "metadata": {"author": principal("erin")},
    })
}

/// Keys, an allowed_signers file, a policy set with a trust section, a
/// tokens file and a store, in one temporary directory.
pub struct World {
    dir: tempfile::TempDir,
    store: Option<String>,
    /// A token with the `evaluate` scope (name `ci`).
    pub evaluate: String,
    /// A token with the `approve` and `read` scopes (name `approvers`).
    pub approve: String,
    /// A token with the `read` scope (name `auditor`).
    pub read: String,
}

impl Default for World {
    fn default() -> World {
        World::new()
    }
}

impl World {
    /// destructive-changes asks one dba approval, and fails in `fail-*`;
    /// the store is a SQLite file in the directory.
    pub fn new() -> World {
        World::with_store(None)
    }

    /// As [`World::new`], on the store at `store` (a SQLite file in the
    /// directory when `None`).
    pub fn with_store(store: Option<String>) -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut allowed = String::new();
        for who in ["alice", "bob", "carol", "eve"] {
            let key = dir.path().join(who);
            let out = openssh("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", &principal(who), "-f"])
                .arg(&key)
                .output()
                .expect("run ssh-keygen");
            assert!(out.status.success(), "ssh-keygen: {out:?}");
            if who != "eve" {
                let public = std::fs::read_to_string(dir.path().join(format!("{who}.pub")))
                    .expect("read .pub");
                allowed.push_str(&format!(
                    "{} namespaces=\"gatehouse-approval\" {public}",
                    principal(who)
                ));
            }
        }
        std::fs::write(dir.path().join("allowed_signers"), allowed).expect("write");
        let set = format!(
            "[trust]\nallowed-signers = \"allowed_signers\"\n[trust.groups]\ndba = [\"{}\", \"{}\"]\ntech-lead = [\"{}\"]\n\n[[policy]]\nname = \"destructive-changes\"\npath = \"{}\"\n[policy.settings]\napprover-groups = \"dba\"\nmin-approvals = 1\nfail-environments = \"fail-*\"\n",
            principal("alice"),
            principal("bob"),
            principal("carol"),
            crate::policy("destructive-changes").display()
        );
        std::fs::write(dir.path().join("gatehouse.toml"), set).expect("write");
        let mut world = World {
            dir,
            store,
            evaluate: String::new(),
            approve: String::new(),
            read: String::new(),
        };
        world.evaluate = world.token_add("ci", "evaluate");
        world.approve = world.token_add("approvers", "approve,read");
        world.read = world.token_add("auditor", "read");
        world
    }

    /// A file in the world's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `gatehouse serve token add NAME --scopes SCOPES`: the token printed.
    pub fn token_add(&self, name: &str, scopes: &str) -> String {
        let run: Run = gatehouse_command()
            .args([
                "serve",
                "token",
                "add",
                name,
                "--scopes",
                scopes,
                "--tokens-file",
            ])
            .arg(self.path("tokens"))
            .stdin(Stdio::null())
            .output()
            .expect("run token add")
            .into();
        assert_eq!(run.code, 0, "{run:#?}");
        let token = run.stdout.trim().to_string();
        assert!(token.starts_with("ght_"), "{token}");
        let file = std::fs::read_to_string(self.path("tokens")).expect("tokens file");
        assert!(
            !file.contains(&token[4..]),
            "the tokens file keeps only hashes"
        );
        token
    }

    /// The store URL every server of this world uses.
    pub fn store(&self) -> String {
        match &self.store {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.path("gatehouse.db").display()),
        }
    }

    /// Starts `gatehouse serve` on a free loopback port.
    pub fn serve(&self, extra: &[&str]) -> Server {
        self.serve_set("gatehouse.toml", extra)
    }

    /// `gatehouse serve --config SET` on a free loopback port with this
    /// world's store and tokens file, not yet started.
    fn serve_command(&self, set: &str) -> Command {
        let mut command = gatehouse_command();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--store", &self.store()])
            .arg("--config")
            .arg(self.path(set))
            .arg("--tokens-file")
            .arg(self.path("tokens"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        command
    }

    /// Runs `gatehouse serve` expecting it not to start: what it printed and
    /// its exit code.
    pub fn serve_refused(&self) -> Run {
        self.serve_command("gatehouse.toml")
            .output()
            .expect("serve")
            .into()
    }

    /// Starts `gatehouse serve --config SET` on a free loopback port.
    pub fn serve_set(&self, set: &str, extra: &[&str]) -> Server {
        let mut child = self
            .serve_command(set)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gatehouse serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let address = match line.strip_prefix("gatehouse: listening on http://") {
                        Some(rest) => rest.split_whitespace().next().map(str::to_string),
                        // --log-format json
                        None => serde_json::from_str::<Value>(&line)
                            .ok()
                            .filter(|v| v["event"] == "listening")
                            .and_then(|v| v["address"].as_str().map(str::to_string)),
                    };
                    seen.push(line);
                    if let Some(addr) = address {
                        return Server {
                            child,
                            base: format!("http://{addr}"),
                            log: rx,
                            early: seen,
                        };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().expect("wait");
                    panic!("gatehouse serve did not start ({status}): {seen:#?}");
                }
            }
        }
    }

    /// `gatehouse digest` of a release.
    pub fn digest(&self, release: &Value) -> String {
        let input = self.path("digest-input.json");
        std::fs::write(&input, release.to_string()).expect("write");
        let run: Run = gatehouse_command()
            .arg("digest")
            .arg("--input")
            .arg(&input)
            .stdin(Stdio::null())
            .output()
            .expect("digest")
            .into();
        assert_eq!(run.code, 0, "{run:#?}");
        run.stdout.trim().to_string()
    }

    /// `gatehouse approve` by `who` for `group`: the statement and signature
    /// texts, as the API takes them.
    pub fn approval(&self, who: &str, digest: &str, environment: &str, group: &str) -> Value {
        let out = self.path(&format!("{who}-{group}-{}.approval.json", &digest[7..19]));
        let run: Run = gatehouse_command()
            .args([
                "approve",
                "--digest",
                digest,
                "--environment",
                environment,
                "--group",
                group,
                "--principal",
                &principal(who),
            ])
            .arg("--key")
            .arg(self.path(who))
            .arg("-o")
            .arg(&out)
            .stdin(Stdio::null())
            .output()
            .expect("approve")
            .into();
        assert_eq!(run.code, 0, "{run:#?}");
        upload(&out)
    }

    /// A statement written by hand with `decision: reject`, signed with
    /// `ssh-keygen -Y sign`.
    pub fn rejection(&self, who: &str, digest: &str, environment: &str, group: &str) -> Value {
        let now = time_now();
        let statement = json!({
            "type": "gatehouse.approval/v1",
            "release_digest": digest,
            "environment": environment,
            "principal": principal(who),
            "groups": [group],
            "decision": "reject",
            "time": now.0,
            "expires": now.1,
            "comment": "not during the freeze",
        });
        let path = self.path(&format!("{who}-reject.approval.json"));
        std::fs::write(&path, statement.to_string()).expect("write");
        let out = openssh("ssh-keygen")
            .args(["-Y", "sign", "-n", "gatehouse-approval", "-f"])
            .arg(self.path(who))
            .arg(&path)
            .output()
            .expect("ssh-keygen -Y sign");
        assert!(out.status.success(), "{out:?}");
        upload(&path)
    }
}

/// Now and in a day, RFC 3339, from `date` (the statement's own clock).
pub fn time_now() -> (String, String) {
    let date = |offset: &str| {
        let out = Command::new("date")
            .args(["-u", "-d", offset, "+%Y-%m-%dT%H:%M:%SZ"])
            .output()
            .expect("date");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    (date("-1 minute"), date("+1 day"))
}

/// `{statement, signature}` from a statement file and its `.sig`.
pub fn upload(statement: &Path) -> Value {
    let mut sig = statement.as_os_str().to_os_string();
    sig.push(".sig");
    json!({
        "statement": std::fs::read_to_string(statement).expect("statement"),
        "signature": std::fs::read_to_string(PathBuf::from(sig)).expect("signature"),
    })
}

/// A running `gatehouse serve`, stopped when dropped.
pub struct Server {
    child: Child,
    /// `http://ADDR:PORT`.
    pub base: String,
    log: std::sync::mpsc::Receiver<String>,
    early: Vec<String>,
}

impl Server {
    /// The server process's id (for the bench's CPU accounting).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server with SIGTERM and waits for it: it must exit 0
    /// (graceful shutdown) within a generous bound.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "serve exited with {status} on SIGTERM");
                return;
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Server {
    /// The `host:port` it listens on.
    pub fn address(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Sends SIGTERM and returns at once (see [`Server::wait_exit`]).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
    }

    /// Waits (at most a generous minute, a bound against hanging) for the
    /// process to exit; its status and every line it wrote on stderr.
    pub fn wait_exit(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "serve did not exit");
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut lines = std::mem::take(&mut self.early);
        // The reader ends at the end of stderr, which the exit closes.
        while let Ok(line) = self.log.recv_timeout(Duration::from_secs(30)) {
            lines.push(line);
        }
        (status, lines)
    }

    /// SIGTERM, then [`Server::wait_exit`]: it must exit 0; its stderr.
    pub fn stop_with_log(self) -> Vec<String> {
        self.terminate();
        let (status, lines) = self.wait_exit();
        assert!(status.success(), "serve exited with {status}: {lines:#?}");
        lines
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer: status, JSON body (null when not JSON), Retry-After.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body as JSON (null when it is not JSON).
    pub body: Value,
    /// The Retry-After header.
    pub retry_after: Option<String>,
    /// The body as text.
    pub text: String,
    /// The Content-Type header.
    pub content_type: Option<String>,
}

/// An HTTP client that answers every status (no error for 4xx/5xx).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into()
}

/// An answer read whole (up to 64 MiB).
pub fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("an HTTP answer");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .expect("body");
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        retry_after,
        text,
        content_type,
    }
}

/// POSTs `body` to `base` + `path`, with a bearer token when given.
pub fn post_to(base: &str, path: &str, token: Option<&str>, body: &[u8]) -> Answer {
    let mut request = agent()
        .post(format!("{base}{path}"))
        .header("Content-Type", "application/json");
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let answer = answer(request.send(body));
    crate::openapi::check("POST", path, &answer);
    answer
}

impl Server {
    /// GETs `path`, with a bearer token when given.
    pub fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = agent().get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let answer = answer(request.call());
        crate::openapi::check("GET", path, &answer);
        answer
    }

    /// POSTs `body` to `path`, with a bearer token when given.
    pub fn post(&self, path: &str, token: Option<&str>, body: &[u8]) -> Answer {
        post_to(&self.base, path, token, body)
    }

    /// `POST /v1/evaluations`.
    pub fn evaluate(&self, token: &str, body: Value) -> Answer {
        self.post("/v1/evaluations", Some(token), body.to_string().as_bytes())
    }

    /// `POST /v1/approval-requests/{request}/approvals`.
    pub fn post_approval(&self, token: &str, request: &str, upload: &Value) -> Answer {
        self.post(
            &format!("/v1/approval-requests/{request}/approvals"),
            Some(token),
            upload.to_string().as_bytes(),
        )
    }

    /// Every decision in the store, through the API.
    pub fn decisions(&self, token: &str) -> Vec<Value> {
        let answer = self.get("/v1/decisions?limit=500", Some(token));
        assert_eq!(answer.status, 200, "{answer:#?}");
        answer.body["decisions"]
            .as_array()
            .expect("decisions")
            .clone()
    }
}

impl Server {
    /// The first line the server logs (stderr) after the start that
    /// contains `needle`, waiting at most `within` for it.
    pub fn log_line(&self, needle: &str, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Some(line),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }
}
