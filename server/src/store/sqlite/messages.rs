//! Messages.

use byrd_spec::message::Message;
use sqlx::SqlitePool;
use uuid::Uuid;

use super::{SqliteStore, read_in};
use crate::store::rows::{MESSAGE_COLUMNS, message_from_row};
use crate::store::{AppendTicket, Appended, MessageRange, NewMessage, ReadBatch, StoreError};

impl SqliteStore {
    /// Stores a message with the chat's next `seq`, or returns the one the
    /// author already stored under the same `client_msg_id` (when the body
    /// differs, that is `ClientMsgIdReused`).
    ///
    /// The message is committed with whatever else the writer has waiting;
    /// the answer comes once it is on disk.
    pub async fn append_message(&self, new: NewMessage) -> Result<Appended, StoreError> {
        self.writer.append(new)?.await
    }

    /// Queues a message without waiting for it: the ticket resolves like
    /// [`append_message`](Self::append_message). Messages queued one after
    /// another get their `seq`s in that order, so one connection can have
    /// many sends in flight.
    pub fn queue_message(&self, new: NewMessage) -> Result<AppendTicket, StoreError> {
        self.writer.append(new)
    }

    /// Messages in `range`, ascending, and whether more match beyond it.
    ///
    /// With only `before_seq`, the page is the newest messages before it,
    /// so a client can scroll back from the end.
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
             WHERE chat_id = ?1 AND seq > ?2 AND (?3 IS NULL OR seq < ?3)
             ORDER BY seq {order} LIMIT ?4"
        ))
        .bind(chat_id)
        .bind(range.after_seq.unwrap_or(0))
        .bind(range.before_seq)
        .bind(i64::from(range.limit) + 1)
        .fetch_all(&self.reads)
        .await?;
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

/// Reads chats' last `seq`s on the read pool, many at a time.
pub(super) struct LastSeqReads(pub(super) SqlitePool);

impl ReadBatch<Uuid, i64> for LastSeqReads {
    async fn read(&self, chats: Vec<Uuid>) -> Result<Vec<(Uuid, i64)>, StoreError> {
        let sql = |list: &str| format!("SELECT id, last_seq FROM chats WHERE id IN ({list})");
        read_in(&self.0, sql, chats).await
    }
}
