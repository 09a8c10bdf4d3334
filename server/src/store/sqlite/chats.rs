//! Chats: their rows, their start as `rules::open_chats` bounds it, and
//! their transitions (idle closes included) as `rules::transitions`
//! decides them.

use byrd_spec::chat::{Chat, ChatStatus, ChatSummary};
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::SqliteStore;
use super::rows::time_text;
use super::visitors;
use crate::store::rows::{CHAT_COLUMNS, CHAT_LOOKUPS, chat_from_row, transition_state_from_row};
use crate::store::rules::open_chats::{self, AddressBound};
use crate::store::rules::summaries;
use crate::store::rules::transitions::{self, IdleClose, IdleSweep, Transition};
use crate::store::rules::visitors::{chat_visitor, context_text};
use crate::store::{ChatFilter, NewChat, StartedChat, StoreError};

impl SqliteStore {
    /// Starts a chat for the visitor `new` names, found or created in the
    /// same write (see `rules::visitors`).
    pub async fn insert_chat(&self, mut new: NewChat) -> Result<StartedChat, StoreError> {
        let address = new.address.take();
        self.writer
            .run(
                move |connection| {
                    // The writer runs one write at a time: nothing starts
                    // a chat between the count and the insert.
                    if let Some(bound) = &address {
                        let open: i64 = connection
                            .prepare_cached(
                                "SELECT count(*) FROM chats WHERE client_key = ?1 AND status <> 'closed'",
                            )?
                            .query_row([bound.key.as_str()], |row| row.get(0))?;
                        open_chats::admit(open, bound)?;
                    }
                    let now = Utc::now();
                    let (visitor_id, found) = visitors::resolve(connection, &new, now)?;
                    let chat = transitions::opened(&new, chat_visitor(&new, visitor_id), now);
                    insert(connection, &chat, address.as_ref())?;
                    Ok(StartedChat { chat, visitor: found })
                },
                |started: &StartedChat| transitions::announced(&started.chat),
            )
            .await
    }

    pub async fn chat_by_id(&self, id: Uuid) -> Result<Option<Chat>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CHAT_COLUMNS}, {CHAT_LOOKUPS} FROM chats WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.reads)
        .await?;
        row.as_ref().map(chat_from_row).transpose()
    }

    pub async fn list_chats(&self, filter: &ChatFilter) -> Result<Vec<Chat>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHAT_COLUMNS}, {CHAT_LOOKUPS} FROM chats
             WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR id < ?2)
             ORDER BY id DESC LIMIT ?3"
        ))
        .bind(filter.status.map(ChatStatus::as_str))
        .bind(filter.before)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.reads)
        .await?;
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
        let rows = sqlx::query(&summaries::statement(|n| format!("?{n}")))
            .bind(filter.status.map(ChatStatus::as_str))
            .bind(filter.before)
            .bind(i64::from(filter.limit))
            .bind(reader)
            .fetch_all(&self.reads)
            .await?;
        rows.iter().map(summaries::summary_from_row).collect()
    }

    /// Gives an open or assigned chat to `agent_id`.
    pub async fn assign_chat(&self, chat_id: Uuid, agent_id: Uuid) -> Result<Chat, StoreError> {
        self.writer
            .run(
                move |connection| {
                    let agent_found = connection
                        .prepare_cached(
                            "SELECT 1 FROM agents WHERE id = ?1 AND deactivated_at IS NULL",
                        )?
                        .query_row([agent_id.as_bytes()], |_| Ok(()))
                        .optional()?
                        .is_some();
                    let assign = Transition::Assign {
                        agent_id,
                        agent_found,
                    };
                    transition(connection, chat_id, assign)
                },
                transitions::announced,
            )
            .await
    }

    /// Closes a chat that is not closed yet.
    pub async fn close_chat(&self, chat_id: Uuid) -> Result<Chat, StoreError> {
        self.writer
            .run(
                move |connection| transition(connection, chat_id, Transition::Close),
                transitions::announced,
            )
            .await
    }

    /// Closes open chats quiet for the idle time, a batch at a time; the
    /// chats closed, each announced.
    pub async fn close_idle_chats(&self, idle: IdleClose) -> Result<Vec<Chat>, StoreError> {
        let sweep = idle.sweep(Utc::now());
        self.writer
            .run(
                move |connection| close_idle(connection, &sweep),
                |chats: &Vec<Chat>| chats.iter().flat_map(transitions::announced).collect(),
            )
            .await
    }
}

/// Inserts a chat just opened, counted under its address key.
fn insert(
    connection: &Connection,
    chat: &Chat,
    address: Option<&AddressBound>,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(&format!(
            "INSERT INTO chats ({CHAT_COLUMNS}, client_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        ))?
        .execute(params![
            chat.id.as_bytes(),
            chat.status.as_str(),
            chat.visitor.id.as_bytes(),
            chat.visitor.name,
            chat.visitor.email,
            chat.subject,
            chat.assigned_agent_id.as_ref().map(Uuid::as_bytes),
            time_text(&chat.created_at),
            time_text(&chat.updated_at),
            chat.closed_at.as_ref().map(time_text),
            chat.last_seq,
            chat.close_reason.map(|reason| reason.as_str()),
            context_text(&chat.context),
            address.map(|bound| bound.key.as_str()),
        ])?;
    Ok(())
}

/// The idle sweep's conditional update: [`IdleSweep::closes`] as SQL
/// (times compared as instants, not as text of varying precision).
fn close_idle(connection: &Connection, sweep: &IdleSweep) -> Result<Vec<Chat>, StoreError> {
    let change = &sweep.change;
    let mut statement = connection.prepare_cached(&format!(
        "UPDATE chats SET status = ?1, updated_at = ?2, closed_at = ?3, close_reason = ?4,
                          client_key = NULL
         WHERE id IN (SELECT id FROM chats
                      WHERE status = 'open' AND julianday(updated_at) <= julianday(?5)
                      LIMIT ?6)
         RETURNING {CHAT_COLUMNS}, {CHAT_LOOKUPS}"
    ))?;
    let mut rows = statement.query(params![
        change.status.as_str(),
        time_text(&change.updated_at),
        change.closed_at.as_ref().map(time_text),
        change.close_reason.map(|reason| reason.as_str()),
        time_text(&sweep.cutoff),
        sweep.batch,
    ])?;
    let mut closed = Vec::new();
    while let Some(row) = rows.next()? {
        closed.push(chat_from_row(row)?);
    }
    Ok(closed)
}

/// Carries out `transition` of the chat `chat_id`: reads its state, asks
/// the rule, writes the change; the chat as it now is. The writer runs
/// one write at a time, so nothing changes the chat in between.
fn transition(
    connection: &Connection,
    chat_id: Uuid,
    transition: Transition,
) -> Result<Chat, StoreError> {
    let current = {
        let mut statement = connection
            .prepare_cached("SELECT status, assigned_agent_id FROM chats WHERE id = ?1")?;
        let mut rows = statement.query([chat_id.as_bytes()])?;
        rows.next()?.map(transition_state_from_row).transpose()?
    };
    let change = transitions::decide(current, transition, Utc::now())?;
    // A close clears the address key: the bound counts chats not closed.
    let mut statement = connection.prepare_cached(&format!(
        "UPDATE chats SET status = ?1, assigned_agent_id = ?2, updated_at = ?3, closed_at = ?4,
                          close_reason = ?5,
                          client_key = CASE WHEN ?1 = 'closed' THEN NULL ELSE client_key END
         WHERE id = ?6 RETURNING {CHAT_COLUMNS}, {CHAT_LOOKUPS}"
    ))?;
    let mut rows = statement.query(params![
        change.status.as_str(),
        change.assigned_agent_id.as_ref().map(Uuid::as_bytes),
        time_text(&change.updated_at),
        change.closed_at.as_ref().map(time_text),
        change.close_reason.map(|reason| reason.as_str()),
        chat_id.as_bytes(),
    ])?;
    rows.next()?
        .map(chat_from_row)
        .transpose()?
        .ok_or(StoreError::ChatNotFound)
}
