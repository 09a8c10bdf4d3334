use byrd_spec::chat::{Chat, ChatStatus, Visitor};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use uuid::Uuid;

use super::{Committed, Store, StoreError};
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

fn status_from_str(value: &str) -> Result<ChatStatus, sqlx::Error> {
    match value {
        "open" => Ok(ChatStatus::Open),
        "assigned" => Ok(ChatStatus::Assigned),
        "closed" => Ok(ChatStatus::Closed),
        other => Err(sqlx::Error::Decode(
            format!("unknown chat status {other:?}").into(),
        )),
    }
}

fn chat_from_row(row: &SqliteRow) -> Result<Chat, sqlx::Error> {
    Ok(Chat {
        id: row.try_get("id")?,
        status: status_from_str(row.try_get("status")?)?,
        visitor: Visitor {
            id: row.try_get("visitor_id")?,
            name: row.try_get("visitor_name")?,
            email: row.try_get("visitor_email")?,
        },
        subject: row.try_get("subject")?,
        assigned_agent_id: row.try_get("assigned_agent_id")?,
        created_at: row.try_get::<DateTime<Utc>, _>("created_at")?,
        updated_at: row.try_get::<DateTime<Utc>, _>("updated_at")?,
        closed_at: row.try_get::<Option<DateTime<Utc>>, _>("closed_at")?,
        last_seq: row.try_get("last_seq")?,
    })
}

impl Store {
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
            created_at: now,
            updated_at: now,
            closed_at: None,
            last_seq: 0,
        };
        self.writer
            .run(
                move |connection: &mut SqliteConnection| -> BoxFuture<'_, Result<Chat, StoreError>> {
                    Box::pin(async move {
                        sqlx::query(&format!(
                            "INSERT INTO chats ({CHAT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
                        .execute(connection)
                        .await?;
                        Ok(chat)
                    })
                },
                chat_updated,
            )
            .await
    }

    pub async fn chat_by_id(&self, id: Uuid) -> Result<Option<Chat>, StoreError> {
        let row = sqlx::query(&format!("SELECT {CHAT_COLUMNS} FROM chats WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(chat_from_row).transpose()?)
    }

    pub async fn list_chats(&self, filter: &ChatFilter) -> Result<Vec<Chat>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHAT_COLUMNS} FROM chats
             WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR id < ?2)
             ORDER BY id DESC LIMIT ?3"
        ))
        .bind(filter.status.map(ChatStatus::as_str))
        .bind(filter.before)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(chat_from_row).collect::<Result<_, _>>()?)
    }

    /// Gives an open or assigned chat to `agent_id`.
    pub async fn assign_chat(&self, chat_id: Uuid, agent_id: Uuid) -> Result<Chat, StoreError> {
        self.writer
            .run(
                move |connection: &mut SqliteConnection| -> BoxFuture<'_, Result<Chat, StoreError>> {
                    Box::pin(async move {
                        let agent_exists: Option<i64> =
                            sqlx::query_scalar("SELECT 1 FROM agents WHERE id = ?")
                                .bind(agent_id)
                                .fetch_optional(&mut *connection)
                                .await?;
                        if agent_exists.is_none() {
                            return Err(StoreError::AgentNotFound);
                        }
                        let row = sqlx::query(&format!(
                            "UPDATE chats SET status = 'assigned', assigned_agent_id = ?, updated_at = ?
                             WHERE id = ? AND status <> 'closed'
                             RETURNING {CHAT_COLUMNS}"
                        ))
                        .bind(agent_id)
                        .bind(Utc::now())
                        .bind(chat_id)
                        .fetch_optional(&mut *connection)
                        .await?;
                        updated_chat(connection, row, chat_id).await
                    })
                },
                chat_updated,
            )
            .await
    }

    /// Closes a chat that is not closed yet.
    pub async fn close_chat(&self, chat_id: Uuid) -> Result<Chat, StoreError> {
        self.writer
            .run(
                move |connection: &mut SqliteConnection| -> BoxFuture<'_, Result<Chat, StoreError>> {
                    Box::pin(async move {
                        let row = sqlx::query(&format!(
                            "UPDATE chats SET status = 'closed', updated_at = ?1, closed_at = ?1
                             WHERE id = ?2 AND status <> 'closed'
                             RETURNING {CHAT_COLUMNS}"
                        ))
                        .bind(Utc::now())
                        .bind(chat_id)
                        .fetch_optional(&mut *connection)
                        .await?;
                        updated_chat(connection, row, chat_id).await
                    })
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

/// The chat a guarded update returned as `row`; with no row, whether the
/// chat was missing or closed.
async fn updated_chat(
    connection: &mut SqliteConnection,
    row: Option<SqliteRow>,
    chat_id: Uuid,
) -> Result<Chat, StoreError> {
    match row {
        Some(row) => Ok(chat_from_row(&row)?),
        None => {
            let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM chats WHERE id = ?")
                .bind(chat_id)
                .fetch_optional(connection)
                .await?;
            Err(match exists {
                Some(_) => StoreError::ChatClosed,
                None => StoreError::ChatNotFound,
            })
        }
    }
}
