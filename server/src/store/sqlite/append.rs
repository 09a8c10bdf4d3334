//! Appending a batch of messages inside the writer's transaction, as
//! `rules::append` decides.
//!
//! Each chat of the batch is read once (its `last_seq`, status and visitor
//! name); then every message is inserted with the chat's next `seq`, in
//! queue order, by one prepared `INSERT ... ON CONFLICT DO NOTHING`, and
//! each chat's `last_seq` is moved once at the end. On the writer's own
//! thread these are direct calls of a few microseconds each, so a row per
//! statement costs less than building multi-row statements would.
//!
//! Idempotency rides on the unique key `(chat_id, author, client_msg_id)`:
//! an insert the key skipped repeats a stored message, which the rule
//! answers instead, and the chat's `seq` moves on only for rows really
//! inserted, so no `seq` is skipped. A repeat inside one batch finds the
//! first copy the same way, since the transaction sees its own rows. A
//! message that fails alone (a closed chat, a reused `client_msg_id`)
//! fails alone; the others of the batch still commit.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Instant;

use byrd_spec::message::Message;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::rows::time_text;
use super::writer::Done;
use crate::store::rows::{MESSAGE_COLUMNS, message_from_row};
use crate::store::rules::append::{self, AppendTarget, OpenChat, Outcome};
use crate::store::{Appended, NewMessage, StoreError};

/// A message waiting for the writer, and where its answer goes.
pub(super) struct PendingAppend {
    pub new: NewMessage,
    pub reply: oneshot::Sender<Result<Appended, StoreError>>,
    /// When it reached the writer's queue.
    pub arrived: Instant,
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
    let mut chats: HashMap<Uuid, AppendTarget> = HashMap::new();
    for item in pending {
        if connection.is_autocommit() {
            // A failure ended the transaction (SQLite rolls back on some
            // I/O errors): nothing more may be written outside it.
            let _ = item.reply.send(Err(StoreError::Unavailable));
            continue;
        }
        let new = &item.new;
        let outcome = match chats.entry(new.chat_id) {
            Entry::Occupied(entry) => decide(connection, new, entry.into_mut(), now, &created_at),
            Entry::Vacant(entry) => match read_target(connection, new.chat_id) {
                Ok(target) => decide(connection, new, entry.insert(target), now, &created_at),
                // Not remembered: the chat's next message reads it again.
                Err(error) => {
                    tracing::error!(%error, "cannot read a chat to append to");
                    Err(error.into())
                }
            },
        };
        done.push(finished(outcome, item.reply, item.arrived));
    }
    let mut moved =
        connection.prepare_cached("UPDATE chats SET last_seq = ?1, updated_at = ?2 WHERE id = ?3");
    for (chat_id, chat) in &chats {
        let Some(last_seq) = chat.moved_last_seq() else {
            continue;
        };
        let result = match &mut moved {
            Ok(statement) => statement
                .execute(params![last_seq, created_at, chat_id.as_bytes()])
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

/// The writer's record of one message: its answer, and what its commit
/// announces.
fn finished(
    outcome: Result<Outcome, StoreError>,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
    arrived: Instant,
) -> Done {
    let (changes, result) = match outcome {
        Ok(outcome) => (
            outcome.announced().into_iter().collect(),
            outcome.into_answer(),
        ),
        Err(error) => (Vec::new(), Err(error)),
    };
    Done {
        ok: result.is_ok(),
        changes,
        arrived: Some(arrived),
        reply: Box::new(move |committed| {
            let _ = reply.send(committed.map_err(StoreError::from).and(result));
        }),
    }
}

/// The chat `chat_id` as an append finds it.
fn read_target(connection: &Connection, chat_id: Uuid) -> rusqlite::Result<AppendTarget> {
    let found = connection
        .prepare_cached("SELECT last_seq, status, visitor_name FROM chats WHERE id = ?1")?
        .query_row([chat_id.as_bytes()], |row| {
            let status: String = row.get(1)?;
            Ok(AppendTarget::found(
                status == "closed",
                row.get(0)?,
                row.get(2)?,
            ))
        })
        .optional()?;
    Ok(found.unwrap_or(AppendTarget::Missing))
}

/// Carries out [`append::decide`] for `new`. A message to an open chat is
/// inserted at once, and the message stored under its key is looked up
/// only when the insert finds the key taken: a repeat is rare, and a
/// look-up first would cost every message a statement.
fn decide(
    connection: &Connection,
    new: &NewMessage,
    chat: &mut AppendTarget,
    now: DateTime<Utc>,
    created_at: &str,
) -> Result<Outcome, StoreError> {
    if let AppendTarget::Open(open) = chat {
        return insert(connection, new, open, now, created_at);
    }
    let stored = stored_message(connection, new)?;
    Ok(append::decide(new, stored.as_ref(), chat, now))
}

/// Stores `new` with the chat's next `seq`, or answers the message its key
/// already holds.
fn insert(
    connection: &Connection,
    new: &NewMessage,
    chat: &mut OpenChat,
    now: DateTime<Utc>,
    created_at: &str,
) -> Result<Outcome, StoreError> {
    let message = chat.next_message(new, now);
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
        chat.stored();
        return Ok(Outcome::Created(message));
    }
    match stored_message(connection, new)? {
        Some(stored) => Ok(append::repeat(&stored, new)),
        // Skipped, yet not there: nothing sane to answer.
        None => Err(StoreError::Unexpected(anyhow::anyhow!(
            "a message was skipped without a stored twin"
        ))),
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
