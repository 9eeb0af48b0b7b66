//! The store's schema, as numbered migrations applied in order on start.
//!
//! The version a store is at is the highest row of `gatehouse_schema`. A
//! store at a version above [`SCHEMA_VERSION`] was written by a newer
//! gatehouse and is refused: this binary cannot know what the newer tables
//! mean, and writing into them could corrupt the other version's data.
//!
//! The statements are plain SQL that SQLite and PostgreSQL both accept
//! (`TEXT`, `BIGINT`, partial unique indexes); a dialect that needs its own
//! form of a statement gets it from [`super::Dialect`].

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = 3;

/// Migration `n` (1-based) is `MIGRATIONS[n - 1]`: its statements, run in
/// one transaction with the row recording it.
pub const MIGRATIONS: &[&[&str]] = &[
    // 1: decisions, approval requests, approvals.
    &[
        // The audit trail: one row per decision (or evaluation error), with the
        // report and the audit record as JSON. `seq` orders and pages it.
        "CREATE TABLE decisions (
        seq BIGINT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        release_digest TEXT,
        environment TEXT,
        release_stream TEXT,
        verdict TEXT NOT NULL,
        exit_code BIGINT NOT NULL,
        request_id TEXT,
        submitted_by TEXT NOT NULL,
        approvers TEXT NOT NULL,
        report TEXT NOT NULL,
        record TEXT NOT NULL
    )",
        "CREATE INDEX decisions_by_environment ON decisions (environment, seq)",
        "CREATE INDEX decisions_by_time ON decisions (created_at)",
        // A release waiting for people: opened by a require-approval decision,
        // joined by later ones for the same digest and environment, closed by
        // approvals, a signed rejection or expiry. `submission` is the
        // evaluation request (without approvals), so that it can be evaluated
        // again with the approvals posted since.
        "CREATE TABLE approval_requests (
        id TEXT PRIMARY KEY,
        seq BIGINT NOT NULL UNIQUE,
        release_digest TEXT NOT NULL,
        environment TEXT NOT NULL,
        release_stream TEXT NOT NULL,
        state TEXT NOT NULL,
        owed TEXT NOT NULL,
        instructions TEXT NOT NULL,
        submission TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        resolution TEXT
    )",
        // At most one pending request per release and environment, whichever
        // replica opens it.
        "CREATE UNIQUE INDEX approval_requests_one_pending
        ON approval_requests (release_digest, environment) WHERE state = 'pending'",
        // Signed approvals (and rejections) accepted onto a request: the
        // statement and signature as uploaded, who signed, who uploaded.
        "CREATE TABLE approvals (
        seq BIGINT PRIMARY KEY,
        request_id TEXT NOT NULL,
        statement TEXT NOT NULL,
        signature TEXT NOT NULL,
        signer TEXT NOT NULL,
        key_fingerprint TEXT NOT NULL,
        decision TEXT NOT NULL,
        uploaded_by TEXT NOT NULL,
        created_at BIGINT NOT NULL
    )",
        "CREATE INDEX approvals_by_request ON approvals (request_id, seq)",
    ],
    &[
        // Version 2: one audit chain per store (super::chain). `decisions.record`
        // becomes the chain line (seq = the decision's seq, prev_sha256 = the
        // sha256 of the line before), and `record_sha256` its sha256, so that
        // the next append need not read and hash the last line. Decisions
        // recorded before are chained in seq order by the migration itself
        // ([`CHAIN_EXISTING`]), in the same transaction.
        "ALTER TABLE decisions ADD COLUMN record_sha256 TEXT",
        // A release, stored once per digest: the normalised release JSON a
        // decision's audit record would otherwise carry in `input`.
        "CREATE TABLE releases (
        release_digest TEXT PRIMARY KEY,
        release TEXT NOT NULL,
        created_at BIGINT NOT NULL
    )",
        // Reads check cheaply, without the write lock, whether anything is due
        // to expire (Store::expire_now).
        "CREATE INDEX approval_requests_by_expiry ON approval_requests (state, expires_at)",
    ],
    // 3: the approvers' page (`serve --page`). One-time login codes made by
    // `gatehouse serve token login` and the sessions they open, both kept as
    // SHA-256 hashes only, with the name and hash of the token they stand
    // for (so that removing or replacing the token ends them), in the store
    // so that every replica on one PostgreSQL honours them and a code is used
    // once across all of them.
    &[
        "CREATE TABLE page_logins (
        code_hash TEXT PRIMARY KEY,
        token_name TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT
    )",
        "CREATE TABLE page_sessions (
        session_hash TEXT PRIMARY KEY,
        token_name TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    )",
    ],
];

/// The migration after whose statements the decisions already recorded are
/// chained (their records rewritten as chain lines, in seq order).
pub const CHAIN_EXISTING: i64 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_is_one_migration_per_version() {
        assert_eq!(MIGRATIONS.len() as i64, SCHEMA_VERSION);
    }
}
