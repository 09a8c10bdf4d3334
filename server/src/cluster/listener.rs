//! Listening: what other nodes publish, handed to this node's hub.
//!
//! The connection manager reconnects and subscribes again by itself, but
//! only when a command is sent and only a few times: `keep_alive` pings
//! each connection every second so that one lost to a Redis restart comes
//! back without waiting for anything else. A
//! disconnection may have lost events, so it asks for a sweep at once, and
//! again when the subscription is back.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{PushInfo, PushKind, Value};
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

use super::{Envelope, Event};
use crate::hub::{Hub, Origin};

pub(super) async fn run(
    node: Uuid,
    hub: Hub,
    // Kept: dropping it would end the subscription.
    _subscriber: ConnectionManager,
    mut pushes: mpsc::UnboundedReceiver<PushInfo>,
    sweep_now: Arc<Notify>,
    presence_changed: Arc<Notify>,
) {
    while let Some(push) = pushes.recv().await {
        match push.kind {
            PushKind::Message => {
                if let Some(envelope) = decode(&push.data)
                    && envelope.node != node
                {
                    apply(&hub, envelope.event, &presence_changed);
                }
            }
            PushKind::Disconnection => {
                crate::readiness::subscription_changed(false);
                tracing::warn!("lost the Redis subscription; sweeping until it is back");
                sweep_now.notify_one();
            }
            PushKind::Subscribe => {
                crate::readiness::subscription_changed(true);
                sweep_now.notify_one();
            }
            _ => {}
        }
    }
}

/// How often each connection to Redis is pinged.
const KEEP_ALIVE: Duration = Duration::from_secs(1);

/// Pings a connection, which makes its manager reconnect (and, for the
/// subscriber, subscribe again) once Redis is back.
pub(super) async fn keep_alive(mut connection: ConnectionManager) {
    let mut tick = tokio::time::interval(KEEP_ALIVE);
    loop {
        tick.tick().await;
        let _: redis::RedisResult<()> = redis::cmd("PING").query_async(&mut connection).await;
    }
}

/// The envelope of a `message` push: `[channel, payload]`.
fn decode(data: &[Value]) -> Option<Envelope> {
    let Some(Value::BulkString(payload)) = data.get(1) else {
        return None;
    };
    match serde_json::from_slice(payload) {
        Ok(envelope) => Some(envelope),
        Err(error) => {
            tracing::warn!(%error, "ignoring an event that does not parse");
            None
        }
    }
}

fn apply(hub: &Hub, event: Event, presence_changed: &Notify) {
    match event.as_hub() {
        Some(event) => hub.publish(event, Origin::Elsewhere),
        None => presence_changed.notify_one(),
    }
}
