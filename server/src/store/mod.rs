//! Storage: the only module that talks to the database.
//!
//! Handlers see a [`Store`] with one method per operation and typed
//! results; SQL stays in this folder, one file per table group. The store
//! is SQLite through sqlx by default, or PostgreSQL (`postgres/`) for
//! several nodes sharing one database; [`Store`] dispatches to either.
//!
//! What follows describes the SQLite store.
//! Writes and reads take separate paths. Every write goes to one writer
//! thread that owns the only write connection (rusqlite) and commits
//! whatever is waiting in one transaction with one fsync (group commit,
//! see `writer`). Reads use sqlx's pool of read-only connections, which
//! WAL lets run while the writer commits, so they never wait behind
//! writes. What a commit changed is announced, in commit order, to a
//! [`CommitListener`] (the hub), by the writer's side: a caller that goes
//! away cannot split storing from announcing.

mod agents;
mod append;
mod backend;
mod chats;
mod checkpoint;
mod faults;
mod messages;
pub mod postgres;
mod rotation;
mod rows;
mod sessions;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use byrd_spec::chat::Chat;
use byrd_spec::message::Message;
use rusqlite::OpenFlags;
use secrecy::{ExposeSecret, SecretString};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};
use uuid::Uuid;

pub use agents::{AgentRecord, NewAgent};
pub use backend::Store;
pub use chats::{ChatFilter, NewChat};
pub use faults::ReadFaults;
pub use messages::{AppendTicket, Appended, MessageRange, NewMessage};
pub use sessions::{RefreshOutcome, Successor};

use writer::Writer;

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
    /// The author stored another message under this `client_msg_id`.
    #[error("the client_msg_id was used for a different message")]
    ClientMsgIdReused,
    /// The database stayed busy past the configured bound; nothing was
    /// written. Retrying later is safe.
    #[error("the database is busy")]
    Unavailable,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        if is_busy(&error) {
            return StoreError::Unavailable;
        }
        StoreError::Unexpected(anyhow::Error::new(error).context("database error"))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if is_busy_sqlx(&error) {
            return StoreError::Unavailable;
        }
        StoreError::Unexpected(anyhow::Error::new(error).context("database error"))
    }
}

/// What a commit changed, announced after the commit in commit order.
#[derive(Debug, Clone)]
pub enum Committed {
    /// A new message; one chat's messages come in `seq` order.
    Message(Message),
    /// A chat was started, assigned or closed.
    ChatUpdated(Chat),
    /// An access token (`jti`) or a whole login session was revoked.
    Revoked {
        jti: Option<String>,
        session: Option<Uuid>,
    },
}

/// Hears of every commit, in commit order, on the thread that announces
/// them: it must not block.
pub trait CommitListener: Send + Sync + std::fmt::Debug {
    fn committed(&self, change: &Committed);
}

/// How the store uses the database.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// How long a write may wait, for the writer or for a database lock
    /// held by another process, before it is refused as `Unavailable`.
    pub busy_timeout: Duration,
    /// Read-only connections.
    pub read_connections: u32,
    /// Writes that may wait for the writer; past it they are refused at
    /// once as `Unavailable`.
    pub write_queue: usize,
    /// Most writes committed in one transaction.
    pub max_batch: usize,
    /// Faults tests inject into reads of messages; inert by default.
    pub read_faults: ReadFaults,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            busy_timeout: crate::options::DATABASE_BUSY_TIMEOUT_MS.default_duration(),
            read_connections: 4,
            write_queue: 16_384,
            max_batch: 1024,
            read_faults: ReadFaults::default(),
        }
    }
}

/// A handle to the SQLite database; cheap to clone.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: Writer,
    reads: SqlitePool,
    read_faults: ReadFaults,
}

impl SqliteStore {
    /// Opens (creating if needed) the database, runs pending migrations and
    /// starts the writer. `listener` hears of every commit.
    pub async fn connect(
        database_url: &SecretString,
        settings: &StoreSettings,
        listener: Option<Arc<dyn CommitListener>>,
    ) -> anyhow::Result<SqliteStore> {
        let url = database_url.expose_secret();
        if !url.starts_with("sqlite:") {
            anyhow::bail!("unsupported database URL scheme; Byrd supports sqlite: URLs");
        }
        let base = SqliteConnectOptions::from_str(url)
            .context("invalid SQLite database URL")?
            .foreign_keys(true)
            .busy_timeout(settings.busy_timeout);
        let path = base.get_filename().to_owned();
        if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
            anyhow::bail!("Byrd needs a database file, not an in-memory database");
        }
        create_private_file(&path)?;
        // WAL lets readers run while the writer commits. Migrations run on
        // a connection of their own, closed before the writer opens.
        let mut migrating = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .connect()
            .await
            .context("cannot open the SQLite database")?;
        MIGRATOR
            .run(&mut migrating)
            .await
            .context("cannot run database migrations")?;
        migrating
            .close()
            .await
            .context("cannot close the migrating connection")?;
        let reads = SqlitePoolOptions::new()
            .max_connections(settings.read_connections.max(1))
            .connect_with(base.read_only(true))
            .await
            .context("cannot open read connections to the SQLite database")?;
        let writer = Writer::start(
            open_writer(&path, settings)?,
            checkpoint::Checkpoints::start(&path)?,
            settings,
            listener,
        )?;
        Ok(SqliteStore {
            writer,
            reads,
            read_faults: settings.read_faults.clone(),
        })
    }

    /// Checks the database answers; used by `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reads).await?;
        Ok(())
    }

    /// Finishes the writes already queued, then closes every connection.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reads.close().await;
    }
}

/// Creates the database file owner-only before SQLite does, so that the
/// messages in it are not readable by other users. SQLite gives its WAL
/// and shared-memory files the main file's permissions.
fn create_private_file(path: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" || path.exists() {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .with_context(|| format!("cannot create the database file {}", path.display()))
}

/// The writer's connection. FULL sync makes every commit survive power
/// loss too: a message is acked only once it is on disk. Checkpoints are
/// left to `checkpoint`.
fn open_writer(
    path: &std::path::Path,
    settings: &StoreSettings,
) -> anyhow::Result<rusqlite::Connection> {
    let connection = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .context("cannot open the SQLite database for writing")?;
    connection
        .busy_timeout(settings.busy_timeout)
        .context("cannot set the busy timeout")?;
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
             PRAGMA wal_autocheckpoint = 0;",
        )
        .context("cannot configure the write connection")?;
    // The pages a batch touches (each busy chat's index leaves, the
    // table's end) stay cached between batches instead of being read back
    // from the OS: up to 64 MiB, used only as the database grows.
    connection
        .execute_batch("PRAGMA cache_size = -65536;")
        .context("cannot size the write connection's cache")?;
    // Room for every statement the writer runs, each prepared once.
    connection.set_prepared_statement_cache_capacity(64);
    Ok(connection)
}

/// True when `error` is a unique-constraint violation.
fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error(),
        Some(e) if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// True when SQLite gave up waiting for a lock (`SQLITE_BUSY`,
/// `SQLITE_LOCKED` and their extended codes).
fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// [`is_busy`] for the read pool's errors.
fn is_busy_sqlx(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    db.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}
