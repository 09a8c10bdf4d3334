//! Listening: what other nodes publish, checked (see `wire`) and handed to
//! this node's hub.
//!
//! The connection manager reconnects and subscribes again by itself, but
//! only when a command is sent and only a few times: `keep_alive` pings
//! each connection every second so that one lost to a Redis restart comes
//! back without waiting for anything else. A
//! disconnection may have lost events, so it asks for a sweep at once, and
//! again when the subscription is back.
//!
//! Between the connection and the hub every queue is bounded: the pushes
//! waiting for the listener ([`PUSH_QUEUE`]) and the announced chats
//! waiting to be read from the database ([`RECHECK_QUEUE`]). A full queue
//! drops the event, counts it and asks for a sweep, which finds from the
//! database whatever the event announced.
//!
//! A `chat_updated` is a hint: the listener does not deliver the chat it
//! carries but the chat as the database has it, read off the listener's
//! path by [`recheck_chats`], and only when its state differs from what
//! this node announced last (see `hub::chat_states`): no event can show
//! clients a state that was never stored, or announce again one they
//! have.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{AsyncPushSender, ConnectionManager, SendError};
use redis::{PushInfo, PushKind, Value};
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

use super::Event;
use super::metrics::{self, ByKind};
use super::wire::{Dropped, MAX_EVENT_BYTES, Opener};
use crate::hub::{self, Hub, Origin};
use crate::store::{ChatState, ClusterReads};

/// Events from the broker waiting for the listener: at 30,000 messages a
/// second, a tenth of a second's worth, at most 16 KiB each.
const PUSH_QUEUE: usize = 4096;

/// Announced chats waiting to be read from the database.
pub(super) const RECHECK_QUEUE: usize = 1024;

/// Longest wait for the database to say what an announced chat is.
const RECHECK_LIMIT: Duration = Duration::from_secs(5);

/// Most announced chats read in one go; repeats among them are read once.
const RECHECK_BATCH: usize = 64;

/// Least time between two warnings about dropped events.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// What the subscriber connection's pushes change besides the queue.
#[derive(Debug)]
pub(super) struct Link {
    /// Set while the subscription is live; what readiness reads.
    pub subscribed: Arc<AtomicBool>,
    /// Rung when events may have been lost: a sweep finds them.
    pub sweep_now: Arc<Notify>,
}

impl Link {
    pub fn set_subscribed(&self, live: bool) {
        self.subscribed.store(live, Ordering::Relaxed);
        metrics::subscribed(live);
    }
}

/// The subscriber connection's pushes: events go to a bounded queue,
/// subscription changes are handled at once, so that a full queue never
/// hides a lost subscription.
pub(super) struct PushQueue {
    events: mpsc::Sender<PushInfo>,
    link: Arc<Link>,
}

/// A push queue for a new subscriber connection, and its far end.
pub(super) fn push_queue(link: Arc<Link>) -> (PushQueue, mpsc::Receiver<PushInfo>) {
    let (events, pushed) = mpsc::channel(PUSH_QUEUE);
    (PushQueue { events, link }, pushed)
}

impl AsyncPushSender for PushQueue {
    fn send(&self, push: PushInfo) -> Result<(), SendError> {
        match push.kind {
            PushKind::Message => {
                if payload(&push).is_some_and(|payload| payload.len() > MAX_EVENT_BYTES) {
                    // Not even queued.
                    metrics::dropped(Dropped::TooLarge.reason());
                    return Ok(());
                }
                match self.events.try_send(push) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        metrics::dropped(Dropped::QueueFull.reason());
                        self.link.sweep_now.notify_one();
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => return Err(SendError),
                }
            }
            PushKind::Disconnection => {
                tracing::warn!("lost the Redis subscription; sweeping until it is back");
                self.link.set_subscribed(false);
                self.link.sweep_now.notify_one();
            }
            PushKind::Subscribe => {
                self.link.set_subscribed(true);
                self.link.sweep_now.notify_one();
            }
            _ => {}
        }
        Ok(())
    }
}

/// Where the listener hands what it accepted.
pub(super) struct Targets {
    pub hub: Hub,
    /// Chats announced by a `chat_updated`, for [`recheck_chats`].
    pub rechecks: mpsc::Sender<Uuid>,
    pub presence_changed: Arc<Notify>,
    pub sweep_now: Arc<Notify>,
}

pub(super) async fn run(
    mut opener: Opener,
    targets: Targets,
    // Kept: dropping it would end the subscription.
    _subscriber: ConnectionManager,
    mut pushes: mpsc::Receiver<PushInfo>,
) {
    let received = ByKind::new("byrd_redis_events_received_total");
    let mut warned: Option<Instant> = None;
    while let Some(push) = pushes.recv().await {
        let Some(payload) = payload(&push) else {
            continue;
        };
        let now = chrono::Utc::now().timestamp_millis();
        let outcome = match opener.open(payload, now) {
            Ok(Some(envelope)) => {
                let counter = received.of(&envelope.event);
                targets.apply(envelope.event).map(|()| counter.increment(1))
            }
            Ok(None) => Ok(()),
            Err(dropped) => Err(dropped),
        };
        if let Err(dropped) = outcome {
            metrics::dropped(dropped.reason());
            if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
                warned = Some(Instant::now());
                tracing::warn!(
                    reason = dropped.reason(),
                    "dropped an event from Redis \
                    (and will not say so again for a minute; byrd_redis_events_dropped_total counts them)"
                );
            }
        }
    }
}

impl Targets {
    fn apply(&self, event: Event) -> Result<(), Dropped> {
        match event {
            Event::ChatUpdated { chat } => {
                if self.rechecks.try_send(chat.id).is_err() {
                    self.sweep_now.notify_one();
                    return Err(Dropped::QueueFull);
                }
            }
            Event::Presence => self.presence_changed.notify_one(),
            event => {
                if let Some(event) = event.as_hub() {
                    self.hub.publish(event, Origin::Elsewhere);
                }
            }
        }
        Ok(())
    }
}

/// Delivers each announced chat as the database has it, when that is news
/// here. A chat the
/// database cannot be asked about now is left to the sweep, which looks
/// at every chat changed since its last look.
pub(super) async fn recheck_chats(
    hub: Hub,
    store: impl ClusterReads,
    mut chats: mpsc::Receiver<Uuid>,
) {
    let mut batch = Vec::with_capacity(RECHECK_BATCH);
    while chats.recv_many(&mut batch, RECHECK_BATCH).await > 0 {
        batch.sort_unstable();
        batch.dedup();
        for chat_id in batch.drain(..) {
            match tokio::time::timeout(RECHECK_LIMIT, store.chat_by_id(chat_id)).await {
                Ok(Ok(Some(chat))) => {
                    if !hub.stale_chats(&[ChatState::of(&chat)]).is_empty() {
                        hub.publish(hub::Event::ChatUpdated(&chat), Origin::Elsewhere);
                    }
                }
                Ok(Ok(None)) => {
                    tracing::warn!(%chat_id, "a chat_updated announced a chat the database does not have");
                }
                Ok(Err(error)) => {
                    tracing::warn!(%chat_id, %error, "cannot read an announced chat; the sweep will");
                }
                Err(_) => {
                    tracing::warn!(%chat_id, "reading an announced chat timed out; the sweep will")
                }
            }
        }
    }
}

/// How often each connection to Redis is pinged.
const KEEP_ALIVE: Duration = Duration::from_secs(1);

/// Pings a connection, which makes its manager reconnect (and, for the
/// subscriber, subscribe again) once Redis is back. A reconnect refused
/// for Redis's certificate is said once per streak; other failures are
/// the lost subscription's to say.
pub(super) async fn keep_alive(mut connection: ConnectionManager) {
    let mut tick = tokio::time::interval(KEEP_ALIVE);
    let mut certificate = super::connect::CertificateWarnings::default();
    loop {
        tick.tick().await;
        let pinged: redis::RedisResult<()> = redis::cmd("PING").query_async(&mut connection).await;
        match pinged {
            Ok(()) => certificate.connected(),
            Err(error) => {
                certificate.failed(&anyhow::Error::new(error));
            }
        }
    }
}

/// The payload of a `message` push: `[channel, payload]`.
fn payload(push: &PushInfo) -> Option<&[u8]> {
    match push.data.get(1) {
        Some(Value::BulkString(payload)) => Some(payload),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> Arc<Link> {
        Arc::new(Link {
            subscribed: Arc::new(AtomicBool::new(false)),
            sweep_now: Arc::new(Notify::new()),
        })
    }

    fn push(kind: PushKind, payload: Vec<u8>) -> PushInfo {
        PushInfo {
            kind,
            data: vec![
                Value::BulkString(b"byrd:events".to_vec()),
                Value::BulkString(payload),
            ],
        }
    }

    /// Whether `notify` was rung since the last look.
    async fn rung(notify: &Notify) -> bool {
        tokio::time::timeout(Duration::from_millis(10), notify.notified())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn the_subscription_state_follows_the_pushes_and_each_change_asks_for_a_sweep() {
        let link = link();
        let (queue, _pushed) = push_queue(link.clone());
        queue.send(push(PushKind::Subscribe, Vec::new())).unwrap();
        assert!(link.subscribed.load(Ordering::Relaxed));
        assert!(rung(&link.sweep_now).await);
        queue
            .send(push(PushKind::Disconnection, Vec::new()))
            .unwrap();
        assert!(!link.subscribed.load(Ordering::Relaxed));
        assert!(rung(&link.sweep_now).await);
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_asks_for_a_sweep_and_an_oversized_event_is_not_queued() {
        let link = link();
        let (queue, mut pushed) = push_queue(link.clone());
        queue
            .send(push(PushKind::Message, vec![b'x'; MAX_EVENT_BYTES + 1]))
            .unwrap();
        assert!(
            pushed.try_recv().is_err(),
            "the oversized one is not queued"
        );
        for _ in 0..PUSH_QUEUE {
            queue.send(push(PushKind::Message, b"e".to_vec())).unwrap();
        }
        assert!(!rung(&link.sweep_now).await);
        queue.send(push(PushKind::Message, b"e".to_vec())).unwrap();
        assert!(rung(&link.sweep_now).await, "the dropped one is swept for");
        assert_eq!(pushed.len(), PUSH_QUEUE);
        // Subscription changes are never queued, so never lost to a full queue.
        queue.send(push(PushKind::Subscribe, Vec::new())).unwrap();
        assert!(link.subscribed.load(Ordering::Relaxed));
    }
}
