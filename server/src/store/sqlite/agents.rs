//! Agents.

use byrd_spec::agent::Agent;
use chrono::Utc;
use rusqlite::params;
use uuid::Uuid;

use super::rows::time_text;
use super::{SqliteStore, is_unique_violation};
use crate::domain::EmailAddress;
use crate::store::rows::{AGENT_COLUMNS, Columns, agent_from_row};
use crate::store::{AgentRecord, NewAgent, StoreError};

impl SqliteStore {
    pub async fn insert_agent(&self, new: NewAgent) -> Result<Agent, StoreError> {
        let agent = Agent {
            id: Uuid::now_v7(),
            email: new.email.as_str().to_owned(),
            name: new.name.as_str().to_owned(),
            role: new.role,
            created_at: Utc::now(),
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

    /// Looks an agent up by the normalized form of an email.
    pub async fn agent_for_login(
        &self,
        email: &EmailAddress,
    ) -> Result<Option<AgentRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS}, password_hash FROM agents WHERE email_normalized = ?"
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
}
