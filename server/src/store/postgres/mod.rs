//! The PostgreSQL store: the same operations as the SQLite one, for
//! deployments of several nodes that share one database.
//!
//! Appends go through a few writer tasks per node, each owning the chats
//! hashed to it and committing whatever is waiting for it in one
//! transaction (group commit, see `writer`): each chat's row
//! is locked, its `last_seq` moved once per batch and the messages inserted
//! in one statement. The row lock orders writers of one chat across every
//! node, so `seq`s commit in order and none is skipped. Every other write
//! is a short transaction of its own on the pool, run in a task of its own
//! so that a caller going away cannot split the commit from its
//! announcement; a read marker, which announces nothing, is one statement
//! and only when it moves (`reads`). Reads use that pool too, never the
//! writers' connections, so a gap fill or a history page does not wait
//! for a batch; PostgreSQL lets them run beside the writes.
//!
//! How the URL becomes connect options, TLS included, is `connect`.
//!
//! Times are cut to microseconds before they are stored, PostgreSQL's
//! precision, so that what an `ack` carries equals what a later read
//! returns.

mod agents;
mod append;
mod chats;
mod cluster_reads;
pub mod connect;
mod keys;
mod messages;
mod reads;
mod rows;
mod sessions;
mod tickets;
mod visitors;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};
use futures_util::future::BoxFuture;
use secrecy::SecretString;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::{Batched, CommitListener, Committed, ReadFaults, StoreError, StoreLoad, StoreSettings};
use writer::Writer;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations_postgres");

/// A handle to the PostgreSQL database; cheap to clone.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    writer: Writer,
    /// Reads and the writes other than appends.
    pool: PgPool,
    /// Chats' last `seq`s and revoked tokens, read many at a time.
    last_seqs: Batched<Uuid, i64>,
    revoked_tokens: Batched<String, i32>,
    listener: Option<Arc<dyn CommitListener>>,
    /// Faults tests inject into reads of messages; inert by default.
    read_faults: ReadFaults,
}

/// True for URLs this store opens.
pub fn handles(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PostgresStore {
    /// Connects, runs pending migrations (PostgreSQL's advisory lock lets
    /// several nodes start at once) and starts the writer.
    pub async fn connect(
        database_url: &SecretString,
        settings: &StoreSettings,
        listener: Option<Arc<dyn CommitListener>>,
    ) -> anyhow::Result<PostgresStore> {
        // The URL may hold a password: errors name the database, never the URL.
        let options = connect::connect_options(database_url, settings)?;
        connect::warn_if_unverified(&options);
        connect::check_trusted_roots(&options)?;
        let pool_options = |connections: u32| {
            PgPoolOptions::new()
                .max_connections(connections.max(1))
                .acquire_timeout(settings.busy_timeout)
                // Connections broken by a failover are noticed before use.
                .test_before_acquire(true)
        };
        let pool = pool_options(settings.pool_connections())
            .connect_with(options.clone())
            .await
            .map_err(|error| connect::cannot_connect(&options, error))?;
        MIGRATOR
            .run(&pool)
            .await
            .context("cannot run database migrations")?;
        let writes = pool_options(u32::try_from(settings.writers).unwrap_or(u32::MAX))
            .connect_with(options)
            .await?;
        let writer = Writer::start(writes, settings, listener.clone());
        let at_once = settings.read_connections.max(1) as usize;
        let last_seqs = Batched::start(messages::LastSeqReads(pool.clone()), at_once);
        let revoked_tokens = Batched::start(sessions::RevokedTokenReads(pool.clone()), at_once);
        Ok(PostgresStore {
            writer,
            pool,
            last_seqs,
            revoked_tokens,
            listener,
            read_faults: settings.read_faults.clone(),
        })
    }

    /// Checks the database answers; used by `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Readiness is the database answering: every node shares it.
    pub async fn check_ready(&self) -> Result<(), StoreError> {
        self.ping().await
    }

    /// Both pools' connections and the appends queued for the writer.
    /// sqlx does not tell how many tasks wait for a connection.
    pub fn load(&self) -> StoreLoad {
        let (writer_in_use, writer_idle, queued_writes) = self.writer.load();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        StoreLoad {
            in_use: self.pool.size().saturating_sub(idle) + writer_in_use,
            idle: idle + writer_idle,
            waiting: 0,
            queued_writes,
        }
    }

    /// Finishes the appends already queued, then closes every connection.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Runs `operation` in a transaction of its own and, once it has
    /// committed, announces what `changes` says it changed. It runs in a
    /// task of its own: a caller that goes away neither rolls it back
    /// half-way nor keeps a committed change from being announced.
    async fn write<T, F, C>(&self, operation: F, changes: C) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(
                &'t mut Transaction<'static, Postgres>,
            ) -> BoxFuture<'t, Result<T, StoreError>>
            + Send
            + 'static,
        C: FnOnce(&T) -> Vec<Committed> + Send + 'static,
    {
        let pool = self.pool.clone();
        let listener = self.listener.clone();
        let task = tokio::spawn(async move {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            let value = operation(&mut transaction).await?;
            transaction.commit().await.map_err(store_error)?;
            if let Some(listener) = listener {
                for change in changes(&value) {
                    listener.committed(&change);
                }
            }
            Ok(value)
        });
        task.await
            .unwrap_or_else(|error| Err(StoreError::Unexpected(anyhow::Error::new(error))))
    }
}

/// Now, at the precision PostgreSQL stores.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Maps a PostgreSQL error: a database that cannot be reached, is failing
/// over, or kept a lock past the busy timeout is `Unavailable` (the write
/// did not happen or is safe to retry); a unique violation is left to the
/// caller through [`is_unique_violation`].
fn store_error(error: sqlx::Error) -> StoreError {
    if is_unavailable(&error) {
        return StoreError::Unavailable;
    }
    StoreError::Unexpected(anyhow::Error::new(error).context("database error"))
}

fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exceptions; 40001/40P01: serialization
            // failure and deadlock; 55P03: lock timeout; 57P0x: the server
            // is shutting down or starting; 25006: a read-only standby
            // answered during a failover.
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03" | "25006"
                )
        }),
        _ => false,
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// How long the writer may take over one batch before its callers are told
/// the database is unavailable.
fn batch_deadline(settings: &StoreSettings) -> Duration {
    settings.busy_timeout * 2
}
