//! `gatehouse serve` end to end: the real binary listening on a free
//! loopback port, a temporary SQLite store, the compiled example policies,
//! keys made with Debian's `ssh-keygen`, approvals signed by
//! `gatehouse approve` (and by `ssh-keygen -Y sign` for a rejection), and a
//! real HTTP client (ureq).
//!
//! - the loop: require-approval opens a request, a second evaluation joins
//!   it, approvals that do not count (unknown key, outside the group,
//!   another release) are refused with the request unchanged, a valid one
//!   approves it; auto-approve and fail open nothing;
//! - a signed rejection closes a request as rejected;
//! - 401/403 with nothing recorded; a body over the cap is a 413 with
//!   nothing recorded; malformed bodies are 4xx; a full evaluation pool is
//!   a 503 with Retry-After, nothing recorded for the requests turned away;
//! - a restart on the same store keeps requests and decisions; a store
//!   from a newer schema is refused.

#![forbid(unsafe_code)]

use gatehouse_e2e::{Run, gatehouse_command};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn principal(who: &str) -> String {
    format!("{who}@example.com")
}

/// Runs an OpenSSH tool, failing the test with a hint when it is missing.
fn openssh(tool: &str) -> Command {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
    assert!(
        found,
        "{tool} is not installed: these tests need OpenSSH's client tools (Debian: apt-get install openssh-client)"
    );
    let mut command = Command::new(tool);
    command
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("SSH_AGENT_PID")
        .stdin(Stdio::null());
    command
}

/// A release deleting a mysql database in `environment` (plus a service
/// update with `extra`), by erin.
fn destructive_release(environment: &str, extra: bool) -> Value {
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
fn harmless_release(environment: &str) -> Value {
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
struct World {
    dir: tempfile::TempDir,
    evaluate: String,
    approve: String,
    read: String,
}

impl World {
    /// destructive-changes asks one dba approval, and fails in `fail-*`.
    fn new() -> World {
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
            gatehouse_e2e::policy("destructive-changes").display()
        );
        std::fs::write(dir.path().join("gatehouse.toml"), set).expect("write");
        let mut world = World {
            dir,
            evaluate: String::new(),
            approve: String::new(),
            read: String::new(),
        };
        world.evaluate = world.token_add("ci", "evaluate");
        world.approve = world.token_add("approvers", "approve,read");
        world.read = world.token_add("auditor", "read");
        world
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `gatehouse serve token add NAME --scopes SCOPES`: the token printed.
    fn token_add(&self, name: &str, scopes: &str) -> String {
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

    fn store(&self) -> String {
        format!("sqlite://{}", self.path("gatehouse.db").display())
    }

    /// Starts `gatehouse serve` on a free loopback port.
    fn serve(&self, extra: &[&str]) -> Server {
        self.serve_set("gatehouse.toml", extra)
    }

    /// Starts `gatehouse serve --config SET` on a free loopback port.
    fn serve_set(&self, set: &str, extra: &[&str]) -> Server {
        let mut child = gatehouse_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--store", &self.store()])
            .arg("--config")
            .arg(self.path(set))
            .arg("--tokens-file")
            .arg(self.path("tokens"))
            .args(extra)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
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
                    if let Some(rest) = line.strip_prefix("gatehouse: listening on http://") {
                        let addr = rest.split_whitespace().next().expect("address").to_string();
                        return Server {
                            child,
                            base: format!("http://{addr}"),
                            _log: rx,
                        };
                    }
                    seen.push(line);
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
    fn digest(&self, release: &Value) -> String {
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
    fn approval(&self, who: &str, digest: &str, environment: &str, group: &str) -> Value {
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
    fn rejection(&self, who: &str, digest: &str, environment: &str, group: &str) -> Value {
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
fn time_now() -> (String, String) {
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
fn upload(statement: &Path) -> Value {
    let mut sig = statement.as_os_str().to_os_string();
    sig.push(".sig");
    json!({
        "statement": std::fs::read_to_string(statement).expect("statement"),
        "signature": std::fs::read_to_string(PathBuf::from(sig)).expect("signature"),
    })
}

/// A running `gatehouse serve`, stopped when dropped.
struct Server {
    child: Child,
    base: String,
    _log: std::sync::mpsc::Receiver<String>,
}

impl Server {
    /// Stops the server with SIGTERM and waits for it: it must exit 0
    /// (graceful shutdown) within a generous bound.
    fn stop(mut self) {
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer: status, JSON body (null when not JSON), Retry-After.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
    retry_after: Option<String>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into()
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("an HTTP answer");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
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
    }
}

/// POSTs `body` to `base` + `path`, with a bearer token when given.
fn post_to(base: &str, path: &str, token: Option<&str>, body: &[u8]) -> Answer {
    let mut request = agent()
        .post(format!("{base}{path}"))
        .header("Content-Type", "application/json");
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    answer(request.send(body))
}

impl Server {
    fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = agent().get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        answer(request.call())
    }

    fn post(&self, path: &str, token: Option<&str>, body: &[u8]) -> Answer {
        post_to(&self.base, path, token, body)
    }

    fn evaluate(&self, token: &str, body: Value) -> Answer {
        self.post("/v1/evaluations", Some(token), body.to_string().as_bytes())
    }

    fn post_approval(&self, token: &str, request: &str, upload: &Value) -> Answer {
        self.post(
            &format!("/v1/approval-requests/{request}/approvals"),
            Some(token),
            upload.to_string().as_bytes(),
        )
    }

    /// Every decision in the store, through the API.
    fn decisions(&self, token: &str) -> Vec<Value> {
        let answer = self.get("/v1/decisions?limit=500", Some(token));
        assert_eq!(answer.status, 200, "{answer:#?}");
        answer.body["decisions"]
            .as_array()
            .expect("decisions")
            .clone()
    }
}

#[test]
fn a_release_waits_over_http_until_a_valid_approval_and_the_store_survives_a_restart() {
    let world = World::new();
    let server = world.serve(&[]);
    assert_eq!(server.get("/healthz", None).status, 200);
    assert_eq!(server.get("/readyz", None).status, 200);

    // Auto-approve: a decision, no request.
    let harmless = server.evaluate(
        &world.evaluate,
        json!({"release": harmless_release("prod-eu")}),
    );
    assert_eq!(harmless.status, 200, "{harmless:#?}");
    assert_eq!(harmless.body["verdict"], "auto-approve");
    assert_eq!(harmless.body["exit_code"], 0);
    assert_eq!(harmless.body["approval_request"], Value::Null);
    assert_eq!(harmless.body["report"]["schema"], "gatehouse.report/v1");

    // Fail: a decision, no request.
    let failed = server.evaluate(
        &world.evaluate,
        json!({"release": destructive_release("prod-eu", false), "environment": "fail-eu"}),
    );
    assert_eq!(failed.status, 200, "{failed:#?}");
    assert_eq!(failed.body["verdict"], "fail");
    assert_eq!(failed.body["exit_code"], 1);
    assert_eq!(failed.body["approval_request"], Value::Null);

    // Require approval: a request opens...
    let release = destructive_release("prod-eu", false);
    let digest = world.digest(&release);
    let first = server.evaluate(&world.evaluate, json!({"release": release}));
    assert_eq!(first.status, 200, "{first:#?}");
    assert_eq!(first.body["verdict"], "require-approval");
    assert_eq!(first.body["exit_code"], 2);
    assert_eq!(first.body["release_digest"], digest.as_str());
    let request = &first.body["approval_request"];
    assert_eq!(request["state"], "pending", "{first:#?}");
    assert_eq!(request["release_digest"], digest.as_str());
    assert_eq!(request["environment"], "prod-eu");
    assert_eq!(request["owed"][0]["approver_groups"], json!(["dba"]));
    let id = request["id"].as_str().expect("request id").to_string();

    // ...and the same release again joins it.
    let second = server.evaluate(&world.evaluate, json!({"release": release}));
    assert_eq!(
        second.body["approval_request"]["id"],
        id.as_str(),
        "{second:#?}"
    );
    assert_ne!(second.body["decision_id"], first.body["decision_id"]);
    let pending = server.get("/v1/approval-requests?state=pending", Some(&world.read));
    assert_eq!(pending.status, 200, "{pending:#?}");
    let ids: Vec<&str> = pending.body["approval_requests"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);

    // The same release changed by one resource is another request.
    let changed = server.evaluate(
        &world.evaluate,
        json!({"release": destructive_release("prod-eu", true)}),
    );
    let other_id = changed.body["approval_request"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_ne!(other_id, id);

    // Approvals that do not count are refused and change nothing.
    let decisions_before = server.decisions(&world.read).len();
    let refused = [
        (
            world.approval("eve", &digest, "prod-eu", "dba"),
            "unknown-key",
        ),
        (
            world.approval("carol", &digest, "prod-eu", "dba"),
            "not-in-group",
        ),
        (
            world.approval(
                "alice",
                &world.digest(&destructive_release("prod-eu", true)),
                "prod-eu",
                "dba",
            ),
            "other-release",
        ),
    ];
    for (upload, reason) in &refused {
        let answer = server.post_approval(&world.approve, &id, upload);
        assert_eq!(answer.status, 422, "{reason}: {answer:#?}");
        assert_eq!(answer.body["error"]["code"], "approval-rejected");
        let message = answer.body["error"]["message"].as_str().expect("message");
        assert!(message.contains(reason), "{reason}: {message}");
    }
    // A forged signature: alice's statement with bob's signature.
    let alice = world.approval("alice", &digest, "prod-eu", "dba");
    let bob = world.approval("bob", &digest, "prod-eu", "dba");
    let forged = json!({"statement": alice["statement"], "signature": bob["signature"]});
    let answer = server.post_approval(&world.approve, &id, &forged);
    assert_eq!(answer.status, 422, "{answer:#?}");
    let still = server.get(&format!("/v1/approval-requests/{id}"), Some(&world.read));
    assert_eq!(still.body["state"], "pending", "{still:#?}");
    assert_eq!(still.body["approvals"], json!([]));
    assert_eq!(server.decisions(&world.read).len(), decisions_before);

    // A valid approval from a dba member approves the request.
    let approved = server.post_approval(&world.approve, &id, &alice);
    assert_eq!(approved.status, 200, "{approved:#?}");
    assert_eq!(approved.body["approval_request"]["state"], "approved");
    assert_eq!(approved.body["decision"]["verdict"], "auto-approve");
    assert_eq!(approved.body["decision"]["exit_code"], 0);
    assert_eq!(
        approved.body["approval_request"]["approvals"][0]["principal"],
        principal("alice").as_str()
    );
    assert_eq!(
        approved.body["approval_request"]["approvals"][0]["uploaded_by"],
        "approvers"
    );
    // Nothing more can be posted onto it.
    let again = server.post_approval(&world.approve, &id, &bob);
    assert_eq!(again.status, 409, "{again:#?}");

    // The audit trail: every decision, queryable.
    let all = server.decisions(&world.read);
    assert_eq!(all.len(), decisions_before + 1);
    let verdicts: Vec<&str> = all.iter().filter_map(|d| d["verdict"].as_str()).collect();
    assert_eq!(
        verdicts,
        vec![
            "auto-approve",
            "fail",
            "require-approval",
            "require-approval",
            "require-approval",
            "auto-approve"
        ]
    );
    let last = all.last().expect("last");
    assert_eq!(last["approvers"], json!([principal("alice")]));
    let failed_only = server.get("/v1/decisions?verdict=fail", Some(&world.read));
    assert_eq!(
        failed_only.body["decisions"].as_array().map(Vec::len),
        Some(1)
    );
    let page = server.get("/v1/decisions?limit=2", Some(&world.read));
    assert_eq!(page.body["decisions"].as_array().map(Vec::len), Some(2));
    let next = page.body["next"].as_i64().expect("next page");
    let page2 = server.get(
        &format!("/v1/decisions?limit=2&after={next}"),
        Some(&world.read),
    );
    assert_eq!(
        page2.body["decisions"][0]["verdict"], "require-approval",
        "{page2:#?}"
    );
    let one = server.get(
        &format!(
            "/v1/decisions/{}",
            last["decision_id"].as_str().expect("id")
        ),
        Some(&world.read),
    );
    assert_eq!(one.body["report"]["verdict"], "auto-approve", "{one:#?}");
    assert_eq!(one.body["record"]["release_digest"], digest.as_str());
    assert_eq!(
        one.body["record"]["approvals"]["entries"][0]["status"],
        "valid"
    );

    // SIGTERM stops it cleanly, and a restart on the same store keeps
    // everything.
    server.stop();
    let server = world.serve(&[]);
    let after = server.get(&format!("/v1/approval-requests/{id}"), Some(&world.read));
    assert_eq!(after.body["state"], "approved", "{after:#?}");
    assert_eq!(server.decisions(&world.read).len(), all.len());
    let other = server.get(
        &format!("/v1/approval-requests/{other_id}"),
        Some(&world.read),
    );
    assert_eq!(other.body["state"], "pending", "{other:#?}");
}

#[test]
fn a_signed_rejection_closes_the_request() {
    let world = World::new();
    let server = world.serve(&[]);
    let release = destructive_release("prod-eu", false);
    let digest = world.digest(&release);
    let opened = server.evaluate(&world.evaluate, json!({"release": release}));
    let id = opened.body["approval_request"]["id"]
        .as_str()
        .expect("id")
        .to_string();

    // A rejection by someone outside every claimed group does not count.
    let outsider = world.rejection("carol", &digest, "prod-eu", "dba");
    let answer = server.post_approval(&world.approve, &id, &outsider);
    assert_eq!(answer.status, 422, "{answer:#?}");
    let message = answer.body["error"]["message"].as_str().expect("message");
    assert!(message.contains("not-in-group"), "{message}");

    let rejection = world.rejection("bob", &digest, "prod-eu", "dba");
    let answer = server.post_approval(&world.approve, &id, &rejection);
    assert_eq!(answer.status, 200, "{answer:#?}");
    let request = &answer.body["approval_request"];
    assert_eq!(request["state"], "rejected");
    assert_eq!(request["approvals"][0]["decision"], "reject");
    let resolution = request["resolution"].as_str().expect("resolution");
    assert!(
        resolution.contains("bob@example.com") && resolution.contains("freeze"),
        "{resolution}"
    );
    let rejected = server.get("/v1/approval-requests?state=rejected", Some(&world.read));
    assert_eq!(rejected.body["approval_requests"][0]["id"], id.as_str());
}

#[test]
fn requests_without_the_right_token_are_refused_and_nothing_is_recorded() {
    let world = World::new();
    let server = world.serve(&[]);
    let body = json!({"release": destructive_release("prod-eu", false)}).to_string();
    let none = server.post("/v1/evaluations", None, body.as_bytes());
    assert_eq!(none.status, 401, "{none:#?}");
    assert_eq!(none.body["error"]["code"], "unauthorized");
    let unknown = server.post("/v1/evaluations", Some("ght_0000"), body.as_bytes());
    assert_eq!(unknown.status, 401, "{unknown:#?}");
    let wrong_scope = server.post("/v1/evaluations", Some(&world.read), body.as_bytes());
    assert_eq!(wrong_scope.status, 403, "{wrong_scope:#?}");
    assert_eq!(wrong_scope.body["error"]["code"], "forbidden");
    assert_eq!(server.get("/v1/decisions", None).status, 401);
    assert_eq!(
        server.get("/v1/decisions", Some(&world.evaluate)).status,
        403
    );
    assert!(server.decisions(&world.read).is_empty());
    assert_eq!(
        server.get("/v1/approval-requests", Some(&world.read)).body["approval_requests"],
        json!([])
    );
    // A token added while the server runs works at once.
    let late = world.token_add("late", "evaluate");
    let answer = server.post("/v1/evaluations", Some(&late), body.as_bytes());
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(server.decisions(&world.read).len(), 1);
}

#[test]
fn oversized_and_malformed_bodies_are_4xx_and_nothing_is_recorded() {
    let world = World::new();
    let server = world.serve(&["--max-input-mib", "1"]);
    let mut big = destructive_release("prod-eu", false);
    big["metadata"]["padding"] = json!("x".repeat(2 << 20));
    let answer = server.evaluate(&world.evaluate, json!({"release": big}));
    assert_eq!(answer.status, 413, "{answer:#?}");
    assert_eq!(answer.body["error"]["code"], "payload-too-large");

    let malformed = server.post("/v1/evaluations", Some(&world.evaluate), b"{\"release\": ");
    assert_eq!(malformed.status, 400, "{malformed:#?}");
    let unknown_field = server.evaluate(
        &world.evaluate,
        json!({"release": harmless_release("prod-eu"), "relase_stream": "x"}),
    );
    assert_eq!(unknown_field.status, 400, "{unknown_field:#?}");
    let message = unknown_field.body["error"]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("relase_stream"), "{message}");
    let not_a_release = server.evaluate(&world.evaluate, json!({"release": {"hello": 1}}));
    assert_eq!(not_a_release.status, 422, "{not_a_release:#?}");
    assert_eq!(not_a_release.body["error"]["code"], "invalid-request");
    assert!(server.decisions(&world.read).is_empty());
    // It keeps serving.
    let fine = server.evaluate(
        &world.evaluate,
        json!({"release": harmless_release("prod-eu")}),
    );
    assert_eq!(fine.status, 200, "{fine:#?}");
}

#[test]
fn a_store_from_a_newer_gatehouse_is_refused() {
    let world = World::new();
    drop(world.serve(&[]));
    let url = world.store();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("connect");
        sqlx::query("INSERT INTO gatehouse_schema (version) VALUES (999)")
            .execute(&mut conn)
            .await
            .expect("bump the schema");
    });
    let run: Run = gatehouse_command()
        .args(["serve", "--listen", "127.0.0.1:0", "--store", &url])
        .arg("--config")
        .arg(world.path("gatehouse.toml"))
        .arg("--tokens-file")
        .arg(world.path("tokens"))
        .stdin(Stdio::null())
        .output()
        .expect("serve")
        .into();
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr
            .contains("schema version 999, newer than this gatehouse's (1)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_full_pool_answers_503_with_retry_after_and_records_nothing_for_it() {
    let world = World::new();
    // One policy that spins until its 1.5 s time budget ends (exit 3).
    std::fs::write(
        world.path("busy.toml"),
        format!(
            "[[policy]]\nname = \"spin\"\npath = \"{}\"\n[policy.settings]\nmode = \"spin\"\n[policy.limits]\nfuel = 100000000000\ntimeout_ms = 1500\n",
            gatehouse_e2e::fixture_policy("trap-policy").display()
        ),
    )
    .expect("write");
    let server = world.serve_set("busy.toml", &["--workers", "1", "--queue", "0"]);
    let body = json!({"release": harmless_release("prod-eu")}).to_string();
    let busy_seen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(120);
    // Two clients send until one of them is turned away: while one
    // evaluation runs, the other finds no place.
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let base = server.base.clone();
            let busy_seen = std::sync::Arc::clone(&busy_seen);
            let body = body.clone();
            let token = world.evaluate.clone();
            std::thread::spawn(move || {
                let mut answered = 0;
                while !busy_seen.load(std::sync::atomic::Ordering::SeqCst)
                    && Instant::now() < deadline
                {
                    let answer = post_to(&base, "/v1/evaluations", Some(&token), body.as_bytes());
                    match answer.status {
                        200 => {
                            assert_eq!(answer.body["exit_code"], 3, "{answer:#?}");
                            answered += 1;
                        }
                        503 => {
                            assert_eq!(answer.body["error"]["code"], "busy", "{answer:#?}");
                            assert_eq!(answer.retry_after.as_deref(), Some("1"), "{answer:#?}");
                            busy_seen.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                        other => panic!("unexpected {other}: {answer:#?}"),
                    }
                }
                answered
            })
        })
        .collect();
    let answered: usize = clients.into_iter().map(|c| c.join().expect("client")).sum();
    assert!(
        busy_seen.load(std::sync::atomic::Ordering::SeqCst),
        "no 503 within two minutes"
    );
    // Every answered evaluation is recorded (an error outcome, exit 3), and
    // nothing for the ones turned away.
    let recorded = server.decisions(&world.read);
    assert_eq!(recorded.len(), answered, "{recorded:#?}");
    assert!(recorded.iter().all(|d| d["verdict"] == "error"));
}

#[test]
fn a_store_failure_is_a_5xx_never_a_verdict() {
    let world = World::new();
    let server = world.serve(&[]);
    let body = json!({"release": destructive_release("prod-eu", false)});
    assert_eq!(server.evaluate(&world.evaluate, body).status, 200);
    // Break the store under the running server: its decisions table goes.
    let url = world.store();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("connect");
        sqlx::query("DROP TABLE decisions")
            .execute(&mut conn)
            .await
            .expect("drop the table");
    });
    // Another release, which would open a request of its own.
    let other = json!({"release": destructive_release("prod-eu", true)});
    let answer = server.evaluate(&world.evaluate, other);
    assert_eq!(answer.status, 500, "{answer:#?}");
    assert_eq!(answer.body["error"]["code"], "internal", "{answer:#?}");
    assert!(answer.body.get("verdict").is_none(), "{answer:#?}");
    assert!(answer.body.get("exit_code").is_none(), "{answer:#?}");
    // The request it would have opened is not there either: the write was
    // one transaction.
    let requests = server.get("/v1/approval-requests", Some(&world.read));
    assert_eq!(
        requests.body["approval_requests"].as_array().map(Vec::len),
        Some(1),
        "{requests:#?}"
    );
}
