//! [`ClusterReads`] on PostgreSQL: what each node's sweep reads from the
//! database all nodes share.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::messages::LastSeqReads;
use super::{PostgresStore, store_error};
use crate::store::rows::{CHAT_STATE_COLUMNS, chat_state_from_row};
use crate::store::{ChangedChats, ClusterReads, ReadBatch, Revocations, StoreError};

impl ClusterReads for PostgresStore {
    async fn chats_last_seq(&self, chats: &[Uuid]) -> Result<Vec<(Uuid, i64)>, StoreError> {
        LastSeqReads(self.pool.clone()).read(chats.to_vec()).await
    }

    async fn chats_changed_since(&self, since: DateTime<Utc>) -> Result<ChangedChats, StoreError> {
        let as_of: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
        let rows = sqlx::query(&format!(
            "SELECT {CHAT_STATE_COLUMNS} FROM chats WHERE updated_at >= $1"
        ))
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let chats = rows
            .iter()
            .map(chat_state_from_row)
            .collect::<Result<_, _>>()?;
        Ok(ChangedChats { chats, as_of })
    }

    async fn chat_by_id(&self, id: Uuid) -> Result<Option<byrd_spec::chat::Chat>, StoreError> {
        PostgresStore::chat_by_id(self, id).await
    }

    async fn revocations_since(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Revocations, StoreError> {
        let as_of: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
        let Some(since) = since else {
            return Ok(Revocations {
                as_of,
                ..Revocations::default()
            });
        };
        let tokens = sqlx::query_scalar("SELECT jti FROM revoked_tokens WHERE revoked_at >= $1")
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        let sessions = sqlx::query_scalar("SELECT id FROM sessions WHERE revoked_at >= $1")
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(Revocations {
            tokens,
            sessions,
            as_of,
        })
    }
}
