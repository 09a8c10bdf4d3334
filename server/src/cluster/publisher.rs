//! Publishing: this node's events, in the order the hub handed them over,
//! sealed (see `wire`) and pipelined to Redis in batches.
//!
//! A batch that cannot be published is dropped: the events are hints, and
//! the other nodes' sweeps find what they announced.

use std::num::NonZeroU32;
use std::sync::Arc;

use redis::aio::ConnectionManager;
use tokio::sync::mpsc;

use super::metrics::ByKind;
use super::wire::Sealer;
use super::{CHANNEL, Event};

/// Most events pipelined in one round trip.
const BATCH: usize = 256;

pub(super) async fn run(
    sealer: Arc<Sealer>,
    mut redis: ConnectionManager,
    mut queue: mpsc::Receiver<Event>,
    drop_one_in: Option<NonZeroU32>,
) {
    let published = ByKind::new("byrd_redis_events_published_total");
    let mut events = Vec::with_capacity(BATCH);
    let mut lossy_seen: u32 = 0;
    loop {
        if queue.recv_many(&mut events, BATCH).await == 0 {
            return;
        }
        // One clock read a batch: they were all sent now.
        let now = chrono::Utc::now().timestamp_millis();
        let mut pipe = redis::pipe();
        for event in events.drain(..) {
            let lossy = matches!(event, Event::Message { .. } | Event::ChatUpdated { .. });
            if let (Some(one_in), true) = (drop_one_in, lossy) {
                lossy_seen = lossy_seen.wrapping_add(1);
                if lossy_seen.is_multiple_of(one_in.get()) {
                    continue;
                }
            }
            let counter = published.of(&event);
            match sealer.seal(event, now) {
                Ok(payload) => {
                    pipe.publish(CHANNEL, payload).ignore();
                    counter.increment(1);
                }
                Err(error) => tracing::error!(%error, "cannot encode an event"),
            }
        }
        if let Err(error) = pipe.exec_async(&mut redis).await {
            tracing::warn!(%error, "cannot publish to Redis; other nodes will find these changes by their sweep");
        }
    }
}
