//! Agents.

use byrd_spec::agent::Agent;
use uuid::Uuid;

use super::{PostgresStore, is_unique_violation, now, store_error};
use crate::store::rows::{AGENT_COLUMNS, Columns, agent_from_row};
use crate::store::{AgentRecord, NewAgent, StoreError};

impl PostgresStore {
    pub async fn insert_agent(&self, new: NewAgent) -> Result<Agent, StoreError> {
        let agent = Agent {
            id: Uuid::now_v7(),
            email: new.email.as_str().to_owned(),
            name: new.name.as_str().to_owned(),
            role: new.role,
            created_at: now(),
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

    /// Looks an agent up by the normalized form of an email.
    pub async fn agent_for_login(
        &self,
        email: &crate::domain::EmailAddress,
    ) -> Result<Option<AgentRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS}, password_hash FROM agents WHERE email_normalized = $1"
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
}
