//! Presence across nodes: a Redis sorted set of `agent/node` entries, each
//! scored by the time (Unix milliseconds) it expires.
//!
//! Every third of the TTL, and whenever this node's agents change or
//! another node says its own did, a round writes this node's entries with
//! a fresh expiry, removes those of agents gone from it and any expired
//! entry, reads the live ones and hands the hub the agents online on other
//! nodes. A node that dies stops renewing: its agents go offline everywhere
//! once their entries expire.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::Notify;
use uuid::Uuid;

use super::Event;
use super::wire::Sealer;
use crate::hub::Hub;

const KEY: &str = "byrd:presence";

pub(super) async fn run(
    sealer: Arc<Sealer>,
    node: Uuid,
    hub: Hub,
    mut redis: ConnectionManager,
    ttl: Duration,
    changed: Arc<Notify>,
) {
    let mut written: HashSet<Uuid> = HashSet::new();
    loop {
        let local: HashSet<Uuid> = hub.local_agents().into_iter().collect();
        let local_changed = local != written;
        match round(node, &mut redis, ttl, &local, &written).await {
            Ok(remote) => {
                hub.set_remote_online(remote);
                if local_changed {
                    announce(&sealer, &mut redis).await;
                }
                written = local;
            }
            Err(error) => tracing::warn!(%error, "cannot update presence in Redis"),
        }
        // Waits for the next round; a change of this node's agents rings
        // `changed` (so does another node's `presence` event).
        let _ = tokio::time::timeout(ttl / 3, changed.notified()).await;
    }
}

/// One round; returns the agents online on other nodes.
async fn round(
    node: Uuid,
    redis: &mut ConnectionManager,
    ttl: Duration,
    local: &HashSet<Uuid>,
    written: &HashSet<Uuid>,
) -> redis::RedisResult<HashSet<Uuid>> {
    let now = chrono::Utc::now().timestamp_millis();
    let expires = now + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    let mut pipe = redis::pipe();
    for agent in local {
        pipe.zadd(KEY, format!("{agent}/{node}"), expires).ignore();
    }
    for gone in written.difference(local) {
        pipe.zrem(KEY, format!("{gone}/{node}")).ignore();
    }
    pipe.zrembyscore(KEY, "-inf", now).ignore();
    pipe.zrangebyscore(KEY, now, "+inf");
    let (entries,): (Vec<String>,) = pipe.query_async(redis).await?;
    Ok(entries
        .iter()
        .filter_map(|entry| {
            let (agent, from) = entry.split_once('/')?;
            let from: Uuid = from.parse().ok()?;
            (from != node).then(|| agent.parse().ok()).flatten()
        })
        .collect())
}

/// Tells the other nodes to read the set again now.
async fn announce(sealer: &Sealer, redis: &mut ConnectionManager) {
    let now = chrono::Utc::now().timestamp_millis();
    let Ok(payload) = sealer.seal(Event::Presence, now) else {
        return;
    };
    let published: redis::RedisResult<()> = redis::cmd("PUBLISH")
        .arg(super::CHANNEL)
        .arg(payload)
        .query_async(redis)
        .await;
    match published {
        Ok(()) => {
            metrics::counter!("byrd_redis_events_published_total", "kind" => "presence")
                .increment(1);
        }
        Err(error) => tracing::warn!(%error, "cannot announce a presence change"),
    }
}
