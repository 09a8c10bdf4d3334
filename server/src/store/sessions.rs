//! Login sessions, refresh-token rotation and access-token revocation.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::{Store, StoreError};

/// What presenting a refresh token led to.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was valid and is now used; a new one was stored in its place.
    Rotated {
        agent_id: Uuid,
        session_id: Uuid,
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
        token_hash: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        let session_id = Uuid::now_v7();
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO sessions (id, agent_id, created_at) VALUES (?, ?, ?)")
            .bind(session_id)
            .bind(agent_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(session_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(session_id)
    }

    /// Uses the refresh token with hash `presented` and, when it is good,
    /// stores `replacement` in the same session, all in one transaction.
    ///
    /// Marking the token used is a guarded update, so two racing requests
    /// with the same token cannot both succeed: the loser sees a reuse.
    pub async fn rotate_refresh_token(
        &self,
        presented: &[u8],
        replacement: &[u8],
        replacement_expires_at: DateTime<Utc>,
    ) -> Result<RefreshOutcome, StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT r.session_id, r.expires_at, r.used_at, s.agent_id, s.revoked_at
             FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
             WHERE r.token_hash = ?",
        )
        .bind(presented)
        .fetch_optional(&mut *tx)
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
        let newly_used = used_at.is_none()
            && sqlx::query(
                "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
            )
            .bind(now)
            .bind(presented)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
        if !newly_used {
            // Someone holds a copy of a token that was already traded in:
            // either the legitimate client or an attacker. End the session
            // for both (OAuth 2.0 Security BCP, refresh token rotation).
            sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(now)
                .bind(session_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(RefreshOutcome::Reused { session_id });
        }
        if expires_at <= now {
            // Dropping `tx` rolls back the `used_at` mark; nothing changes.
            return Ok(RefreshOutcome::Expired);
        }
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(replacement)
        .bind(session_id)
        .bind(now)
        .bind(replacement_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RefreshOutcome::Rotated {
            agent_id,
            session_id,
        })
    }

    /// Ends a session: none of its refresh tokens works any more.
    pub async fn revoke_session(&self, session_id: Uuid) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(Utc::now())
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Refuses the access token `jti` until `expires_at` (Unix seconds).
    pub async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING")
            .bind(jti)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// True when the session was revoked, or never existed.
    pub async fn is_session_revoked(&self, session_id: Uuid) -> Result<bool, StoreError> {
        let revoked: Option<bool> =
            sqlx::query_scalar("SELECT revoked_at IS NOT NULL FROM sessions WHERE id = ?")
                .bind(session_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(revoked.unwrap_or(true))
    }

    pub async fn is_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM revoked_tokens WHERE jti = ?")
            .bind(jti)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Drops revocations and refresh tokens that can no longer matter.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = Utc::now();
        let revoked = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < ?")
            .bind(now.timestamp())
            .execute(&self.pool)
            .await?;
        let refresh = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(revoked.rows_affected() + refresh.rows_affected())
    }
}
