//! The writer: one task per node appends every message (group commit).
//!
//! Each commit waits for PostgreSQL's WAL flush; one transaction per
//! message would pay it per message. The writer takes every append
//! waiting for it (up to `max_batch`), stores them in one transaction (see
//! `append`), and only after the commit announces the new messages, in
//! `seq` order, and answers each caller. Under load a batch grows to
//! whatever arrived during the previous commit.
//!
//! A batch that meets a deadlock or a serialization failure (another
//! node's writer, a failover) is retried whole; one that cannot commit
//! within its deadline is answered `Unavailable`, which is safe: a client
//! resends with the same `client_msg_id`, and idempotency gives it the
//! stored message if the commit did land.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

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
    queue: mpsc::Sender<Job>,
    /// The writer's own pool, watched by the metrics.
    writes: PgPool,
}

impl Writer {
    pub fn start(
        pool: PgPool,
        settings: &StoreSettings,
        listener: Option<Arc<dyn CommitListener>>,
    ) -> Writer {
        let (queue, jobs) = mpsc::channel(settings.write_queue.max(1));
        let writes = pool.clone();
        let task = WriterTask {
            pool,
            jobs,
            listener,
            max_batch: settings.max_batch.max(1),
            max_wait: settings.busy_timeout,
            deadline: batch_deadline(settings),
        };
        tokio::spawn(task.run());
        Writer { queue, writes }
    }

    /// The writer pool's connections in use and idle, and the appends
    /// waiting for the writer.
    pub fn load(&self) -> (u32, u32, usize) {
        let idle = u32::try_from(self.writes.num_idle()).unwrap_or(u32::MAX);
        let queued = self.queue.max_capacity() - self.queue.capacity();
        (self.writes.size().saturating_sub(idle), idle, queued)
    }

    /// Queues a message for the next batch. Messages queued one after
    /// another are stored in that order.
    pub fn append(&self, new: NewMessage) -> Result<AppendTicket, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Append(PendingAppend {
            new,
            reply,
            since: Instant::now(),
        });
        self.queue.try_send(job).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => StoreError::Unavailable,
            mpsc::error::TrySendError::Closed(_) => {
                StoreError::Unexpected(anyhow::anyhow!("the database writer has stopped"))
            }
        })?;
        Ok(AppendTicket::new(answer))
    }

    /// Lets queued appends finish, then stops.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.queue.send(Job::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }
}

struct WriterTask {
    pool: PgPool,
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

    async fn try_batch(&self, news: &[&NewMessage]) -> Result<Vec<Outcome>, sqlx::Error> {
        let started = Instant::now();
        let mut transaction = self.pool.begin().await?;
        let outcomes = append_batch(&mut transaction, news).await?;
        transaction.commit().await?;
        crate::metrics::handles().committed(news.len(), started.elapsed());
        Ok(outcomes)
    }
}
