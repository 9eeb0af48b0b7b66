//! SQLite's group commit on one thread: the decisions of `POST
//! /v1/evaluations` are written by a dedicated thread with its own
//! connection (rusqlite, on the same libsqlite3 that sqlx links), so that a
//! group's statements run in one place instead of one thread round trip per
//! statement to sqlx's connection thread.
//!
//! Callers queue their decision on a channel and wait for its outcome; the
//! thread takes everything queued (up to [`super::MAX_BATCH`]), writes it in
//! one `BEGIN IMMEDIATE` transaction (one expiry sweep, one lookup or opening
//! per request, one chain-tail read, the chain lines, one commit and so one
//! WAL sync), and only then answers each caller: a decision is answered only
//! after its record is committed. While it commits, the next group queues.
//!
//! It writes what [`super::Store::write_group`] writes on PostgreSQL, the
//! same rows, the same chain lines ([`super::chain_lines`]), and takes the
//! store's in-process write lock for each group, so the writes that still go
//! through sqlx (approvals, expiry, sessions, migrations) never interleave
//! with it. Other processes on the same file wait on SQLite's own lock
//! (`busy_timeout`, as sqlx's connections do).

use super::{
    ChainedDecision, Job, MAX_BATCH, NewDecision, NewRequest, Queued, REQUEST_COLUMNS, RequestRow,
    StoreError, answer_group, chain_lines, only_row,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

/// How long a write waits for another process's lock on the file (sqlx's
/// default for its SQLite connections, which the other writes use).
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn sql(what: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError(format!("store: {what}: {e}"))
}

/// The writer thread's queue.
#[derive(Debug)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Queued>,
}

impl Writer {
    /// Opens a connection on the (existing, migrated) SQLite file at `path`
    /// and starts the thread that writes through it, under `writes` (the
    /// store's in-process write lock). The thread ends when the writer is
    /// dropped.
    pub(super) fn start(
        path: &Path,
        writes: Arc<tokio::sync::Mutex<()>>,
    ) -> Result<Writer, StoreError> {
        let connection = open(path)?;
        let (jobs, queued) = mpsc::channel();
        std::thread::Builder::new()
            .name("gatehouse-sqlite-writer".into())
            .spawn(move || run(connection, &queued, &writes))
            .map_err(|e| StoreError(format!("store: cannot start the SQLite writer: {e}")))?;
        Ok(Writer { jobs })
    }

    /// Queues a decision (and the request it opens or joins) for the next
    /// group and waits until that group is committed.
    pub(super) async fn record(
        &self,
        decision: NewDecision,
        request: Option<NewRequest>,
    ) -> Result<Option<RequestRow>, StoreError> {
        let (done, outcome) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Queued {
                decision,
                request,
                done,
            })
            .map_err(|_| {
                StoreError(
                    "store: the SQLite writer has stopped; the decision was not recorded".into(),
                )
            })?;
        outcome.await.map_err(|_| {
            StoreError(
                "store: the SQLite writer stopped before answering; nothing is known to be recorded"
                    .into(),
            )
        })?
    }
}

/// The writer's connection: read-write on the existing file, the same
/// durability as sqlx's (`synchronous = FULL`: a WAL sync per commit).
fn open(path: &Path) -> Result<Connection, StoreError> {
    let opening = |e: rusqlite::Error| {
        StoreError(format!(
            "store: cannot open {} for writing: {e}",
            gatehouse_core::untrusted::quote(&path.display().to_string())
        ))
    };
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(opening)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(opening)?;
    connection
        .pragma_update(None, "synchronous", "FULL")
        .map_err(opening)?;
    connection
        .pragma_update(None, "foreign_keys", "ON")
        .map_err(opening)?;
    Ok(connection)
}

/// The thread: waits for a decision, takes every one queued behind it, and
/// commits them as one group.
fn run(
    mut connection: Connection,
    queued: &mpsc::Receiver<Queued>,
    writes: &tokio::sync::Mutex<()>,
) {
    while let Ok(first) = queued.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queued.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let _lock = writes.blocking_lock();
        commit_group(&mut connection, batch);
    }
}

/// Commits a group in one transaction and answers each caller; when that
/// transaction fails, each decision is tried alone, so that one bad decision
/// fails only its own caller.
fn commit_group(connection: &mut Connection, batch: Vec<Queued>) {
    let jobs: Vec<Job<'_>> = batch.iter().map(Queued::job).collect();
    let result = write_group(connection, &jobs);
    drop(jobs);
    for queued in answer_group(batch, result) {
        let result = only_row(write_group(connection, &[queued.job()]));
        let _ = queued.done.send(result);
    }
}

/// Writes decisions (each with the request it opens or joins) in one
/// transaction, in order, as consecutive lines of the chain; the request
/// row of each. Rolled back (when the transaction is dropped) on any error.
fn write_group(
    connection: &mut Connection,
    jobs: &[Job<'_>],
) -> Result<Vec<Option<RequestRow>>, StoreError> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("beginning a write"))?;
    let now = jobs.iter().map(|(d, _)| d.created_at).max().unwrap_or(0);
    tx.prepare_cached(
        "UPDATE approval_requests SET state = 'expired', updated_at = ?1, resolution = 'expired: no decision before expires_at' WHERE state = 'pending' AND expires_at <= ?1",
    )
    .and_then(|mut s| s.execute(params![now]))
    .map_err(sql("expiring requests"))?;
    // One lookup (or opening) per digest and environment; nothing in the
    // group changes a request once it is open or joined.
    let mut joined: HashMap<(&str, &str), RequestRow> = HashMap::new();
    let mut requests: Vec<Option<RequestRow>> = Vec::with_capacity(jobs.len());
    for (decision, request) in jobs {
        requests.push(match request {
            Some(new) => {
                let key = (new.release_digest.as_str(), new.environment.as_str());
                if let Some(row) = joined.get(&key) {
                    Some(row.clone())
                } else {
                    let row = open_or_join(&tx, new, decision.created_at)?;
                    joined.insert(key, row.clone());
                    Some(row)
                }
            }
            None => None,
        });
    }
    let tail = chain_tail(&tx)?;
    let decisions: Vec<(&NewDecision, Option<String>)> = jobs
        .iter()
        .zip(requests.iter())
        .map(|((decision, _), row)| (*decision, row.as_ref().map(|r| r.id.clone())))
        .collect();
    let (lines, releases) = chain_lines(tail, &decisions)?;
    {
        let mut keep = tx
            .prepare_cached(
                "INSERT INTO releases (release_digest, release, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (release_digest) DO NOTHING",
            )
            .map_err(sql("storing the release"))?;
        let mut stored: HashSet<&str> = HashSet::new();
        for release in &releases {
            if stored.insert(&release.digest) {
                keep.execute(params![
                    release.digest.as_ref(),
                    release.json.as_ref(),
                    release.created_at
                ])
                .map_err(sql("storing the release"))?;
            }
        }
    }
    insert_decisions(&tx, &lines)?;
    tx.commit().map_err(sql("committing the decision"))?;
    Ok(requests)
}

/// Inserts the chained decisions, one cached statement run per row.
fn insert_decisions(
    tx: &rusqlite::Transaction<'_>,
    lines: &[ChainedDecision<'_>],
) -> Result<(), StoreError> {
    let mut insert = tx
        .prepare_cached(&format!(
            "INSERT INTO decisions ({}, record_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            super::DECISION_COLUMNS
        ))
        .map_err(sql("recording the decision"))?;
    for line in lines {
        let d = line.decision;
        let approvers = serde_json::to_string(&d.approvers).unwrap_or_else(|_| "[]".into());
        insert
            .execute(params![
                line.seq,
                d.id,
                d.created_at,
                d.release_digest,
                d.environment,
                d.release_stream,
                d.verdict,
                d.exit_code,
                line.request_id,
                d.submitted_by,
                approvers,
                d.report,
                line.line,
                line.sha256,
            ])
            .map_err(sql("recording the decision"))?;
    }
    Ok(())
}

/// The chain's last line, read inside the write: the seq and sha256 the
/// next line links to (`(0, None)` for an empty chain).
fn chain_tail(tx: &rusqlite::Transaction<'_>) -> Result<(i64, Option<String>), StoreError> {
    let last = tx
        .prepare_cached("SELECT seq, record_sha256 FROM decisions ORDER BY seq DESC LIMIT 1")
        .and_then(|mut s| {
            s.query_row([], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Option<String>>(1)?))
            })
            .optional()
        })
        .map_err(sql("reading the audit chain's last line"))?;
    match last {
        None => Ok((0, None)),
        Some((seq, Some(sha))) => Ok((seq, Some(sha))),
        Some((seq, None)) => Err(StoreError(format!(
            "store: decision seq {seq} has no record_sha256: the audit chain was altered; run `gatehouse audit verify --store URL`"
        ))),
    }
}

/// The pending request for `new`'s digest and environment: the one open
/// already, or `new` opened now. Its row.
fn open_or_join(
    tx: &rusqlite::Transaction<'_>,
    new: &NewRequest,
    now: i64,
) -> Result<RequestRow, StoreError> {
    let open = tx
        .prepare_cached(&format!(
            "SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE release_digest = ?1 AND environment = ?2 AND state = 'pending'"
        ))
        .and_then(|mut s| {
            s.query_row(params![new.release_digest, new.environment], request_row)
                .optional()
        })
        .map_err(sql("finding an open request"))?;
    if let Some(row) = open {
        return Ok(row);
    }
    let seq: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM approval_requests")
        .and_then(|mut s| s.query_row([], |row| row.get(0)))
        .map_err(sql("numbering a row"))?;
    tx.prepare_cached(&format!(
        "INSERT INTO approval_requests (seq, {REQUEST_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?9, ?10, ?9, NULL)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            seq,
            new.id,
            new.release_digest,
            new.environment,
            new.release_stream,
            new.owed,
            new.instructions,
            new.submission,
            now,
            new.expires_at,
        ])
    })
    .map_err(sql("opening a request"))?;
    tx.prepare_cached(&format!(
        "SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE id = ?1"
    ))
    .and_then(|mut s| s.query_row(params![new.id], request_row).optional())
    .map_err(sql("reading a request"))?
    .ok_or_else(|| StoreError("store: the request just opened is gone".into()))
}

/// A row of [`REQUEST_COLUMNS`].
fn request_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RequestRow> {
    Ok(RequestRow {
        id: row.get("id")?,
        release_digest: row.get("release_digest")?,
        environment: row.get("environment")?,
        release_stream: row.get("release_stream")?,
        state: row.get("state")?,
        owed: row.get("owed")?,
        instructions: row.get("instructions")?,
        submission: row.get("submission")?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        updated_at: row.get("updated_at")?,
        resolution: row.get("resolution")?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ApprovalRow, Store};
    use super::*;

    fn decision(id: &str, digest: &str) -> NewDecision {
        NewDecision {
            id: id.into(),
            created_at: 1_000,
            release_digest: Some(digest.into()),
            environment: Some("prod".into()),
            release_stream: Some("main".into()),
            verdict: "require-approval".into(),
            exit_code: 2,
            submitted_by: "ci".into(),
            approvers: vec!["alice".into()],
            report: "{}".into(),
            release: Some(format!("{{\"digest\":\"{digest}\"}}")),
            record: serde_json::json!({
                "schema": gatehouse_core::audit::SCHEMA, "seq": 0, "time": "2026-01-01T00:00:00Z",
                "evaluated_at": null, "host_version": "0", "input_sha256": "ab", "input": null,
                "metadata": {}, "config": null, "policies": [], "verdict": "require-approval",
                "exit_code": 2, "error": null, "limit_hit": null, "release_digest": digest,
                "prev_sha256": "",
            })
            .to_string(),
        }
    }

    fn request(id: &str, digest: &str) -> NewRequest {
        NewRequest {
            id: id.into(),
            release_digest: digest.into(),
            environment: "prod".into(),
            release_stream: "main".into(),
            owed: "[]".into(),
            instructions: "[]".into(),
            submission: "{}".into(),
            expires_at: i64::MAX,
        }
    }

    async fn verified_records(store: &Store) -> u64 {
        let lines: Vec<Vec<u8>> = store
            .audit_page(0, 10_000)
            .await
            .expect("chain")
            .into_iter()
            .map(|(_, line)| line.into_bytes())
            .collect();
        gatehouse_core::audit::verify_lines(&lines)
            .expect("an intact chain")
            .records
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_sqlite_file_is_written_by_the_writer_thread_beside_sqlx_writes() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = Arc::new(Store::open(&url).await.expect("open"));
        assert!(store.writer.is_some(), "a SQLite file gets the writer");
        let first = store
            .record_decision(
                decision("d-0", "sha256:aa"),
                Some(request("r-a", "sha256:aa")),
            )
            .await
            .expect("recorded")
            .expect("a request");
        assert_eq!(first.id, "r-a");
        // Decisions on two digests from many callers at once, while
        // approvals go onto the first request through sqlx's connections.
        let writers: Vec<_> = (1..=200)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let digest = if i % 2 == 0 { "sha256:aa" } else { "sha256:bb" };
                    let opened = store
                        .record_decision(
                            decision(&format!("d-{i}"), digest),
                            Some(request(&format!("r-{i}"), digest)),
                        )
                        .await
                        .expect("recorded");
                    (digest, opened.expect("a request").id)
                })
            })
            .collect();
        let approver = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut accepted = 0;
                for n in 0..5 {
                    let approval = ApprovalRow {
                        statement: format!("s{n}"),
                        signature: "g".into(),
                        signer: "alice".into(),
                        key_fingerprint: "SHA256:x".into(),
                        decision: "approve".into(),
                        uploaded_by: "approvers".into(),
                        created_at: 1_001,
                    };
                    let update = super::super::RequestUpdate {
                        state: "pending".into(),
                        owed: "[]".into(),
                        resolution: None,
                    };
                    let done = store
                        .accept_approval(
                            "r-a",
                            n,
                            &approval,
                            &decision(&format!("a-{n}"), "sha256:aa"),
                            &update,
                        )
                        .await
                        .expect("accept");
                    if matches!(done, super::super::Accepted::Done(_)) {
                        accepted += 1;
                    }
                }
                accepted
            })
        };
        let mut joined = HashMap::new();
        for writer in writers {
            let (digest, id) = writer.await.expect("joined");
            joined.entry(digest).or_insert_with(HashSet::new).insert(id);
        }
        assert_eq!(approver.await.expect("joined"), 5);
        // One request per digest, whichever group opened it.
        assert_eq!(joined["sha256:aa"].len(), 1);
        assert_eq!(
            joined["sha256:aa"].iter().next().map(String::as_str),
            Some("r-a")
        );
        assert_eq!(joined["sha256:bb"].len(), 1);
        assert_eq!(verified_records(&store).await, 206);
        // Each release once, as sent.
        assert_eq!(
            store.release("sha256:bb").await.expect("read").as_deref(),
            Some("{\"digest\":\"sha256:bb\"}")
        );
        let read = store.decision("d-7").await.expect("read").expect("there");
        assert_eq!(read.decision.approvers, vec!["alice".to_string()]);
        assert_eq!(
            read.request_id.as_deref(),
            joined["sha256:bb"].iter().next().map(String::as_str)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_processes_writers_on_one_file_append_to_one_chain() {
        // Two stores on one file stand for two replicas: each has its own
        // writer thread and they wait on SQLite's lock for each other.
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let one = Arc::new(Store::open(&url).await.expect("open"));
        let two = Arc::new(Store::open(&url).await.expect("open again"));
        let writers: Vec<_> = (0..200)
            .map(|i| {
                let store = Arc::clone(if i % 2 == 0 { &one } else { &two });
                tokio::spawn(async move {
                    store
                        .record_decision(decision(&format!("d-{i}"), "sha256:cc"), None)
                        .await
                })
            })
            .collect();
        for writer in writers {
            writer.await.expect("joined").expect("recorded");
        }
        assert_eq!(verified_records(&one).await, 200);
    }

    #[tokio::test]
    async fn an_in_memory_store_has_no_writer_thread() {
        assert_eq!(super::super::sqlite_file("sqlite::memory:"), None);
        assert_eq!(super::super::sqlite_file("postgres://u@h/d"), None);
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("g.db");
        std::fs::write(&path, b"").expect("file");
        let url = format!("sqlite://{}?mode=rw", path.display());
        assert_eq!(super::super::sqlite_file(&url), Some(path));
    }
}
