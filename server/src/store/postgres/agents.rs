//! Agents: adding, finding, and deactivating them (`rules::agents`).

use byrd_spec::agent::Agent;
use byrd_spec::chat::{Chat, ChatStatus};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{PostgresStore, is_unique_violation, now, store_error};
use crate::store::rows::{
    AGENT_COLUMNS, CHAT_COLUMNS, CHAT_LOOKUPS, Columns, agent_from_row, chat_from_row,
};
use crate::store::rules::agents::{self, Deactivated, Step};
use crate::store::{AgentRecord, NewAgent, StoreError};

impl PostgresStore {
    pub async fn insert_agent(&self, new: NewAgent) -> Result<Agent, StoreError> {
        let agent = Agent {
            id: Uuid::now_v7(),
            email: new.email.as_str().to_owned(),
            name: new.name.as_str().to_owned(),
            role: new.role,
            created_at: now(),
            active: true,
            deactivated_at: None,
        };
        let stored = agent.clone();
        self.write(
            move |transaction| {
                Box::pin(async move {
                    let inserted = sqlx::query(
                        "INSERT INTO agents (id, email, email_normalized, name, role, password_hash, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(stored.id)
                    .bind(&stored.email)
                    .bind(new.email.normalized())
                    .bind(&stored.name)
                    .bind(stored.role.as_str())
                    .bind(&new.password_hash)
                    .bind(stored.created_at)
                    .execute(&mut **transaction)
                    .await;
                    match inserted {
                        Ok(_) => Ok(()),
                        Err(error) if is_unique_violation(&error) => Err(StoreError::EmailTaken),
                        Err(error) => Err(store_error(error)),
                    }
                })
            },
            |_| Vec::new(),
        )
        .await?;
        Ok(agent)
    }

    pub async fn count_agents(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM agents")
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)
    }

    /// Looks an active agent up by the normalized form of an email: a
    /// deactivated one logs in no more than an unknown one.
    pub async fn agent_for_login(
        &self,
        email: &crate::domain::EmailAddress,
    ) -> Result<Option<AgentRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS}, password_hash FROM agents
             WHERE email_normalized = $1 AND deactivated_at IS NULL"
        ))
        .bind(email.normalized())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(|row| {
            Ok(AgentRecord {
                agent: agent_from_row(&row)?,
                password_hash: row.text("password_hash")?,
            })
        })
        .transpose()
    }

    pub async fn agent_by_id(&self, id: Uuid) -> Result<Option<Agent>, StoreError> {
        let row = sqlx::query(&format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(agent_from_row).transpose()
    }

    pub async fn list_agents(&self) -> Result<Vec<Agent>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter().map(agent_from_row).collect()
    }

    /// Deactivates the agent `id` at the request of the admin `by` (`None`:
    /// the operator), as `rules::agents` decides.
    pub async fn deactivate_agent(&self, id: Uuid, by: Option<Uuid>) -> Result<Agent, StoreError> {
        let done = self
            .write(
                move |transaction| Box::pin(deactivate(transaction, id, by)),
                agents::announced,
            )
            .await?;
        Ok(done.agent)
    }

    /// Makes the agent `id` active again; they log in anew.
    pub async fn reactivate_agent(&self, id: Uuid) -> Result<Agent, StoreError> {
        self.write(
            move |transaction| {
                Box::pin(async move {
                    let row = sqlx::query(&format!(
                        "UPDATE agents SET deactivated_at = NULL WHERE id = $1
                         RETURNING {AGENT_COLUMNS}"
                    ))
                    .bind(id)
                    .fetch_optional(&mut **transaction)
                    .await
                    .map_err(store_error)?;
                    row.as_ref()
                        .map(agent_from_row)
                        .transpose()?
                        .ok_or(StoreError::AgentNotFound)
                })
            },
            |_| Vec::new(),
        )
        .await
    }
}

/// Carries out a deactivation. The active admins' rows are locked first,
/// in id order, then the target's: two admins deactivating each other on
/// two nodes take turns (the second then counts one admin fewer) and
/// cannot deadlock.
async fn deactivate(
    connection: &mut PgConnection,
    id: Uuid,
    by: Option<Uuid>,
) -> Result<Deactivated, StoreError> {
    let admins: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM agents WHERE role = 'admin' AND deactivated_at IS NULL
         ORDER BY id FOR UPDATE",
    )
    .fetch_all(&mut *connection)
    .await
    .map_err(store_error)?;
    let target = sqlx::query(&format!(
        "SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *connection)
    .await
    .map_err(store_error)?
    .as_ref()
    .map(agent_from_row)
    .transpose()?;
    let active_admins = i64::try_from(admins.len()).unwrap_or(i64::MAX);
    let step = agents::decide(by, target.as_ref(), active_admins)?;
    let Some(target) = target else {
        return Err(StoreError::AgentNotFound);
    };
    if step == Step::Unchanged {
        return Ok(Deactivated::unchanged(target));
    }
    let row = sqlx::query(&format!(
        "UPDATE agents SET deactivated_at = $1 WHERE id = $2 RETURNING {AGENT_COLUMNS}"
    ))
    .bind(now())
    .bind(id)
    .fetch_one(&mut *connection)
    .await
    .map_err(store_error)?;
    let agent = agent_from_row(&row)?;
    // `clock_timestamp()`, as a logout's: other nodes' sweeps read
    // revocations by it.
    let ended_sessions: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = clock_timestamp()
         WHERE agent_id = $1 AND revoked_at IS NULL RETURNING id",
    )
    .bind(id)
    .fetch_all(&mut *connection)
    .await
    .map_err(store_error)?;
    Ok(Deactivated {
        agent,
        ended_sessions,
        requeued_chats: requeue_chats(connection, id).await?,
    })
}

/// Puts the chats assigned to `agent_id` back in the queue.
async fn requeue_chats(
    connection: &mut PgConnection,
    agent_id: Uuid,
) -> Result<Vec<Chat>, StoreError> {
    let rows = sqlx::query(&format!(
        "UPDATE chats SET status = $1, assigned_agent_id = NULL, updated_at = $2
         WHERE assigned_agent_id = $3 AND status = $4
         RETURNING {CHAT_COLUMNS}, {CHAT_LOOKUPS}"
    ))
    .bind(ChatStatus::Open.as_str())
    .bind(now())
    .bind(agent_id)
    .bind(ChatStatus::Assigned.as_str())
    .fetch_all(connection)
    .await
    .map_err(store_error)?;
    rows.iter().map(chat_from_row).collect()
}
