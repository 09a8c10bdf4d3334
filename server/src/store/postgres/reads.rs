//! Read markers: how far each party has read each chat.
//!
//! A `read` that does not move its marker is answered from one plain query
//! on the pool, with no transaction and no write; one that moves it adds a
//! single upsert, see `rules::reads`.

use byrd_spec::message::PartyType;
use byrd_spec::read::ReadPosition;
use uuid::Uuid;

use super::{PostgresStore, now, store_error};
use crate::store::StoreError;
use crate::store::rows::read_position_from_row;
use crate::store::rules::reads::{self, Mark};

impl PostgresStore {
    /// Every stored read position of the chat, least recently moved first.
    pub async fn read_positions(&self, chat_id: Uuid) -> Result<Vec<ReadPosition>, StoreError> {
        let rows = sqlx::query(
            "SELECT reader_type, reader_id, seq, updated_at FROM read_markers
             WHERE chat_id = $1 ORDER BY updated_at, reader_type, reader_id",
        )
        .bind(chat_id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(read_position_from_row).collect()
    }

    /// Records that `reader` has read up to `seq`; a marker never moves
    /// back. Returns the stored position.
    pub async fn mark_read(
        &self,
        chat_id: Uuid,
        reader: PartyType,
        reader_id: Uuid,
        seq: i64,
    ) -> Result<i64, StoreError> {
        let found: Option<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT c.last_seq, r.seq FROM chats c
             LEFT JOIN read_markers r
               ON r.chat_id = c.id AND r.reader_type = $2 AND r.reader_id = $3
             WHERE c.id = $1",
        )
        .bind(chat_id)
        .bind(reader.as_str())
        .bind(reader_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        let (last_seq, stored) = found.ok_or(StoreError::ChatNotFound)?;
        match reads::decide(seq, last_seq, stored) {
            Mark::Keep(stored) => Ok(stored),
            Mark::Move(target) => self.move_marker(chat_id, reader, reader_id, target).await,
        }
    }

    /// Moves the marker forward to `target` in one statement outside any
    /// explicit transaction; the marker as it now stands.
    async fn move_marker(
        &self,
        chat_id: Uuid,
        reader: PartyType,
        reader_id: Uuid,
        target: i64,
    ) -> Result<i64, StoreError> {
        let moved: Option<i64> = sqlx::query_scalar(
            "INSERT INTO read_markers (chat_id, reader_type, reader_id, seq, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (chat_id, reader_type, reader_id)
             DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
             WHERE read_markers.seq < excluded.seq
             RETURNING seq",
        )
        .bind(chat_id)
        .bind(reader.as_str())
        .bind(reader_id)
        .bind(target)
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        if let Some(moved) = moved {
            return Ok(moved);
        }
        // Another connection of the same reader moved it at least as far
        // since it was read: answer where it stands.
        sqlx::query_scalar(
            "SELECT seq FROM read_markers
             WHERE chat_id = $1 AND reader_type = $2 AND reader_id = $3",
        )
        .bind(chat_id)
        .bind(reader.as_str())
        .bind(reader_id)
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)
    }
}
