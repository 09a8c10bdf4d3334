//! The writer: one task, one connection, every write (group commit).
//!
//! SQLite has one write lock. Instead of many connections taking turns at
//! it, each paying a transaction and an fsync per message, one task owns
//! the only write connection. It takes every write waiting for it (up to
//! `max_batch`), runs them in one `BEGIN IMMEDIATE` transaction, commits
//! once, and only then answers each caller and announces the changes, in
//! commit order. Under load a batch grows to whatever arrived during the
//! previous commit, so the cost of a commit is shared by many writes while
//! an idle server still commits a lone write at once.
//!
//! Appends are stored as one set (see `append`); every other write runs in
//! its own savepoint, so one that fails leaves the others committed. A
//! write that waited longer than `busy_timeout`, or finds the queue full,
//! is refused as `Unavailable` without being run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, Executor};
use tokio::sync::{mpsc, oneshot};

use super::append::{self, PendingAppend};
use super::messages::{AppendTicket, NewMessage};
use super::{CommitListener, Committed, StoreError, StoreSettings};

/// Answers a caller once the commit is decided: `Ok` when its write is on
/// disk, the commit's failure otherwise.
pub(super) type Reply = Box<dyn FnOnce(Result<(), CommitFailure>) + Send>;

/// What one write did inside the batch transaction.
pub(super) struct Done {
    /// False when the write failed and its savepoint was rolled back.
    pub ok: bool,
    pub reply: Reply,
    /// Announced after the commit, in this order.
    pub changes: Vec<Committed>,
}

/// A write other than an append: runs on the writer's connection.
type Operation = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Done> + Send>;

enum Job {
    Append(PendingAppend),
    Operation(Operation),
    Close(oneshot::Sender<()>),
}

struct Queued {
    job: Job,
    since: Instant,
}

/// Why a batch did not commit. Cloned to every caller of the batch.
#[derive(Debug, Clone)]
pub(super) enum CommitFailure {
    Busy,
    Failed(Arc<str>),
}

impl From<CommitFailure> for StoreError {
    fn from(failure: CommitFailure) -> Self {
        match failure {
            CommitFailure::Busy => StoreError::Unavailable,
            CommitFailure::Failed(cause) => {
                StoreError::Unexpected(anyhow::anyhow!("commit failed: {cause}"))
            }
        }
    }
}

impl From<&sqlx::Error> for CommitFailure {
    fn from(error: &sqlx::Error) -> Self {
        if super::is_busy(error) {
            CommitFailure::Busy
        } else {
            CommitFailure::Failed(error.to_string().into())
        }
    }
}

/// The handle the store keeps; cheap to clone.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    queue: mpsc::Sender<Queued>,
}

impl Writer {
    pub fn start(
        connection: SqliteConnection,
        settings: &StoreSettings,
        listener: Option<Arc<dyn CommitListener>>,
    ) -> Writer {
        let (queue, jobs) = mpsc::channel(settings.write_queue.max(1));
        let task = WriterTask {
            connection,
            jobs,
            listener,
            max_batch: settings.max_batch.max(1),
            max_wait: settings.busy_timeout,
        };
        tokio::spawn(task.run());
        Writer { queue }
    }

    fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.queue
            .try_send(Queued {
                job,
                since: Instant::now(),
            })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => StoreError::Unavailable,
                mpsc::error::TrySendError::Closed(_) => {
                    StoreError::Unexpected(anyhow::anyhow!("the database writer has stopped"))
                }
            })
    }

    /// Queues a message for the next batch; see `append`. Messages queued
    /// one after another are stored in that order.
    pub fn append(&self, new: NewMessage) -> Result<AppendTicket, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Append(PendingAppend { new, reply }))?;
        Ok(AppendTicket(answer))
    }

    /// Runs `operation` in the next batch. `changes` says what to announce
    /// when it succeeded and committed.
    pub async fn run<T, F, C>(&self, operation: F, changes: C) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
        C: FnOnce(&T) -> Vec<Committed> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
        let job: Operation = Box::new(move |connection| {
            Box::pin(async move {
                let result = operation(connection).await;
                let changes = result.as_ref().map(changes).unwrap_or_default();
                Done {
                    ok: result.is_ok(),
                    changes,
                    reply: Box::new(move |committed| {
                        let _ = reply.send(committed.map_err(StoreError::from).and(result));
                    }),
                }
            })
        });
        self.submit(Job::Operation(job))?;
        answer.await.map_err(|_| dropped())?
    }

    /// Lets queued writes finish, then closes the connection.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self
            .queue
            .send(Queued {
                job: Job::Close(done),
                since: Instant::now(),
            })
            .await
            .is_ok()
        {
            let _ = closed.await;
        }
    }
}

/// The writer dropped a write unanswered: it waited past the busy timeout,
/// its transaction could not begin, or the server is stopping. Nothing of
/// it was written.
pub(super) fn dropped() -> StoreError {
    StoreError::Unavailable
}

struct WriterTask {
    connection: SqliteConnection,
    jobs: mpsc::Receiver<Queued>,
    listener: Option<Arc<dyn CommitListener>>,
    max_batch: usize,
    max_wait: Duration,
}

impl WriterTask {
    async fn run(mut self) {
        let mut batch = Vec::with_capacity(self.max_batch);
        loop {
            if self.jobs.recv_many(&mut batch, self.max_batch).await == 0 {
                break;
            }
            let mut appends = Vec::new();
            let mut operations = Vec::new();
            let mut close = None;
            for queued in batch.drain(..) {
                let stale = queued.since.elapsed() > self.max_wait;
                match queued.job {
                    Job::Append(pending) if stale => {
                        let _ = pending.reply.send(Err(StoreError::Unavailable));
                    }
                    Job::Append(pending) => appends.push(pending),
                    Job::Operation(operation) if stale => {
                        // Never run; its caller hears `Unavailable`.
                        drop(operation);
                        tracing::warn!("a write waited past the busy timeout and was refused");
                    }
                    Job::Operation(operation) => operations.push(operation),
                    Job::Close(done) => close = Some(done),
                }
            }
            if !appends.is_empty() || !operations.is_empty() {
                self.commit_batch(appends, operations).await;
            }
            if let Some(done) = close {
                self.jobs.close();
                while let Some(queued) = self.jobs.recv().await {
                    if let Job::Append(pending) = queued.job {
                        let _ = pending.reply.send(Err(StoreError::Unavailable));
                    }
                }
                let _ = self.connection.close().await;
                let _ = done.send(());
                return;
            }
        }
    }

    async fn commit_batch(&mut self, appends: Vec<PendingAppend>, operations: Vec<Operation>) {
        let mut done = Vec::with_capacity(appends.len() + operations.len());
        if let Err(error) = self.connection.execute("BEGIN IMMEDIATE").await {
            let failure = CommitFailure::from(&error);
            for pending in appends {
                let _ = pending.reply.send(Err(failure.clone().into()));
            }
            // Dropped unrun, the operations' callers hear `Unavailable`.
            drop(operations);
            return;
        }
        if let Err(failure) = append::append_all(&mut self.connection, appends, &mut done).await {
            // The transaction is gone; nothing of the batch can commit.
            let _ = self.connection.execute("ROLLBACK").await;
            drop(operations);
            for finished in done {
                (finished.reply)(Err(failure.clone()));
            }
            return;
        }
        for operation in operations {
            if let Some(finished) = run_operation(&mut self.connection, operation).await {
                done.push(finished);
            }
        }
        let committed = match self.connection.execute("COMMIT").await {
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::error!(%error, "a batch of writes failed to commit");
                let _ = self.connection.execute("ROLLBACK").await;
                Err(CommitFailure::from(&error))
            }
        };
        if committed.is_ok()
            && let Some(listener) = &self.listener
        {
            for finished in done.iter().filter(|d| d.ok) {
                for change in &finished.changes {
                    listener.committed(change);
                }
            }
        }
        for finished in done {
            (finished.reply)(committed.clone());
        }
    }
}

/// Runs one operation inside its own savepoint; `None` when the savepoint
/// could not be made and the operation was dropped unrun.
async fn run_operation(connection: &mut SqliteConnection, operation: Operation) -> Option<Done> {
    connection.execute("SAVEPOINT operation").await.ok()?;
    let finished = operation(connection).await;
    if !finished.ok {
        let _ = connection.execute("ROLLBACK TO operation").await;
    }
    let _ = connection.execute("RELEASE operation").await;
    Some(finished)
}
