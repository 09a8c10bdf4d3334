//! Login sessions, refresh-token rotation and access-token revocation.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::rows::time_text;
use super::{SqliteStore, read_in};
use crate::store::rows::Columns;
use crate::store::rules::rotation::{self, Presented, Step};
use crate::store::{ReadBatch, RefreshOutcome, StoreError, Successor};

impl SqliteStore {
    /// Starts a login session with its first refresh token, for an agent
    /// still active when it commits (`AgentNotFound` otherwise): a login
    /// that checked the agent just before a deactivation committed gets
    /// no session the deactivation would have missed.
    pub async fn create_session(
        &self,
        agent_id: Uuid,
        token_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        let session_id = Uuid::now_v7();
        self.writer
            .run(
                move |connection| {
                    let now = time_text(&Utc::now());
                    let started = connection
                        .prepare_cached(
                            "INSERT INTO sessions (id, agent_id, created_at)
                             SELECT ?1, id, ?3 FROM agents WHERE id = ?2 AND deactivated_at IS NULL",
                        )?
                        .execute(params![session_id.as_bytes(), agent_id.as_bytes(), now])?;
                    if started == 0 {
                        return Err(StoreError::AgentNotFound);
                    }
                    connection
                        .prepare_cached(
                            "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                        )?
                        .execute(params![
                            &token_hash[..],
                            session_id.as_bytes(),
                            now,
                            time_text(&expires_at),
                        ])?;
                    Ok(session_id)
                },
                |_| Vec::new(),
            )
            .await
    }

    /// Uses the refresh token with hash `presented` and, when it is good,
    /// stores `successor` in the same session.
    ///
    /// A token already used is a reuse, which revokes its session, except
    /// within `grace` of its use while its successor is still unused: then
    /// the client merely lost the answer and gets the same successor again.
    pub async fn rotate_refresh_token(
        &self,
        presented: [u8; 32],
        successor: Successor,
        grace: Duration,
    ) -> Result<RefreshOutcome, StoreError> {
        self.writer
            .run(
                move |connection| rotate(connection, presented, successor, grace),
                rotation::announced,
            )
            .await
    }

    /// Logs out: refuses the access token `jti` until `expires_at` (Unix
    /// seconds) and ends its session, in one transaction. Doing it again
    /// changes nothing and succeeds, so a logout may be retried.
    pub async fn logout(
        &self,
        jti: String,
        expires_at: i64,
        session: Option<Uuid>,
    ) -> Result<(), StoreError> {
        let announced = jti.clone();
        self.writer
            .run(
                move |connection| {
                    connection
                        .prepare_cached(
                            "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?1, ?2) ON CONFLICT (jti) DO NOTHING",
                        )?
                        .execute(params![jti, expires_at])?;
                    if let Some(session) = session {
                        revoke_session(connection, session)?;
                    }
                    Ok(())
                },
                move |_| rotation::logged_out(announced, session),
            )
            .await
    }

    /// True when the session was revoked, or never existed.
    pub async fn is_session_revoked(&self, session_id: Uuid) -> Result<bool, StoreError> {
        let revoked: Option<bool> =
            sqlx::query_scalar("SELECT revoked_at IS NOT NULL FROM sessions WHERE id = ?")
                .bind(session_id)
                .fetch_optional(&self.reads)
                .await?;
        Ok(revoked.unwrap_or(true))
    }

    /// Reads that arrive together share a query (see `Batched`).
    pub async fn is_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.revoked_tokens.get(jti.to_owned()).await?.is_some())
    }

    /// Drops what can no longer matter: revocations of tokens that even
    /// the clock leeway no longer admits, expired refresh tokens, sealed
    /// successors past their grace window, and lapsed visitor tokens.
    pub async fn purge_expired(
        &self,
        leeway: Duration,
        grace: Duration,
    ) -> Result<u64, StoreError> {
        self.writer
            .run(
                move |connection| {
                    let now = Utc::now();
                    let admitted_until = now.timestamp() - leeway.as_secs() as i64;
                    let revoked = connection
                        .prepare_cached("DELETE FROM revoked_tokens WHERE expires_at < ?1")?
                        .execute([admitted_until])?;
                    let refresh = connection
                        .prepare_cached("DELETE FROM refresh_tokens WHERE expires_at < ?1")?
                        .execute([time_text(&now)])?;
                    let grace = chrono::Duration::from_std(grace).unwrap_or_default();
                    connection
                        .prepare_cached(
                            "UPDATE refresh_tokens SET successor_sealed = NULL
                             WHERE successor_sealed IS NOT NULL AND used_at < ?1",
                        )?
                        .execute([time_text(&(now - grace))])?;
                    let visitors = super::visitors::forget_lapsed_tokens(connection, &now)?;
                    Ok((revoked + refresh + visitors) as u64)
                },
                |_| Vec::new(),
            )
            .await
    }
}

/// Reads which of some token ids are revoked, many at a time.
pub(super) struct RevokedTokenReads(pub(super) sqlx::SqlitePool);

impl ReadBatch<String, i64> for RevokedTokenReads {
    async fn read(&self, jtis: Vec<String>) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = |list: &str| format!("SELECT jti, 1 FROM revoked_tokens WHERE jti IN ({list})");
        read_in(&self.0, sql, jtis).await
    }
}

fn revoke_session(connection: &Connection, session: Uuid) -> Result<(), StoreError> {
    connection
        .prepare_cached("UPDATE sessions SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL")?
        .execute(params![time_text(&Utc::now()), session.as_bytes()])?;
    Ok(())
}

fn rotate(
    connection: &Connection,
    presented: [u8; 32],
    successor: Successor,
    grace: Duration,
) -> Result<RefreshOutcome, StoreError> {
    let now = Utc::now();
    let mut statement = connection.prepare_cached(
        "SELECT r.session_id, r.expires_at, r.used_at, r.successor_hash, r.successor_sealed,
                s.agent_id, s.revoked_at
         FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
         WHERE r.token_hash = ?1",
    )?;
    let mut rows = statement.query([&presented[..]])?;
    let Some(row) = rows.next()? else {
        return Ok(RefreshOutcome::Unknown);
    };
    let token = Presented {
        session_id: row.uuid("session_id")?,
        agent_id: row.uuid("agent_id")?,
        expires_at: row.time("expires_at")?,
        used_at: row.opt_time("used_at")?,
        revoked: row.opt_text("revoked_at")?.is_some(),
        successor_hash: row.get("successor_hash")?,
        successor_sealed: row.get("successor_sealed")?,
    };
    drop(rows);
    drop(statement);

    let step = rotation::decide(&token, now, grace);
    if let Step::ReplayIfSuccessorUnused {
        successor_hash,
        sealed_successor,
    } = &step
    {
        let successor_used: Option<Option<String>> = connection
            .prepare_cached("SELECT used_at FROM refresh_tokens WHERE token_hash = ?1")?
            .query_row([successor_hash], |row| row.get(0))
            .optional()?;
        if matches!(successor_used, Some(None)) {
            return Ok(token.replayed(sealed_successor.clone()));
        }
    }
    match step {
        Step::Answer(outcome) => return Ok(outcome),
        Step::ReplayIfSuccessorUnused { .. } | Step::EndSession => {
            revoke_session(connection, token.session_id)?;
            return Ok(token.reused());
        }
        Step::Rotate => {}
    }
    let now = time_text(&now);
    connection
        .prepare_cached(
            "UPDATE refresh_tokens SET used_at = ?1, successor_hash = ?2, successor_sealed = ?3
             WHERE token_hash = ?4 AND used_at IS NULL",
        )?
        .execute(params![
            now,
            &successor.hash[..],
            successor.sealed,
            &presented[..]
        ])?;
    connection
        .prepare_cached(
            "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            &successor.hash[..],
            token.session_id.as_bytes(),
            now,
            time_text(&successor.expires_at),
        ])?;
    Ok(token.rotated())
}
