//! Two `gatehouse serve` replicas on one real PostgreSQL under concurrent
//! load (loopback only): a mix of releases (auto-approve, fail, and
//! require-approval on four digest/environment pairs, so requests are
//! opened, joined and approved again and again) from 32 client threads,
//! with approvals posted concurrently onto the open requests. Afterwards:
//!
//! - the store holds one audit record per successful (200) evaluation and
//!   accepted approval, and every decision id answered is among them;
//! - `gatehouse audit verify --store` accepts the one chain (no fork, gap or
//!   duplicate) and counts exactly those records;
//! - no release and environment has two pending requests, and every
//!   request an approval answered as approved is approved in the store.
//!
//! Then one replica is killed with SIGKILL mid-load: every decision it or
//! the other answered is in the store, the chain still verifies, and the
//! other replica keeps answering.
//!
//! The load is `GATEHOUSE_LOAD_EVALUATIONS` evaluations (default 20,000, the
//! issue's number: about a minute in a debug build on this 2-core machine),
//! and the SIGKILL load a quarter of that.

#![forbid(unsafe_code)]

use gatehouse_e2e::postgres::{self, Postgres};
use gatehouse_e2e::serve::{Server, World, agent, answer, destructive_release, harmless_release};
use gatehouse_e2e::{Run, gatehouse_command};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const CLIENTS: usize = 32;
const PAIRS: [(&str, bool); 4] = [
    ("prod-eu", false),
    ("prod-eu", true),
    ("prod-us", false),
    ("prod-us", true),
];

fn evaluations() -> usize {
    std::env::var("GATEHOUSE_LOAD_EVALUATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// The body of evaluation `i` of the mix: 6 in 10 auto-approve, 1 fails,
/// 3 require approval on one of four digest/environment pairs.
fn body(i: usize) -> Value {
    match i % 10 {
        0..=5 => json!({"release": harmless_release("prod-eu")}),
        6 => json!({"release": destructive_release("prod-eu", false), "environment": "fail-eu"}),
        _ => {
            let (environment, extra) = PAIRS[i / 10 % PAIRS.len()];
            json!({"release": destructive_release(environment, extra)})
        }
    }
}

/// What the clients saw.
#[derive(Default)]
struct Seen {
    /// Decision ids answered with 200, evaluations and approvals.
    decisions: BTreeSet<String>,
    /// Requests an approval answered as approved.
    approved: BTreeSet<String>,
    /// Answers by status (0: no answer).
    statuses: BTreeMap<u16, usize>,
}

/// POSTs `body`, sending it again while the server answers 503 (its
/// evaluation pool is full: nothing was recorded); `(0, null)` when there
/// was no answer (the server is gone).
fn post(base: &str, path: &str, token: &str, body: &Value) -> (u16, Value) {
    loop {
        let response = agent()
            .post(format!("{base}{path}"))
            .header("Content-Type", "application/json")
            .header("Authorization", format!("Bearer {token}"))
            .send(body.to_string().as_bytes());
        let Ok(response) = response else {
            return (0, Value::Null);
        };
        let a = answer(Ok(response));
        if a.status != 503 {
            return (a.status, a.body);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Runs `count` evaluations from 32 threads over `bases` (in turn), and
/// posts approvals onto open requests meanwhile; `after` is called once
/// half of them were sent. Returns what was answered per base.
fn load(
    world: &World,
    bases: &[String],
    approvals: &BTreeMap<(String, String), Value>,
    count: usize,
    after_half: impl FnOnce() + Send,
) -> Vec<Seen> {
    let next = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let seen: Vec<Mutex<Seen>> = bases.iter().map(|_| Mutex::new(Seen::default())).collect();
    let half = Mutex::new(Some(after_half));
    std::thread::scope(|scope| {
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            clients.push(scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= count {
                        return;
                    }
                    if i == count / 2
                        && let Some(f) = half.lock().expect("lock").take()
                    {
                        f();
                    }
                    let which = i % bases.len();
                    let (status, body) =
                        post(&bases[which], "/v1/evaluations", &world.evaluate, &body(i));
                    let mut s = seen[which].lock().expect("lock");
                    *s.statuses.entry(status).or_default() += 1;
                    if status == 200 {
                        s.decisions
                            .insert(body["decision_id"].as_str().expect("id").to_string());
                    }
                }
            }));
        }
        // The approvers: post alice's approval onto whatever is pending.
        let approver = scope.spawn(|| {
            let mut round = 0;
            while !done.load(Ordering::SeqCst) {
                round += 1;
                let which = round % bases.len();
                let base = &bases[which];
                let list = agent()
                    .get(format!("{base}/v1/approval-requests?state=pending"))
                    .header("Authorization", format!("Bearer {}", world.approve))
                    .call();
                let Ok(list) = list else { continue };
                let list = answer(Ok(list));
                let pending = list.body["approval_requests"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for request in pending {
                    let key = (
                        request["release_digest"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        request["environment"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    );
                    let Some(upload) = approvals.get(&key) else {
                        continue;
                    };
                    let id = request["id"].as_str().expect("id");
                    let (status, body) = post(
                        base,
                        &format!("/v1/approval-requests/{id}/approvals"),
                        &world.approve,
                        upload,
                    );
                    let mut s = seen[which].lock().expect("lock");
                    *s.statuses.entry(status).or_default() += 1;
                    if status == 200 {
                        s.decisions.insert(
                            body["decision"]["decision_id"]
                                .as_str()
                                .expect("id")
                                .to_string(),
                        );
                        if body["approval_request"]["state"] == "approved" {
                            s.approved.insert(id.to_string());
                        }
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        });
        for client in clients {
            client.join().expect("client");
        }
        done.store(true, Ordering::SeqCst);
        approver.join().expect("approver");
    });
    seen.into_iter()
        .map(|s| s.into_inner().expect("lock"))
        .collect()
}

fn verify_store(url: &str) -> Run {
    gatehouse_command()
        .args(["audit", "verify", "--store", url, "--output", "json"])
        .stdin(Stdio::null())
        .output()
        .expect("audit verify")
        .into()
}

/// The pid listening on `base`'s port (`ss`, as root sees every process).
fn pid_of(server: &Server) -> String {
    let port = server.base.rsplit(':').next().expect("port");
    let out = std::process::Command::new("ss")
        .args(["-ltnpH", &format!("sport = :{port}")])
        .output()
        .expect("ss");
    let text = String::from_utf8_lossy(&out.stdout);
    let pid = text.split("pid=").nth(1).and_then(|r| r.split(',').next());
    pid.unwrap_or_else(|| panic!("no pid for port {port}: {text}"))
        .to_string()
}

fn check_store(pg: &Postgres, seen: &[Seen], exact: bool) -> i64 {
    let ids: BTreeSet<String> = pg
        .psql("postgres", "SELECT id FROM decisions")
        .lines()
        .map(str::to_string)
        .collect();
    let answered: BTreeSet<String> = seen
        .iter()
        .flat_map(|s| s.decisions.iter().cloned())
        .collect();
    let missing: Vec<&String> = answered.difference(&ids).collect();
    assert!(missing.is_empty(), "answered but not recorded: {missing:?}");
    if exact {
        assert_eq!(
            ids.len(),
            answered.len(),
            "records without a successful answer"
        );
    }
    let verified = verify_store(&pg.url());
    assert_eq!(verified.code, 0, "{verified:#?}");
    assert_eq!(verified.json()["records"], ids.len(), "{verified:#?}");
    let twice = pg.psql(
        "postgres",
        "SELECT release_digest, environment FROM approval_requests WHERE state = 'pending' GROUP BY release_digest, environment HAVING COUNT(*) > 1",
    );
    assert_eq!(
        twice, "",
        "two pending requests for one release and environment"
    );
    for id in seen.iter().flat_map(|s| s.approved.iter()) {
        let state = pg.psql(
            "postgres",
            &format!("SELECT state FROM approval_requests WHERE id = '{id}'"),
        );
        assert_eq!(state, "approved", "request {id}");
    }
    ids.len() as i64
}

#[test]
fn two_replicas_under_load_keep_one_chain_and_a_sigkill_loses_no_answered_decision() {
    let Some(pg) = postgres::start_or_skip(
        "serve_replicas::two_replicas_under_load_keep_one_chain_and_a_sigkill_loses_no_answered_decision",
    ) else {
        return;
    };
    let world = World::with_store(Some(pg.url()));
    let a = world.serve(&[]);
    let b = world.serve(&[]);
    let mut approvals = BTreeMap::new();
    for (environment, extra) in PAIRS {
        let digest = world.digest(&destructive_release(environment, extra));
        let upload = world.approval("alice", &digest, environment, "dba");
        approvals.insert((digest, environment.to_string()), upload);
    }
    let bases = vec![a.base.clone(), b.base.clone()];
    let count = evaluations();

    // Both replicas under load.
    let seen = load(&world, &bases, &approvals, count, || {});
    let ok: usize = seen
        .iter()
        .map(|s| s.statuses.get(&200).copied().unwrap_or(0))
        .sum();
    let statuses: Vec<_> = seen.iter().map(|s| &s.statuses).collect();
    assert!(ok >= count, "every evaluation answered 200: {statuses:?}");
    // Approvals may meet a request already approved (409) or judged without
    // another one accepted meanwhile; never a 5xx or no answer.
    assert!(
        seen.iter()
            .all(|s| s.statuses.keys().all(|k| (200..500).contains(k))),
        "{statuses:?}"
    );
    assert!(
        !seen.iter().all(|s| s.approved.is_empty()),
        "approvals were accepted under load"
    );
    let recorded = check_store(&pg, &seen, true);

    // Replica A is killed with SIGKILL halfway through the next load.
    let pid = pid_of(&a);
    let seen_after = load(&world, &bases, &approvals, (count / 4).max(CLIENTS), || {
        let status = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .expect("kill -KILL");
        assert!(status.success());
    });
    let total = check_store(&pg, &seen_after, false);
    assert!(total > recorded);
    // B kept serving: every request it got was answered, and it answers now.
    let b_seen = &seen_after[1];
    assert!(!b_seen.statuses.contains_key(&0), "{:?}", b_seen.statuses);
    assert!(
        b_seen.statuses.get(&200).copied().unwrap_or(0) > 0,
        "{:?}",
        b_seen.statuses
    );
    let (status, _) = post(&b.base, "/v1/evaluations", &world.evaluate, &body(0));
    assert_eq!(status, 200);
    assert!(
        seen_after[0].statuses.contains_key(&0),
        "A stopped answering once killed"
    );
    drop(a);
    b.stop();
}
