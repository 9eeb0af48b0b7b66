//! `gatehouse serve` end to end: the real binary listening on a free
//! loopback port, the compiled example policies,
//! keys made with Debian's `ssh-keygen`, approvals signed by
//! `gatehouse approve` (and by `ssh-keygen -Y sign` for a rejection), and a
//! real HTTP client (ureq) whose every answer is checked against
//! docs/openapi.json. Every test runs twice, as `sqlite::NAME` (a temporary
//! SQLite store) and `postgres::NAME` (a fresh database in this binary's
//! one PostgreSQL cluster, from Debian's `initdb`; skipped, saying so,
//! without PostgreSQL, a failure under CI=true).
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
//!   from a newer schema is refused;
//! - `/metrics` (scope `read`) counts decisions by verdict and policy,
//!   evaluation latency, pending requests, approval waits and refused
//!   approvals by reason.
//!
//! The world (keys, tokens, servers, client) is `gatehouse_e2e::serve`;
//! serve_postgres.rs runs two replicas on one PostgreSQL.

#![forbid(unsafe_code)]

use gatehouse_e2e::serve::Server;
use gatehouse_e2e::serve::{World, destructive_release, harmless_release, post_to, principal};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The store a test runs on.
#[derive(Debug, Clone, Copy)]
enum On {
    Sqlite,
    Postgres,
}

/// A world on `on`'s store: a SQLite file in its directory, or a fresh
/// database in this test binary's one PostgreSQL cluster; `None` (the test
/// skips, saying so; a failure under CI=true) without PostgreSQL.
fn world_on(on: On, test: &str) -> Option<World> {
    match on {
        On::Sqlite => Some(World::new()),
        On::Postgres => Some(World::with_store(Some(
            gatehouse_e2e::postgres::fresh_database_or_skip(test)?,
        ))),
    }
}

/// Every test below, as `sqlite::NAME` and `postgres::NAME`: the same API
/// suite on both stores.
macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $test() {
                    if let Some(world) = super::world_on(super::On::Sqlite, stringify!($test)) {
                        super::$test(world);
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $test() {
                    let name = concat!("serve::postgres::", stringify!($test));
                    if let Some(world) = super::world_on(super::On::Postgres, name) {
                        super::$test(world);
                    }
                }
            )*
        }
    };
}

on_both_stores!(
    a_release_waits_over_http_until_a_valid_approval_and_the_store_survives_a_restart,
    a_signed_rejection_closes_the_request,
    requests_without_the_right_token_are_refused_and_nothing_is_recorded,
    oversized_and_malformed_bodies_are_4xx_and_nothing_is_recorded,
    a_store_from_a_newer_gatehouse_is_refused,
    a_full_pool_answers_503_with_retry_after_and_records_nothing_for_it,
    a_store_failure_is_a_5xx_never_a_verdict,
    stalled_clients_are_cut_off_while_others_are_served_and_nothing_is_recorded,
    sigterm_finishes_and_records_the_request_in_flight_and_refuses_new_ones,
    json_logs_have_one_object_per_request_without_tokens_bodies_or_queries,
    past_max_connections_a_client_waits_for_a_free_one,
    metrics_count_decisions_latency_pending_requests_waits_and_refused_approvals,
);

fn a_release_waits_over_http_until_a_valid_approval_and_the_store_survives_a_restart(world: World) {
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

    // The audit trail: every decision, queryable, and really in the store.
    let all = server.decisions(&world.read);
    assert_eq!(all.len(), decisions_before + 1);
    assert_eq!(count_rows(&world.store(), "decisions"), all.len());
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

fn a_signed_rejection_closes_the_request(world: World) {
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

fn requests_without_the_right_token_are_refused_and_nothing_is_recorded(world: World) {
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

fn oversized_and_malformed_bodies_are_4xx_and_nothing_is_recorded(world: World) {
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
    // Unknown and mistyped fields deeper in: named, with where they are.
    let nested = server.evaluate(
        &world.evaluate,
        json!({"release": harmless_release("prod-eu"),
               "approvals": [{"statement": "s", "signature": "t", "sig": "x"}]}),
    );
    assert_eq!(nested.status, 400, "{nested:#?}");
    let message = nested.body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("at approvals[0]") && message.contains("unknown field `sig`"),
        "{message}"
    );
    let mistyped = server.evaluate(
        &world.evaluate,
        json!({"release": harmless_release("prod-eu"), "metadata": {"ticket": 7}}),
    );
    assert_eq!(mistyped.status, 400, "{mistyped:#?}");
    let message = mistyped.body["error"]["message"].as_str().expect("message");
    assert!(message.contains("at metadata.ticket"), "{message}");
    let not_json = server.post("/v1/evaluations", Some(&world.evaluate), b"release=1");
    assert_eq!(not_json.status, 400, "{not_json:#?}");
    let unknown_query = server.get("/v1/decisions?verdictt=fail", Some(&world.read));
    assert_eq!(unknown_query.status, 400, "{unknown_query:#?}");
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

fn a_store_from_a_newer_gatehouse_is_refused(world: World) {
    drop(world.serve(&[]));
    execute(
        &world.store(),
        "INSERT INTO gatehouse_schema (version) VALUES (999)",
    );
    let run = world.serve_refused();
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(
        run.stderr
            .contains("schema version 999, newer than this gatehouse's (3)"),
        "{}",
        run.stderr
    );
}

fn a_full_pool_answers_503_with_retry_after_and_records_nothing_for_it(world: World) {
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

fn a_store_failure_is_a_5xx_never_a_verdict(world: World) {
    let server = world.serve(&[]);
    let body = json!({"release": destructive_release("prod-eu", false)});
    assert_eq!(server.evaluate(&world.evaluate, body).status, 200);
    // Break the store under the running server: its decisions table goes.
    execute(&world.store(), "DROP TABLE decisions");
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

/// A raw TCP connection to `server` that reads with a bound (a guard
/// against hanging, not a timed assertion).
fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.address()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    stream
}

/// Everything the server sends on `stream` until it closes it (a reset
/// counts as closed).
fn read_until_closed(mut stream: TcpStream) -> String {
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buffer[..n]),
            // A reset or an abort is the server closing with our bytes unread.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
                ) =>
            {
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!(
                "the server neither answered nor closed the connection: {e} ({:?}) after {} bytes: {:?}",
                e.kind(),
                got.len(),
                String::from_utf8_lossy(&got)
            ),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn stalled_clients_are_cut_off_while_others_are_served_and_nothing_is_recorded(world: World) {
    let server = world.serve(&["--request-timeout", "2"]);
    // Clients that never finish their request head.
    let heads: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut stream = connect(&server);
            stream
                .write_all(b"POST /v1/evaluations HTTP/1.1\r\nHost: gatehouse\r\nContent-Ty")
                .expect("write");
            stream
        })
        .collect();
    // Slowloris clients: a whole head, then the body a byte at a time,
    // never all of it.
    let body = json!({"release": harmless_release("prod-eu")}).to_string();
    let trickles: Vec<(TcpStream, std::thread::JoinHandle<()>)> = (0..4)
        .map(|_| {
            let mut stream = connect(&server);
            let head = format!(
                "POST /v1/evaluations HTTP/1.1\r\nHost: gatehouse\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                world.evaluate,
                body.len() + 1
            );
            stream.write_all(head.as_bytes()).expect("write");
            let mut writer = stream.try_clone().expect("clone");
            let bytes = body.clone().into_bytes();
            let trickle = std::thread::spawn(move || {
                for byte in bytes {
                    if writer.write_all(&[byte]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
            (stream, trickle)
        })
        .collect();
    // Meanwhile an honest client is answered.
    let honest = server.evaluate(
        &world.evaluate,
        json!({"release": destructive_release("prod-eu", false)}),
    );
    assert_eq!(honest.status, 200, "{honest:#?}");
    // The stalled heads are closed without an answer; the trickling bodies
    // get a 408 and a closed connection.
    for stream in heads {
        let got = read_until_closed(stream);
        assert!(
            got.is_empty() || got.starts_with("HTTP/1.1 408"),
            "a stalled head got {got:?}"
        );
    }
    for (stream, trickle) in trickles {
        let got = read_until_closed(stream);
        assert!(
            got.starts_with("HTTP/1.1 408"),
            "a trickling body got {got:?}"
        );
        assert!(got.contains("\"request-timeout\""), "{got}");
        assert!(
            got.to_ascii_lowercase().contains("connection: close"),
            "{got}"
        );
        trickle.join().expect("trickle");
    }
    // Only the honest evaluation is recorded, and it still serves.
    let recorded = server.decisions(&world.read);
    assert_eq!(recorded.len(), 1, "{recorded:#?}");
    assert_eq!(recorded[0]["decision_id"], honest.body["decision_id"]);
    assert_eq!(server.get("/healthz", None).status, 200);
}

fn past_max_connections_a_client_waits_for_a_free_one(world: World) {
    let server = world.serve(&["--max-connections", "1", "--request-timeout", "2"]);
    // The one connection: a client that never finishes its request head.
    let mut stalled = connect(&server);
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gate")
        .expect("write");
    // Another client is served only once the stalled one is closed (by
    // --request-timeout): when its answer arrives, the stalled connection
    // is already closed.
    let honest = server.evaluate(
        &world.evaluate,
        json!({"release": harmless_release("prod-eu")}),
    );
    assert_eq!(honest.status, 200, "{honest:#?}");
    stalled.set_nonblocking(true).expect("nonblocking");
    let mut buffer = [0u8; 4096];
    loop {
        match stalled.read(&mut buffer) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the stalled connection was still open when another was served: {e}"),
        }
    }
}

fn sigterm_finishes_and_records_the_request_in_flight_and_refuses_new_ones(world: World) {
    // One worker, no queue, and a policy that spins for its 1.5 s budget:
    // a 503 proves the other client's evaluation is in flight.
    std::fs::write(
        world.path("slow.toml"),
        format!(
            "[[policy]]\nname = \"spin\"\npath = \"{}\"\n[policy.settings]\nmode = \"spin\"\n[policy.limits]\nfuel = 100000000000\ntimeout_ms = 1500\n",
            gatehouse_e2e::fixture_policy("trap-policy").display()
        ),
    )
    .expect("write");
    let server = world.serve_set("slow.toml", &["--workers", "1", "--queue", "0"]);
    let body = json!({"release": harmless_release("prod-eu")}).to_string();
    let (base, token) = (server.base.clone(), world.evaluate.clone());
    let in_flight = {
        let body = body.clone();
        std::thread::spawn(move || {
            // Until this client's evaluation is the one that runs.
            loop {
                let answer = post_to(&base, "/v1/evaluations", Some(&token), body.as_bytes());
                if answer.status != 503 {
                    return answer;
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = server.post("/v1/evaluations", Some(&world.evaluate), body.as_bytes());
        if answer.status == 503 {
            break;
        }
        assert_eq!(answer.status, 200, "{answer:#?}");
        assert!(Instant::now() < deadline, "the other client never got in");
    }
    server.terminate();
    let answer = in_flight.join().expect("client");
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(answer.body["exit_code"], 3, "{answer:#?}");
    let id = answer.body["decision_id"].as_str().expect("id").to_string();
    // Draining: no new connection is served.
    let refused = TcpStream::connect(server.address())
        .map(|mut stream| {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
            let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: gatehouse\r\n\r\n");
            read_until_closed(stream)
        })
        .unwrap_or_default();
    assert!(refused.is_empty(), "a new connection was served: {refused}");
    let (status, log) = server.wait_exit();
    assert!(status.success(), "{status}: {log:#?}");
    assert!(log.iter().any(|l| l.contains("stopping")), "{log:#?}");
    // The answered decision is in the store.
    let server = world.serve_set("slow.toml", &[]);
    let stored = server.get(&format!("/v1/decisions/{id}"), Some(&world.read));
    assert_eq!(stored.status, 200, "{stored:#?}");
    assert_eq!(stored.body["verdict"], "error");
}

fn json_logs_have_one_object_per_request_without_tokens_bodies_or_queries(world: World) {
    let server = world.serve(&["--log-format", "json"]);
    let mut release = destructive_release("prod-eu", false);
    release["metadata"]["ticket"] = json!("BODY-MARKER-\u{1b}[31m");
    let evaluated = server.evaluate(&world.evaluate, json!({"release": release}));
    assert_eq!(evaluated.status, 200, "{evaluated:#?}");
    let refused = server.post(
        "/v1/evaluations?token=QUERY-MARKER",
        Some("ght_nope"),
        b"{}",
    );
    assert_eq!(refused.status, 401, "{refused:#?}");
    let listed = server.get("/v1/decisions?environment=QUERY-MARKER", Some(&world.read));
    assert_eq!(listed.status, 200, "{listed:#?}");
    let lines = server.stop_with_log();
    let objects: Vec<Value> = lines
        .iter()
        .map(|line| {
            for secret in [
                &world.evaluate,
                &world.read,
                "ght_nope",
                "BODY-MARKER",
                "QUERY-MARKER",
            ] {
                assert!(!line.contains(secret), "the log shows {secret}: {line}");
            }
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
        })
        .collect();
    for object in &objects {
        let time = object["time"].as_str().expect("time");
        assert!(
            gatehouse_e2e::openapi::pattern_matches(
                "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                time
            ),
            "{object}"
        );
        assert!(
            object["level"].is_string() && object["message"].is_string(),
            "{object}"
        );
    }
    let requests: Vec<&Value> = objects.iter().filter(|o| o["event"] == "request").collect();
    let find = |method: &str, path: &str, status: u16| {
        requests
            .iter()
            .find(|o| o["method"] == method && o["path"] == path && o["status"] == status)
            .unwrap_or_else(|| panic!("no {method} {path} {status} in {requests:#?}"))
    };
    let evaluation = find("POST", "/v1/evaluations", 200);
    assert_eq!(evaluation["decision_id"], evaluated.body["decision_id"]);
    assert_eq!(evaluation["token"], "ci");
    assert!(evaluation["latency_ms"].is_u64(), "{evaluation}");
    let unauthorized = find("POST", "/v1/evaluations", 401);
    assert_eq!(unauthorized["token"], Value::Null);
    assert_eq!(unauthorized["decision_id"], Value::Null);
    assert_eq!(find("GET", "/v1/decisions", 200)["token"], "auditor");
    assert!(
        objects.iter().any(|o| o["event"] == "listening"),
        "{objects:#?}"
    );
}

/// The value of one series (`name{labels}` exactly as rendered) in a
/// Prometheus text exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn metrics_count_decisions_latency_pending_requests_waits_and_refused_approvals(world: World) {
    let server = world.serve(&[]);
    // The `read` scope, like the audit trail.
    assert_eq!(server.get("/metrics", None).status, 401);
    assert_eq!(server.get("/metrics", Some(&world.evaluate)).status, 403);
    let before = server.get("/metrics", Some(&world.read));
    assert_eq!(before.status, 200, "{before:#?}");
    assert_eq!(
        before.content_type.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let verdict = |v: &str| format!("gatehouse_decisions_total{{verdict=\"{v}\"}}");
    assert_eq!(sample(&before.text, &verdict("auto-approve")), Some(0.0));
    assert_eq!(
        sample(&before.text, "gatehouse_approval_requests_pending"),
        Some(0.0)
    );

    let harmless = server.evaluate(
        &world.evaluate,
        json!({"release": harmless_release("prod-eu")}),
    );
    assert_eq!(harmless.body["verdict"], "auto-approve", "{harmless:#?}");
    let release = destructive_release("prod-eu", false);
    let digest = world.digest(&release);
    let opened = server.evaluate(&world.evaluate, json!({"release": release}));
    let id = opened.body["approval_request"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let pending = server.get("/metrics", Some(&world.read));
    assert_eq!(
        sample(&pending.text, "gatehouse_approval_requests_pending"),
        Some(1.0),
        "{}",
        pending.text
    );
    let carol = world.approval("carol", &digest, "prod-eu", "dba");
    assert_eq!(
        server.post_approval(&world.approve, &id, &carol).status,
        422
    );
    let alice = world.approval("alice", &digest, "prod-eu", "dba");
    let approved = server.post_approval(&world.approve, &id, &alice);
    assert_eq!(approved.status, 200, "{approved:#?}");

    let after = server.get("/metrics", Some(&world.read));
    let text = &after.text;
    // Two auto-approve decisions (the harmless release, the approved
    // one), one require-approval; the refused approval recorded none.
    assert_eq!(sample(text, &verdict("auto-approve")), Some(2.0), "{text}");
    assert_eq!(
        sample(text, &verdict("require-approval")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(text, &verdict("fail")), Some(0.0), "{text}");
    assert_eq!(
        sample(
            text,
            "gatehouse_policy_decisions_total{policy=\"destructive-changes\",verdict=\"require-approval\"}"
        ),
        Some(1.0),
        "{text}"
    );
    // Four evaluations ran: two submissions, two approvals judged.
    assert_eq!(
        sample(text, "gatehouse_evaluation_duration_seconds_count"),
        Some(4.0),
        "{text}"
    );
    assert_eq!(
        sample(
            text,
            "gatehouse_evaluation_duration_seconds_bucket{le=\"+Inf\"}"
        ),
        Some(4.0),
        "{text}"
    );
    assert_eq!(
        sample(text, "gatehouse_approval_requests_pending"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(text, "gatehouse_approval_wait_seconds_count"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            text,
            "gatehouse_approvals_rejected_total{reason=\"not-in-group\"}"
        ),
        Some(1.0),
        "{text}"
    );
}

/// Runs one SQL statement on the store at `url` (either kind), beside the
/// server.
fn execute(url: &str, sql: &str) {
    if url.starts_with("postgres://") {
        let db = url
            .rsplit('/')
            .next()
            .and_then(|tail| tail.split('?').next())
            .expect("a database name");
        let cluster = gatehouse_e2e::postgres::cluster_or_skip("execute").expect("the cluster");
        cluster.psql(db, sql);
        return;
    }
    sqlite_execute(url, sql);
}

/// The rows of `table` in the store at `url` (either kind), read beside the
/// server.
fn count_rows(url: &str, table: &str) -> usize {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    if url.starts_with("postgres://") {
        let db = url
            .rsplit('/')
            .next()
            .and_then(|tail| tail.split('?').next())
            .expect("a database name");
        let cluster = gatehouse_e2e::postgres::cluster_or_skip("count_rows").expect("the cluster");
        return cluster.psql(db, &sql).parse().expect("a count");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        let n: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        usize::try_from(n).expect("a count")
    })
}

/// Runs one SQL statement on the SQLite store at `url`.
fn sqlite_execute(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
}

/// The server's evaluation threads run guests themselves (no hand-off to a
/// worker thread): a guest that recurses without end still traps on its
/// wasm stack, one that spins is still ended at its deadline, both are
/// recorded as errors (exit 3), and the server goes on serving.
#[test]
fn hostile_policies_run_on_the_servers_own_threads_end_in_recorded_errors() {
    let world = World::new();
    for (mode, limits, expected) in [
        ("recurse-native", "", "call stack exhausted"),
        (
            "spin",
            "[policy.limits]\nfuel = 100000000000\ntimeout_ms = 400\n",
            "timed out after 400 ms in evaluate",
        ),
    ] {
        let set = format!("{mode}.toml");
        std::fs::write(
            world.path(&set),
            format!(
                "[[policy]]\nname = \"trap\"\npath = \"{}\"\n[policy.settings]\nmode = \"{mode}\"\n{limits}",
                gatehouse_e2e::fixture_policy("trap-policy").display()
            ),
        )
        .expect("write");
        let server = world.serve_set(&set, &["--workers", "1"]);
        for _ in 0..2 {
            let answer = server.evaluate(
                &world.evaluate,
                json!({"release": harmless_release("prod-eu")}),
            );
            assert_eq!(answer.status, 200, "{mode}: {answer:#?}");
            assert_eq!(answer.body["exit_code"], 3, "{mode}: {answer:#?}");
            let report = answer.body["report"].to_string();
            assert!(report.contains(expected), "{mode}: {report}");
            let id = answer.body["decision_id"].as_str().expect("id");
            let stored = server.get(&format!("/v1/decisions/{id}"), Some(&world.read));
            assert_eq!(stored.body["verdict"], "error", "{mode}: {stored:#?}");
        }
        assert_eq!(server.get("/healthz", None).status, 200, "{mode}");
        server.stop();
    }
}

/// An approval whose re-evaluation fails (here the set now holds a policy
/// that spins past its budget) is not accepted, the request stays pending,
/// and the failed evaluation is in the audit trail as an error decision.
#[test]
fn a_failed_re_evaluation_of_an_approval_is_recorded_and_accepts_nothing() {
    let world = World::new();
    let server = world.serve(&[]);
    let release = destructive_release("prod-eu", false);
    let digest = world.digest(&release);
    let first = server.evaluate(&world.evaluate, json!({"release": release}));
    assert_eq!(first.body["verdict"], "require-approval", "{first:#?}");
    let id = first.body["approval_request"]["id"]
        .as_str()
        .expect("request id")
        .to_string();
    server.stop();

    // The same store and trust, and a policy that now spins.
    let set = std::fs::read_to_string(world.path("gatehouse.toml")).expect("read");
    let trust = set.split("[[policy]]").next().expect("trust section");
    std::fs::write(
        world.path("spinning.toml"),
        format!(
            "{trust}[[policy]]\nname = \"spin\"\npath = \"{}\"\n[policy.settings]\nmode = \"spin\"\n[policy.limits]\nfuel = 100000000000\ntimeout_ms = 300\n",
            gatehouse_e2e::fixture_policy("trap-policy").display()
        ),
    )
    .expect("write");
    let server = world.serve_set("spinning.toml", &[]);
    let before = server.decisions(&world.read).len();
    let alice = world.approval("alice", &digest, "prod-eu", "dba");
    let answer = server.post_approval(&world.approve, &id, &alice);
    assert_eq!(answer.status, 500, "{answer:#?}");
    let message = answer.body.to_string();
    assert!(
        message.contains("not accepted") && message.contains("timed out after 300 ms"),
        "{message}"
    );
    let request = server.get(&format!("/v1/approval-requests/{id}"), Some(&world.read));
    assert_eq!(request.body["state"], "pending", "{request:#?}");
    assert_eq!(request.body["approvals"], json!([]), "{request:#?}");
    let decisions = server.decisions(&world.read);
    assert_eq!(decisions.len(), before + 1, "{decisions:#?}");
    assert!(
        decisions.iter().any(|d| d["verdict"] == "error"),
        "{decisions:#?}"
    );
    server.stop();
}

/// A request still in flight at `--shutdown-timeout` (here an evaluation
/// that would spin for 20 s) is dropped unanswered: the server exits 0
/// after the timeout, says how many connections it cut, and records
/// nothing for that request.
#[test]
fn a_request_still_running_at_the_shutdown_timeout_is_dropped_unanswered_and_unrecorded() {
    let world = World::new();
    std::fs::write(
        world.path("slow.toml"),
        format!(
            "[[policy]]\nname = \"spin\"\npath = \"{}\"\n[policy.settings]\nmode = \"spin\"\n[policy.limits]\nfuel = 100000000000\ntimeout_ms = 20000\n",
            gatehouse_e2e::fixture_policy("trap-policy").display()
        ),
    )
    .expect("write");
    let server = world.serve_set(
        "slow.toml",
        &["--workers", "1", "--queue", "0", "--shutdown-timeout", "1"],
    );
    let body = json!({"release": harmless_release("prod-eu")}).to_string();
    let mut stream = connect(&server);
    write!(
        stream,
        "POST /v1/evaluations HTTP/1.1\r\nHost: gatehouse\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        world.evaluate,
        body.len()
    )
    .expect("send");
    // The only place is taken once another request is refused with a 503.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = server.post("/v1/evaluations", Some(&world.evaluate), body.as_bytes());
        if answer.status == 503 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the spinning evaluation never started: {answer:#?}"
        );
    }
    server.terminate();
    let unanswered = read_until_closed(stream);
    assert!(
        unanswered.is_empty(),
        "the request was answered: {unanswered}"
    );
    let (status, log) = server.wait_exit();
    assert!(status.success(), "{status}: {log:#?}");
    assert!(
        log.iter()
            .any(|l| l.contains("--shutdown-timeout 1 s with 1 connections still open")),
        "{log:#?}"
    );
    let server = world.serve_set("slow.toml", &[]);
    assert_eq!(server.decisions(&world.read), Vec::<Value>::new());
    server.stop();
}
