//! Appending a batch of messages inside the writer's transaction.
//!
//! Each chat of the batch is read once (its `last_seq`, status and visitor
//! name); then every message is inserted with the chat's next `seq`, in
//! queue order, by one prepared `INSERT ... ON CONFLICT DO NOTHING`, and
//! each chat's `last_seq` is moved once at the end. On the writer's own
//! thread these are direct calls of a few microseconds each, so a row per
//! statement costs less than building multi-row statements would.
//!
//! Idempotency rides on the unique key `(chat_id, author, client_msg_id)`:
//! an insert the key skipped repeats a stored message, which is answered
//! instead, and the chat's `seq` moves on only for rows really inserted,
//! so no `seq` is skipped. A repeat inside one batch finds the first copy
//! the same way, since the transaction sees its own rows. A message that
//! fails alone (a closed chat, a reused `client_msg_id`) fails alone; the
//! others of the batch still commit.

use std::collections::HashMap;

use byrd_spec::message::{Author, Message, PartyType};
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::messages::{Appended, MESSAGE_COLUMNS, NewMessage, message_from_row};
use super::rows::time_text;
use super::writer::Done;
use super::{Committed, StoreError};

/// A message waiting for the writer, and where its answer goes.
pub(super) struct PendingAppend {
    pub new: NewMessage,
    pub reply: oneshot::Sender<Result<Appended, StoreError>>,
}

/// What the batch knows of one chat it appends to.
struct ChatState {
    /// The `seq` the next stored message gets.
    next_seq: i64,
    /// Whether any message of the batch was stored in it.
    grew: bool,
    visitor_name: Option<String>,
}

/// Appends `pending` inside the open transaction, pushing one [`Done`] per
/// message; created ones carry their `Committed::Message`.
pub(super) fn append_all(
    connection: &Connection,
    pending: Vec<PendingAppend>,
    done: &mut Vec<Done>,
) {
    if pending.is_empty() {
        return;
    }
    let now = Utc::now();
    let created_at = time_text(&now);
    // `None`: the chat is closed or missing.
    let mut chats: HashMap<Uuid, Option<ChatState>> = HashMap::new();
    for item in pending {
        if connection.is_autocommit() {
            // A failure ended the transaction (SQLite rolls back on some
            // I/O errors): nothing more may be written outside it.
            let _ = item.reply.send(Err(StoreError::Unavailable));
            continue;
        }
        let new = &item.new;
        let chat = match chats.get_mut(&new.chat_id) {
            Some(chat) => chat,
            None => {
                let state = open_chat(connection, new.chat_id);
                chats
                    .entry(new.chat_id)
                    .or_insert(state.unwrap_or_else(|error| {
                        tracing::error!(%error, "cannot read a chat to append to");
                        None
                    }))
            }
        };
        let outcome = match chat {
            Some(chat) => insert(connection, new, chat, now, &created_at),
            None => refused(connection, new),
        };
        let reply = item.reply;
        let (ok, changes, result) = match outcome {
            Ok(Appended::Created(message)) => (
                true,
                vec![Committed::Message(message.clone())],
                Ok(Appended::Created(message)),
            ),
            Ok(existing) => (true, Vec::new(), Ok(existing)),
            Err(error) => (false, Vec::new(), Err(error)),
        };
        done.push(Done {
            ok,
            changes,
            reply: Box::new(move |committed| {
                let _ = reply.send(committed.map_err(StoreError::from).and(result));
            }),
        });
    }
    let mut moved =
        connection.prepare_cached("UPDATE chats SET last_seq = ?1, updated_at = ?2 WHERE id = ?3");
    for (chat_id, chat) in &chats {
        let Some(chat) = chat.as_ref().filter(|chat| chat.grew) else {
            continue;
        };
        let result = match &mut moved {
            Ok(statement) => statement
                .execute(params![chat.next_seq - 1, created_at, chat_id.as_bytes()])
                .map(drop),
            Err(error) => Err(clone_error(error)),
        };
        if let Err(error) = result {
            // The stored rows would disagree with `last_seq`: the batch
            // must not commit. A failing statement leaves the
            // transaction open, so end it here; the COMMIT then fails.
            tracing::error!(%error, "cannot move a chat's last seq; rolling the batch back");
            let _ = connection.execute_batch("ROLLBACK");
            return;
        }
    }
}

/// The chat's state for appending, or `None` when it is closed or missing.
fn open_chat(connection: &Connection, chat_id: Uuid) -> rusqlite::Result<Option<ChatState>> {
    connection
        .prepare_cached("SELECT last_seq, status, visitor_name FROM chats WHERE id = ?1")?
        .query_row([chat_id.as_bytes()], |row| {
            let status: String = row.get(1)?;
            Ok((status != "closed").then(|| ChatState {
                next_seq: row.get::<_, i64>(0).map(|last| last + 1).unwrap_or(1),
                grew: false,
                visitor_name: row.get(2).ok().flatten(),
            }))
        })
        .optional()
        .map(Option::flatten)
}

/// Stores `new` with the chat's next `seq`, or answers the message its key
/// already holds.
fn insert(
    connection: &Connection,
    new: &NewMessage,
    chat: &mut ChatState,
    now: chrono::DateTime<Utc>,
    created_at: &str,
) -> Result<Appended, StoreError> {
    let message = Message {
        id: Uuid::now_v7(),
        chat_id: new.chat_id,
        seq: chat.next_seq,
        author: Author {
            kind: new.author_kind,
            id: new.author_id,
            name: match new.author_kind {
                PartyType::Guest => chat.visitor_name.clone(),
                PartyType::Agent => new.author_name.clone(),
            },
        },
        body: new.body.as_str().to_owned(),
        client_msg_id: new.client_msg_id.as_str().to_owned(),
        created_at: now,
    };
    let inserted = connection
        .prepare_cached(&format!(
            "INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (chat_id, author_type, author_id, client_msg_id) DO NOTHING"
        ))?
        .execute(params![
            message.id.as_bytes(),
            message.chat_id.as_bytes(),
            message.seq,
            message.author.kind.as_str(),
            message.author.id.as_bytes(),
            message.author.name,
            message.body,
            message.client_msg_id,
            created_at,
        ])?;
    if inserted == 1 {
        chat.next_seq += 1;
        chat.grew = true;
        return Ok(Appended::Created(message));
    }
    match stored_message(connection, new)? {
        Some(stored) => same_or_reused(stored, new),
        // Skipped, yet not there: nothing sane to answer.
        None => Err(StoreError::Unexpected(anyhow::anyhow!(
            "a message was skipped without a stored twin"
        ))),
    }
}

/// The answer for a message to a closed or missing chat: a repeat of a
/// message stored before the close still gets it.
fn refused(connection: &Connection, new: &NewMessage) -> Result<Appended, StoreError> {
    if let Some(stored) = stored_message(connection, new)? {
        return same_or_reused(stored, new);
    }
    let exists = connection
        .prepare_cached("SELECT 1 FROM chats WHERE id = ?1")?
        .query_row([new.chat_id.as_bytes()], |_| Ok(()))
        .optional()?;
    Err(match exists {
        Some(()) => StoreError::ChatClosed,
        None => StoreError::ChatNotFound,
    })
}

/// A repeat of `stored`: the same message again, or another one under a
/// `client_msg_id` already taken.
fn same_or_reused(stored: Message, new: &NewMessage) -> Result<Appended, StoreError> {
    if stored.body == new.body.as_str() {
        Ok(Appended::Existing(stored))
    } else {
        Err(StoreError::ClientMsgIdReused)
    }
}

/// The message stored under `new`'s idempotency key, if any.
fn stored_message(
    connection: &Connection,
    new: &NewMessage,
) -> Result<Option<Message>, StoreError> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages
         WHERE chat_id = ?1 AND author_type = ?2 AND author_id = ?3 AND client_msg_id = ?4"
    ))?;
    let mut rows = statement.query(params![
        new.chat_id.as_bytes(),
        new.author_kind.as_str(),
        new.author_id.as_bytes(),
        new.client_msg_id.as_str(),
    ])?;
    match rows.next()? {
        Some(row) => message_from_row(row).map(Some),
        None => Ok(None),
    }
}

/// rusqlite errors are not `Clone`; a failed `prepare` is reported again
/// for each use.
fn clone_error(error: &rusqlite::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(error.to_string().into())
}
