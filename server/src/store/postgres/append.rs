//! Appending a batch of messages as one set, as `rules::append` decides.
//!
//! A batch costs four statements whatever its size: one locks the rows of
//! its chats in id order (so that batches of several nodes never deadlock)
//! and reads their `last_seq`; one looks up messages already stored under
//! the batch's idempotency keys; one moves each chat's `last_seq` and
//! inserts the new messages (`INSERT ... SELECT FROM unnest(...)`, beside
//! the `UPDATE` in a data-modifying `WITH`). Holding the chat rows, the
//! writer is the only one adding to those chats, so the look-up is exact;
//! `ON CONFLICT DO NOTHING` on the key stays as a backstop, and a row it
//! skips fails the batch rather than leave a hole in the `seq`s.

use std::collections::HashMap;

use byrd_spec::message::{Message, PartyType};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::now;
use crate::store::NewMessage;
use crate::store::rows::{MESSAGE_COLUMNS, message_from_row};
use crate::store::rules::append::{self, AppendTarget, Outcome};

/// The idempotency key of a message.
type Key = (Uuid, PartyType, Uuid, String);

fn key_of(new: &NewMessage) -> Key {
    (
        new.chat_id,
        new.author_kind,
        new.author_id,
        new.client_msg_id.as_str().to_owned(),
    )
}

/// Stores `news` in the open transaction, in order, as `rules::append`
/// decides; one outcome each. `Err` means the transaction must be rolled
/// back.
pub(super) async fn append_batch(
    connection: &mut PgConnection,
    news: &[&NewMessage],
) -> Result<Vec<Outcome>, sqlx::Error> {
    let mut chat_ids: Vec<Uuid> = news.iter().map(|new| new.chat_id).collect();
    chat_ids.sort_unstable();
    chat_ids.dedup();
    let mut chats = lock_chats(connection, &chat_ids).await?;
    let mut stored = stored_messages(connection, news).await?;

    let now = now();
    let mut outcomes = Vec::with_capacity(news.len());
    for new in news {
        let key = key_of(new);
        let mut missing = AppendTarget::Missing;
        let chat = chats.get_mut(&new.chat_id).unwrap_or(&mut missing);
        let outcome = append::decide(new, stored.get(&key), chat, now);
        // Stored earlier in the batch counts as stored.
        if let Outcome::Created(message) = &outcome {
            stored.insert(key, message.clone());
        }
        outcomes.push(outcome);
    }
    let created: Vec<&Message> = outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            Outcome::Created(message) => Some(message),
            _ => None,
        })
        .collect();
    if !created.is_empty() {
        insert(connection, &created, &chats, now).await?;
    }
    Ok(outcomes)
}

/// Locks the rows of `chat_ids` (sorted) and reads them; a missing chat
/// has no entry.
async fn lock_chats(
    connection: &mut PgConnection,
    chat_ids: &[Uuid],
) -> Result<HashMap<Uuid, AppendTarget>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, status, last_seq, visitor_name FROM chats
         WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(chat_ids)
    .fetch_all(&mut *connection)
    .await?;
    rows.iter()
        .map(|row| {
            let status: &str = row.try_get("status")?;
            Ok((
                row.try_get("id")?,
                AppendTarget::found(
                    status == "closed",
                    row.try_get("last_seq")?,
                    row.try_get("visitor_name")?,
                ),
            ))
        })
        .collect()
}

/// Messages already stored under the keys of `news`.
async fn stored_messages(
    connection: &mut PgConnection,
    news: &[&NewMessage],
) -> Result<HashMap<Key, Message>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages
         JOIN unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[])
              AS k (chat_id, author_type, author_id, client_msg_id)
         USING (chat_id, author_type, author_id, client_msg_id)"
    ))
    .bind(news.iter().map(|n| n.chat_id).collect::<Vec<_>>())
    .bind(
        news.iter()
            .map(|n| n.author_kind.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(news.iter().map(|n| n.author_id).collect::<Vec<_>>())
    .bind(
        news.iter()
            .map(|n| n.client_msg_id.as_str())
            .collect::<Vec<_>>(),
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut stored = HashMap::with_capacity(rows.len());
    for row in &rows {
        let message = message_from_row(row).map_err(|error| sqlx::Error::Decode(error.into()))?;
        let key = (
            message.chat_id,
            message.author.kind,
            message.author.id,
            message.client_msg_id.clone(),
        );
        stored.insert(key, message);
    }
    Ok(stored)
}

/// Moves each chat's `last_seq` past its new messages and inserts them,
/// in one statement.
async fn insert(
    connection: &mut PgConnection,
    created: &[&Message],
    chats: &HashMap<Uuid, AppendTarget>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    let mut moved_ids = Vec::new();
    let mut moved_to = Vec::new();
    for (id, chat) in chats {
        if let Some(last_seq) = chat.moved_last_seq() {
            moved_ids.push(*id);
            moved_to.push(last_seq);
        }
    }
    let inserted = sqlx::query(&format!(
        "WITH moved AS (
             UPDATE chats SET last_seq = v.last_seq, updated_at = $1
             FROM unnest($2::uuid[], $3::bigint[]) AS v (id, last_seq)
             WHERE chats.id = v.id
         )
         INSERT INTO messages ({MESSAGE_COLUMNS})
         SELECT * FROM unnest($4::uuid[], $5::uuid[], $6::bigint[], $7::text[], $8::uuid[],
                              $9::text[], $10::text[], $11::text[], $12::timestamptz[])
         ON CONFLICT (chat_id, author_type, author_id, client_msg_id) DO NOTHING"
    ))
    .bind(now)
    .bind(moved_ids)
    .bind(moved_to)
    .bind(created.iter().map(|m| m.id).collect::<Vec<_>>())
    .bind(created.iter().map(|m| m.chat_id).collect::<Vec<_>>())
    .bind(created.iter().map(|m| m.seq).collect::<Vec<_>>())
    .bind(
        created
            .iter()
            .map(|m| m.author.kind.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(created.iter().map(|m| m.author.id).collect::<Vec<_>>())
    .bind(
        created
            .iter()
            .map(|m| m.author.name.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(created.iter().map(|m| m.body.as_str()).collect::<Vec<_>>())
    .bind(
        created
            .iter()
            .map(|m| m.client_msg_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(created.iter().map(|m| m.created_at).collect::<Vec<_>>())
    .execute(&mut *connection)
    .await?;
    if inserted.rows_affected() != created.len() as u64 {
        // Only possible if something wrote to these chats without locking
        // them: refuse the batch rather than leave a hole in the seqs.
        return Err(sqlx::Error::Protocol(
            "a message of the batch was already stored; the batch is rolled back".into(),
        ));
    }
    Ok(())
}
