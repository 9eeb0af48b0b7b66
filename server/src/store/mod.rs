//! The service's state: decisions (the audit trail), approval requests and
//! the approvals posted onto them, in SQLite (PostgreSQL through the same
//! code: sqlx's `Any` driver, runtime queries, `$N` parameters both accept).
//!
//! Every write is one transaction, committed before the caller answers:
//! a decision is answered only once it is recorded, and a store error is
//! an error (5xx), never a verdict. Writes are serialised: in-process by a
//! lock (SQLite has one writer anyway, and a deferred transaction that has
//! read cannot always upgrade to a write), and for PostgreSQL replicas by an
//! advisory transaction lock taken first in each write, so that `seq`
//! numbers (`MAX + 1` inside the write) never fork.
//!
//! The decisions are one audit chain ([`chain`]): each decision's record is
//! linked to the one before inside the transaction that records it, under
//! that same serialisation, so every replica appends to one chain without
//! forks, gaps or duplicates.
//!
//! One exception to "through the same code": on a SQLite file, the
//! decisions' group commit runs on one thread with its own synchronous
//! connection ([`sqlite_writer`]), under the same in-process lock and
//! writing the same rows and chain lines; every other query stays sqlx's.

pub mod chain;
pub mod migrations;
pub mod sessions;
mod sqlite_writer;

use migrations::{CHAIN_EXISTING, MIGRATIONS, SCHEMA_VERSION};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

/// A store failure: what failed, for the log and a 5xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

fn db(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| StoreError(format!("store: {what}: {e}"))
}

/// Which SQL dialect the store speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Dialect {
    /// The dialect of a store URL, or an error naming the schemes accepted.
    pub fn of(url: &str) -> Result<Dialect, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Dialect::Postgres)
        } else {
            Err(StoreError(format!(
                "--store {}: use sqlite://FILE (created when missing) or postgres://USER@HOST/DB",
                gatehouse_core::untrusted::quote(url)
            )))
        }
    }
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct NewDecision {
    /// Its public id.
    pub id: String,
    /// When, Unix seconds.
    pub created_at: i64,
    /// The release digest, once the input was read.
    pub release_digest: Option<String>,
    /// The release's environment.
    pub environment: Option<String>,
    /// The release's stream.
    pub release_stream: Option<String>,
    /// `auto-approve`, `require-approval`, `fail` or `error`.
    pub verdict: String,
    /// 0, 2, 1 or 3.
    pub exit_code: i64,
    /// The token name that submitted it.
    pub submitted_by: String,
    /// The principals of the valid approvals it used.
    pub approvers: Vec<String>,
    /// The report (or error report) JSON.
    pub report: String,
    /// The normalised release JSON, when the evaluation moved it out of
    /// `record` (recording only; stored once per digest, in `releases`).
    pub release: Option<String>,
    /// The audit record JSON: as the evaluation built it when recording
    /// (the store links it into the chain and moves its release out,
    /// [`chain::link`]); as read, the chain line exactly as stored.
    pub record: String,
}

/// A decision as stored.
#[derive(Debug, Clone)]
pub struct DecisionRow {
    /// Its order in the store.
    pub seq: i64,
    /// The decision as recorded.
    pub decision: NewDecision,
    /// The approval request it opened or joined.
    pub request_id: Option<String>,
}

/// A request to open (or join) for a require-approval decision.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// Its id, when it is opened.
    pub id: String,
    /// The release digest.
    pub release_digest: String,
    /// The environment.
    pub environment: String,
    /// The release stream.
    pub release_stream: String,
    /// What is still owed, JSON.
    pub owed: String,
    /// The policies' instructions, JSON list.
    pub instructions: String,
    /// The evaluation request without approvals, JSON.
    pub submission: String,
    /// When it stops waiting, Unix seconds.
    pub expires_at: i64,
}

/// An approval request as stored.
#[derive(Debug, Clone)]
pub struct RequestRow {
    /// Its id.
    pub id: String,
    /// The release digest.
    pub release_digest: String,
    /// The environment.
    pub environment: String,
    /// The release stream.
    pub release_stream: String,
    /// `pending`, `approved`, `rejected` or `expired`.
    pub state: String,
    /// What is still owed, JSON.
    pub owed: String,
    /// The instructions, JSON list.
    pub instructions: String,
    /// The evaluation request without approvals, JSON.
    pub submission: String,
    /// Opened, Unix seconds.
    pub created_at: i64,
    /// Expires, Unix seconds.
    pub expires_at: i64,
    /// Last changed, Unix seconds.
    pub updated_at: i64,
    /// Why it closed, when it did.
    pub resolution: Option<String>,
}

/// An approval (or signed rejection) accepted onto a request.
#[derive(Debug, Clone)]
pub struct ApprovalRow {
    /// The statement text as uploaded.
    pub statement: String,
    /// The signature text as uploaded.
    pub signature: String,
    /// The statement's principal.
    pub signer: String,
    /// The signing key's fingerprint.
    pub key_fingerprint: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// The token name that uploaded it.
    pub uploaded_by: String,
    /// When it was accepted, Unix seconds.
    pub created_at: i64,
}

/// How a request changes when an approval is accepted.
#[derive(Debug, Clone)]
pub struct RequestUpdate {
    /// The new state.
    pub state: String,
    /// What is still owed, JSON.
    pub owed: String,
    /// Why it closed, when it does.
    pub resolution: Option<String>,
}

/// Filters of `GET /v1/decisions`.
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    /// Only this environment.
    pub environment: Option<String>,
    /// Only this verdict.
    pub verdict: Option<String>,
    /// Only at or after, Unix seconds.
    pub since: Option<i64>,
    /// Only before, Unix seconds.
    pub until: Option<i64>,
    /// Only after this `seq` (the previous page's `next`).
    pub after: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// The outcome of accepting an approval.
#[derive(Debug)]
pub enum Accepted {
    /// Recorded; the request as it is now.
    Done(RequestRow),
    /// The request was no longer pending (another replica or request got
    /// there first): nothing recorded.
    NotPending(RequestRow),
    /// Another approval was accepted onto it since the caller read its
    /// approvals, so the caller's evaluation did not see it: nothing
    /// recorded; evaluate again.
    Stale,
    /// No such request.
    Missing,
}

/// The store: a connection pool and its dialect.
#[derive(Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// Serialises this process's writes (see the module's doc).
    writes: Arc<tokio::sync::Mutex<()>>,
    /// Decisions waiting for the next group commit ([`Store::record_decision`]).
    queue: Arc<std::sync::Mutex<Vec<Queued>>>,
    /// On a SQLite file opened to serve: the thread that commits the
    /// decisions ([`sqlite_writer`]) instead of the queue above.
    writer: Option<sqlite_writer::Writer>,
}

/// An open write transaction, with the lock that serialises it.
type Tx = (
    sqlx::Transaction<'static, sqlx::Any>,
    tokio::sync::OwnedMutexGuard<()>,
);

/// At most this many decisions are committed in one transaction.
const MAX_BATCH: usize = 256;

/// A decision waiting to be recorded, and where its outcome goes.
#[derive(Debug)]
struct Queued {
    decision: NewDecision,
    request: Option<NewRequest>,
    done: tokio::sync::oneshot::Sender<Result<Option<RequestRow>, StoreError>>,
}

impl Queued {
    /// This decision as a group write takes it.
    fn job(&self) -> Job<'_> {
        (&self.decision, self.request.as_ref())
    }
}

/// One decision of a group write, with the request it opens or joins.
type Job<'a> = (&'a NewDecision, Option<&'a NewRequest>);

/// Answers each caller of a group with the group's outcome, the same for
/// every store. A failed group of more than one decision is answered to no
/// one and given back, to be written one by one, so that one bad decision
/// fails only its own caller.
fn answer_group(
    batch: Vec<Queued>,
    result: Result<Vec<Option<RequestRow>>, StoreError>,
) -> Vec<Queued> {
    match result {
        Ok(rows) => {
            for (queued, row) in batch.into_iter().zip(rows) {
                let _ = queued.done.send(Ok(row));
            }
            Vec::new()
        }
        Err(e) if batch.len() == 1 => {
            for queued in batch {
                let _ = queued.done.send(Err(e.clone()));
            }
            Vec::new()
        }
        Err(_) => batch,
    }
}

/// The request row of a decision written alone.
fn only_row(
    rows: Result<Vec<Option<RequestRow>>, StoreError>,
) -> Result<Option<RequestRow>, StoreError> {
    rows.and_then(|mut rows| {
        rows.pop()
            .ok_or_else(|| StoreError("store: a write lost its row".into()))
    })
}

const REQUEST_COLUMNS: &str = "id, release_digest, environment, release_stream, state, owed, instructions, submission, created_at, expires_at, updated_at, resolution";
const DECISION_COLUMNS: &str = "seq, id, created_at, release_digest, environment, release_stream, verdict, exit_code, request_id, submitted_by, approvers, report, record";

/// Values bound per decision row: [`DECISION_COLUMNS`] and `record_sha256`.
const DECISION_BINDS: usize = 14;

/// Decision rows per `INSERT`: 64 × [`DECISION_BINDS`] = 896 bound values,
/// under SQLite's oldest limit of 999 per statement (PostgreSQL allows 65,535).
const ROWS_PER_INSERT: usize = 64;

/// A decision ready to insert: its seq, its chain line and that line's
/// sha256, and the approval request it opened or joined.
struct ChainedDecision<'a> {
    decision: &'a NewDecision,
    seq: i64,
    line: String,
    sha256: String,
    request_id: Option<String>,
}

/// A release to keep once per digest: from the decision (moved out of its
/// record on the evaluation thread) or out of its record when linking.
struct KeptRelease<'a> {
    digest: Cow<'a, str>,
    json: Cow<'a, str>,
    created_at: i64,
}

/// Makes `decisions` (each with the request it opened or joined) the
/// chain's next lines after `tail` (the seq and sha256 of the line before):
/// each decision's line, seq and sha256, and the releases to keep (a digest
/// may repeat; keep its first). No I/O: both stores' writers use it.
fn chain_lines<'a>(
    mut tail: (i64, Option<String>),
    decisions: &[(&'a NewDecision, Option<String>)],
) -> Result<(Vec<ChainedDecision<'a>>, Vec<KeptRelease<'a>>), StoreError> {
    let mut lines = Vec::with_capacity(decisions.len());
    let mut releases = Vec::new();
    for (decision, request_id) in decisions {
        let seq = tail.0 + 1;
        let linked = chain::link(&decision.record, seq, tail.1.as_deref())?;
        let release = match linked.release {
            Some((digest, json)) => Some((Cow::Owned(digest), Cow::Owned(json))),
            None => match (&decision.release_digest, &decision.release) {
                (Some(digest), Some(json)) => {
                    Some((Cow::Borrowed(digest.as_str()), Cow::Borrowed(json.as_str())))
                }
                _ => None,
            },
        };
        if let Some((digest, json)) = release {
            releases.push(KeptRelease {
                digest,
                json,
                created_at: decision.created_at,
            });
        }
        tail = (seq, Some(linked.sha256.clone()));
        lines.push(ChainedDecision {
            decision,
            seq,
            line: linked.line,
            sha256: linked.sha256,
            request_id: request_id.clone(),
        });
    }
    Ok((lines, releases))
}

impl Store {
    /// Opens (creating a SQLite file when missing) and migrates the store at
    /// `url`. A store whose schema is newer than this binary's is refused.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let mut store = Store::connect(url, true).await?;
        store.migrate(url).await?;
        if let Some(path) = sqlite_file(url) {
            store.writer = Some(sqlite_writer::Writer::start(
                &path,
                Arc::clone(&store.writes),
            )?);
        }
        Ok(store)
    }

    /// Opens an existing store to read it (`gatehouse audit verify|export
    /// --store`): never creates or migrates one; a store at another schema
    /// version than this binary's is refused, saying what to do.
    pub async fn open_existing(url: &str) -> Result<Store, StoreError> {
        let store = Store::connect(url, false).await?;
        let version = store.schema_version().await.map_err(|e| {
            StoreError(format!(
                "--store {}: not a gatehouse store ({e}); pass the URL `gatehouse serve --store` uses",
                redact(url)
            ))
        })?;
        if version != SCHEMA_VERSION {
            return Err(StoreError(format!(
                "--store {}: the store is at schema version {version}, this gatehouse reads version {SCHEMA_VERSION}: {}",
                redact(url),
                if version < SCHEMA_VERSION {
                    "start this version's `gatehouse serve --store URL` once to migrate it"
                } else {
                    "use the newer gatehouse that wrote it"
                }
            )));
        }
        Ok(store)
    }

    async fn connect(url: &str, create: bool) -> Result<Store, StoreError> {
        let dialect = Dialect::of(url)?;
        sqlx::any::install_default_drivers();
        let connect_url = match dialect {
            Dialect::Sqlite if !url.contains('?') => {
                format!("{url}?mode={}", if create { "rwc" } else { "rw" })
            }
            _ => url.to_string(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(match dialect {
                Dialect::Sqlite => 4,
                Dialect::Postgres => 8,
            })
            .connect(&connect_url)
            .await
            .map_err(|e| StoreError(format!("--store {}: cannot open it: {e}", redact(url))))?;
        let store = Store {
            pool,
            dialect,
            writes: Arc::new(tokio::sync::Mutex::new(())),
            queue: Arc::new(std::sync::Mutex::new(Vec::new())),
            writer: None,
        };
        if dialect == Dialect::Sqlite && create {
            // Readers do not block the writer, and the setting stays with the file.
            sqlx::query("PRAGMA journal_mode=WAL")
                .fetch_optional(&store.pool)
                .await
                .map_err(db("enabling write-ahead logging"))?;
        }
        Ok(store)
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Whether the store answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .map(drop)
            .map_err(db("ping"))
    }

    /// The schema version the store is at (0 for an empty store).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT MAX(version) AS v FROM gatehouse_schema")
            .fetch_one(&self.pool)
            .await
            .map_err(db("reading the schema version"))?;
        let version: Option<i64> = row.try_get("v").map_err(db("reading the schema version"))?;
        Ok(version.unwrap_or(0))
    }

    async fn migrate(&self, url: &str) -> Result<(), StoreError> {
        // Under the write lock: replicas starting together on one empty
        // PostgreSQL must not race to create the table (PostgreSQL's
        // `IF NOT EXISTS` is not safe against a concurrent creation).
        let (mut tx, _lock) = self.begin_write().await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS gatehouse_schema (version BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(db("creating gatehouse_schema"))?;
        let row = sqlx::query("SELECT MAX(version) AS v FROM gatehouse_schema")
            .fetch_one(&mut *tx)
            .await
            .map_err(db("reading the schema version"))?;
        let current: i64 = row
            .try_get::<Option<i64>, _>("v")
            .map_err(db("reading the schema version"))?
            .unwrap_or(0);
        if current > SCHEMA_VERSION {
            return Err(StoreError(format!(
                "--store {}: the store is at schema version {current}, newer than this gatehouse's ({SCHEMA_VERSION}): it was written by a newer gatehouse. Run that version (or newer), or use another store; this one is left untouched",
                redact(url)
            )));
        }
        for (index, statements) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
            let version = index as i64 + 1;
            for statement in *statements {
                sqlx::query(statement)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError(format!("store: migration {version}: {e}")))?;
            }
            if version == CHAIN_EXISTING {
                Store::chain_existing(&mut tx).await?;
            }
            sqlx::query("INSERT INTO gatehouse_schema (version) VALUES ($1)")
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(db("recording the schema version"))?;
        }
        tx.commit().await.map_err(db("committing the migrations"))
    }

    /// Chains the decisions recorded before the store had a chain (schema
    /// version 1), in seq order: each record becomes the chain line with its
    /// decision's seq, linked to the line before, its release moved to
    /// `releases`. Nothing else in a record changes.
    async fn chain_existing(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query("SELECT seq, created_at, record FROM decisions ORDER BY seq")
            .fetch_all(&mut **tx)
            .await
            .map_err(db("reading the decisions to chain"))?;
        let mut prev: Option<String> = None;
        for row in rows {
            let seq: i64 = row.try_get("seq").map_err(db("reading a decision"))?;
            let created_at: i64 = row
                .try_get("created_at")
                .map_err(db("reading a decision"))?;
            let record: String = row.try_get("record").map_err(db("reading a decision"))?;
            let linked = chain::link(&record, seq, prev.as_deref()).map_err(|e| {
                StoreError(format!(
                    "store: migration {CHAIN_EXISTING}: decision seq {seq}: {}",
                    e.0
                ))
            })?;
            let release = linked
                .release
                .as_ref()
                .map(|(d, j)| (d.as_str(), j.as_str()));
            Store::keep_release(tx, release, created_at).await?;
            sqlx::query("UPDATE decisions SET record = $1, record_sha256 = $2 WHERE seq = $3")
                .bind(linked.line)
                .bind(linked.sha256.clone())
                .bind(seq)
                .execute(&mut **tx)
                .await
                .map_err(db("chaining a decision"))?;
            prev = Some(linked.sha256);
        }
        Ok(())
    }

    /// Stores a release once per digest (a later decision on the same
    /// digest finds it there).
    async fn keep_release(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        release: Option<(&str, &str)>,
        now: i64,
    ) -> Result<(), StoreError> {
        let Some((digest, json)) = release else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO releases (release_digest, release, created_at) VALUES ($1, $2, $3) ON CONFLICT (release_digest) DO NOTHING",
        )
        .bind(digest.to_string())
        .bind(json.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(db("storing the release"))?;
        Ok(())
    }

    /// Begins a write: the in-process lock, then the transaction, then (on
    /// PostgreSQL) the advisory lock every replica's writes take.
    async fn begin_write(&self) -> Result<Tx, StoreError> {
        let lock = Arc::clone(&self.writes).lock_owned().await;
        let tx = Store::begin_locked(&self.pool, self.dialect).await?;
        Ok((tx, lock))
    }

    /// Begins a transaction and, on PostgreSQL, takes the advisory lock
    /// that serialises the writes of every replica (held to its end).
    async fn begin_locked(
        pool: &AnyPool,
        dialect: Dialect,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let mut tx = pool.begin().await.map_err(db("beginning a write"))?;
        if dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7411)")
                .execute(&mut *tx)
                .await
                .map_err(db("taking the write lock"))?;
        }
        Ok(tx)
    }

    /// Marks pending requests whose time ran out as expired.
    async fn expire(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE approval_requests SET state = 'expired', updated_at = $1, resolution = 'expired: no decision before expires_at' WHERE state = 'pending' AND expires_at <= $2",
        )
        .bind(now)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(db("expiring requests"))?;
        Ok(())
    }

    /// Expires what ran out (reads call this first, so that they never
    /// show a stale request as pending). A read does not serialise on the
    /// writers: it only looks (one indexed query) whether a pending request
    /// is past its time, and takes the write lock only when one is, which
    /// happens once per expired request. Writes expire inside their own
    /// transaction ([`Store::record_decision`], [`Store::accept_approval`]).
    pub async fn expire_now(&self, now: i64) -> Result<(), StoreError> {
        let due = sqlx::query(
            "SELECT id FROM approval_requests WHERE state = 'pending' AND expires_at <= $1 LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking for expired requests"))?;
        if due.is_none() {
            return Ok(());
        }
        let (mut tx, _lock) = self.begin_write().await?;
        Store::expire(&mut tx, now).await?;
        tx.commit().await.map_err(db("committing expiry"))
    }

    async fn next_seq(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        table: &str,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(&format!("SELECT MAX(seq) AS s FROM {table}"))
            .fetch_one(&mut **tx)
            .await
            .map_err(db("numbering a row"))?;
        let max: Option<i64> = row.try_get("s").map_err(db("numbering a row"))?;
        Ok(max.unwrap_or(0) + 1)
    }

    /// The chain's last line, read under the write lock: the seq and
    /// sha256 the next line links to (`(0, None)` for an empty chain).
    async fn chain_tail(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ) -> Result<(i64, Option<String>), StoreError> {
        let last =
            sqlx::query("SELECT seq, record_sha256 FROM decisions ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut **tx)
                .await
                .map_err(db("reading the audit chain's last line"))?;
        let Some(row) = last else {
            return Ok((0, None));
        };
        let seq: i64 = row.try_get("seq").map_err(db("reading the audit chain"))?;
        let sha: Option<String> = row
            .try_get("record_sha256")
            .map_err(db("reading the audit chain"))?;
        let sha = sha.ok_or_else(|| {
            StoreError(format!(
                "store: decision seq {seq} has no record_sha256: the audit chain was altered; run `gatehouse audit verify --store URL`"
            ))
        })?;
        Ok((seq, Some(sha)))
    }

    /// Makes `decisions` (each with the request it opened or joined) the
    /// chain's next lines after `tail` (the seq and sha256 of the line
    /// before), keeping each release once per digest.
    async fn chain_decisions<'a>(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        tail: (i64, Option<String>),
        decisions: &[(&'a NewDecision, Option<String>)],
    ) -> Result<Vec<ChainedDecision<'a>>, StoreError> {
        let (lines, releases) = chain_lines(tail, decisions)?;
        let mut kept: HashSet<&str> = HashSet::new();
        for release in &releases {
            if kept.insert(&release.digest) {
                Store::keep_release(
                    tx,
                    Some((&release.digest, &release.json)),
                    release.created_at,
                )
                .await?;
            }
        }
        Ok(lines)
    }

    /// Inserts `lines` (each a decision, its chain line and seq, and its
    /// request's id) with as few statements as the bind limit allows: one
    /// multi-row `INSERT` per [`ROWS_PER_INSERT`] decisions.
    async fn insert_decisions(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        lines: &[ChainedDecision<'_>],
    ) -> Result<(), StoreError> {
        for chunk in lines.chunks(ROWS_PER_INSERT) {
            let mut sql =
                format!("INSERT INTO decisions ({DECISION_COLUMNS}, record_sha256) VALUES ");
            for row in 0..chunk.len() {
                if row > 0 {
                    sql.push_str(", ");
                }
                let first = row * DECISION_BINDS;
                let places: Vec<String> = (1..=DECISION_BINDS)
                    .map(|i| format!("${}", first + i))
                    .collect();
                sql.push('(');
                sql.push_str(&places.join(", "));
                sql.push(')');
            }
            let mut query = sqlx::query(&sql);
            for line in chunk {
                let d = line.decision;
                let approvers = serde_json::to_string(&d.approvers).unwrap_or_else(|_| "[]".into());
                query = query
                    .bind(line.seq)
                    .bind(d.id.as_str())
                    .bind(d.created_at)
                    .bind(d.release_digest.as_deref())
                    .bind(d.environment.as_deref())
                    .bind(d.release_stream.as_deref())
                    .bind(d.verdict.as_str())
                    .bind(d.exit_code)
                    .bind(line.request_id.as_deref())
                    .bind(d.submitted_by.as_str())
                    .bind(approvers)
                    .bind(d.report.as_str())
                    .bind(line.line.as_str())
                    .bind(line.sha256.as_str());
            }
            query
                .execute(&mut **tx)
                .await
                .map_err(db("recording the decision"))?;
        }
        Ok(())
    }

    /// Records a decision and, for a require-approval one (`request`),
    /// opens the pending request for its digest and environment or joins the
    /// one open already. Committed before it returns.
    ///
    /// Group commit: the decisions recorded at the same time are written
    /// in one transaction (one lock, one chain append of several lines,
    /// one fsync), each caller answered only after that commit. A caller
    /// queues its decision, then waits for the write lock; whoever holds
    /// it takes the queue (up to [`MAX_BATCH`]) and commits it, answering
    /// every caller in it before it lets the lock go, so a caller that
    /// gets the lock finds its outcome there or its decision still queued.
    /// The commit runs in its own task: a caller that goes away (its client
    /// disconnected) does not cancel the others' writes.
    ///
    /// On a SQLite file the group is written by one thread with its own
    /// connection ([`sqlite_writer`]): the same rows and chain lines, all
    /// of a group's statements in one place, not a round trip to sqlx's
    /// connection thread per statement.
    pub async fn record_decision(
        &self,
        decision: NewDecision,
        request: Option<NewRequest>,
    ) -> Result<Option<RequestRow>, StoreError> {
        if let Some(writer) = &self.writer {
            return writer.record(decision, request).await;
        }
        let (done, mut outcome) = tokio::sync::oneshot::channel();
        self.queue
            .lock()
            .map_err(|_| StoreError("store: the write queue is poisoned".into()))?
            .push(Queued {
                decision,
                request,
                done,
            });
        loop {
            let lock = Arc::clone(&self.writes).lock_owned().await;
            match outcome.try_recv() {
                Ok(result) => return result,
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                    return Err(StoreError(
                        "store: the write that held this decision stopped before answering; nothing is known to be recorded".into(),
                    ));
                }
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
            }
            let batch: Vec<Queued> = {
                let mut queue = self
                    .queue
                    .lock()
                    .map_err(|_| StoreError("store: the write queue is poisoned".into()))?;
                let take = queue.len().min(MAX_BATCH);
                queue.drain(..take).collect()
            };
            let pool = self.pool.clone();
            let dialect = self.dialect;
            let commit = tokio::spawn(async move {
                Store::commit_group(&pool, dialect, batch).await;
                drop(lock);
            });
            // A failed task drops its senders: the next try_recv says so.
            let _ = commit.await;
        }
    }

    /// Commits a group of queued decisions in one transaction and answers
    /// each; when that transaction fails, each decision is tried alone, so
    /// that one bad decision fails only its own caller.
    async fn commit_group(pool: &AnyPool, dialect: Dialect, batch: Vec<Queued>) {
        if batch.is_empty() {
            return;
        }
        let jobs: Vec<Job<'_>> = batch.iter().map(Queued::job).collect();
        let result = Store::write_group(pool, dialect, &jobs).await;
        drop(jobs);
        for queued in answer_group(batch, result) {
            let result = only_row(Store::write_group(pool, dialect, &[queued.job()]).await);
            let _ = queued.done.send(result);
        }
    }

    /// Writes decisions (each with the request it opens or joins) in one
    /// transaction, in order, as consecutive lines of the chain; the
    /// request row of each, after the commit.
    async fn write_group(
        pool: &AnyPool,
        dialect: Dialect,
        jobs: &[Job<'_>],
    ) -> Result<Vec<Option<RequestRow>>, StoreError> {
        let mut tx = Store::begin_locked(pool, dialect).await?;
        let now = jobs.iter().map(|(d, _)| d.created_at).max().unwrap_or(0);
        Store::expire(&mut tx, now).await?;
        // The requests: one lookup (or opening) per digest and environment;
        // nothing in the group changes a request once it is open or joined.
        let mut joined: HashMap<(&str, &str), RequestRow> = HashMap::new();
        let mut requests: Vec<Option<RequestRow>> = Vec::with_capacity(jobs.len());
        for (decision, request) in jobs {
            requests.push(match request {
                Some(new) => {
                    let key = (new.release_digest.as_str(), new.environment.as_str());
                    if let Some(row) = joined.get(&key) {
                        Some(row.clone())
                    } else {
                        let row = Store::open_or_join(&mut tx, new, decision.created_at).await?;
                        joined.insert(key, row.clone());
                        Some(row)
                    }
                }
                None => None,
            });
        }
        let tail = Store::chain_tail(&mut tx).await?;
        let decisions: Vec<(&NewDecision, Option<String>)> = jobs
            .iter()
            .zip(requests.iter())
            .map(|((decision, _), row)| (*decision, row.as_ref().map(|r| r.id.clone())))
            .collect();
        let lines = Store::chain_decisions(&mut tx, tail, &decisions).await?;
        Store::insert_decisions(&mut tx, &lines).await?;
        tx.commit().await.map_err(db("committing the decision"))?;
        Ok(requests)
    }

    /// The pending request for `new`'s digest and environment: the one open
    /// already, or `new` opened now. Its row.
    async fn open_or_join(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        new: &NewRequest,
        now: i64,
    ) -> Result<RequestRow, StoreError> {
        let open = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE release_digest = $1 AND environment = $2 AND state = 'pending'"
        ))
        .bind(new.release_digest.as_str())
        .bind(new.environment.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db("finding an open request"))?;
        if let Some(row) = open {
            return request_row(&row);
        }
        let seq = Store::next_seq(tx, "approval_requests").await?;
        sqlx::query(&format!(
            "INSERT INTO approval_requests (seq, {REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $11, NULL)"
        ))
        .bind(seq)
        .bind(new.id.clone())
        .bind(new.release_digest.clone())
        .bind(new.environment.clone())
        .bind(new.release_stream.clone())
        .bind(new.owed.clone())
        .bind(new.instructions.clone())
        .bind(new.submission.clone())
        .bind(now)
        .bind(new.expires_at)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(db("opening a request"))?;
        Store::request_in(tx, &new.id)
            .await?
            .ok_or_else(|| StoreError("store: the request just opened is gone".into()))
    }

    async fn request_in(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        id: &str,
    ) -> Result<Option<RequestRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db("reading a request"))?;
        row.as_ref().map(request_row).transpose()
    }

    /// Records an approval accepted onto a pending request, the decision of
    /// evaluating the release again with it, and the request's new state, in
    /// one transaction; nothing when the request is no longer pending, or
    /// when it no longer has exactly the `seen` approvals the caller's
    /// evaluation was made with (two approvals posted at once must not both
    /// be judged without the other).
    pub async fn accept_approval(
        &self,
        request_id: &str,
        seen: usize,
        approval: &ApprovalRow,
        decision: &NewDecision,
        update: &RequestUpdate,
    ) -> Result<Accepted, StoreError> {
        let (mut tx, _lock) = self.begin_write().await?;
        Store::expire(&mut tx, decision.created_at).await?;
        let Some(current) = Store::request_in(&mut tx, request_id).await? else {
            return Ok(Accepted::Missing);
        };
        if current.state != "pending" {
            return Ok(Accepted::NotPending(current));
        }
        let row = sqlx::query("SELECT COUNT(*) AS n FROM approvals WHERE request_id = $1")
            .bind(request_id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(db("counting approvals"))?;
        let count: i64 = row.try_get("n").map_err(db("counting approvals"))?;
        if usize::try_from(count).ok() != Some(seen) {
            return Ok(Accepted::Stale);
        }
        let seq = Store::next_seq(&mut tx, "approvals").await?;
        sqlx::query(
            "INSERT INTO approvals (seq, request_id, statement, signature, signer, key_fingerprint, decision, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(seq)
        .bind(request_id.to_string())
        .bind(approval.statement.clone())
        .bind(approval.signature.clone())
        .bind(approval.signer.clone())
        .bind(approval.key_fingerprint.clone())
        .bind(approval.decision.clone())
        .bind(approval.uploaded_by.clone())
        .bind(approval.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db("recording the approval"))?;
        let tail = Store::chain_tail(&mut tx).await?;
        let lines =
            Store::chain_decisions(&mut tx, tail, &[(decision, Some(request_id.to_string()))])
                .await?;
        Store::insert_decisions(&mut tx, &lines).await?;
        sqlx::query(
            "UPDATE approval_requests SET state = $1, owed = $2, resolution = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(update.state.clone())
        .bind(update.owed.clone())
        .bind(update.resolution.clone())
        .bind(decision.created_at)
        .bind(request_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db("updating the request"))?;
        let row = Store::request_in(&mut tx, request_id)
            .await?
            .ok_or_else(|| StoreError("store: the request just written is gone".into()))?;
        tx.commit().await.map_err(db("committing the approval"))?;
        Ok(Accepted::Done(row))
    }

    /// One request.
    pub async fn request(&self, id: &str) -> Result<Option<RequestRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a request"))?;
        row.as_ref().map(request_row).transpose()
    }

    /// Requests, oldest first, optionally by state and environment (at
    /// most 500).
    pub async fn requests(
        &self,
        state: Option<&str>,
        environment: Option<&str>,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let mut sql = format!("SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE 1 = 1");
        let mut binds = Vec::new();
        for (column, value) in [("state", state), ("environment", environment)] {
            if let Some(value) = value {
                binds.push(value.to_string());
                sql.push_str(&format!(" AND {column} = ${}", binds.len()));
            }
        }
        sql.push_str(" ORDER BY seq LIMIT 500");
        let mut query = sqlx::query(&sql);
        for value in binds {
            query = query.bind(value);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing requests"))?;
        rows.iter().map(request_row).collect()
    }

    /// How many approval requests are pending (`GET /metrics`).
    pub async fn pending_count(&self) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM approval_requests WHERE state = 'pending'")
                .fetch_one(&self.pool)
                .await
                .map_err(db("counting pending requests"))?;
        row.try_get("n").map_err(db("counting pending requests"))
    }

    /// The approvals accepted onto a request, in order.
    pub async fn approvals(&self, request_id: &str) -> Result<Vec<ApprovalRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT statement, signature, signer, key_fingerprint, decision, uploaded_by, created_at FROM approvals WHERE request_id = $1 ORDER BY seq",
        )
        .bind(request_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading approvals"))?;
        rows.iter()
            .map(|row| {
                let get = |c: &str| row.try_get::<String, _>(c).map_err(db("reading approvals"));
                Ok(ApprovalRow {
                    statement: get("statement")?,
                    signature: get("signature")?,
                    signer: get("signer")?,
                    key_fingerprint: get("key_fingerprint")?,
                    decision: get("decision")?,
                    uploaded_by: get("uploaded_by")?,
                    created_at: row.try_get("created_at").map_err(db("reading approvals"))?,
                })
            })
            .collect()
    }

    /// The chain's lines after `after` (a seq), at most `limit`, in order:
    /// each line's seq and its text exactly as stored (`audit verify
    /// --store`, `audit export --store`).
    pub async fn audit_page(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let rows =
            sqlx::query("SELECT seq, record FROM decisions WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(db("reading the audit chain"))?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("seq").map_err(db("reading the audit chain"))?,
                    row.try_get("record")
                        .map_err(db("reading the audit chain"))?,
                ))
            })
            .collect()
    }

    /// The normalised release JSON stored for a digest.
    pub async fn release(&self, digest: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT release FROM releases WHERE release_digest = $1")
            .bind(digest.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a release"))?;
        row.map(|r| r.try_get("release").map_err(db("reading a release")))
            .transpose()
    }

    /// One decision.
    pub async fn decision(&self, id: &str) -> Result<Option<DecisionRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DECISION_COLUMNS} FROM decisions WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a decision"))?;
        row.as_ref().map(decision_row).transpose()
    }

    /// Decisions in order, filtered and paged.
    pub async fn decisions(&self, filter: &DecisionFilter) -> Result<Vec<DecisionRow>, StoreError> {
        let mut sql = format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE 1 = 1");
        let mut texts: Vec<(&str, String)> = Vec::new();
        if let Some(e) = &filter.environment {
            texts.push(("environment =", e.clone()));
        }
        if let Some(v) = &filter.verdict {
            texts.push(("verdict =", v.clone()));
        }
        let mut numbers: Vec<(&str, i64)> = Vec::new();
        if let Some(s) = filter.since {
            numbers.push(("created_at >=", s));
        }
        if let Some(u) = filter.until {
            numbers.push(("created_at <", u));
        }
        if let Some(a) = filter.after {
            numbers.push(("seq >", a));
        }
        let mut n = 0;
        for (condition, _) in &texts {
            n += 1;
            sql.push_str(&format!(" AND {condition} ${n}"));
        }
        for (condition, _) in &numbers {
            n += 1;
            sql.push_str(&format!(" AND {condition} ${n}"));
        }
        n += 1;
        sql.push_str(&format!(" ORDER BY seq LIMIT ${n}"));
        let mut query = sqlx::query(&sql);
        for (_, value) in texts {
            query = query.bind(value);
        }
        for (_, value) in numbers {
            query = query.bind(value);
        }
        let rows = query
            .bind(filter.limit)
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing decisions"))?;
        rows.iter().map(decision_row).collect()
    }
}

fn request_row(row: &AnyRow) -> Result<RequestRow, StoreError> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(db("reading a request"));
    let number = |c: &str| row.try_get::<i64, _>(c).map_err(db("reading a request"));
    Ok(RequestRow {
        id: text("id")?,
        release_digest: text("release_digest")?,
        environment: text("environment")?,
        release_stream: text("release_stream")?,
        state: text("state")?,
        owed: text("owed")?,
        instructions: text("instructions")?,
        submission: text("submission")?,
        created_at: number("created_at")?,
        expires_at: number("expires_at")?,
        updated_at: number("updated_at")?,
        resolution: row
            .try_get::<Option<String>, _>("resolution")
            .map_err(db("reading a request"))?,
    })
}

fn decision_row(row: &AnyRow) -> Result<DecisionRow, StoreError> {
    let text = |c: &str| {
        row.try_get::<String, _>(c)
            .map_err(db("reading a decision"))
    };
    let maybe = |c: &str| {
        row.try_get::<Option<String>, _>(c)
            .map_err(db("reading a decision"))
    };
    let number = |c: &str| row.try_get::<i64, _>(c).map_err(db("reading a decision"));
    let approvers: Vec<String> = serde_json::from_str(&text("approvers")?)
        .map_err(|e| StoreError(format!("store: a decision's approvers: {e}")))?;
    Ok(DecisionRow {
        seq: number("seq")?,
        request_id: maybe("request_id")?,
        decision: NewDecision {
            id: text("id")?,
            created_at: number("created_at")?,
            release_digest: maybe("release_digest")?,
            environment: maybe("environment")?,
            release_stream: maybe("release_stream")?,
            verdict: text("verdict")?,
            exit_code: number("exit_code")?,
            submitted_by: text("submitted_by")?,
            approvers,
            report: text("report")?,
            release: None,
            record: text("record")?,
        },
    })
}

/// The file of a SQLite store URL, as sqlx reads the URL, when it is a file
/// on disk (not `sqlite::memory:`): where the [`sqlite_writer`] connects.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if Dialect::of(url).ok()? != Dialect::Sqlite {
        return None;
    }
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().ok()?;
    let path = options.get_filename();
    path.is_file().then(|| path.to_path_buf())
}

/// A store URL for messages: the password of a PostgreSQL URL hidden.
pub fn redact(url: &str) -> String {
    let shown = match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    };
    gatehouse_core::untrusted::quote(&shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_password_is_not_shown() {
        let shown = redact("postgres://gh:s3cret@db.local/gatehouse");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("gh:***@db.local"), "{shown}");
    }

    #[test]
    fn only_sqlite_and_postgres_urls_are_stores() {
        assert_eq!(Dialect::of("sqlite://x.db"), Ok(Dialect::Sqlite));
        assert_eq!(Dialect::of("postgres://u@h/d"), Ok(Dialect::Postgres));
        assert!(Dialect::of("mysql://u@h/d").is_err());
    }

    fn decision(id: &str) -> NewDecision {
        NewDecision {
            id: id.into(),
            created_at: 1_000,
            release_digest: Some("sha256:00".into()),
            environment: Some("prod".into()),
            release_stream: Some("main".into()),
            verdict: "require-approval".into(),
            exit_code: 2,
            submitted_by: "ci".into(),
            approvers: Vec::new(),
            report: "{}".into(),
            release: None,
            record: record_json("sha256:00"),
        }
    }

    /// An audit record as an evaluation builds it (unlinked, with its input).
    fn record_json(digest: &str) -> String {
        serde_json::json!({
            "schema": gatehouse_core::audit::SCHEMA, "seq": 0, "time": "2026-01-01T00:00:00Z",
            "evaluated_at": null, "host_version": "0", "input_sha256": "ab",
            "input": {"environment": {"name": "prod"}, "changes": [1, 2, 3]}, "metadata": {},
            "config": null, "policies": [], "verdict": "require-approval", "exit_code": 2,
            "error": null, "limit_hit": null, "release_digest": digest, "prev_sha256": "",
        })
        .to_string()
    }

    async fn chain_lines(store: &Store) -> Vec<Vec<u8>> {
        let page = store.audit_page(0, 1_000).await.expect("chain");
        page.into_iter()
            .map(|(_, line)| line.into_bytes())
            .collect()
    }

    async fn count(store: &Store, table: &str) -> i64 {
        let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&store.pool)
            .await
            .expect("count");
        row.try_get("n").expect("n")
    }

    #[tokio::test]
    async fn decisions_are_one_verifiable_chain_and_a_release_is_kept_once() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = Store::open(&url).await.expect("open");
        for id in ["d-1", "d-2", "d-3"] {
            store
                .record_decision(decision(id), None)
                .await
                .expect("record");
        }
        let lines = chain_lines(&store).await;
        let verified = gatehouse_core::audit::verify_lines(&lines).expect("an intact chain");
        assert_eq!(verified.records, 3);
        // The release is stored once, not in each line.
        assert_eq!(count(&store, "releases").await, 1);
        let release = store
            .release("sha256:00")
            .await
            .expect("read")
            .expect("kept");
        assert!(release.contains("\"changes\":[1,2,3]"), "{release}");
        for line in &lines {
            let text = String::from_utf8_lossy(line);
            assert!(text.contains("\"input\":null"), "{text}");
        }
        // What a decision reads back is its chain line, byte for byte.
        let read = store.decision("d-2").await.expect("read").expect("there");
        assert_eq!(read.decision.record.as_bytes(), &lines[1][..]);
    }

    fn request_for(id: &str) -> NewRequest {
        NewRequest {
            id: id.into(),
            release_digest: "sha256:00".into(),
            environment: "prod".into(),
            release_stream: "main".into(),
            owed: "[]".into(),
            instructions: "[]".into(),
            submission: "{}".into(),
            expires_at: 10_000,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn decisions_recorded_at_once_are_committed_in_groups_as_one_chain() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = Arc::new(Store::open(&url).await.expect("open"));
        let writers: Vec<_> = (0..300)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let opened = store
                        .record_decision(
                            decision(&format!("d-{i}")),
                            Some(request_for(&format!("r-{i}"))),
                        )
                        .await
                        .expect("recorded");
                    opened.expect("a request").id
                })
            })
            .collect();
        let mut requests = std::collections::BTreeSet::new();
        for writer in writers {
            requests.insert(writer.await.expect("joined"));
        }
        // Every decision joined the one request the first of them opened.
        assert_eq!(requests.len(), 1, "{requests:?}");
        assert_eq!(count(&store, "decisions").await, 300);
        assert_eq!(count(&store, "approval_requests").await, 1);
        let lines = chain_lines(&store).await;
        let verified = gatehouse_core::audit::verify_lines(&lines).expect("an intact chain");
        assert_eq!(verified.records, 300);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_decision_that_cannot_be_written_fails_alone_in_its_group() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = Arc::new(Store::open(&url).await.expect("open"));
        store
            .record_decision(decision("d-taken"), None)
            .await
            .expect("recorded");
        // Many at once, one of them reusing a taken id (a UNIQUE violation):
        // it fails, every other one is recorded, the chain stays whole.
        let writers: Vec<_> = (0..100)
            .map(|i| {
                let store = Arc::clone(&store);
                let id = if i == 50 {
                    "d-taken".to_string()
                } else {
                    format!("d-{i}")
                };
                tokio::spawn(async move { (i, store.record_decision(decision(&id), None).await) })
            })
            .collect();
        for writer in writers {
            let (i, result) = writer.await.expect("joined");
            if i == 50 {
                let err = result.expect_err("a taken id");
                assert!(err.0.contains("recording the decision"), "{err}");
            } else {
                result.expect("recorded");
            }
        }
        assert_eq!(count(&store, "decisions").await, 100);
        let lines = chain_lines(&store).await;
        assert_eq!(
            gatehouse_core::audit::verify_lines(&lines)
                .expect("an intact chain")
                .records,
            100
        );
    }

    #[tokio::test]
    async fn a_version_1_store_is_chained_in_seq_order_by_the_migration() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&format!("{url}?mode=rwc"))
            .await
            .expect("connect");
        sqlx::query("CREATE TABLE gatehouse_schema (version BIGINT NOT NULL)")
            .execute(&pool)
            .await
            .expect("schema table");
        for statement in MIGRATIONS[0] {
            sqlx::query(statement).execute(&pool).await.expect("v1");
        }
        sqlx::query("INSERT INTO gatehouse_schema (version) VALUES (1)")
            .execute(&pool)
            .await
            .expect("v1 row");
        for (seq, digest) in [(1_i64, "sha256:01"), (2, "sha256:02")] {
            sqlx::query(&format!(
                "INSERT INTO decisions ({DECISION_COLUMNS}) VALUES ($1, $2, 1000, $3, 'prod', 'main', 'require-approval', 2, NULL, 'ci', '[]', '{{}}', $4)"
            ))
            .bind(seq)
            .bind(format!("d-{seq}"))
            .bind(digest.to_string())
            .bind(record_json(digest))
            .execute(&pool)
            .await
            .expect("a version 1 decision");
        }
        pool.close().await;
        let store = Store::open(&url).await.expect("migrate");
        assert_eq!(
            store.schema_version().await.expect("version"),
            SCHEMA_VERSION
        );
        let lines = chain_lines(&store).await;
        let verified = gatehouse_core::audit::verify_lines(&lines).expect("chained");
        assert_eq!(verified.records, 2);
        assert_eq!(count(&store, "releases").await, 2);
        // New decisions continue the same chain.
        store
            .record_decision(decision("d-3"), None)
            .await
            .expect("record");
        let lines = chain_lines(&store).await;
        assert_eq!(
            gatehouse_core::audit::verify_lines(&lines)
                .expect("chained")
                .records,
            3
        );
    }

    #[tokio::test]
    async fn a_read_does_not_wait_for_the_writers_when_nothing_expired() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = Store::open(&url).await.expect("open");
        // A writer holds the lock: a read with nothing due must not queue
        // behind it (it would wait forever here; the timeout only guards
        // the test against hanging).
        let held = store.writes.lock().await;
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(60), store.expire_now(1_000));
        read.await
            .expect("not blocked on the write lock")
            .expect("expire");
        drop(held);
        // With a request due, it expires it.
        let request = NewRequest {
            id: "r-1".into(),
            release_digest: "sha256:00".into(),
            environment: "prod".into(),
            release_stream: "main".into(),
            owed: "[]".into(),
            instructions: "[]".into(),
            submission: "{}".into(),
            expires_at: 1_500,
        };
        store
            .record_decision(decision("d-1"), Some(request.clone()))
            .await
            .expect("record");
        store.expire_now(2_000).await.expect("expire");
        let row = store.request("r-1").await.expect("read").expect("there");
        assert_eq!(row.state, "expired");
    }

    #[tokio::test]
    async fn an_approval_judged_without_one_accepted_since_is_stale_and_not_recorded() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = Store::open(&url).await.expect("open");
        let request = NewRequest {
            id: "r-1".into(),
            release_digest: "sha256:00".into(),
            environment: "prod".into(),
            release_stream: "main".into(),
            owed: "[]".into(),
            instructions: "[]".into(),
            submission: "{}".into(),
            expires_at: i64::MAX,
        };
        let opened = store
            .record_decision(decision("d-1"), Some(request.clone()))
            .await
            .expect("record")
            .expect("a request");
        // The same digest and environment joins it.
        let joined = store
            .record_decision(
                decision("d-2"),
                Some(NewRequest {
                    id: "r-2".into(),
                    ..request.clone()
                }),
            )
            .await
            .expect("record")
            .expect("a request");
        assert_eq!((opened.id.as_str(), joined.id.as_str()), ("r-1", "r-1"));
        let approval = ApprovalRow {
            statement: "s".into(),
            signature: "g".into(),
            signer: "alice".into(),
            key_fingerprint: "SHA256:x".into(),
            decision: "approve".into(),
            uploaded_by: "approvers".into(),
            created_at: 1_001,
        };
        let pending = RequestUpdate {
            state: "pending".into(),
            owed: "[]".into(),
            resolution: None,
        };
        // Both were judged with no approval on the request: the first is
        // accepted, the second is stale and leaves nothing behind.
        let first = store
            .accept_approval("r-1", 0, &approval, &decision("d-3"), &pending)
            .await
            .expect("accept");
        assert!(matches!(first, Accepted::Done(_)), "{first:?}");
        let second = store
            .accept_approval("r-1", 0, &approval, &decision("d-4"), &pending)
            .await
            .expect("accept");
        assert!(matches!(second, Accepted::Stale), "{second:?}");
        assert_eq!(store.approvals("r-1").await.expect("approvals").len(), 1);
        assert!(store.decision("d-4").await.expect("read").is_none());
        let filter = DecisionFilter {
            limit: 10,
            ..DecisionFilter::default()
        };
        assert_eq!(store.decisions(&filter).await.expect("list").len(), 3);
    }

    #[tokio::test]
    async fn a_store_migrates_once_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = Store::open(&url).await.expect("open");
        assert_eq!(
            store.schema_version().await.expect("version"),
            SCHEMA_VERSION
        );
        drop(store);
        let store = Store::open(&url).await.expect("reopen");
        assert_eq!(
            store.schema_version().await.expect("version"),
            SCHEMA_VERSION
        );
        sqlx::query("INSERT INTO gatehouse_schema (version) VALUES ($1)")
            .bind(SCHEMA_VERSION + 1)
            .execute(&store.pool)
            .await
            .expect("bump");
        drop(store);
        let err = Store::open(&url).await.expect_err("newer");
        assert!(err.0.contains("newer than this gatehouse"), "{err}");
    }
}
