//! Chats.

use byrd_spec::chat::{Chat, ChatStatus, Visitor};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::rows::{ASSIGNED_AGENT_NAME, CHAT_COLUMNS, chat_from_row};
use super::{PostgresStore, now, store_error};
use crate::store::{ChatFilter, Committed, NewChat, StoreError};

/// Every agent, and the chat's guest, hear of a chat's new state.
fn chat_updated(chat: &Chat) -> Vec<Committed> {
    vec![Committed::ChatUpdated(chat.clone())]
}

impl PostgresStore {
    pub async fn insert_chat(&self, new: NewChat) -> Result<Chat, StoreError> {
        let now = now();
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
        self.write(
            move |transaction| {
                Box::pin(async move {
                    sqlx::query(&format!(
                        "INSERT INTO chats ({CHAT_COLUMNS})
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
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
                    .execute(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    Ok(chat)
                })
            },
            chat_updated,
        )
        .await
    }

    pub async fn chat_by_id(&self, id: Uuid) -> Result<Option<Chat>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CHAT_COLUMNS}, {ASSIGNED_AGENT_NAME} FROM chats WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.as_ref()
            .map(chat_from_row)
            .transpose()
            .map_err(store_error)
    }

    pub async fn list_chats(&self, filter: &ChatFilter) -> Result<Vec<Chat>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHAT_COLUMNS}, {ASSIGNED_AGENT_NAME} FROM chats
             WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(filter.status.map(ChatStatus::as_str))
        .bind(filter.before)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(chat_from_row)
            .collect::<Result<_, _>>()
            .map_err(store_error)
    }

    /// Gives an open or assigned chat to `agent_id`.
    pub async fn assign_chat(&self, chat_id: Uuid, agent_id: Uuid) -> Result<Chat, StoreError> {
        self.write(
            move |transaction| {
                Box::pin(async move {
                    let agent_exists: Option<i32> =
                        sqlx::query_scalar("SELECT 1 FROM agents WHERE id = $1")
                            .bind(agent_id)
                            .fetch_optional(&mut **transaction)
                            .await
                            .map_err(store_error)?;
                    if agent_exists.is_none() {
                        return Err(StoreError::AgentNotFound);
                    }
                    let row = sqlx::query(&format!(
                        "UPDATE chats SET status = 'assigned', assigned_agent_id = $1, updated_at = $2
                         WHERE id = $3 AND status <> 'closed'
                         RETURNING {CHAT_COLUMNS}, {ASSIGNED_AGENT_NAME}"
                    ))
                    .bind(agent_id)
                    .bind(now())
                    .bind(chat_id)
                    .fetch_optional(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    updated_chat(transaction, row, chat_id).await
                })
            },
            chat_updated,
        )
        .await
    }

    /// Closes a chat that is not closed yet.
    pub async fn close_chat(&self, chat_id: Uuid) -> Result<Chat, StoreError> {
        self.write(
            move |transaction| {
                Box::pin(async move {
                    let row = sqlx::query(&format!(
                        "UPDATE chats SET status = 'closed', updated_at = $1, closed_at = $1
                         WHERE id = $2 AND status <> 'closed'
                         RETURNING {CHAT_COLUMNS}, {ASSIGNED_AGENT_NAME}"
                    ))
                    .bind(now())
                    .bind(chat_id)
                    .fetch_optional(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    updated_chat(transaction, row, chat_id).await
                })
            },
            chat_updated,
        )
        .await
    }
}

/// The chat a guarded update returned as `row`; with no row, whether the
/// chat was missing or closed.
async fn updated_chat(
    connection: &mut PgConnection,
    row: Option<PgRow>,
    chat_id: Uuid,
) -> Result<Chat, StoreError> {
    if let Some(row) = row {
        return chat_from_row(&row).map_err(store_error);
    }
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM chats WHERE id = $1")
        .bind(chat_id)
        .fetch_optional(connection)
        .await
        .map_err(store_error)?;
    Err(match exists {
        Some(_) => StoreError::ChatClosed,
        None => StoreError::ChatNotFound,
    })
}
