//! Several nodes: live events cross between them over Redis pub/sub, the
//! database stays the only source of truth.
//!
//! After a commit a node delivers to its own sockets first, then publishes
//! a small event (see `event`) on one channel every node subscribes to.
//! Redis pub/sub delivers at most once, so an event is only ever a hint:
//! each node keeps, per chat it serves, the last `seq` it delivered (the
//! hub's cursors), drops repeats and fills gaps with one range read. What
//! no event announced (a node that died between its commit and its
//! publish, a lost final message, Redis down) is found by the sweep (see
//! `sweep`), which every few seconds and after every reconnection compares
//! each served chat's position with the database's `last_seq`, and reads
//! the revocations committed since its last look.
//!
//! Presence lives in a Redis sorted set of `agent/node` entries scored by
//! when they expire (see `presence`): a node renews its own every few
//! seconds, so a node that dies takes its agents offline once its entries
//! expire.
//!
//! Rate limits stay per node: sharing them would add a Redis round trip to
//! every frame; behind a load balancer that spreads a principal over `n`
//! nodes, the effective limit is at most `n` times the configured one.

mod event;
mod listener;
mod presence;
mod publisher;
mod sweep;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, ProtocolVersion};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use event::{Envelope, Event, MAX_INLINE_BODY_BYTES};

use crate::hub::{ClusterLink, Hub};
use crate::store::postgres::PostgresStore;

/// The pub/sub channel every node publishes to and listens on.
const CHANNEL: &str = "byrd:events";

/// How a node joins the others.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// `redis://` URL of the broker. May hold a password, hence secret.
    pub redis_url: SecretString,
    /// How often a node compares its chats' positions with the database.
    pub sweep_interval: Duration,
    /// How long a node's presence entries live unless renewed; renewed
    /// every third of it.
    pub presence_ttl: Duration,
    /// Fault injection for tests: drop one `message` or `chat_updated`
    /// publish in this many.
    /// Never set in production; the command line reads it only from
    /// `BYRD_TEST_DROP_PUBLISHES` and warns when it is set.
    pub drop_publishes_one_in: Option<NonZeroU32>,
}

impl ClusterSettings {
    pub fn new(redis_url: SecretString) -> Self {
        ClusterSettings {
            redis_url,
            sweep_interval: Duration::from_secs(2),
            presence_ttl: Duration::from_secs(15),
            drop_publishes_one_in: None,
        }
    }
}

/// This node's part in the cluster; its tasks stop when it is dropped.
#[derive(Debug)]
pub struct Cluster {
    pub node: Uuid,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Events waiting for the publisher; past it they are dropped.
const EVENT_QUEUE: usize = 65_536;

impl Cluster {
    /// Connects to Redis, subscribes, and starts publishing what `hub`
    /// hands over, delivering what other nodes publish, the sweep and the
    /// presence rounds.
    pub async fn start(
        settings: &ClusterSettings,
        hub: &Hub,
        store: PostgresStore,
    ) -> anyhow::Result<Cluster> {
        let node = Uuid::now_v7();
        let client = client(&settings.redis_url)?;
        let sweep_now = Arc::new(Notify::new());
        let presence_changed = Arc::new(Notify::new());

        let (pushes, pushed) = mpsc::unbounded_channel();
        let mut subscriber = ConnectionManager::new_with_config(
            client.clone(),
            manager_config()
                .set_push_sender(pushes)
                .set_automatic_resubscription(),
        )
        .await
        .context("cannot connect to Redis")?;
        subscriber
            .subscribe(CHANNEL)
            .await
            .context("cannot subscribe to Redis")?;
        // Commands on a connection of their own: one that is cut for being
        // a subscriber (CLIENT KILL TYPE pubsub) leaves publishing alone.
        let commands = ConnectionManager::new_with_config(client, manager_config())
            .await
            .context("cannot connect to Redis")?;

        let (events, queued) = mpsc::channel(EVENT_QUEUE);
        hub.link_cluster(ClusterLink {
            events,
            presence_changed: presence_changed.clone(),
        });
        let tasks = vec![
            tokio::spawn(publisher::run(
                node,
                commands.clone(),
                queued,
                settings.drop_publishes_one_in,
            )),
            tokio::spawn(listener::keep_alive(subscriber.clone())),
            tokio::spawn(listener::keep_alive(commands.clone())),
            tokio::spawn(listener::run(
                node,
                hub.clone(),
                subscriber,
                pushed,
                sweep_now.clone(),
                presence_changed.clone(),
            )),
            tokio::spawn(sweep::run(
                hub.clone(),
                store,
                settings.sweep_interval,
                sweep_now,
            )),
            tokio::spawn(presence::run(
                node,
                hub.clone(),
                commands,
                settings.presence_ttl,
                presence_changed,
            )),
        ];
        tracing::info!(%node, "joined the cluster through Redis");
        Ok(Cluster { node, tasks })
    }
}

/// A Redis client speaking RESP3, which pub/sub pushes need.
fn client(url: &SecretString) -> anyhow::Result<redis::Client> {
    let info = url
        .expose_secret()
        .into_connection_info()
        .context("invalid Redis URL")?;
    let redis = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    redis::Client::open(info.set_redis_settings(redis)).context("invalid Redis URL")
}

/// Short timeouts: a broker that does not answer must not hold up a
/// node, which falls back to its sweep meanwhile.
fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(1))
}
