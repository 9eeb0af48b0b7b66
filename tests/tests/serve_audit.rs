//! The audit trail in a `gatehouse serve` store, end to end on SQLite: the
//! real binary records decisions (auto-approve, fail, require-approval
//! opened and joined, an approval accepted), then
//!
//! - `gatehouse audit verify --store URL` accepts the chain, and
//!   `gatehouse audit export --store URL` writes it as JSON lines that the
//!   file verifier (`gatehouse audit verify FILE`) accepts, byte for byte
//!   what the store holds (what `GET /v1/decisions/{id}` shows as `record`);
//! - the release is not copied into the records (`input` is null; the
//!   record names it by `release_digest`);
//! - a record edited, rows reordered, or a row deleted directly in the
//!   SQLite file is found by `audit verify --store`, which names the seq and
//!   exits 3, as the file verifier does.
//!
//! serve_replicas.rs checks the chain under load, on PostgreSQL.

#![forbid(unsafe_code)]

use gatehouse_e2e::serve::{World, destructive_release, harmless_release};
use gatehouse_e2e::{Run, gatehouse_command};
use serde_json::{Value, json};
use std::process::Stdio;

fn audit(args: &[&str]) -> Run {
    gatehouse_command()
        .arg("audit")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run gatehouse audit")
        .into()
}

/// Runs SQL on the SQLite store directly, as someone with the file would.
fn sqlite_execute(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::raw_sql(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
}

/// Records five decisions; returns their ids in order.
fn record_decisions(world: &World) -> Vec<String> {
    let server = world.serve(&[]);
    let mut ids = Vec::new();
    let mut decide = |body: Value| -> Value {
        let answer = server.evaluate(&world.evaluate, body);
        assert_eq!(answer.status, 200, "{answer:#?}");
        ids.push(answer.body["decision_id"].as_str().expect("id").to_string());
        answer.body
    };
    decide(json!({"release": harmless_release("prod-eu")}));
    decide(json!({"release": destructive_release("prod-eu", false), "environment": "fail-eu"}));
    let release = destructive_release("prod-eu", false);
    let opened = decide(json!({"release": release}));
    let joined = decide(json!({"release": release}));
    let request = opened["approval_request"]["id"].as_str().expect("request");
    assert_eq!(joined["approval_request"]["id"], request);
    let digest = world.digest(&release);
    let approval = world.approval("alice", &digest, "prod-eu", "dba");
    let approved = server.post_approval(&world.approve, request, &approval);
    assert_eq!(approved.status, 200, "{approved:#?}");
    assert_eq!(
        approved.body["approval_request"]["state"], "approved",
        "{approved:#?}"
    );
    let id = approved.body["decision"]["decision_id"]
        .as_str()
        .expect("decision id");
    ids.push(id.to_string());
    // Every record as the API shows it: the stored line.
    for id in &ids {
        let shown = server.get(&format!("/v1/decisions/{id}"), Some(&world.read));
        assert_eq!(shown.status, 200, "{shown:#?}");
        assert_eq!(shown.body["record"]["input"], Value::Null, "{shown:#?}");
    }
    server.stop();
    ids
}

#[test]
fn the_store_chain_verifies_and_exports_as_a_file_the_file_verifier_accepts() {
    let world = World::new();
    let ids = record_decisions(&world);
    let store = world.store();

    let verified = audit(&["verify", "--store", &store]);
    assert_eq!(verified.code, 0, "{verified:#?}");
    assert!(
        verified.stdout.starts_with("OK: 5 records, chain intact"),
        "{verified:#?}"
    );
    let json = audit(&["verify", "--store", &store, "--output", "json"]).json();
    assert_eq!(json["ok"], true);
    assert_eq!(json["records"], 5);

    let file = world.path("export.jsonl");
    let exported = audit(&[
        "export",
        "--store",
        &store,
        "--output",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(exported.code, 0, "{exported:#?}");
    let from_file = audit(&["verify", file.to_str().expect("utf-8"), "--output", "json"]);
    assert_eq!(from_file.code, 0, "{from_file:#?}");
    let from_file = from_file.json();
    assert_eq!(from_file["records"], 5);
    assert_eq!(from_file["last_sha256"], json["last_sha256"]);
    // stdout gives the same bytes.
    let to_stdout = audit(&["export", "--store", &store]);
    assert_eq!(to_stdout.code, 0, "{to_stdout:#?}");
    let text = std::fs::read_to_string(&file).expect("export");
    assert_eq!(to_stdout.stdout, text);
    // One record per decision, in order, each naming its release by digest
    // and not carrying it.
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), ids.len());
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], i + 1);
        assert_eq!(line["input"], Value::Null, "{line}");
        assert!(
            line["release_digest"]
                .as_str()
                .is_some_and(|d| d.starts_with("sha256:")),
            "{line}"
        );
    }
    assert_eq!(lines[4]["verdict"], "auto-approve");
    assert_eq!(lines[1]["verdict"], "fail");
}

#[test]
fn tampering_with_the_store_is_found_and_named_by_seq() {
    let world = World::new();
    record_decisions(&world);
    let store = world.store();
    let verify = || audit(&["verify", "--store", &store]);
    assert_eq!(verify().code, 0);

    // Rows reordered: records 2 and 3 swap places.
    sqlite_execute(
        &store,
        "UPDATE decisions SET seq = -1 WHERE seq = 2; UPDATE decisions SET seq = 2 WHERE seq = 3; UPDATE decisions SET seq = 3 WHERE seq = -1;",
    );
    let reordered = verify();
    assert_eq!(reordered.code, 3, "{reordered:#?}");
    assert!(
        reordered.stdout.contains("FAILED: line 2 reordered"),
        "{reordered:#?}"
    );
    assert!(reordered.stdout.contains("seq 2"), "{reordered:#?}");
    sqlite_execute(
        &store,
        "UPDATE decisions SET seq = -1 WHERE seq = 2; UPDATE decisions SET seq = 2 WHERE seq = 3; UPDATE decisions SET seq = 3 WHERE seq = -1;",
    );
    assert_eq!(verify().code, 0, "{:#?}", verify());

    // A record edited: the fail of record 2 made an approval.
    let edit = |from: &str, to: &str| {
        sqlite_execute(
            &store,
            &format!(
                "UPDATE decisions SET record = replace(record, '{from}', '{to}') WHERE seq = 2"
            ),
        );
    };
    edit("\"verdict\":\"fail\"", "\"verdict\":\"auto-approve\"");
    let edited = verify();
    assert_eq!(edited.code, 3, "{edited:#?}");
    assert!(
        edited.stdout.contains("FAILED: line 2 edited"),
        "{edited:#?}"
    );
    assert!(
        edited
            .stderr
            .contains("SELECT * FROM decisions WHERE seq = 2"),
        "{edited:#?}"
    );
    edit("\"verdict\":\"auto-approve\"", "\"verdict\":\"fail\"");
    assert_eq!(verify().code, 0);

    // A row deleted.
    sqlite_execute(&store, "DELETE FROM decisions WHERE seq = 3");
    let deleted = verify();
    assert_eq!(deleted.code, 3, "{deleted:#?}");
    assert!(
        deleted.stdout.contains("FAILED: line 3 deleted"),
        "{deleted:#?}"
    );
    assert!(
        deleted.stdout.contains("record 3 was deleted"),
        "{deleted:#?}"
    );
}

#[test]
fn a_missing_or_foreign_store_is_an_error_and_is_not_created() {
    let world = World::new();
    let missing = world.path("missing.db");
    let url = format!("sqlite://{}", missing.display());
    for args in [
        vec!["verify", "--store", url.as_str()],
        vec!["export", "--store", url.as_str()],
    ] {
        let run = audit(&args);
        assert_eq!(run.code, 3, "{run:#?}");
        assert!(run.stderr.contains("cannot open it"), "{run:#?}");
        assert!(!missing.exists(), "a read never creates a store");
    }
    let mysql = audit(&["verify", "--store", "mysql://u@h/d"]);
    assert_eq!(mysql.code, 3, "{mysql:#?}");
    assert!(mysql.stderr.contains("use sqlite://FILE"), "{mysql:#?}");
}
