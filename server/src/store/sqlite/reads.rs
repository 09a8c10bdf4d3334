//! Read markers: how far each party has read each chat.
//!
//! A `read` that does not move its marker is answered from one query on
//! the read pool and never reaches the writer; one that moves it is a
//! single upsert in the writer's next batch, see `rules::reads`.

use byrd_spec::message::PartyType;
use byrd_spec::read::ReadPosition;
use chrono::Utc;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::SqliteStore;
use super::rows::time_text;
use crate::store::StoreError;
use crate::store::rows::read_position_from_row;
use crate::store::rules::reads::{self, Mark};

impl SqliteStore {
    /// Every stored read position of the chat, least recently moved first.
    pub async fn read_positions(&self, chat_id: Uuid) -> Result<Vec<ReadPosition>, StoreError> {
        let rows = sqlx::query(
            "SELECT reader_type, reader_id, seq, updated_at FROM read_markers
             WHERE chat_id = ? ORDER BY updated_at, reader_type, reader_id",
        )
        .bind(chat_id)
        .fetch_all(&self.reads)
        .await?;
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
               ON r.chat_id = c.id AND r.reader_type = ?2 AND r.reader_id = ?3
             WHERE c.id = ?1",
        )
        .bind(chat_id)
        .bind(reader.as_str())
        .bind(reader_id)
        .fetch_optional(&self.reads)
        .await?;
        let (last_seq, stored) = found.ok_or(StoreError::ChatNotFound)?;
        match reads::decide(seq, last_seq, stored) {
            Mark::Keep(stored) => Ok(stored),
            Mark::Move(target) => self.move_marker(chat_id, reader, reader_id, target).await,
        }
    }

    /// Moves the marker forward to `target` in the writer's next batch; the
    /// marker as it then stands.
    async fn move_marker(
        &self,
        chat_id: Uuid,
        reader: PartyType,
        reader_id: Uuid,
        target: i64,
    ) -> Result<i64, StoreError> {
        self.writer
            .run(
                move |connection| {
                    let moved = connection
                        .prepare_cached(
                            "INSERT INTO read_markers (chat_id, reader_type, reader_id, seq, updated_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)
                             ON CONFLICT (chat_id, reader_type, reader_id)
                             DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
                             WHERE read_markers.seq < excluded.seq
                             RETURNING seq",
                        )?
                        .query_row(
                            params![
                                chat_id.as_bytes(),
                                reader.as_str(),
                                reader_id.as_bytes(),
                                target,
                                time_text(&Utc::now()),
                            ],
                            |row| row.get::<_, i64>(0),
                        )
                        .optional()?;
                    if let Some(moved) = moved {
                        return Ok(moved);
                    }
                    // Another connection of the same reader moved it at
                    // least as far since it was read.
                    let stored = connection
                        .prepare_cached(
                            "SELECT seq FROM read_markers
                             WHERE chat_id = ?1 AND reader_type = ?2 AND reader_id = ?3",
                        )?
                        .query_row(
                            params![chat_id.as_bytes(), reader.as_str(), reader_id.as_bytes()],
                            |row| row.get::<_, i64>(0),
                        )?;
                    Ok(stored)
                },
                |_| Vec::new(),
            )
            .await
    }
}
