//! The CLI as a client of `gatehouse serve`, end to end: the real binary
//! serving on a free loopback port (SQLite store, ssh-keygen keys: the
//! `World` of `gatehouse_e2e::serve`), and the real binary as its client.
//!
//! - `eval --server` exits as a local eval: 0 auto-approve, 2 require
//!   approval (with the decision and approval request printed), 1 fail; its
//!   `--output json` is the gatehouse.report/v1 document;
//! - `--wait` on require-approval: exit 0 once `approve --server` (a dba)
//!   approved it, 1 once a signed rejection closed it, 2 when still pending
//!   at `--wait-timeout`;
//! - `approve --server` from outside the group is refused with the server's
//!   reason (exit 3) and the request stays pending;
//! - exit 3, never a verdict: a server that is not there, an unknown token
//!   (401), a token without the scope (403), a token file others can read;
//!   nothing recorded for the refused ones; a busy server (503) is asked
//!   again after its Retry-After;
//! - the token is never printed.

#![forbid(unsafe_code)]

use gatehouse_e2e::serve::{Server, World, destructive_release, harmless_release, principal};
use gatehouse_e2e::{Run, gatehouse_command};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Writes `token` to a file of the world, mode 0600; returns its path.
fn token_file(world: &World, name: &str, token: &str) -> String {
    let path = world.path(name);
    std::fs::write(&path, format!("{token}\n")).expect("write token");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path.display().to_string()
}

/// Writes a release to a file of the world; returns its path.
fn release_file(world: &World, name: &str, release: &Value) -> String {
    let path = world.path(name);
    std::fs::write(&path, release.to_string()).expect("write release");
    path.display().to_string()
}

/// `gatehouse ARGS`, not yet started, stdin closed.
fn command(args: &[&str]) -> std::process::Command {
    let mut command = gatehouse_command();
    command.args(args).stdin(Stdio::null());
    command
}

/// Runs `gatehouse ARGS` to its end.
fn run(args: &[&str]) -> Run {
    command(args).output().expect("run gatehouse").into()
}

/// `gatehouse eval --server BASE --token-file FILE --input INPUT EXTRA...`.
fn eval_args<'a>(base: &'a str, token: &'a str, input: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "eval",
        "--server",
        base,
        "--token-file",
        token,
        "--input",
        input,
    ];
    args.extend_from_slice(extra);
    args
}

/// The one pending approval request's id, once the server has it.
fn pending_request(server: &Server, world: &World) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = server.get("/v1/approval-requests?state=pending", Some(&world.read));
        assert_eq!(answer.status, 200, "{answer:#?}");
        if let Some(id) = answer.body["approval_requests"][0]["id"].as_str() {
            return id.to_string();
        }
        assert!(Instant::now() < deadline, "no pending request: {answer:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `gatehouse approve --server` of `request` by `who` for `group`, with the
/// approvers' token.
fn approve_on_server(
    server: &Server,
    world: &World,
    token: &str,
    request: &str,
    who: &str,
    group: &str,
    extra: &[&str],
) -> Run {
    let key = world.path(who).display().to_string();
    let principal = principal(who);
    let mut args = vec![
        "approve",
        "--server",
        &server.base,
        "--request",
        request,
        "--token-file",
        token,
        "--key",
        &key,
        "--principal",
        &principal,
        "--group",
        group,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// Waits for a started `eval --wait` to end.
fn finish(child: Child) -> Run {
    child.wait_with_output().expect("eval --wait").into()
}

/// Starts `eval --server --wait` on a destructive release to `prod-eu`.
fn start_waiting_eval(server: &Server, world: &World, token: &str, extra: &[&str]) -> Child {
    let input = release_file(world, "wait.json", &destructive_release("prod-eu", false));
    let mut args = eval_args(
        &server.base,
        token,
        &input,
        &["--wait", "--poll-interval", "1s"],
    );
    args.extend_from_slice(extra);
    command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start eval --wait")
}

#[test]
fn eval_server_exits_with_the_servers_verdict_and_prints_its_report() {
    let world = World::new();
    let server = world.serve(&[]);
    let ci = token_file(&world, "ci.token", &world.evaluate);

    let harmless = release_file(&world, "harmless.json", &harmless_release("prod-eu"));
    let approve = run(&eval_args(&server.base, &ci, &harmless, &[]));
    assert_eq!(approve.code, 0, "{approve:#?}");
    assert!(
        approve.stdout.starts_with("AUTO-APPROVE (exit 0)\n"),
        "{approve:#?}"
    );
    assert!(approve.stdout.contains("\ndecision: d-"), "{approve:#?}");

    let destructive = release_file(
        &world,
        "destructive.json",
        &destructive_release("prod-eu", false),
    );
    let pending = run(&eval_args(&server.base, &ci, &destructive, &[]));
    assert_eq!(pending.code, 2, "{pending:#?}");
    assert!(
        pending.stdout.starts_with("REQUIRE APPROVAL (exit 2)\n"),
        "{pending:#?}"
    );
    assert!(
        pending.stdout.contains("\npolicy destructive-changes "),
        "{pending:#?}"
    );
    assert!(
        pending.stdout.contains("approval request: r-"),
        "{pending:#?}"
    );
    assert!(
        pending
            .stdout
            .contains("  owed to destructive-changes: dba (1 approval)"),
        "{pending:#?}"
    );

    let failing = release_file(&world, "fail.json", &destructive_release("fail-eu", false));
    let fail = run(&eval_args(
        &server.base,
        &ci,
        &failing,
        &["--output", "json"],
    ));
    assert_eq!(fail.code, 1, "{fail:#?}");
    let report = fail.json();
    assert_eq!(report["schema"], "gatehouse.report/v1", "{fail:#?}");
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["exit_code"], 1);
    assert!(fail.stderr.contains("gatehouse: decision d-"), "{fail:#?}");

    // The flags that shape the release travel with it: the environment
    // given on the command line is the one the server evaluates.
    let moved = run(&eval_args(
        &server.base,
        &ci,
        &failing,
        &[
            "--environment",
            "prod-eu",
            "--meta",
            "commit=9f2c1e7",
            "--output",
            "json",
        ],
    ));
    assert_eq!(moved.code, 2, "{moved:#?}");
    assert_eq!(moved.json()["input"]["environment"], "prod-eu");

    // Each was recorded by the server, and the token was never printed.
    assert_eq!(server.decisions(&world.read).len(), 4);
    for run in [&approve, &pending, &fail, &moved] {
        assert!(
            !run.stdout.contains(&world.evaluate) && !run.stderr.contains(&world.evaluate),
            "{run:#?}"
        );
    }
}

#[test]
fn wait_ends_when_an_approver_in_the_group_approves_on_the_server() {
    let world = World::new();
    let server = world.serve(&[]);
    let ci = token_file(&world, "ci.token", &world.evaluate);
    let approvers = token_file(&world, "approvers.token", &world.approve);
    let waiting = start_waiting_eval(&server, &world, &ci, &[]);
    let request = pending_request(&server, &world);

    // carol is a tech-lead, not a dba: refused with the server's reason,
    // and the request stays pending (the eval keeps waiting).
    let outsider = approve_on_server(&server, &world, &approvers, &request, "carol", "dba", &[]);
    assert_eq!(outsider.code, 3, "{outsider:#?}");
    assert!(
        outsider.stderr.contains("422 (approval-rejected)"),
        "{outsider:#?}"
    );
    assert!(outsider.stderr.contains("not-in-group"), "{outsider:#?}");
    let still = server.get(
        &format!("/v1/approval-requests/{request}"),
        Some(&world.read),
    );
    assert_eq!(still.body["state"], "pending", "{still:#?}");

    let approved = approve_on_server(
        &server,
        &world,
        &approvers,
        &request,
        "alice",
        "dba",
        &["--comment", "backup checked"],
    );
    assert_eq!(approved.code, 0, "{approved:#?}");
    assert!(
        approved
            .stdout
            .starts_with(&format!("approval request: {request} (approved")),
        "{approved:#?}"
    );
    assert!(
        approved.stdout.contains("principal: alice@example.com"),
        "{approved:#?}"
    );

    let waited = finish(waiting);
    assert_eq!(waited.code, 0, "{waited:#?}");
    assert!(
        waited.stdout.starts_with("REQUIRE APPROVAL (exit 2)\n"),
        "{waited:#?}"
    );
    assert!(
        waited
            .stderr
            .contains(&format!("approval request {request} approved")),
        "{waited:#?}"
    );

    // Approving again changes nothing: the request is already approved.
    let again = approve_on_server(&server, &world, &approvers, &request, "bob", "dba", &[]);
    assert_eq!(again.code, 0, "{again:#?}");
    assert!(
        again
            .stderr
            .contains("already approved; nothing was signed"),
        "{again:#?}"
    );
}

#[test]
fn wait_exits_1_when_the_request_is_rejected_on_the_server() {
    let world = World::new();
    let server = world.serve(&[]);
    let ci = token_file(&world, "ci.token", &world.evaluate);
    let approvers = token_file(&world, "approvers.token", &world.approve);
    let waiting = start_waiting_eval(&server, &world, &ci, &["--output", "json"]);
    let request = pending_request(&server, &world);
    let rejected = approve_on_server(
        &server,
        &world,
        &approvers,
        &request,
        "bob",
        "dba",
        &["--decision", "reject", "--comment", "not during the freeze"],
    );
    assert_eq!(rejected.code, 1, "{rejected:#?}");
    assert!(rejected.stdout.contains("(rejected"), "{rejected:#?}");
    assert!(
        rejected.stdout.contains("rejected by: bob@example.com"),
        "{rejected:#?}"
    );
    let waited = finish(waiting);
    assert_eq!(waited.code, 1, "{waited:#?}");
    assert_eq!(waited.json()["verdict"], "require-approval", "{waited:#?}");
    assert!(
        waited
            .stderr
            .contains(&format!("approval request {request} rejected")),
        "{waited:#?}"
    );
}

#[test]
fn wait_exits_2_when_the_request_is_still_pending_at_the_timeout() {
    let world = World::new();
    let server = world.serve(&[]);
    let ci = token_file(&world, "ci.token", &world.evaluate);
    let waited = finish(start_waiting_eval(
        &server,
        &world,
        &ci,
        &["--wait-timeout", "2s"],
    ));
    assert_eq!(waited.code, 2, "{waited:#?}");
    assert!(
        waited.stderr.contains("is still pending after 2s"),
        "{waited:#?}"
    );
    let request = pending_request(&server, &world);
    let still = server.get(
        &format!("/v1/approval-requests/{request}"),
        Some(&world.read),
    );
    assert_eq!(still.body["state"], "pending", "{still:#?}");
}

#[test]
fn a_server_that_cannot_answer_or_refuses_the_token_is_exit_3_and_records_nothing() {
    let world = World::new();
    let input = release_file(&world, "harmless.json", &harmless_release("prod-eu"));
    let ci = token_file(&world, "ci.token", &world.evaluate);

    // Nothing listens: a port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let nowhere = format!("http://127.0.0.1:{port}");
    let down = run(&eval_args(
        &nowhere,
        &ci,
        &input,
        &["--wait", "--output", "json"],
    ));
    assert_eq!(down.code, 3, "{down:#?}");
    assert!(
        down.stderr.contains("cannot reach the server at"),
        "{down:#?}"
    );
    assert_eq!(down.json()["verdict"], "error", "{down:#?}");

    let server = world.serve(&[]);
    // A well-formed token the server does not know: 401.
    let unknown = token_file(&world, "unknown.token", &format!("ght_{}", "0".repeat(64)));
    let refused = run(&eval_args(&server.base, &unknown, &input, &[]));
    assert_eq!(refused.code, 3, "{refused:#?}");
    assert!(
        refused.stderr.contains("401 (unauthorized)"),
        "{refused:#?}"
    );
    // A read-only token: 403.
    let reader = token_file(&world, "read.token", &world.read);
    let forbidden = run(&eval_args(&server.base, &reader, &input, &[]));
    assert_eq!(forbidden.code, 3, "{forbidden:#?}");
    assert!(
        forbidden.stderr.contains("403 (forbidden)"),
        "{forbidden:#?}"
    );
    // A token file every user can read is refused before anything is sent.
    let open = token_file(&world, "open.token", &world.evaluate);
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let exposed = run(&eval_args(&server.base, &open, &input, &[]));
    assert_eq!(exposed.code, 3, "{exposed:#?}");
    assert!(
        exposed
            .stderr
            .contains("every user of this machine can read it"),
        "{exposed:#?}"
    );
    // A file that is not a token: refused without quoting it.
    let key = world.path("alice").display().to_string();
    let not_token = run(&eval_args(&server.base, &key, &input, &[]));
    assert_eq!(not_token.code, 3, "{not_token:#?}");
    assert!(
        not_token.stderr.contains("does not hold a gatehouse token"),
        "{not_token:#?}"
    );
    assert!(!not_token.stderr.contains("PRIVATE KEY"), "{not_token:#?}");
    // Local-only flags are a usage error with --server.
    let mixed = run(&eval_args(&server.base, &ci, &input, &["--fuel", "10"]));
    assert_eq!(mixed.code, 3, "{mixed:#?}");
    assert!(mixed.stderr.contains("cannot be used with"), "{mixed:#?}");

    assert!(server.decisions(&world.read).is_empty(), "nothing recorded");
    for run in [&refused, &forbidden, &exposed] {
        assert!(
            !run.stderr.contains(&world.read) && !run.stderr.contains(&world.evaluate),
            "{run:#?}"
        );
    }
}

#[test]
fn a_busy_server_is_asked_again_after_its_retry_after() {
    let world = World::new();
    // One policy that spins until its 1.5 s budget ends: while it runs, the
    // one worker is taken and (with no queue) the server answers 503.
    std::fs::write(
        world.path("busy.toml"),
        format!(
            "[[policy]]\nname = \"spin\"\npath = \"{}\"\n[policy.settings]\nmode = \"spin\"\n[policy.limits]\nfuel = 100000000000\ntimeout_ms = 1500\n",
            gatehouse_e2e::fixture_policy("trap-policy").display()
        ),
    )
    .expect("write");
    let server = world.serve_set("busy.toml", &["--workers", "1", "--queue", "0"]);
    let ci = token_file(&world, "ci.token", &world.evaluate);
    let input = release_file(&world, "harmless.json", &harmless_release("prod-eu"));
    let body = json!({"release": harmless_release("prod-eu")}).to_string();
    let deadline = Instant::now() + Duration::from_secs(300);
    // Another client keeps the worker busy; the CLI is turned away, waits
    // the Retry-After, and gets its answer once the worker is free. Until
    // a run of the CLI was turned away at least once, try again.
    loop {
        let base = server.base.clone();
        let token = world.evaluate.clone();
        let body = body.clone();
        let other = std::thread::spawn(move || {
            gatehouse_e2e::serve::post_to(&base, "/v1/evaluations", Some(&token), body.as_bytes())
                .status
        });
        let cli = run(&eval_args(&server.base, &ci, &input, &[]));
        assert_eq!(other.join().expect("other client"), 200);
        // The spinning policy is an evaluation error (exit 3), recorded.
        assert_eq!(cli.code, 3, "{cli:#?}");
        assert!(cli.stderr.contains("gatehouse: decision d-"), "{cli:#?}");
        if cli.stderr.contains("the server is busy (503)") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the CLI was never turned away: {cli:#?}"
        );
    }
}
