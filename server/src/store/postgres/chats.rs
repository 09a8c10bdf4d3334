//! Chats: their rows, their start as `rules::open_chats` bounds it, and
//! their transitions (idle closes included) as `rules::transitions`
//! decides them.

use byrd_spec::chat::{Chat, ChatStatus, ChatSummary};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{PostgresStore, now, store_error, visitors};
use crate::store::rows::{CHAT_COLUMNS, CHAT_LOOKUPS, chat_from_row, transition_state_from_row};
use crate::store::rules::open_chats::{self, AddressBound};
use crate::store::rules::summaries;
use crate::store::rules::transitions::{self, IdleClose, IdleSweep, Transition};
use crate::store::rules::visitors::{chat_visitor, context_text};
use crate::store::{ChatFilter, NewChat, StartedChat, StoreError};

impl PostgresStore {
    /// Starts a chat for the visitor `new` names, found or created in the
    /// same transaction (see `rules::visitors`).
    pub async fn insert_chat(&self, mut new: NewChat) -> Result<StartedChat, StoreError> {
        let address = new.address.take();
        self.write(
            move |transaction| {
                Box::pin(async move {
                    if let Some(bound) = &address {
                        admit(transaction, bound).await?;
                    }
                    let now = now();
                    let (visitor_id, found) = visitors::resolve(transaction, &new, now).await?;
                    let chat = transitions::opened(&new, chat_visitor(&new, visitor_id), now);
                    insert(transaction, &chat, address.as_ref()).await?;
                    Ok(StartedChat {
                        chat,
                        visitor: found,
                    })
                })
            },
            |started: &StartedChat| transitions::announced(&started.chat),
        )
        .await
    }

    pub async fn chat_by_id(&self, id: Uuid) -> Result<Option<Chat>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CHAT_COLUMNS}, {CHAT_LOOKUPS} FROM chats WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.as_ref().map(chat_from_row).transpose()
    }

    pub async fn list_chats(&self, filter: &ChatFilter) -> Result<Vec<Chat>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHAT_COLUMNS}, {CHAT_LOOKUPS} FROM chats
             WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(filter.status.map(ChatStatus::as_str))
        .bind(filter.before)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(chat_from_row).collect()
    }

    /// A page of chats as `list_chats` selects it, each with its newest
    /// message and the read markers of `reader` (an agent) and of its
    /// visitor: one query.
    pub async fn chat_summaries(
        &self,
        filter: &ChatFilter,
        reader: Uuid,
    ) -> Result<Vec<ChatSummary>, StoreError> {
        // A NULL parameter needs its type spelled out to PostgreSQL.
        let statement = summaries::statement(|n| match n {
            1 => "$1::text".to_owned(),
            2 => "$2::uuid".to_owned(),
            n => format!("${n}"),
        });
        let rows = sqlx::query(&statement)
            .bind(filter.status.map(ChatStatus::as_str))
            .bind(filter.before)
            .bind(i64::from(filter.limit))
            .bind(reader)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter().map(summaries::summary_from_row).collect()
    }

    /// Gives an open or assigned chat to `agent_id`.
    pub async fn assign_chat(&self, chat_id: Uuid, agent_id: Uuid) -> Result<Chat, StoreError> {
        self.write(
            move |transaction| {
                Box::pin(async move {
                    let agent_found: Option<i32> = sqlx::query_scalar(
                        "SELECT 1 FROM agents WHERE id = $1 AND deactivated_at IS NULL",
                    )
                    .bind(agent_id)
                    .fetch_optional(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    let assign = Transition::Assign {
                        agent_id,
                        agent_found: agent_found.is_some(),
                    };
                    transition(transaction, chat_id, assign).await
                })
            },
            transitions::announced,
        )
        .await
    }

    /// Closes a chat that is not closed yet.
    pub async fn close_chat(&self, chat_id: Uuid) -> Result<Chat, StoreError> {
        self.write(
            move |transaction| Box::pin(transition(transaction, chat_id, Transition::Close)),
            transitions::announced,
        )
        .await
    }

    /// Closes open chats quiet for the idle time, a batch at a time; the
    /// chats closed, each announced. Every node sweeps: rows another node
    /// holds are skipped, and the update's own condition leaves alone a
    /// chat taken or written to since it was picked.
    pub async fn close_idle_chats(&self, idle: IdleClose) -> Result<Vec<Chat>, StoreError> {
        let sweep = idle.sweep(now());
        self.write(
            move |transaction| Box::pin(close_idle(transaction, sweep)),
            |chats: &Vec<Chat>| chats.iter().flat_map(transitions::announced).collect(),
        )
        .await
    }
}

/// Inserts a chat just opened, counted under its address key.
async fn insert(
    connection: &mut PgConnection,
    chat: &Chat,
    address: Option<&AddressBound>,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO chats ({CHAT_COLUMNS}, client_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(chat.id)
    .bind(chat.status.as_str())
    .bind(chat.visitor.id)
    .bind(&chat.visitor.name)
    .bind(&chat.visitor.email)
    .bind(&chat.subject)
    .bind(chat.assigned_agent_id)
    .bind(chat.created_at)
    .bind(chat.updated_at)
    .bind(chat.closed_at)
    .bind(chat.last_seq)
    .bind(chat.close_reason.map(|reason| reason.as_str()))
    .bind(context_text(&chat.context))
    .bind(address.map(|bound| bound.key.as_str()))
    .execute(connection)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Counts the chats not closed under the bound's key, after taking the
/// key's advisory lock for the transaction: two nodes starting chats from
/// one address take turns, so they cannot both admit the last place.
async fn admit(connection: &mut PgConnection, bound: &AddressBound) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(bound.key.as_str())
        .execute(&mut *connection)
        .await
        .map_err(store_error)?;
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM chats WHERE client_key = $1 AND status <> 'closed'",
    )
    .bind(bound.key.as_str())
    .fetch_one(&mut *connection)
    .await
    .map_err(store_error)?;
    open_chats::admit(open, bound)
}

/// The idle sweep's conditional update: still open, still quiet since the
/// cutoff, checked again on each row as it is updated.
async fn close_idle(
    connection: &mut PgConnection,
    sweep: IdleSweep,
) -> Result<Vec<Chat>, StoreError> {
    let change = sweep.change;
    let rows = sqlx::query(&format!(
        "UPDATE chats SET status = $1, updated_at = $2, closed_at = $3, close_reason = $4,
                          client_key = NULL
         WHERE id IN (SELECT id FROM chats WHERE status = 'open' AND updated_at <= $5
                      ORDER BY updated_at LIMIT $6 FOR UPDATE SKIP LOCKED)
           AND status = 'open' AND updated_at <= $5
         RETURNING {CHAT_COLUMNS}, {CHAT_LOOKUPS}"
    ))
    .bind(change.status.as_str())
    .bind(change.updated_at)
    .bind(change.closed_at)
    .bind(change.close_reason.map(|reason| reason.as_str()))
    .bind(sweep.cutoff)
    .bind(i64::from(sweep.batch))
    .fetch_all(connection)
    .await
    .map_err(store_error)?;
    rows.iter().map(chat_from_row).collect()
}

/// Carries out `transition` of the chat `chat_id`: locks its row and
/// reads its state, asks the rule, writes the change; the chat as it now
/// is. The lock makes transitions and appends of one chat take turns
/// across every node.
async fn transition(
    connection: &mut PgConnection,
    chat_id: Uuid,
    transition: Transition,
) -> Result<Chat, StoreError> {
    let row = sqlx::query("SELECT status, assigned_agent_id FROM chats WHERE id = $1 FOR UPDATE")
        .bind(chat_id)
        .fetch_optional(&mut *connection)
        .await
        .map_err(store_error)?;
    let current = row.as_ref().map(transition_state_from_row).transpose()?;
    let change = transitions::decide(current, transition, now())?;
    // A close clears the address key: the bound counts chats not closed.
    let row = sqlx::query(&format!(
        "UPDATE chats SET status = $1, assigned_agent_id = $2, updated_at = $3, closed_at = $4,
                          close_reason = $5,
                          client_key = CASE WHEN $1 = 'closed' THEN NULL ELSE client_key END
         WHERE id = $6 RETURNING {CHAT_COLUMNS}, {CHAT_LOOKUPS}"
    ))
    .bind(change.status.as_str())
    .bind(change.assigned_agent_id)
    .bind(change.updated_at)
    .bind(change.closed_at)
    .bind(change.close_reason.map(|reason| reason.as_str()))
    .bind(chat_id)
    .fetch_one(connection)
    .await
    .map_err(store_error)?;
    chat_from_row(&row)
}
