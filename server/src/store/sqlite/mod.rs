//! The SQLite store: one node, one database file.
//!
//! Writes and reads take separate paths. Every write goes to one writer
//! thread that owns the only write connection (rusqlite) and commits
//! whatever is waiting in one transaction with one fsync (group commit,
//! see `writer`). Reads use sqlx's pool of read-only connections, which
//! WAL lets run while the writer commits, so they never wait behind
//! writes. What a commit changed is announced, in commit order, to a
//! [`CommitListener`] (the hub), by the writer's side: a caller that goes
//! away cannot split storing from announcing. `backup` writes a
//! consistent copy of the file while the server runs.

mod agents;
mod append;
mod backup;
mod chats;
mod checkpoint;
mod keys;
mod messages;
mod reads;
mod rows;
mod sessions;
mod tickets;
mod visitors;
mod writer;

use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context;
use rusqlite::OpenFlags;
use secrecy::{ExposeSecret, SecretString};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};
use uuid::Uuid;

pub use backup::{Snapshot, database_file, write_snapshot};

use super::{Batched, CommitListener, ReadFaults, StoreError, StoreLoad, StoreSettings};
use writer::Writer;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

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

/// A handle to the SQLite database; cheap to clone.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: Writer,
    reads: SqlitePool,
    /// Chats' last `seq`s and revoked tokens, read many at a time.
    last_seqs: Batched<Uuid, i64>,
    revoked_tokens: Batched<String, i64>,
    read_faults: ReadFaults,
    /// The database file as opened, which readiness checks is still there.
    file: DatabaseFile,
}

/// A file by path and identity: a file removed or replaced at its path
/// (a restore copied over a running server, a lost volume) is no longer
/// the one the store holds open, whose writes would be lost.
#[derive(Debug, Clone)]
struct DatabaseFile {
    path: std::path::PathBuf,
    device: u64,
    inode: u64,
}

impl DatabaseFile {
    fn of(path: &std::path::Path) -> anyhow::Result<DatabaseFile> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path)
            .with_context(|| format!("cannot read the database file {}", path.display()))?;
        Ok(DatabaseFile {
            path: path.to_owned(),
            device: metadata.dev(),
            inode: metadata.ino(),
        })
    }

    /// Whether the path still names the file opened.
    fn is_in_place(&self) -> bool {
        DatabaseFile::of(&self.path)
            .is_ok_and(|now| now.device == self.device && now.inode == self.inode)
    }
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
        let file = DatabaseFile::of(&path)?;
        let writer = Writer::start(
            open_writer(&path, settings)?,
            checkpoint::Checkpoints::start(&path)?,
            settings,
            listener,
        )?;
        let at_once = settings.read_connections.max(1) as usize;
        let last_seqs = Batched::start(messages::LastSeqReads(reads.clone()), at_once);
        let revoked_tokens = Batched::start(sessions::RevokedTokenReads(reads.clone()), at_once);
        Ok(SqliteStore {
            writer,
            reads,
            last_seqs,
            revoked_tokens,
            read_faults: settings.read_faults.clone(),
            file,
        })
    }

    /// Checks the database answers; used by `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reads).await?;
        Ok(())
    }

    /// The database answers, and the file at its path is still the one
    /// open: connections keep reading a removed file as if nothing
    /// happened, so a query alone cannot tell.
    pub async fn check_ready(&self) -> Result<(), StoreError> {
        if !self.file.is_in_place() {
            return Err(StoreError::Unexpected(anyhow::anyhow!(
                "the database file {} was removed or replaced",
                self.file.path.display()
            )));
        }
        self.ping().await
    }

    /// The read pool's connections and the writes waiting for the writer.
    pub fn load(&self) -> StoreLoad {
        let idle = u32::try_from(self.reads.num_idle()).unwrap_or(u32::MAX);
        StoreLoad {
            in_use: self.reads.size().saturating_sub(idle),
            idle,
            waiting: 0,
            queued_writes: self.writer.queued(),
        }
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

/// Statement sizes: a batch of keys is padded to the next one up, so that
/// four statements in the cache serve every batch.
const STATEMENT_SIZES: [usize; 4] = [1, 16, 128, super::batched::BATCH];

/// Runs `sql` (given the list of placeholders) with `keys` bound to them,
/// for a batched read.
async fn read_in<K, Row>(
    reads: &SqlitePool,
    sql: impl Fn(&str) -> String,
    mut keys: Vec<K>,
) -> Result<Vec<Row>, StoreError>
where
    K: Clone + Send + for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + 'static,
    Row: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
{
    super::batched::pad_to_statement_size(&mut keys, &STATEMENT_SIZES);
    let sql = sql(&vec!["?"; keys.len()].join(","));
    let mut query = sqlx::query_as(&sql);
    for key in keys {
        query = query.bind(key);
    }
    Ok(query.fetch_all(reads).await?)
}
