//! The writers: a few tasks per node append every message (group commit).
//!
//! Each commit waits for PostgreSQL's WAL flush; one transaction per
//! message would pay it per message. A writer takes every append waiting
//! for it (up to `max_batch`), stores them in one transaction (see
//! `append`), and only after the commit announces the new messages, in
//! `seq` order, and answers each caller. Under load a batch grows to
//! whatever arrived during the previous commit.
//!
//! One writer alone is bound by latency, not work: a batch is a chain of
//! round trips and a WAL flush, and the node idles while it waits. So a
//! node runs several (`--database-writers`), each on a connection of its
//! own that it keeps between batches, and each chat belongs to one of them
//! by a hash of its id: a chat's appends queue in one place and commit in
//! the order they were queued, while other chats' batches commit beside
//! them, and PostgreSQL flushes their WAL together. Writers of different
//! nodes meet on the chat rows, which each batch locks in id order.
//!
//! A batch that meets a deadlock or a serialization failure (another
//! node's writer, a failover) is retried whole; one that cannot commit
//! within its deadline is answered `Unavailable`, which is safe: a client
//! resends with the same `client_msg_id`, and idempotency gives it the
//! stored message if the commit did land.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Acquire, PgPool, Postgres};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::append::append_batch;
use super::{batch_deadline, is_unavailable};
use crate::store::rules::append::Outcome;
use crate::store::{AppendTicket, Appended, CommitListener, NewMessage, StoreError, StoreSettings};

/// Tries of one batch that met a deadlock or serialization failure.
const TRIES: u32 = 3;

/// A message waiting for the writer, and where its answer goes.
struct PendingAppend {
    new: NewMessage,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
    since: Instant,
}

enum Job {
    Append(PendingAppend),
    Close(oneshot::Sender<()>),
}

/// The handle the store keeps; cheap to clone.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    /// One queue per writer task; a chat's appends always take the same.
    queues: Arc<[mpsc::Sender<Job>]>,
    /// The writers' own pool (a connection each), watched by the metrics.
    writes: PgPool,
}

impl Writer {
    /// Starts `settings.writers` writer tasks on `pool`, which should
    /// hold a connection for each.
    pub fn start(
        pool: PgPool,
        settings: &StoreSettings,
        listener: Option<Arc<dyn CommitListener>>,
    ) -> Writer {
        let writers = settings.writers.max(1);
        // The queue bound is the node's: shared out among the writers.
        let each = settings.write_queue.div_ceil(writers).max(1);
        let queues = (0..writers)
            .map(|_| {
                let (queue, jobs) = mpsc::channel(each);
                let task = WriterTask {
                    pool: pool.clone(),
                    connection: None,
                    jobs,
                    listener: listener.clone(),
                    max_batch: settings.max_batch.max(1),
                    max_wait: settings.busy_timeout,
                    deadline: batch_deadline(settings),
                };
                tokio::spawn(task.run());
                queue
            })
            .collect();
        Writer {
            queues,
            writes: pool,
        }
    }

    /// The writer pool's connections in use and idle, and the appends
    /// waiting for the writers.
    pub fn load(&self) -> (u32, u32, usize) {
        let idle = u32::try_from(self.writes.num_idle()).unwrap_or(u32::MAX);
        let queued = self
            .queues
            .iter()
            .map(|queue| queue.max_capacity() - queue.capacity())
            .sum();
        (self.writes.size().saturating_sub(idle), idle, queued)
    }

    /// Queues a message for its chat's writer. Messages of one chat queued
    /// one after another are stored in that order.
    pub fn append(&self, new: NewMessage) -> Result<AppendTicket, StoreError> {
        let queue = &self.queues[writer_of(new.chat_id, self.queues.len())];
        let (reply, answer) = oneshot::channel();
        let job = Job::Append(PendingAppend {
            new,
            reply,
            since: Instant::now(),
        });
        queue.try_send(job).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => StoreError::Unavailable,
            mpsc::error::TrySendError::Closed(_) => {
                StoreError::Unexpected(anyhow::anyhow!("the database writer has stopped"))
            }
        })?;
        Ok(AppendTicket::new(answer))
    }

    /// Lets queued appends finish, then stops every writer.
    pub async fn close(&self) {
        let closing = self.queues.iter().map(|queue| async move {
            let (done, closed) = oneshot::channel();
            if queue.send(Job::Close(done)).await.is_ok() {
                let _ = closed.await;
            }
        });
        futures_util::future::join_all(closing).await;
    }
}

/// The writer, of `writers`, that owns `chat_id`. Any fixed function of
/// the id would keep each chat's order; folding all 128 bits spreads ids
/// whatever their version puts in which bits.
fn writer_of(chat_id: Uuid, writers: usize) -> usize {
    let bits = chat_id.as_u128();
    let folded = (bits as u64) ^ ((bits >> 64) as u64);
    (folded % writers as u64) as usize
}

struct WriterTask {
    pool: PgPool,
    /// Kept from batch to batch: taking one from the pool each time would
    /// cost a round trip (the pool tests a connection before lending it).
    /// Dropped after a failure that may have broken it.
    connection: Option<PoolConnection<Postgres>>,
    jobs: mpsc::Receiver<Job>,
    listener: Option<Arc<dyn CommitListener>>,
    max_batch: usize,
    max_wait: Duration,
    deadline: Duration,
}

/// Why a whole batch failed; every caller of the batch hears it.
#[derive(Debug, Clone)]
enum BatchFailure {
    Unavailable,
    Failed(Arc<str>),
}

impl From<&BatchFailure> for StoreError {
    fn from(failure: &BatchFailure) -> Self {
        match failure {
            BatchFailure::Unavailable => StoreError::Unavailable,
            BatchFailure::Failed(cause) => {
                StoreError::Unexpected(anyhow::anyhow!("commit failed: {cause}"))
            }
        }
    }
}

impl WriterTask {
    async fn run(mut self) {
        let mut jobs = Vec::with_capacity(self.max_batch);
        loop {
            if self.jobs.recv_many(&mut jobs, self.max_batch).await == 0 {
                return;
            }
            let mut batch = Vec::with_capacity(jobs.len());
            let mut close = None;
            for job in jobs.drain(..) {
                match job {
                    Job::Append(pending) if pending.since.elapsed() > self.max_wait => {
                        let _ = pending.reply.send(Err(StoreError::Unavailable));
                    }
                    Job::Append(pending) => batch.push(pending),
                    Job::Close(done) => close = Some(done),
                }
            }
            if !batch.is_empty() {
                self.commit_batch(batch).await;
            }
            if let Some(done) = close {
                self.jobs.close();
                while let Some(job) = self.jobs.recv().await {
                    if let Job::Append(pending) = job {
                        let _ = pending.reply.send(Err(StoreError::Unavailable));
                    }
                }
                let _ = done.send(());
                return;
            }
        }
    }

    async fn commit_batch(&mut self, batch: Vec<PendingAppend>) {
        let news: Vec<&NewMessage> = batch.iter().map(|pending| &pending.new).collect();
        let mut tries = 0;
        let result = loop {
            tries += 1;
            let attempt = tokio::time::timeout(self.deadline, self.try_batch(&news)).await;
            if !matches!(attempt, Ok(Ok(_))) {
                self.drop_connection();
            }
            match attempt {
                Ok(Ok(outcomes)) => break Ok(outcomes),
                Ok(Err(error)) if is_unavailable(&error) && tries < TRIES => {
                    tracing::debug!(%error, "a batch of messages is retried");
                }
                Ok(Err(error)) if is_unavailable(&error) => break Err(BatchFailure::Unavailable),
                Ok(Err(error)) => {
                    tracing::error!(%error, "a batch of messages failed to commit");
                    break Err(BatchFailure::Failed(error.to_string().into()));
                }
                Err(_) => {
                    tracing::warn!("a batch of messages did not commit in time");
                    break Err(BatchFailure::Unavailable);
                }
            }
        };
        let outcomes = match result {
            Ok(outcomes) => outcomes,
            Err(failure) => {
                for pending in batch {
                    let _ = pending.reply.send(Err(StoreError::from(&failure)));
                }
                return;
            }
        };
        let metrics = crate::metrics::handles();
        let mut stored = 0;
        for (pending, outcome) in batch.iter().zip(&outcomes) {
            let Some(change) = outcome.announced() else {
                continue;
            };
            stored += 1;
            if let Some(listener) = &self.listener {
                listener.committed(&change);
                metrics.delivered(pending.since);
            }
        }
        metrics.stored(stored);
        for (pending, outcome) in batch.into_iter().zip(outcomes) {
            let _ = pending.reply.send(outcome.into_answer());
        }
    }

    /// One try at storing `news`, on the writer's connection.
    async fn try_batch(&mut self, news: &[&NewMessage]) -> Result<Vec<Outcome>, sqlx::Error> {
        let started = Instant::now();
        let connection = match &mut self.connection {
            Some(connection) => connection,
            slot => slot.insert(self.pool.acquire().await?),
        };
        let mut transaction = connection.begin().await?;
        let outcomes = append_batch(&mut transaction, news).await?;
        transaction.commit().await?;
        crate::metrics::handles().committed(news.len(), started.elapsed());
        Ok(outcomes)
    }

    /// Forgets the writer's connection after a try that failed or ran out
    /// of time: it may be broken, or hold a transaction cut half-way. The
    /// pool opens a fresh one for the next batch.
    fn drop_connection(&mut self) {
        if let Some(connection) = self.connection.take() {
            drop(connection.detach());
        }
    }
}
