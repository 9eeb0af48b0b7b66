//! The approvers' page in the store (migration 2): one-time login codes,
//! the sessions they open, and the reads the page makes beyond the API's.
//!
//! Codes and session ids are kept as SHA-256 hashes only, each with the
//! name and hash of the bearer token it stands for. A code is used at most
//! once: the `UPDATE ... WHERE used_at IS NULL` that marks it runs inside a
//! write (so on PostgreSQL under the replicas' advisory lock), and only the
//! caller whose update changed the row gets a session.

use super::{DECISION_COLUMNS, DecisionRow, Store, StoreError, db, decision_row};
use sqlx::Row;

/// Whom a login code or a session stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOwner {
    /// The token's name in the tokens file.
    pub token_name: String,
    /// The token's SHA-256 (hex) when the code was made: a token removed or
    /// replaced since no longer matches, which ends the session.
    pub token_hash: String,
}

impl Store {
    /// Records a login code's hash, valid until `expires_at`; forgets codes
    /// and sessions that ran out.
    pub async fn add_login(
        &self,
        code_hash: &str,
        owner: &SessionOwner,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let (mut tx, _lock) = self.begin_write().await?;
        forget_expired(&mut tx, now).await?;
        sqlx::query(
            "INSERT INTO page_logins (code_hash, token_name, token_hash, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(code_hash.to_string())
        .bind(owner.token_name.clone())
        .bind(owner.token_hash.clone())
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db("recording a login code"))?;
        tx.commit().await.map_err(db("committing a login code"))
    }

    /// Uses the login code whose hash is `code_hash`, once: whom it stands
    /// for when it was unused and unexpired (it is used from now on), else
    /// `None` (unknown, used already, or expired).
    pub async fn use_login(
        &self,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<SessionOwner>, StoreError> {
        let (mut tx, _lock) = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE page_logins SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(now)
        .bind(code_hash.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db("using a login code"))?;
        if done.rows_affected() != 1 {
            tx.rollback().await.map_err(db("ending a login"))?;
            return Ok(None);
        }
        let row =
            sqlx::query("SELECT token_name, token_hash FROM page_logins WHERE code_hash = $1")
                .bind(code_hash.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(db("reading a login code"))?;
        let owner = owner_of(&row, "reading a login code")?;
        tx.commit().await.map_err(db("committing a login"))?;
        Ok(Some(owner))
    }

    /// Records a session's hash for `owner`, valid until `expires_at`.
    pub async fn add_session(
        &self,
        session_hash: &str,
        owner: &SessionOwner,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let (mut tx, _lock) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO page_sessions (session_hash, token_name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session_hash.to_string())
        .bind(owner.token_name.clone())
        .bind(owner.token_hash.clone())
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db("recording a session"))?;
        tx.commit().await.map_err(db("committing a session"))
    }

    /// Whom the session whose hash is `session_hash` stands for, while it
    /// has not expired.
    pub async fn session(
        &self,
        session_hash: &str,
        now: i64,
    ) -> Result<Option<SessionOwner>, StoreError> {
        let row = sqlx::query(
            "SELECT token_name, token_hash FROM page_sessions WHERE session_hash = $1 AND expires_at > $2",
        )
        .bind(session_hash.to_string())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a session"))?;
        row.as_ref()
            .map(|row| owner_of(row, "reading a session"))
            .transpose()
    }

    /// The latest `limit` decisions, newest first.
    pub async fn recent_decisions(&self, limit: i64) -> Result<Vec<DecisionRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DECISION_COLUMNS} FROM decisions ORDER BY seq DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing recent decisions"))?;
        rows.iter().map(decision_row).collect()
    }

    /// How many decisions the store holds.
    pub async fn decision_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM decisions")
            .fetch_one(&self.pool)
            .await
            .map_err(db("counting decisions"))?;
        row.try_get("n").map_err(db("counting decisions"))
    }

    /// The report JSON of the latest decision that opened or joined the
    /// approval request `request_id` (its policies' verdicts and reasons).
    pub async fn latest_report(&self, request_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT report FROM decisions WHERE request_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(request_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a request's report"))?;
        row.map(|row| row.try_get::<String, _>("report"))
            .transpose()
            .map_err(db("reading a request's report"))
    }
}

fn owner_of(row: &sqlx::any::AnyRow, what: &str) -> Result<SessionOwner, StoreError> {
    Ok(SessionOwner {
        token_name: row.try_get("token_name").map_err(db(what))?,
        token_hash: row.try_get("token_hash").map_err(db(what))?,
    })
}

async fn forget_expired(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    now: i64,
) -> Result<(), StoreError> {
    for table in ["page_logins", "page_sessions"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= $1"))
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(db("forgetting expired logins"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_login_code_is_used_once_and_not_after_it_expires() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = Store::open(&url).await.expect("open");
        let owner = SessionOwner {
            token_name: "alice".into(),
            token_hash: "00".into(),
        };
        store.add_login("c1", &owner, 100, 200).await.expect("add");
        store.add_login("c2", &owner, 100, 200).await.expect("add");
        assert_eq!(store.use_login("c1", 150).await.expect("use"), Some(owner));
        assert_eq!(store.use_login("c1", 151).await.expect("reuse"), None);
        assert_eq!(store.use_login("c2", 200).await.expect("late"), None);
        assert_eq!(store.use_login("nope", 150).await.expect("unknown"), None);
    }

    #[tokio::test]
    async fn a_session_ends_at_its_expiry() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = Store::open(&url).await.expect("open");
        let owner = SessionOwner {
            token_name: "alice".into(),
            token_hash: "00".into(),
        };
        store
            .add_session("s1", &owner, 100, 200)
            .await
            .expect("add");
        assert_eq!(store.session("s1", 199).await.expect("read"), Some(owner));
        assert_eq!(store.session("s1", 200).await.expect("read"), None);
        assert_eq!(store.session("s2", 150).await.expect("read"), None);
    }
}
