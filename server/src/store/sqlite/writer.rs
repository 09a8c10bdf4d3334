//! The writer: one thread, one connection, every write (group commit).
//!
//! SQLite has one write lock. Instead of many connections taking turns at
//! it, each paying a transaction and an fsync per message, one thread owns
//! the only write connection. It takes every write waiting for it (up to
//! `max_batch`), runs them in one `BEGIN IMMEDIATE` transaction and commits
//! once. Under load a batch grows to whatever arrived during the previous
//! commit, so the cost of a commit is shared by many writes, while an idle
//! server commits a lone write at once: the writer never waits to fill a
//! batch.
//!
//! The connection is rusqlite's, on a thread of its own, so every
//! statement is a direct call into SQLite (prepared once, cached) rather
//! than a round trip to a driver's worker thread; the thread blocks only
//! in the commit's fsync. Answering the callers and announcing the changes
//! is handed to a second thread, in commit order, so the next batch runs
//! its statements while the previous one is being announced.
//!
//! Appends are stored one row at a time within the batch (see `append`);
//! every other write runs in its own savepoint, so one that fails leaves
//! the others committed. A write that waited longer than `busy_timeout`,
//! or finds the queue full, is refused as `Unavailable` without being run.

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::append::{self, PendingAppend};
use super::checkpoint::Checkpoints;
use crate::store::{
    AppendTicket, CommitListener, Committed, NewMessage, StoreError, StoreSettings,
};

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
    /// When an append reached the writer's queue, for the delivery
    /// latency; `None` for other writes.
    pub arrived: Option<Instant>,
}

/// A write other than an append: runs on the writer's connection.
type Operation = Box<dyn FnOnce(&Connection) -> Done + Send>;

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

impl From<&rusqlite::Error> for CommitFailure {
    fn from(error: &rusqlite::Error) -> Self {
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
    /// Starts the writer and announcer threads; `connection` is the only
    /// one that writes, `checkpoints` copies its WAL back.
    pub fn start(
        connection: Connection,
        checkpoints: Checkpoints,
        settings: &StoreSettings,
        listener: Option<Arc<dyn CommitListener>>,
    ) -> anyhow::Result<Writer> {
        let (queue, jobs) = mpsc::channel(settings.write_queue.max(1));
        // Two batches may wait for their announcement: enough to overlap
        // one batch's statements with the previous one's announcing, few
        // enough that announcing cannot fall far behind.
        let (committed, announcements) = std_mpsc::sync_channel(2);
        std::thread::Builder::new()
            .name("byrd-announcer".into())
            .spawn(move || announce(announcements, listener))
            .context("cannot start the database announcer thread")?;
        let task = WriterThread {
            connection,
            checkpoints,
            jobs,
            committed,
            max_batch: settings.max_batch.max(1),
            max_wait: settings.busy_timeout,
        };
        std::thread::Builder::new()
            .name("byrd-writer".into())
            .spawn(move || task.run())
            .context("cannot start the database writer thread")?;
        Ok(Writer { queue })
    }

    /// Writes waiting for the writer.
    pub fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
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
        self.submit(Job::Append(PendingAppend {
            new,
            reply,
            arrived: Instant::now(),
        }))?;
        Ok(AppendTicket::new(answer))
    }

    /// Runs `operation` in the next batch. `changes` says what to announce
    /// when it succeeded and committed.
    pub async fn run<T, F, C>(&self, operation: F, changes: C) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        C: FnOnce(&T) -> Vec<Committed> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
        let job: Operation = Box::new(move |connection| {
            let result = operation(connection);
            let changes = result.as_ref().map(changes).unwrap_or_default();
            Done {
                ok: result.is_ok(),
                changes,
                arrived: None,
                reply: Box::new(move |committed| {
                    let _ = reply.send(committed.map_err(StoreError::from).and(result));
                }),
            }
        });
        self.submit(Job::Operation(job))?;
        answer.await.map_err(|_| dropped())?
    }

    /// Lets queued writes finish and be announced, then closes the
    /// connection.
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

/// What the announcer is handed, in commit order.
enum Announcement {
    /// A batch's writes and whether the batch committed.
    Batch {
        done: Vec<Done>,
        committed: Result<(), CommitFailure>,
    },
    /// Everything before was announced: the writer has closed.
    Closed(oneshot::Sender<()>),
}

/// Announces each committed batch's changes, then answers its callers:
/// a caller that hears its answer can count on its change being
/// announced already.
fn announce(batches: std_mpsc::Receiver<Announcement>, listener: Option<Arc<dyn CommitListener>>) {
    while let Ok(announcement) = batches.recv() {
        match announcement {
            Announcement::Batch { done, committed } => {
                if committed.is_ok() {
                    announce_batch(&done, listener.as_deref());
                }
                for finished in done {
                    (finished.reply)(committed.clone());
                }
            }
            Announcement::Closed(done) => {
                let _ = done.send(());
                return;
            }
        }
    }
}

/// Announces a committed batch's changes in order, counting its messages
/// and timing each one's way from the queue to the hub.
fn announce_batch(done: &[Done], listener: Option<&dyn CommitListener>) {
    let metrics = crate::metrics::handles();
    let mut stored = 0;
    for finished in done.iter().filter(|d| d.ok) {
        for change in &finished.changes {
            let message = matches!(change, Committed::Message(_));
            stored += usize::from(message);
            if let Some(listener) = listener {
                listener.committed(change);
                if let (true, Some(arrived)) = (message, finished.arrived) {
                    metrics.delivered(arrived);
                }
            }
        }
    }
    metrics.stored(stored);
}

struct WriterThread {
    connection: Connection,
    checkpoints: Checkpoints,
    jobs: mpsc::Receiver<Queued>,
    committed: std_mpsc::SyncSender<Announcement>,
    max_batch: usize,
    max_wait: Duration,
}

impl WriterThread {
    fn run(mut self) {
        let mut batch = Vec::with_capacity(self.max_batch);
        // Blocks only while nothing waits; then takes whatever is queued.
        while let Some(first) = self.jobs.blocking_recv() {
            batch.push(first);
            while batch.len() < self.max_batch {
                match self.jobs.try_recv() {
                    Ok(queued) => batch.push(queued),
                    Err(_) => break,
                }
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
                let announcement = self.commit_batch(appends, operations);
                if self.committed.send(announcement).is_err() {
                    tracing::error!("the database announcer has stopped");
                    return;
                }
                self.checkpoints.committed();
                self.checkpoints.restart_if_due(&self.connection);
            }
            if let Some(done) = close {
                self.jobs.close();
                while let Some(queued) = self.jobs.blocking_recv() {
                    if let Job::Append(pending) = queued.job {
                        let _ = pending.reply.send(Err(StoreError::Unavailable));
                    }
                }
                if let Err((_, error)) = self.connection.close() {
                    tracing::warn!(%error, "the database writer did not close cleanly");
                }
                let _ = self.committed.send(Announcement::Closed(done));
                return;
            }
        }
    }

    fn commit_batch(
        &mut self,
        appends: Vec<PendingAppend>,
        operations: Vec<Operation>,
    ) -> Announcement {
        let connection = &self.connection;
        let started = Instant::now();
        let sends = appends.len();
        let mut done = Vec::with_capacity(appends.len() + operations.len());
        if let Err(error) = execute(connection, "BEGIN IMMEDIATE") {
            let failure = CommitFailure::from(&error);
            for pending in appends {
                let _ = pending.reply.send(Err(failure.clone().into()));
            }
            // Dropped unrun, the operations' callers hear `Unavailable`.
            drop(operations);
            return Announcement::Batch {
                done,
                committed: Err(failure),
            };
        }
        append::append_all(connection, appends, &mut done);
        for operation in operations {
            if let Some(finished) = run_operation(connection, operation) {
                done.push(finished);
            }
        }
        let committed = match execute(connection, "COMMIT") {
            Ok(()) => {
                crate::metrics::handles().committed(sends, started.elapsed());
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, "a batch of writes failed to commit");
                // SQLite may have rolled back already; then this fails too.
                let _ = execute(connection, "ROLLBACK");
                Err(CommitFailure::from(&error))
            }
        };
        Announcement::Batch { done, committed }
    }
}

/// Runs one statement without parameters or rows, prepared once.
fn execute(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(drop)
}

/// Runs one operation inside its own savepoint; `None` when the savepoint
/// could not be made and the operation was dropped unrun.
fn run_operation(connection: &Connection, operation: Operation) -> Option<Done> {
    // A transaction already ended by a failure must not be replaced by a
    // savepoint of its own, which would commit on release.
    if connection.is_autocommit() {
        return None;
    }
    execute(connection, "SAVEPOINT operation").ok()?;
    let finished = operation(connection);
    if !finished.ok {
        let _ = execute(connection, "ROLLBACK TO operation");
    }
    let _ = execute(connection, "RELEASE operation");
    Some(finished)
}
