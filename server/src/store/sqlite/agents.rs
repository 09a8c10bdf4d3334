//! Agents: adding, finding, and deactivating them (`rules::agents`).

use byrd_spec::agent::Agent;
use byrd_spec::chat::{Chat, ChatStatus};
use chrono::Utc;
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::rows::time_text;
use super::{SqliteStore, is_unique_violation};
use crate::domain::EmailAddress;
use crate::store::rows::{
    AGENT_COLUMNS, CHAT_COLUMNS, CHAT_LOOKUPS, Columns, agent_from_row, chat_from_row,
};
use crate::store::rules::agents::{self, Deactivated, Step};
use crate::store::{AgentRecord, NewAgent, StoreError};

impl SqliteStore {
    pub async fn insert_agent(&self, new: NewAgent) -> Result<Agent, StoreError> {
        let agent = Agent {
            id: Uuid::now_v7(),
            email: new.email.as_str().to_owned(),
            name: new.name.as_str().to_owned(),
            role: new.role,
            created_at: Utc::now(),
            active: true,
            deactivated_at: None,
        };
        let stored = agent.clone();
        self.writer
            .run(
                move |connection| {
                    let result = connection
                        .prepare_cached(
                            "INSERT INTO agents (id, email, email_normalized, name, role, password_hash, created_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        )?
                        .execute(params![
                            stored.id.as_bytes(),
                            stored.email,
                            new.email.normalized(),
                            stored.name,
                            stored.role.as_str(),
                            new.password_hash,
                            time_text(&stored.created_at),
                        ]);
                    match result {
                        Ok(_) => Ok(stored),
                        Err(error) if is_unique_violation(&error) => Err(StoreError::EmailTaken),
                        Err(error) => Err(error.into()),
                    }
                },
                |_| Vec::new(),
            )
            .await?;
        Ok(agent)
    }

    pub async fn count_agents(&self) -> Result<i64, StoreError> {
        let count = sqlx::query_scalar("SELECT COUNT(*) FROM agents")
            .fetch_one(&self.reads)
            .await?;
        Ok(count)
    }

    /// Looks an active agent up by the normalized form of an email: a
    /// deactivated one logs in no more than an unknown one.
    pub async fn agent_for_login(
        &self,
        email: &EmailAddress,
    ) -> Result<Option<AgentRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS}, password_hash FROM agents
             WHERE email_normalized = ? AND deactivated_at IS NULL"
        ))
        .bind(email.normalized())
        .fetch_optional(&self.reads)
        .await?;
        row.map(|row| {
            Ok(AgentRecord {
                agent: agent_from_row(&row)?,
                password_hash: row.text("password_hash")?,
            })
        })
        .transpose()
    }

    pub async fn agent_by_id(&self, id: Uuid) -> Result<Option<Agent>, StoreError> {
        let row = sqlx::query(&format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        row.as_ref().map(agent_from_row).transpose()
    }

    pub async fn list_agents(&self) -> Result<Vec<Agent>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY id"))
            .fetch_all(&self.reads)
            .await?;
        rows.iter().map(agent_from_row).collect()
    }

    /// Deactivates the agent `id` at the request of the admin `by` (`None`:
    /// the operator), as `rules::agents` decides.
    pub async fn deactivate_agent(&self, id: Uuid, by: Option<Uuid>) -> Result<Agent, StoreError> {
        let done = self
            .writer
            .run(
                move |connection| deactivate(connection, id, by),
                agents::announced,
            )
            .await?;
        Ok(done.agent)
    }

    /// Makes the agent `id` active again; they log in anew.
    pub async fn reactivate_agent(&self, id: Uuid) -> Result<Agent, StoreError> {
        self.writer
            .run(
                move |connection| {
                    let mut statement = connection.prepare_cached(&format!(
                        "UPDATE agents SET deactivated_at = NULL WHERE id = ?1
                         RETURNING {AGENT_COLUMNS}"
                    ))?;
                    let mut rows = statement.query([id.as_bytes()])?;
                    rows.next()?
                        .map(agent_from_row)
                        .transpose()?
                        .ok_or(StoreError::AgentNotFound)
                },
                |_| Vec::new(),
            )
            .await
    }
}

/// Carries out a deactivation. The writer runs one write at a time, so
/// the admins counted are the admins there are.
fn deactivate(
    connection: &Connection,
    id: Uuid,
    by: Option<Uuid>,
) -> Result<Deactivated, StoreError> {
    let target = {
        let mut statement = connection
            .prepare_cached(&format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?1"))?;
        let mut rows = statement.query([id.as_bytes()])?;
        rows.next()?.map(agent_from_row).transpose()?
    };
    let active_admins: i64 = connection
        .prepare_cached(
            "SELECT COUNT(*) FROM agents WHERE role = 'admin' AND deactivated_at IS NULL",
        )?
        .query_row([], |row| row.get(0))?;
    let step = agents::decide(by, target.as_ref(), active_admins)?;
    let Some(target) = target else {
        return Err(StoreError::AgentNotFound);
    };
    if step == Step::Unchanged {
        return Ok(Deactivated::unchanged(target));
    }
    let now = time_text(&Utc::now());
    let agent = {
        let mut statement = connection.prepare_cached(&format!(
            "UPDATE agents SET deactivated_at = ?1 WHERE id = ?2 RETURNING {AGENT_COLUMNS}"
        ))?;
        let mut rows = statement.query(params![now, id.as_bytes()])?;
        rows.next()?
            .map(agent_from_row)
            .transpose()?
            .ok_or(StoreError::AgentNotFound)?
    };
    let ended_sessions = {
        let mut statement = connection.prepare_cached(
            "UPDATE sessions SET revoked_at = ?1 WHERE agent_id = ?2 AND revoked_at IS NULL
             RETURNING id",
        )?;
        let mut rows = statement.query(params![now, id.as_bytes()])?;
        let mut ended = Vec::new();
        while let Some(row) = rows.next()? {
            ended.push(row.uuid("id")?);
        }
        ended
    };
    Ok(Deactivated {
        agent,
        ended_sessions,
        requeued_chats: requeue_chats(connection, id, &now)?,
    })
}

/// Puts the chats assigned to `agent_id` back in the queue.
fn requeue_chats(
    connection: &Connection,
    agent_id: Uuid,
    now: &str,
) -> Result<Vec<Chat>, StoreError> {
    let mut statement = connection.prepare_cached(&format!(
        "UPDATE chats SET status = ?1, assigned_agent_id = NULL, updated_at = ?2
         WHERE assigned_agent_id = ?3 AND status = ?4
         RETURNING {CHAT_COLUMNS}, {CHAT_LOOKUPS}"
    ))?;
    let mut rows = statement.query(params![
        ChatStatus::Open.as_str(),
        now,
        agent_id.as_bytes(),
        ChatStatus::Assigned.as_str(),
    ])?;
    let mut requeued = Vec::new();
    while let Some(row) = rows.next()? {
        requeued.push(chat_from_row(row)?);
    }
    Ok(requeued)
}
