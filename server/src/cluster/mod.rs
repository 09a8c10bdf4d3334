//! Several nodes: live events cross between them over Redis pub/sub, the
//! database stays the only source of truth.
//!
//! Redis is not trusted: every event is sealed with a MAC under the
//! cluster key, carries its sending time and number, and is bounded in
//! size (see `wire`); a node drops and counts what fails a check. What an
//! event claims beyond that (a far-ahead `seq`, a chat's new state) is
//! checked against the database before anything is delivered.
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
//! Redis is never needed to serve: a node that cannot reach it at start
//! says so, delivers across nodes by its sweep alone and keeps trying in
//! the background; once Redis answers it links the hub and starts the
//! publisher, listener and presence rounds, and sweeps at once.
//!
//! Presence lives in a Redis sorted set of `agent/node` entries scored by
//! when they expire (see `presence`): a node renews its own every few
//! seconds, so a node that dies takes its agents offline once its entries
//! expire.
//!
//! Rate limits stay per node: sharing them would add a Redis round trip to
//! every frame; behind a load balancer that spreads a principal over `n`
//! nodes, the effective limit is at most `n` times the configured one.

pub mod connect;
mod event;
mod listener;
mod metrics;
mod presence;
mod publisher;
mod relay;
mod replays;
mod sweep;
mod wire;

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use redis::PushInfo;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use tokio::sync::{Notify, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use uuid::Uuid;

pub use event::{Envelope, Event, MAX_INLINE_BODY_BYTES};
pub use wire::{ClusterKey, MAX_EVENT_BYTES, MIN_KEY_BYTES, WINDOW};

use crate::hub::Hub;
use crate::options::{
    self,
    bounded::{PresenceTtl, SweepInterval},
};
use crate::store::postgres::PostgresStore;
use listener::{Link, Targets};
use relay::ClusterRelay;
use wire::{Opener, Sealer};

/// The pub/sub channel every node publishes to and listens on.
const CHANNEL: &str = "byrd:events";

/// How a node joins the others.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// `redis://` or `rediss://` URL of the broker. May hold a password,
    /// hence secret.
    pub redis_url: SecretString,
    /// The key events are sealed with, when the deployment gives one;
    /// `None` derives it from the token-signing secret.
    pub key: Option<SecretSlice<u8>>,
    /// PEM file of the CAs a `rediss://` broker's certificate must chain
    /// to; `None` trusts the public roots.
    pub redis_ca_file: Option<PathBuf>,
    /// How often a node compares its chats' positions with the database.
    pub sweep_interval: SweepInterval,
    /// How long a node's presence entries live unless renewed; renewed
    /// every third of it.
    pub presence_ttl: PresenceTtl,
    /// Fault injection for tests: drop one `message` or `chat_updated`
    /// publish in this many.
    /// Never set in production; the command line reads it from
    /// `BYRD_TEST_DROP_PUBLISHES` only when built with the
    /// `fault-injection` feature, and warns when it is set.
    pub drop_publishes_one_in: Option<NonZeroU32>,
}

impl ClusterSettings {
    pub fn new(redis_url: SecretString) -> Self {
        ClusterSettings {
            redis_url,
            key: None,
            redis_ca_file: None,
            sweep_interval: const {
                SweepInterval::constant(options::SWEEP_INTERVAL_MS.default_duration())
            },
            presence_ttl: const { PresenceTtl::constant(options::PRESENCE_TTL_SECS.default_duration()) },
            drop_publishes_one_in: None,
        }
    }
}

/// This node's part in the cluster; its tasks stop when it is dropped.
#[derive(Debug)]
pub struct Cluster {
    pub node: Uuid,
    /// Set while this node's subscription to the other nodes' events is
    /// live.
    subscribed: Arc<AtomicBool>,
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

/// Longest pause between attempts to reach a Redis that did not answer.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

impl Cluster {
    /// Whether this node hears the other nodes' events now: for readiness.
    /// Without it delivery across nodes waits for the sweep.
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }

    /// [`is_subscribed`](Self::is_subscribed) as a check that outlives
    /// this handle's borrow: what `/readyz` asks.
    pub fn subscription_check(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let subscribed = self.subscribed.clone();
        move || subscribed.load(Ordering::Relaxed)
    }

    /// Starts the sweep, connects to Redis and subscribes, then publishes
    /// what `hub` hands over, delivers what other nodes publish and runs
    /// the presence rounds. A Redis that does not answer does not stop
    /// the node: it says so, delivers across nodes by its sweep alone and
    /// joins once Redis answers. Refused: a setting `connect` refuses, a
    /// TLS handshake that fails (see `connect`) and a short cluster key.
    /// Without a key of its own, the cluster's is derived from
    /// `signing_secret`, which every node shares.
    pub async fn start(
        settings: &ClusterSettings,
        hub: &Hub,
        store: PostgresStore,
        signing_secret: &SecretString,
    ) -> anyhow::Result<Cluster> {
        let node = Uuid::now_v7();
        let key = match &settings.key {
            Some(key) => ClusterKey::given(key.expose_secret())?,
            None => ClusterKey::derived(signing_secret.expose_secret().as_bytes()),
        };
        let client = connect::client(&settings.redis_url, settings.redis_ca_file.as_deref())?;
        let sweep_now = Arc::new(Notify::new());
        let sweep = tokio::spawn(sweep::run(
            hub.clone(),
            store.clone(),
            settings.sweep_interval.get(),
            sweep_now.clone(),
        ));
        metrics::subscribed(false);
        let link = Arc::new(Link {
            subscribed: Arc::new(AtomicBool::new(false)),
            sweep_now: sweep_now.clone(),
        });
        let connected = match Connections::open(&client, &link).await {
            Ok(connections) => Some(connections),
            Err(error) => {
                if let Some(meaning) = connect::tls_failure(&error) {
                    sweep.abort();
                    return Err(error.context(meaning));
                }
                tracing::warn!(
                    error = %format!("{error:#}"),
                    sweep_interval = ?settings.sweep_interval,
                    "Redis does not answer: until it does, other nodes' messages reach this \
                     node's sockets only by the sweep, with a delay of up to its interval; \
                     retrying in the background"
                );
                None
            }
        };
        let subscribed = link.subscribed.clone();
        let joining = Joining {
            node,
            hub: hub.clone(),
            store,
            client,
            sweep_now,
            link,
            sealer: Arc::new(Sealer::new(key.clone(), node)),
            key,
            drop_publishes_one_in: settings.drop_publishes_one_in,
            presence_ttl: settings.presence_ttl.get(),
        };
        let join = tokio::spawn(joining.run(connected));
        Ok(Cluster {
            node,
            subscribed,
            tasks: vec![sweep, join],
        })
    }
}

/// A node's two connections to Redis.
struct Connections {
    /// Subscribed to [`CHANNEL`]; its pushes arrive on `pushed`.
    subscriber: ConnectionManager,
    pushed: mpsc::Receiver<PushInfo>,
    /// Commands on a connection of their own: one that is cut for being
    /// a subscriber (CLIENT KILL TYPE pubsub) leaves publishing alone.
    commands: ConnectionManager,
}

impl Connections {
    async fn open(client: &redis::Client, link: &Arc<Link>) -> anyhow::Result<Connections> {
        let (pushes, pushed) = listener::push_queue(link.clone());
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
        // Its confirmation push says so too; this does not wait for it.
        link.set_subscribed(true);
        let commands = ConnectionManager::new_with_config(client.clone(), manager_config())
            .await
            .context("cannot connect to Redis")?;
        Ok(Connections {
            subscriber,
            pushed,
            commands,
        })
    }
}

/// What joining the other nodes takes, once Redis answers.
struct Joining {
    node: Uuid,
    hub: Hub,
    /// Read for what `chat_updated` events announce.
    store: PostgresStore,
    client: redis::Client,
    sweep_now: Arc<Notify>,
    link: Arc<Link>,
    /// Seals this node's events; `key` checks the others'.
    sealer: Arc<Sealer>,
    key: ClusterKey,
    drop_publishes_one_in: Option<NonZeroU32>,
    presence_ttl: Duration,
}

impl Joining {
    /// Waits for Redis unless `connected` already, then runs this node's
    /// part until aborted (which aborts the tasks it started).
    async fn run(self, connected: Option<Connections>) {
        let connections = match connected {
            Some(connections) => connections,
            None => self.retry().await,
        };
        let mut tasks = self.start_tasks(connections);
        tracing::info!(node = %self.node, "joined the cluster through Redis");
        while tasks.join_next().await.is_some() {}
    }

    async fn retry(&self) -> Connections {
        let mut delay = Duration::from_millis(250);
        let mut certificate = connect::CertificateWarnings::default();
        loop {
            tokio::time::sleep(delay).await;
            match Connections::open(&self.client, &self.link).await {
                Ok(connections) => {
                    certificate.connected();
                    tracing::info!("Redis answers: delivery across nodes is live");
                    return connections;
                }
                Err(error) => {
                    if !certificate.failed(&error) {
                        tracing::debug!(error = %format!("{error:#}"), "Redis still does not answer");
                    }
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                }
            }
        }
    }

    fn start_tasks(&self, connections: Connections) -> JoinSet<()> {
        let Connections {
            subscriber,
            pushed,
            commands,
        } = connections;
        let presence_changed = Arc::new(Notify::new());
        let (events, queued) = mpsc::channel(EVENT_QUEUE);
        self.hub.link_relay(Box::new(ClusterRelay {
            events,
            presence_changed: presence_changed.clone(),
        }));
        let mut tasks = JoinSet::new();
        tasks.spawn(publisher::run(
            self.sealer.clone(),
            commands.clone(),
            queued,
            self.drop_publishes_one_in,
        ));
        tasks.spawn(listener::keep_alive(subscriber.clone()));
        tasks.spawn(listener::keep_alive(commands.clone()));
        let (rechecks, to_recheck) = mpsc::channel(listener::RECHECK_QUEUE);
        tasks.spawn(listener::recheck_chats(
            self.hub.clone(),
            self.store.clone(),
            to_recheck,
        ));
        let targets = Targets {
            hub: self.hub.clone(),
            rechecks,
            presence_changed: presence_changed.clone(),
            sweep_now: self.sweep_now.clone(),
        };
        tasks.spawn(listener::run(
            Opener::new(self.key.clone(), self.node),
            targets,
            subscriber,
            pushed,
        ));
        tasks.spawn(presence::run(
            self.sealer.clone(),
            self.node,
            self.hub.clone(),
            commands,
            self.presence_ttl,
            presence_changed,
        ));
        // What was committed while this node was not listening.
        self.sweep_now.notify_one();
        tasks
    }
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
