//! Login sessions, refresh-token rotation and access-token revocation.
//!
//! Revocations are stamped with the database's clock, so that every node
//! can ask for those since a moment of that same clock and close sockets
//! that a lost broadcast left open (see `cluster_reads`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::{PostgresStore, now, store_error};
use crate::store::rules::rotation::{self, Presented, Step};
use crate::store::{ReadBatch, RefreshOutcome, StoreError, Successor};

impl PostgresStore {
    /// Starts a login session with its first refresh token, for an agent
    /// still active when it commits (`AgentNotFound` otherwise). The
    /// agent's row is share-locked: a deactivation (which locks it for
    /// update before ending the agent's sessions) either waits for this
    /// session and then ends it, or commits first and this finds the agent
    /// deactivated.
    pub async fn create_session(
        &self,
        agent_id: Uuid,
        token_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        let session_id = Uuid::now_v7();
        self.write(
            move |transaction| {
                Box::pin(async move {
                    let now = now();
                    let active = sqlx::query(
                        "SELECT 1 FROM agents WHERE id = $1 AND deactivated_at IS NULL FOR SHARE",
                    )
                    .bind(agent_id)
                    .fetch_optional(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    if active.is_none() {
                        return Err(StoreError::AgentNotFound);
                    }
                    sqlx::query(
                        "INSERT INTO sessions (id, agent_id, created_at) VALUES ($1, $2, $3)",
                    )
                    .bind(session_id)
                    .bind(agent_id)
                    .bind(now)
                    .execute(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    sqlx::query(
                        "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&token_hash[..])
                    .bind(session_id)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    Ok(session_id)
                })
            },
            |_| Vec::new(),
        )
        .await
    }

    /// Uses the refresh token with hash `presented` as `rules::rotation`
    /// decides. The token's row is locked first, so racing refreshes on
    /// several nodes take turns.
    pub async fn rotate_refresh_token(
        &self,
        presented: [u8; 32],
        successor: Successor,
        grace: Duration,
    ) -> Result<RefreshOutcome, StoreError> {
        self.write(
            move |transaction| Box::pin(rotate(transaction, presented, successor, grace)),
            rotation::announced,
        )
        .await
    }

    /// Logs out: refuses the access token `jti` until `expires_at` (Unix
    /// seconds) and ends its session, in one transaction; may be retried.
    pub async fn logout(
        &self,
        jti: String,
        expires_at: i64,
        session: Option<Uuid>,
    ) -> Result<(), StoreError> {
        let announced = jti.clone();
        self.write(
            move |transaction| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO revoked_tokens (jti, expires_at, revoked_at)
                         VALUES ($1, $2, clock_timestamp())
                         ON CONFLICT (jti) DO NOTHING",
                    )
                    .bind(&jti)
                    .bind(expires_at)
                    .execute(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    if let Some(session) = session {
                        revoke_session(transaction, session).await?;
                    }
                    Ok(())
                })
            },
            move |_| rotation::logged_out(announced, session),
        )
        .await
    }

    /// True when the session was revoked, or never existed.
    pub async fn is_session_revoked(&self, session_id: Uuid) -> Result<bool, StoreError> {
        let revoked: Option<bool> =
            sqlx::query_scalar("SELECT revoked_at IS NOT NULL FROM sessions WHERE id = $1")
                .bind(session_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(revoked.unwrap_or(true))
    }

    /// Reads that arrive together share a query (see `Batched`).
    pub async fn is_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.revoked_tokens.get(jti.to_owned()).await?.is_some())
    }

    /// Drops what can no longer matter; see the SQLite store's method.
    pub async fn purge_expired(
        &self,
        leeway: Duration,
        grace: Duration,
    ) -> Result<u64, StoreError> {
        self.write(
            move |transaction| {
                Box::pin(async move {
                    let now = now();
                    let admitted_until = now.timestamp() - leeway.as_secs() as i64;
                    let revoked = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
                        .bind(admitted_until)
                        .execute(&mut **transaction)
                        .await
                        .map_err(store_error)?;
                    let refresh = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
                        .bind(now)
                        .execute(&mut **transaction)
                        .await
                        .map_err(store_error)?;
                    let grace = chrono::Duration::from_std(grace).unwrap_or_default();
                    sqlx::query(
                        "UPDATE refresh_tokens SET successor_sealed = NULL
                         WHERE successor_sealed IS NOT NULL AND used_at < $1",
                    )
                    .bind(now - grace)
                    .execute(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    let visitors = super::visitors::forget_lapsed_tokens(transaction, now).await?;
                    Ok(revoked.rows_affected() + refresh.rows_affected() + visitors)
                })
            },
            |_| Vec::new(),
        )
        .await
    }
}

/// Reads which of some token ids are revoked, many at a time.
pub(super) struct RevokedTokenReads(pub(super) sqlx::PgPool);

impl ReadBatch<String, i32> for RevokedTokenReads {
    async fn read(&self, jtis: Vec<String>) -> Result<Vec<(String, i32)>, StoreError> {
        sqlx::query_as("SELECT jti, 1 FROM revoked_tokens WHERE jti = ANY($1)")
            .bind(jtis)
            .fetch_all(&self.0)
            .await
            .map_err(store_error)
    }
}

async fn revoke_session(connection: &mut PgConnection, session: Uuid) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = clock_timestamp() WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session)
    .execute(connection)
    .await
    .map(drop)
    .map_err(store_error)
}

/// Carries out `rules::rotation` for the refresh token with hash
/// `presented`, its row locked until the transaction ends.
async fn rotate(
    connection: &mut PgConnection,
    presented: [u8; 32],
    successor: Successor,
    grace: Duration,
) -> Result<RefreshOutcome, StoreError> {
    let now = now();
    let Some(token) = lock_presented(connection, &presented).await? else {
        return Ok(RefreshOutcome::Unknown);
    };
    let step = rotation::decide(&token, now, grace);
    if let Step::ReplayIfSuccessorUnused {
        successor_hash,
        sealed_successor,
    } = &step
        && is_unused(connection, successor_hash).await?
    {
        return Ok(token.replayed(sealed_successor.clone()));
    }
    match step {
        Step::Answer(outcome) => Ok(outcome),
        Step::ReplayIfSuccessorUnused { .. } | Step::EndSession => {
            revoke_session(connection, token.session_id).await?;
            Ok(token.reused())
        }
        Step::Rotate => {
            store_successor(connection, &presented, &successor, token.session_id, now).await?;
            Ok(token.rotated())
        }
    }
}

/// The presented refresh token and its session, the token's row locked so
/// that racing refreshes on several nodes take turns; `None` when unknown.
async fn lock_presented(
    connection: &mut PgConnection,
    presented: &[u8; 32],
) -> Result<Option<Presented>, StoreError> {
    let row = sqlx::query(
        "SELECT r.session_id, r.expires_at, r.used_at, r.successor_hash, r.successor_sealed,
                s.agent_id, s.revoked_at
         FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
         WHERE r.token_hash = $1
         FOR UPDATE OF r",
    )
    .bind(&presented[..])
    .fetch_optional(&mut *connection)
    .await
    .map_err(store_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let read = |row: &sqlx::postgres::PgRow| -> Result<_, sqlx::Error> {
        Ok(Presented {
            session_id: row.try_get("session_id")?,
            agent_id: row.try_get("agent_id")?,
            expires_at: row.try_get("expires_at")?,
            used_at: row.try_get("used_at")?,
            revoked: row
                .try_get::<Option<DateTime<Utc>>, _>("revoked_at")?
                .is_some(),
            successor_hash: row.try_get("successor_hash")?,
            successor_sealed: row.try_get("successor_sealed")?,
        })
    };
    read(&row).map(Some).map_err(store_error)
}

/// Whether the refresh token with hash `token_hash` exists and is unused.
async fn is_unused(connection: &mut PgConnection, token_hash: &[u8]) -> Result<bool, StoreError> {
    let used_at: Option<Option<DateTime<Utc>>> =
        sqlx::query_scalar("SELECT used_at FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&mut *connection)
            .await
            .map_err(store_error)?;
    Ok(matches!(used_at, Some(None)))
}

/// Marks the presented token used, sealing its successor beside it, and
/// stores the successor in the same session.
async fn store_successor(
    connection: &mut PgConnection,
    presented: &[u8; 32],
    successor: &Successor,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE refresh_tokens SET used_at = $1, successor_hash = $2, successor_sealed = $3
         WHERE token_hash = $4 AND used_at IS NULL",
    )
    .bind(now)
    .bind(&successor.hash[..])
    .bind(&successor.sealed)
    .bind(&presented[..])
    .execute(&mut *connection)
    .await
    .map_err(store_error)?;
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&successor.hash[..])
    .bind(session_id)
    .bind(now)
    .bind(successor.expires_at)
    .execute(&mut *connection)
    .await
    .map_err(store_error)?;
    Ok(())
}
