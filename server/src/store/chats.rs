use byrd_spec::chat::{Chat, ChatStatus, Visitor};
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::rows::{Columns, time_text};
use super::{Committed, SqliteStore, StoreError};
use crate::domain::{DisplayName, EmailAddress, Subject};

/// A chat a visitor starts.
#[derive(Debug, Default)]
pub struct NewChat {
    pub visitor_name: Option<DisplayName>,
    pub visitor_email: Option<EmailAddress>,
    pub subject: Option<Subject>,
}

/// Which chats a list returns: newest first, optionally by status, strictly
/// older than `before` (the last id of the previous page).
#[derive(Debug, Default)]
pub struct ChatFilter {
    pub status: Option<ChatStatus>,
    pub before: Option<Uuid>,
    pub limit: u32,
}

const CHAT_COLUMNS: &str = "id, status, visitor_id, visitor_name, visitor_email, subject, \
                            assigned_agent_id, created_at, updated_at, closed_at, last_seq";

/// The name of a chat's agent, read with it: a scalar subquery rather
/// than a join, so that `RETURNING` can carry it too.
const ASSIGNED_AGENT_NAME: &str =
    "(SELECT name FROM agents WHERE agents.id = chats.assigned_agent_id) AS assigned_agent_name";

fn status_from_str(value: &str) -> Result<ChatStatus, StoreError> {
    match value {
        "open" => Ok(ChatStatus::Open),
        "assigned" => Ok(ChatStatus::Assigned),
        "closed" => Ok(ChatStatus::Closed),
        other => Err(StoreError::Unexpected(anyhow::anyhow!(
            "unknown chat status {other:?}"
        ))),
    }
}

fn chat_from_row(row: &impl Columns) -> Result<Chat, StoreError> {
    Ok(Chat {
        id: row.uuid("id")?,
        status: status_from_str(&row.text("status")?)?,
        visitor: Visitor {
            id: row.uuid("visitor_id")?,
            name: row.opt_text("visitor_name")?,
            email: row.opt_text("visitor_email")?,
        },
        subject: row.opt_text("subject")?,
        assigned_agent_id: row.opt_uuid("assigned_agent_id")?,
        assigned_agent_name: row.opt_text("assigned_agent_name")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        closed_at: row.opt_time("closed_at")?,
        last_seq: row.i64("last_seq")?,
    })
}

impl SqliteStore {
    pub async fn insert_chat(&self, new: NewChat) -> Result<Chat, StoreError> {
        let now = Utc::now();
        let chat = Chat {
            id: Uuid::now_v7(),
            status: ChatStatus::Open,
            visitor: Visitor {
                id: Uuid::now_v7(),
                name: new.visitor_name.map(|n| n.as_str().to_owned()),
                email: new.visitor_email.map(|e| e.as_str().to_owned()),
            },
            subject: new.subject.map(|s| s.as_str().to_owned()),
            assigned_agent_id: None,
            assigned_agent_name: None,
            created_at: now,
            updated_at: now,
            closed_at: None,
            last_seq: 0,
        };
        self.writer
            .run(
                move |connection| {
                    connection
                        .prepare_cached(&format!(
                            "INSERT INTO chats ({CHAT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
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
                        ])?;
                    Ok(chat)
                },
                chat_updated,
            )
            .await
    }

    pub async fn chat_by_id(&self, id: Uuid) -> Result<Option<Chat>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CHAT_COLUMNS}, {ASSIGNED_AGENT_NAME} FROM chats WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.reads)
        .await?;
        row.as_ref().map(chat_from_row).transpose()
    }

    pub async fn list_chats(&self, filter: &ChatFilter) -> Result<Vec<Chat>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHAT_COLUMNS}, {ASSIGNED_AGENT_NAME} FROM chats
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

    /// Gives an open or assigned chat to `agent_id`.
    pub async fn assign_chat(&self, chat_id: Uuid, agent_id: Uuid) -> Result<Chat, StoreError> {
        self.writer
            .run(
                move |connection| {
                    let agent_exists = connection
                        .prepare_cached("SELECT 1 FROM agents WHERE id = ?1")?
                        .query_row([agent_id.as_bytes()], |_| Ok(()))
                        .optional()?;
                    if agent_exists.is_none() {
                        return Err(StoreError::AgentNotFound);
                    }
                    let updated = update_chat(
                        connection,
                        "UPDATE chats SET status = 'assigned', assigned_agent_id = ?1, updated_at = ?2
                         WHERE id = ?3 AND status <> 'closed'",
                        params![agent_id.as_bytes(), time_text(&Utc::now()), chat_id.as_bytes()],
                    )?;
                    updated_chat(connection, updated, chat_id)
                },
                chat_updated,
            )
            .await
    }

    /// Closes a chat that is not closed yet.
    pub async fn close_chat(&self, chat_id: Uuid) -> Result<Chat, StoreError> {
        self.writer
            .run(
                move |connection| {
                    let updated = update_chat(
                        connection,
                        "UPDATE chats SET status = 'closed', updated_at = ?1, closed_at = ?1
                         WHERE id = ?2 AND status <> 'closed'",
                        params![time_text(&Utc::now()), chat_id.as_bytes()],
                    )?;
                    updated_chat(connection, updated, chat_id)
                },
                chat_updated,
            )
            .await
    }
}

/// Every agent, and the chat's guest, hear of a chat's new state.
fn chat_updated(chat: &Chat) -> Vec<Committed> {
    vec![Committed::ChatUpdated(chat.clone())]
}

/// Runs a guarded `UPDATE` of one chat (`sql` without its `RETURNING`);
/// the chat as it now is, or `None` when the guard let no row through.
fn update_chat(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Option<Chat>, StoreError> {
    let mut statement = connection.prepare_cached(&format!(
        "{sql} RETURNING {CHAT_COLUMNS}, {ASSIGNED_AGENT_NAME}"
    ))?;
    let mut rows = statement.query(params)?;
    rows.next()?.map(chat_from_row).transpose()
}

/// The chat a guarded update returned; without one, whether the chat was
/// missing or closed.
fn updated_chat(
    connection: &Connection,
    updated: Option<Chat>,
    chat_id: Uuid,
) -> Result<Chat, StoreError> {
    if let Some(chat) = updated {
        return Ok(chat);
    }
    let exists = connection
        .prepare_cached("SELECT 1 FROM chats WHERE id = ?1")?
        .query_row([chat_id.as_bytes()], |_| Ok(()))
        .optional()?;
    Err(match exists {
        Some(()) => StoreError::ChatClosed,
        None => StoreError::ChatNotFound,
    })
}
