//! What the cluster's sweep reads besides positions: the state of the
//! chats changed since its last look.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{PostgresStore, store_error};
use crate::hub::ChatState;
use crate::store::StoreError;

/// Chats changed at or after some time, and the database's clock when read.
#[derive(Debug)]
pub struct ChangedChats {
    pub chats: Vec<ChatState>,
    pub as_of: DateTime<Utc>,
}

impl PostgresStore {
    /// The state of every chat whose `updated_at` is at or after `since`
    /// (the database's clock); a message moves it too, so this includes
    /// the chats being written in.
    pub async fn chats_changed_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<ChangedChats, StoreError> {
        let as_of: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
        let rows = sqlx::query(
            "SELECT id, status, assigned_agent_id, updated_at FROM chats WHERE updated_at >= $1",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let chats = rows
            .iter()
            .map(|row| {
                Ok(ChatState {
                    id: row.try_get("id")?,
                    status: row.try_get("status")?,
                    assigned_agent_id: row.try_get("assigned_agent_id")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(store_error)?;
        Ok(ChangedChats { chats, as_of })
    }
}
