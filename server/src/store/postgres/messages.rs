//! Messages.

use byrd_spec::message::Message;
use sqlx::PgPool;
use uuid::Uuid;

use super::{PostgresStore, store_error};
use crate::store::rows::{MESSAGE_COLUMNS, message_from_row};
use crate::store::{AppendTicket, Appended, MessageRange, NewMessage, ReadBatch, StoreError};

impl PostgresStore {
    /// Stores a message with the chat's next `seq`, or returns the one the
    /// author already stored under the same `client_msg_id`; see
    /// [`queue_message`](Self::queue_message).
    pub async fn append_message(&self, new: NewMessage) -> Result<Appended, StoreError> {
        self.writer.append(new)?.await
    }

    /// Queues a message for the writer's next batch; the ticket resolves
    /// once it is committed. Messages queued one after another get their
    /// `seq`s in that order.
    pub fn queue_message(&self, new: NewMessage) -> Result<AppendTicket, StoreError> {
        self.writer.append(new)
    }

    /// Messages in `range`, ascending, and whether more match beyond it.
    pub async fn list_messages(
        &self,
        chat_id: Uuid,
        range: MessageRange,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        self.read_faults.before_message_read().await?;
        let newest_first = range.before_seq.is_some() && range.after_seq.is_none();
        let order = if newest_first { "DESC" } else { "ASC" };
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE chat_id = $1 AND seq > $2 AND ($3::bigint IS NULL OR seq < $3)
             ORDER BY seq {order} LIMIT $4"
        ))
        .bind(chat_id)
        .bind(range.after_seq.unwrap_or(0))
        .bind(range.before_seq)
        .bind(i64::from(range.limit) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let mut messages: Vec<Message> = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<_, _>>()?;
        let has_more = messages.len() > range.limit as usize;
        messages.truncate(range.limit as usize);
        if newest_first {
            messages.reverse();
        }
        Ok((messages, has_more))
    }

    /// The chat's newest `seq`, or `None` when there is no such chat.
    /// Reads that arrive together share a query (see `Batched`).
    pub async fn chat_last_seq(&self, chat_id: Uuid) -> Result<Option<i64>, StoreError> {
        self.last_seqs.get(chat_id).await
    }
}

/// Reads chats' last `seq`s on the pool, many at a time; the sweep's
/// reads too.
pub(super) struct LastSeqReads(pub(super) PgPool);

impl ReadBatch<Uuid, i64> for LastSeqReads {
    async fn read(&self, chats: Vec<Uuid>) -> Result<Vec<(Uuid, i64)>, StoreError> {
        sqlx::query_as("SELECT id, last_seq FROM chats WHERE id = ANY($1)")
            .bind(chats)
            .fetch_all(&self.0)
            .await
            .map_err(store_error)
    }
}
