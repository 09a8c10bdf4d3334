//! Storage: the only module that talks to the database.
//!
//! Handlers see a [`Store`] with one method per operation and typed
//! results; SQL stays in this folder, one file per table group. The store
//! is SQLite through sqlx today; a PostgreSQL store only has to provide the
//! same methods.

mod agents;
mod chats;
mod messages;
mod sessions;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use agents::{AgentRecord, NewAgent};
pub use chats::{ChatFilter, NewChat};
pub use messages::{Appended, MessageRange, NewMessage};
pub use sessions::RefreshOutcome;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Failures a caller may want to tell apart; everything else is `Unexpected`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an agent with this email already exists")]
    EmailTaken,
    #[error("no such chat")]
    ChatNotFound,
    #[error("no such agent")]
    AgentNotFound,
    #[error("the chat is closed")]
    ChatClosed,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Unexpected(anyhow::Error::new(error).context("database error"))
    }
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database and runs pending migrations.
    pub async fn connect(database_url: &SecretString) -> anyhow::Result<Store> {
        let url = database_url.expose_secret();
        if !url.starts_with("sqlite:") {
            anyhow::bail!("unsupported database URL scheme; Byrd supports sqlite: URLs");
        }
        let options = SqliteConnectOptions::from_str(url)
            .context("invalid SQLite database URL")?
            .create_if_missing(true)
            // WAL lets readers run while a writer commits. FULL sync makes
            // every commit survive power loss too: a message is acked only
            // once it is on disk.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .context("cannot open the SQLite database")?;
        MIGRATOR
            .run(&pool)
            .await
            .context("cannot run database migrations")?;
        Ok(Store { pool })
    }

    /// Checks the database answers; used by `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Starts a write transaction. `BEGIN IMMEDIATE` takes SQLite's write
    /// lock up front, waiting out the busy timeout: a deferred transaction
    /// that reads first would instead fail at once with SQLITE_BUSY when
    /// another writer commits in between.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// True when `error` is a unique-constraint violation.
fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
