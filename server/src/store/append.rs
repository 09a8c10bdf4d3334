//! Appending a batch of messages as one set.
//!
//! A batch costs a few statements whatever its size: one `UPDATE` reserves
//! each chat's next `seq`s (`last_seq + n`, refused for closed chats), and
//! one multi-row `INSERT ... ON CONFLICT DO NOTHING` stores the messages.
//! Idempotency rides on the unique key `(chat_id, author, client_msg_id)`:
//! a message the `INSERT` skipped was stored before. Its reserved `seq`
//! would leave a gap, so the batch is rolled back to its savepoint, the
//! repeats are answered with the stored message, and the rest is appended
//! again. Repeats inside one batch are settled in memory first.
//!
//! The same statements run on PostgreSQL, where the `UPDATE` also takes
//! the row locks that order concurrent writers of one chat.

use std::collections::HashMap;

use byrd_spec::message::{Author, Message, PartyType};
use chrono::Utc;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Executor, QueryBuilder, Row, Sqlite};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::messages::{Appended, MESSAGE_COLUMNS, NewMessage, message_from_row};
use super::writer::Done;
use super::{Committed, StoreError};

/// A message waiting for the writer, and where its answer goes.
pub(super) struct PendingAppend {
    pub new: NewMessage,
    pub reply: oneshot::Sender<Result<Appended, StoreError>>,
}

/// Rows of one multi-row `INSERT`: 9 parameters each stays well under
/// SQLite's 32,766.
const ROWS_PER_INSERT: usize = 512;

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

/// How one message of the batch ends.
enum Outcome {
    Created(Message),
    Existing(Message),
    Failed(StoreError),
}

/// Appends `pending` as the first writes of the open transaction and
/// pushes one [`Done`] per message (created ones carry their
/// `Committed::Message`). `Err` means the transaction is gone: the batch
/// cannot commit.
pub(super) async fn append_all(
    connection: &mut SqliteConnection,
    pending: Vec<PendingAppend>,
    done: &mut Vec<Done>,
) -> Result<(), super::writer::CommitFailure> {
    if pending.is_empty() {
        return Ok(());
    }
    // Repeats inside the batch follow the first message with their key.
    let mut first_of: HashMap<Key, usize> = HashMap::new();
    let mut leaders = Vec::new();
    let mut followers = Vec::new();
    for (index, item) in pending.iter().enumerate() {
        match first_of.get(&key_of(&item.new)) {
            Some(&leader) => followers.push((index, leader)),
            None => {
                first_of.insert(key_of(&item.new), index);
                leaders.push(index);
            }
        }
    }
    let news: Vec<&NewMessage> = pending.iter().map(|p| &p.new).collect();
    let mut outcomes: Vec<Option<Outcome>> = (0..pending.len()).map(|_| None).collect();
    let stored = store_leaders(connection, &news, &leaders, &mut outcomes).await;
    if let Err(error) = &stored {
        let failure = super::writer::CommitFailure::from(error);
        for (item, _) in pending.into_iter().zip(outcomes) {
            let _ = item.reply.send(Err(failure.clone().into()));
        }
        return Err(failure);
    }
    for (index, leader) in followers {
        outcomes[index] = Some(match &outcomes[leader] {
            Some(Outcome::Created(m) | Outcome::Existing(m)) => same_or_reused(m, news[index]),
            Some(Outcome::Failed(error)) => Outcome::Failed(copy_error(error)),
            None => Outcome::Failed(StoreError::Unavailable),
        });
    }
    for (item, outcome) in pending.into_iter().zip(outcomes) {
        let outcome = outcome.unwrap_or(Outcome::Failed(StoreError::Unavailable));
        let reply = item.reply;
        let (ok, changes, result) = match outcome {
            Outcome::Created(message) => (
                true,
                vec![Committed::Message(message.clone())],
                Ok(Appended::Created(message)),
            ),
            Outcome::Existing(message) => (true, Vec::new(), Ok(Appended::Existing(message))),
            Outcome::Failed(error) => (false, Vec::new(), Err(error)),
        };
        done.push(Done {
            ok,
            changes,
            reply: Box::new(move |committed| {
                let _ = reply.send(committed.map_err(StoreError::from).and(result));
            }),
        });
    }
    Ok(())
}

/// Errors are not `Clone` (they may hold a cause); a repeat gets the same
/// kind of answer as the message it repeats.
fn copy_error(error: &StoreError) -> StoreError {
    match error {
        StoreError::EmailTaken => StoreError::EmailTaken,
        StoreError::ChatNotFound => StoreError::ChatNotFound,
        StoreError::AgentNotFound => StoreError::AgentNotFound,
        StoreError::ChatClosed => StoreError::ChatClosed,
        StoreError::ClientMsgIdReused => StoreError::ClientMsgIdReused,
        StoreError::Unavailable => StoreError::Unavailable,
        StoreError::Unexpected(cause) => StoreError::Unexpected(anyhow::anyhow!("{cause:#}")),
    }
}

/// A repeat of `stored`: the same message again, or another one under a
/// `client_msg_id` already taken.
fn same_or_reused(stored: &Message, new: &NewMessage) -> Outcome {
    if stored.body == new.body.as_str() {
        Outcome::Existing(stored.clone())
    } else {
        Outcome::Failed(StoreError::ClientMsgIdReused)
    }
}

/// Stores the messages at `leaders` (distinct keys), filling `outcomes`.
async fn store_leaders(
    connection: &mut SqliteConnection,
    news: &[&NewMessage],
    leaders: &[usize],
    outcomes: &mut [Option<Outcome>],
) -> Result<(), sqlx::Error> {
    let mut todo: Vec<usize> = leaders.to_vec();
    // Appends run first in the batch's transaction, so undoing an attempt
    // is a plain rollback and a new `BEGIN`: cheaper in the common case
    // than a savepoint around every attempt. Each pass settles at least
    // one repeat or stores everything left; a single writer needs two.
    while !todo.is_empty() {
        match try_append(connection, news, &todo).await? {
            Attempt::Stored(messages) => {
                for (index, message) in messages {
                    outcomes[index] = Some(Outcome::Created(message));
                }
                return Ok(());
            }
            Attempt::Refused { refused, repeats } => {
                connection.execute("ROLLBACK").await?;
                connection.execute("BEGIN IMMEDIATE").await?;
                for (index, error) in refused {
                    outcomes[index] = Some(Outcome::Failed(error));
                }
                for index in repeats {
                    outcomes[index] = Some(match stored_message(connection, news[index]).await? {
                        Some(stored) => same_or_reused(&stored, news[index]),
                        // Not there after all: a constraint other than the
                        // key skipped it; nothing sane to store.
                        None => Outcome::Failed(StoreError::Unexpected(anyhow::anyhow!(
                            "a message was skipped without a stored twin"
                        ))),
                    });
                }
                todo.retain(|index| outcomes[*index].is_none());
            }
        }
    }
    Ok(())
}

enum Attempt {
    /// Every message stored: `(index, message)`.
    Stored(Vec<(usize, Message)>),
    /// Nothing kept: these failed outright, these repeat stored messages.
    Refused {
        refused: Vec<(usize, StoreError)>,
        repeats: Vec<usize>,
    },
}

/// One try at storing `todo`; refused or repeated messages make it roll
/// back, so the caller can try again without them.
async fn try_append(
    connection: &mut SqliteConnection,
    news: &[&NewMessage],
    todo: &[usize],
) -> Result<Attempt, sqlx::Error> {
    let now = Utc::now();
    // Reserve `n` seqs per chat, in first-seen order.
    let mut per_chat: Vec<(Uuid, i64)> = Vec::new();
    for &index in todo {
        match per_chat
            .iter_mut()
            .find(|(chat, _)| *chat == news[index].chat_id)
        {
            Some((_, n)) => *n += 1,
            None => per_chat.push((news[index].chat_id, 1)),
        }
    }
    let mut reserve = QueryBuilder::<Sqlite>::new(
        "UPDATE chats SET last_seq = chats.last_seq + v.column2, updated_at = ",
    );
    reserve.push_bind(now);
    reserve.push(" FROM (");
    reserve.push_values(&per_chat, |mut row, (chat, n)| {
        row.push_bind(*chat).push_bind(*n);
    });
    reserve.push(
        ") AS v WHERE chats.id = v.column1 AND chats.status <> 'closed' \
         RETURNING chats.id, chats.last_seq, chats.visitor_name",
    );
    let rows = reserve.build().fetch_all(&mut *connection).await?;
    // chat -> (next seq to hand out, visitor name)
    let mut reserved: HashMap<Uuid, (i64, Option<String>)> = HashMap::new();
    for row in &rows {
        let chat: Uuid = row.try_get("id")?;
        let last: i64 = row.try_get("last_seq")?;
        let n = per_chat
            .iter()
            .find(|(c, _)| *c == chat)
            .map_or(0, |(_, n)| *n);
        reserved.insert(chat, (last - n + 1, row.try_get("visitor_name")?));
    }
    let unreserved: Vec<usize> = todo
        .iter()
        .copied()
        .filter(|index| !reserved.contains_key(&news[*index].chat_id))
        .collect();
    if !unreserved.is_empty() {
        // A closed or missing chat. A repeat of a message stored before the
        // close still gets its answer; anything else is refused.
        let mut refused = Vec::new();
        let mut repeats = Vec::new();
        for index in unreserved {
            if stored_message(connection, news[index]).await?.is_some() {
                repeats.push(index);
            } else {
                let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM chats WHERE id = ?")
                    .bind(news[index].chat_id)
                    .fetch_optional(&mut *connection)
                    .await?;
                let error = match exists {
                    Some(_) => StoreError::ChatClosed,
                    None => StoreError::ChatNotFound,
                };
                refused.push((index, error));
            }
        }
        return Ok(Attempt::Refused { refused, repeats });
    }

    let mut messages = Vec::with_capacity(todo.len());
    for &index in todo {
        let new = news[index];
        let Some((next, visitor_name)) = reserved.get_mut(&new.chat_id) else {
            continue;
        };
        let seq = *next;
        *next += 1;
        let name = match new.author_kind {
            PartyType::Guest => visitor_name.clone(),
            PartyType::Agent => new.author_name.clone(),
        };
        messages.push((
            index,
            Message {
                id: Uuid::now_v7(),
                chat_id: new.chat_id,
                seq,
                author: Author {
                    kind: new.author_kind,
                    id: new.author_id,
                    name,
                },
                body: new.body.as_str().to_owned(),
                client_msg_id: new.client_msg_id.as_str().to_owned(),
                created_at: now,
            },
        ));
    }
    // Counting is enough in the common case; which ones were skipped is
    // looked up only when some were. Rows go in chunks that stay under
    // SQLite's limit on bound parameters.
    let mut inserted = 0;
    for chunk in messages.chunks(ROWS_PER_INSERT) {
        let mut insert =
            QueryBuilder::<Sqlite>::new(format!("INSERT INTO messages ({MESSAGE_COLUMNS}) "));
        insert.push_values(chunk, |mut row, (_, m)| {
            row.push_bind(m.id)
                .push_bind(m.chat_id)
                .push_bind(m.seq)
                .push_bind(m.author.kind.as_str())
                .push_bind(m.author.id)
                .push_bind(&m.author.name)
                .push_bind(&m.body)
                .push_bind(&m.client_msg_id)
                .push_bind(m.created_at);
        });
        insert.push(" ON CONFLICT (chat_id, author_type, author_id, client_msg_id) DO NOTHING");
        inserted += insert
            .build()
            .execute(&mut *connection)
            .await?
            .rows_affected();
    }
    if inserted == messages.len() as u64 {
        return Ok(Attempt::Stored(messages));
    }
    let mut repeats = Vec::new();
    for (index, message) in &messages {
        let ours: Option<i64> = sqlx::query_scalar("SELECT 1 FROM messages WHERE id = ?")
            .bind(message.id)
            .fetch_optional(&mut *connection)
            .await?;
        if ours.is_none() {
            repeats.push(*index);
        }
    }
    Ok(Attempt::Refused {
        refused: Vec::new(),
        repeats,
    })
}

/// The message stored under `new`'s idempotency key, if any.
async fn stored_message(
    connection: &mut SqliteConnection,
    new: &NewMessage,
) -> Result<Option<Message>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages
         WHERE chat_id = ? AND author_type = ? AND author_id = ? AND client_msg_id = ?"
    ))
    .bind(new.chat_id)
    .bind(new.author_kind.as_str())
    .bind(new.author_id)
    .bind(new.client_msg_id.as_str())
    .fetch_optional(&mut *connection)
    .await?;
    row.as_ref().map(message_from_row).transpose()
}
