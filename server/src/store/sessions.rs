//! Login sessions, refresh-token rotation and access-token revocation.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sqlx::Row;
use sqlx::sqlite::SqliteConnection;
use uuid::Uuid;

use super::{Committed, Store, StoreError};

/// A refresh token to store in place of the one presented.
#[derive(Debug, Clone)]
pub struct Successor {
    pub hash: [u8; 32],
    /// The successor sealed with a key only the presented token yields.
    pub sealed: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token led to.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was valid and is now used; its successor was stored.
    Rotated {
        agent_id: Uuid,
        session_id: Uuid,
    },
    /// The token was traded in moments ago and its successor is unused: the
    /// client lost the answer. The same successor, still sealed.
    Replayed {
        agent_id: Uuid,
        session_id: Uuid,
        sealed_successor: Vec<u8>,
    },
    /// No such token.
    Unknown,
    Expired,
    /// The session was revoked (logout or earlier reuse).
    Revoked,
    /// The token had been used before: the whole session is now revoked.
    Reused {
        session_id: Uuid,
    },
}

impl Store {
    /// Starts a login session with its first refresh token.
    pub async fn create_session(
        &self,
        agent_id: Uuid,
        token_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        let session_id = Uuid::now_v7();
        self.writer
            .run(
                move |connection: &mut SqliteConnection| -> BoxFuture<'_, Result<Uuid, StoreError>> {
                    Box::pin(async move {
                        let now = Utc::now();
                        sqlx::query("INSERT INTO sessions (id, agent_id, created_at) VALUES (?, ?, ?)")
                            .bind(session_id)
                            .bind(agent_id)
                            .bind(now)
                            .execute(&mut *connection)
                            .await?;
                        sqlx::query(
                            "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                        )
                        .bind(&token_hash[..])
                        .bind(session_id)
                        .bind(now)
                        .bind(expires_at)
                        .execute(&mut *connection)
                        .await?;
                        Ok(session_id)
                    })
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
                move |connection: &mut SqliteConnection| -> BoxFuture<'_, Result<RefreshOutcome, StoreError>> {
                    Box::pin(rotate(connection, presented, successor, grace))
                },
                |outcome| match outcome {
                    RefreshOutcome::Reused { session_id } => vec![Committed::Revoked {
                        jti: None,
                        session: Some(*session_id),
                    }],
                    _ => Vec::new(),
                },
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
                move |connection: &mut SqliteConnection| -> BoxFuture<'_, Result<(), StoreError>> {
                    Box::pin(async move {
                        sqlx::query(
                            "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING",
                        )
                        .bind(&jti)
                        .bind(expires_at)
                        .execute(&mut *connection)
                        .await?;
                        if let Some(session) = session {
                            revoke_session(connection, session).await?;
                        }
                        Ok(())
                    })
                },
                move |_| {
                    vec![Committed::Revoked {
                        jti: Some(announced),
                        session,
                    }]
                },
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

    pub async fn is_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM revoked_tokens WHERE jti = ?")
            .bind(jti)
            .fetch_optional(&self.reads)
            .await?;
        Ok(found.is_some())
    }

    /// Drops what can no longer matter: revocations of tokens that even
    /// the clock leeway no longer admits, expired refresh tokens, and
    /// sealed successors past their grace window.
    pub async fn purge_expired(
        &self,
        leeway: Duration,
        grace: Duration,
    ) -> Result<u64, StoreError> {
        self.writer
            .run(
                move |connection: &mut SqliteConnection| -> BoxFuture<'_, Result<u64, StoreError>> {
                    Box::pin(async move {
                        let now = Utc::now();
                        let admitted_until = now.timestamp() - leeway.as_secs() as i64;
                        let revoked =
                            sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < ?")
                                .bind(admitted_until)
                                .execute(&mut *connection)
                                .await?;
                        let refresh =
                            sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < ?")
                                .bind(now)
                                .execute(&mut *connection)
                                .await?;
                        let grace = chrono::Duration::from_std(grace).unwrap_or_default();
                        sqlx::query(
                            "UPDATE refresh_tokens SET successor_sealed = NULL
                             WHERE successor_sealed IS NOT NULL AND used_at < ?",
                        )
                        .bind(now - grace)
                        .execute(&mut *connection)
                        .await?;
                        Ok(revoked.rows_affected() + refresh.rows_affected())
                    })
                },
                |_| Vec::new(),
            )
            .await
    }
}

async fn revoke_session(
    connection: &mut SqliteConnection,
    session: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(Utc::now())
        .bind(session)
        .execute(connection)
        .await
        .map(drop)
}

async fn rotate(
    connection: &mut SqliteConnection,
    presented: [u8; 32],
    successor: Successor,
    grace: Duration,
) -> Result<RefreshOutcome, StoreError> {
    let now = Utc::now();
    let row = sqlx::query(
        "SELECT r.session_id, r.expires_at, r.used_at, r.successor_hash, r.successor_sealed,
                s.agent_id, s.revoked_at
         FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
         WHERE r.token_hash = ?",
    )
    .bind(&presented[..])
    .fetch_optional(&mut *connection)
    .await?;
    let Some(row) = row else {
        return Ok(RefreshOutcome::Unknown);
    };
    let session_id: Uuid = row.try_get("session_id")?;
    let agent_id: Uuid = row.try_get("agent_id")?;
    let expires_at: DateTime<Utc> = row.try_get("expires_at")?;
    let used_at: Option<DateTime<Utc>> = row.try_get("used_at")?;
    let revoked_at: Option<DateTime<Utc>> = row.try_get("revoked_at")?;

    if revoked_at.is_some() {
        return Ok(RefreshOutcome::Revoked);
    }
    if let Some(used_at) = used_at {
        let within_grace = (now - used_at).to_std().is_ok_and(|since| since <= grace);
        let successor_hash: Option<Vec<u8>> = row.try_get("successor_hash")?;
        let sealed: Option<Vec<u8>> = row.try_get("successor_sealed")?;
        if within_grace && let (Some(hash), Some(sealed)) = (successor_hash, sealed) {
            let successor_used: Option<Option<DateTime<Utc>>> =
                sqlx::query_scalar("SELECT used_at FROM refresh_tokens WHERE token_hash = ?")
                    .bind(&hash)
                    .fetch_optional(&mut *connection)
                    .await?;
            if matches!(successor_used, Some(None)) {
                return Ok(RefreshOutcome::Replayed {
                    agent_id,
                    session_id,
                    sealed_successor: sealed,
                });
            }
        }
        // Someone holds a copy of a token that was already traded in:
        // either the legitimate client or an attacker. End the session for
        // both (OAuth 2.0 Security BCP, refresh token rotation).
        revoke_session(connection, session_id).await?;
        return Ok(RefreshOutcome::Reused { session_id });
    }
    if expires_at <= now {
        return Ok(RefreshOutcome::Expired);
    }
    sqlx::query(
        "UPDATE refresh_tokens SET used_at = ?, successor_hash = ?, successor_sealed = ?
         WHERE token_hash = ? AND used_at IS NULL",
    )
    .bind(now)
    .bind(&successor.hash[..])
    .bind(&successor.sealed)
    .bind(&presented[..])
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(&successor.hash[..])
    .bind(session_id)
    .bind(now)
    .bind(successor.expires_at)
    .execute(&mut *connection)
    .await?;
    Ok(RefreshOutcome::Rotated {
        agent_id,
        session_id,
    })
}
