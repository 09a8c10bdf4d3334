//! The hub: fan-out of live events to WebSocket connections.
//!
//! Every connection registers here with a bounded outbound queue. Handlers
//! publish through the `publish_*` methods and never see connections. An
//! event is rendered to JSON once and shared by every receiver. Delivery
//! never waits: a connection whose queue is full is a slow consumer and is
//! told to close (4008), so it can neither stall the others nor grow memory.
//!
//! Messages go through a per-chat position (see `cursors`): each reaches a
//! chat's subscribers once and in `seq` order, whether it comes from this
//! node's writer, another node, or a fill from the database.
//!
//! With several nodes (see `cluster`), what happens here is also handed to
//! the cluster link, which tells the other nodes; what they tell this node
//! comes back through the `*_from_elsewhere` methods, which deliver
//! without telling anyone again. Presence is the union of this node's
//! agents and those the cluster reports online elsewhere. Nothing in the
//! connections or handlers changes.

mod chat_states;
mod cursors;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use byrd_spec::chat::Chat;
use byrd_spec::message::{Author, Message, PartyType};
use byrd_spec::ws::{CloseCode, PresenceStatus, ServerFrame};
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

use crate::cluster::Event;
use crate::outbox::{OutboxReceiver, OutboxSender, outbox};
use crate::store::{ChatState, CommitListener, Committed, Store};
use chat_states::ChatStates;
use cursors::{Cursor, Offer};

pub type ConnectionId = Uuid;

/// One item of a connection's outbound queue. Every variant is one thin
/// pointer to data shared by all receivers: the queue's storage is
/// allocated per connection, so a small item keeps idle connections cheap.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A rendered frame to send as is.
    Frame(Arc<String>),
    /// A message of a chat; the connection orders and de-duplicates by `seq`.
    ChatMessage(Arc<ChatMessage>),
    /// An access token or a whole login session was revoked.
    Revoked(Arc<Revocation>),
}

/// A rendered `message` frame and where it goes in its chat.
#[derive(Debug)]
pub struct ChatMessage {
    pub chat_id: Uuid,
    pub seq: i64,
    pub frame: String,
}

/// What was revoked: an access token (`jti`), a login session, or both.
#[derive(Debug)]
pub struct Revocation {
    pub jti: Option<String>,
    pub session: Option<Uuid>,
}

/// Why the server ends a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    Protocol(CloseCode),
    /// The server is shutting down (1001).
    GoingAway,
}

/// Tells a connection to close; set once, by whoever notices first.
#[derive(Debug, Default)]
pub struct KillSwitch {
    reason: OnceLock<CloseReason>,
    notify: Notify,
}

impl KillSwitch {
    pub fn trigger(&self, reason: CloseReason) {
        if self.reason.set(reason).is_ok() {
            self.notify.notify_one();
        }
    }

    /// Why the connection was told to close, if it was.
    pub fn reason(&self) -> Option<CloseReason> {
        self.reason.get().copied()
    }

    /// Resolves once `trigger` was called.
    pub async fn triggered(&self) -> CloseReason {
        loop {
            if let Some(reason) = self.reason.get() {
                return *reason;
            }
            self.notify.notified().await;
        }
    }
}

/// The hub's side of one connection.
#[derive(Debug)]
struct Peer {
    kind: PartyType,
    principal: Uuid,
    queue: OutboxSender,
    kill: Arc<KillSwitch>,
    /// The chats this connection is subscribed to, so leaving touches only
    /// those entries of `HubState::subscribers`.
    chats: HashSet<Uuid>,
}

impl Peer {
    /// Queues `item` without waiting; a full queue means a slow consumer.
    fn deliver(&self, item: Outbound) {
        if self.queue.try_send(item).is_err() {
            self.kill
                .trigger(CloseReason::Protocol(CloseCode::SlowConsumer));
        }
    }
}

#[derive(Debug, Default)]
struct HubState {
    peers: HashMap<ConnectionId, Peer>,
    /// Agent connections: they receive `chat_updated` and `presence`.
    agents: HashSet<ConnectionId>,
    /// Open connections per agent, for presence.
    agent_connections: HashMap<Uuid, usize>,
    /// Connections subscribed to each chat.
    subscribers: HashMap<Uuid, HashSet<ConnectionId>>,
    /// The delivery position of each chat in `subscribers`; dropped with
    /// the chat's last subscriber.
    cursors: HashMap<Uuid, Cursor>,
    /// The state of each chat as last announced here, for the sweep to
    /// find a lost `chat_updated`.
    chat_states: ChatStates,
    /// Agents the cluster reports online on other nodes; empty alone.
    remote_online: HashSet<Uuid>,
    /// Agents this node's agent connections were told are online.
    announced_online: HashSet<Uuid>,
    /// Recent revocations, so that a connection registering just after
    /// one (its handshake checked the token before the revocation
    /// committed) is closed too. Kept for [`REVOCATION_MEMORY`].
    revoked_tokens: HashMap<String, Instant>,
    revoked_sessions: HashMap<Uuid, Instant>,
}

/// How long the hub remembers a revocation: far longer than a handshake
/// takes from its token check to its registration.
const REVOCATION_MEMORY: Duration = Duration::from_secs(120);

impl HubState {
    fn forget_old_revocations(&mut self, now: Instant) {
        let fresh = |at: &mut Instant| now.duration_since(*at) < REVOCATION_MEMORY;
        self.revoked_tokens.retain(|_, at| fresh(at));
        self.revoked_sessions.retain(|_, at| fresh(at));
    }

    fn is_revoked(&self, credentials: &Credentials) -> bool {
        self.revoked_tokens.contains_key(&credentials.jti)
            || credentials
                .session
                .is_some_and(|session| self.revoked_sessions.contains_key(&session))
    }
}

/// What authenticated a connection, as far as revocation goes.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub jti: String,
    pub session: Option<Uuid>,
}

/// A registered connection's ends of the hub.
pub struct Registration {
    pub id: ConnectionId,
    pub queue: OutboxReceiver,
    pub kill: Arc<KillSwitch>,
    /// Agents online when this connection registered (agents only).
    pub online_agents: Vec<Uuid>,
    /// Unregisters the connection when dropped.
    pub membership: Membership,
}

/// A connection's place in the hub. Dropping it unregisters the
/// connection, however its task ends: returning, failing, being cancelled
/// or panicking.
#[derive(Debug)]
pub struct Membership {
    hub: Hub,
    id: ConnectionId,
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.hub.unregister(self.id);
    }
}

/// Cheap to clone; all clones share one state.
#[derive(Debug, Clone)]
pub struct Hub {
    state: Arc<Mutex<HubState>>,
    queue_capacity: usize,
    links: Arc<Links>,
}

/// Where the hub hands work it does not do under its lock; each is set
/// once, at start.
#[derive(Debug, Default)]
struct Links {
    /// Chats whose subscribers miss messages; read by `run_filler`.
    fills: OnceLock<mpsc::UnboundedSender<Uuid>>,
    /// The other nodes, when there are any.
    cluster: OnceLock<ClusterLink>,
}

/// How the hub reaches the cluster.
#[derive(Debug)]
pub struct ClusterLink {
    /// Events for the other nodes. Bounded: when the broker is too slow
    /// they are dropped, which the other nodes' sweeps make good.
    pub events: mpsc::Sender<Event>,
    /// Rung when this node's set of online agents changes.
    pub presence_changed: Arc<Notify>,
}

fn render(frame: &ServerFrame) -> Arc<String> {
    Arc::new(render_string(frame))
}

fn render_string(frame: &ServerFrame) -> String {
    // Serialising these types cannot fail: no maps with non-string keys.
    serde_json::to_string(frame).unwrap_or_default()
}

impl Hub {
    pub fn new(queue_capacity: usize) -> Self {
        Hub {
            state: Arc::default(),
            queue_capacity: queue_capacity.max(1),
            links: Arc::default(),
        }
    }

    /// Starts the task that fills gaps from `store`; without it a gap
    /// waits. Called once the store is open.
    pub fn start_filler(&self, store: Store) {
        let (requests, received) = mpsc::unbounded_channel();
        if self.links.fills.set(requests).is_ok() {
            tokio::spawn(cursors::run_filler(self.clone(), store, received));
        }
    }

    /// Makes this node's events reach the other nodes through `link`.
    pub fn link_cluster(&self, link: ClusterLink) {
        let _ = self.links.cluster.set(link);
    }

    /// Hands `event` to the other nodes, if there are any.
    fn tell_cluster(&self, event: Event) {
        if let Some(link) = self.links.cluster.get() {
            // A full queue drops the event: it is only a hint.
            let _ = link.events.try_send(event);
        }
    }

    fn request_fill(&self, chat_id: Uuid) {
        if let Some(fills) = self.links.fills.get() {
            let _ = fills.send(chat_id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        // A panic while holding the lock leaves plain maps behind; they are
        // still consistent enough to keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a connection. One whose credentials were revoked moments ago
    /// is told to close at once (4002): checking this under the same lock
    /// `revoke` takes leaves no gap between a handshake's token check and
    /// its registration.
    pub fn register(
        &self,
        kind: PartyType,
        principal: Uuid,
        credentials: &Credentials,
    ) -> Registration {
        let id = Uuid::new_v4();
        let (tx, rx) = outbox(self.queue_capacity);
        let kill = Arc::new(KillSwitch::default());
        let mut state = self.lock();
        if state.is_revoked(credentials) {
            kill.trigger(CloseReason::Protocol(CloseCode::TokenRevoked));
        }
        state.peers.insert(
            id,
            Peer {
                kind,
                principal,
                queue: tx,
                kill: kill.clone(),
                chats: HashSet::new(),
            },
        );
        let mut online_agents = Vec::new();
        if kind == PartyType::Agent {
            // Other agents only: an agent's earlier connections are not news
            // to its new one.
            online_agents = state
                .announced_online
                .iter()
                .copied()
                .filter(|agent| *agent != principal)
                .collect();
            let count = state.agent_connections.entry(principal).or_insert(0);
            *count += 1;
            if *count == 1 {
                // Before joining `agents`: the new connection learns who is
                // online from `online_agents`, not from its own presence.
                update_presence(&mut state, principal);
                self.ring_presence();
            }
            state.agents.insert(id);
        }
        Registration {
            id,
            queue: rx,
            kill,
            online_agents,
            membership: Membership {
                hub: self.clone(),
                id,
            },
        }
    }

    fn unregister(&self, id: ConnectionId) {
        let mut state = self.lock();
        let Some(peer) = state.peers.remove(&id) else {
            return;
        };
        for chat_id in &peer.chats {
            remove_subscriber(&mut state, *chat_id, id);
        }
        if peer.kind == PartyType::Agent {
            state.agents.remove(&id);
            let remaining = state
                .agent_connections
                .get_mut(&peer.principal)
                .map(|count| {
                    *count -= 1;
                    *count
                });
            if remaining == Some(0) {
                state.agent_connections.remove(&peer.principal);
                update_presence(&mut state, peer.principal);
                self.ring_presence();
            }
        }
    }

    /// Subscribes a connection to a chat. `last_seq` is the chat's last
    /// `seq` read before this call (`None` when it could not be read):
    /// where the chat's position starts if this is its first subscriber.
    /// Returns the position: every later message is queued to the
    /// connection, so a replay up to it leaves no gap.
    pub fn subscribe(&self, id: ConnectionId, chat_id: Uuid, last_seq: Option<i64>) -> Option<i64> {
        let mut state = self.lock();
        let peer = state.peers.get_mut(&id)?;
        peer.chats.insert(chat_id);
        state.subscribers.entry(chat_id).or_default().insert(id);
        let cursor = state
            .cursors
            .entry(chat_id)
            .or_insert_with(|| Cursor::starting_at(last_seq));
        if cursor.delivered.is_none() && cursor.fill_to.is_none() {
            cursor.delivered = last_seq;
        }
        cursor.delivered
    }

    pub fn unsubscribe(&self, id: ConnectionId, chat_id: Uuid) {
        let mut state = self.lock();
        if let Some(peer) = state.peers.get_mut(&id) {
            peer.chats.remove(&chat_id);
        }
        remove_subscriber(&mut state, chat_id, id);
    }

    /// A message this node stored, to every subscriber of its chat (its
    /// sender too), then to the other nodes.
    pub fn publish_message(&self, message: &Message) {
        self.offer(message.chat_id, message.seq, Some(message));
        self.tell_cluster(Event::committed(message));
    }

    /// Message `seq` of `chat_id` was committed elsewhere (another node,
    /// or found by a sweep); `message` is it when known.
    pub fn message_from_elsewhere(&self, chat_id: Uuid, seq: i64, message: Option<&Message>) {
        self.offer(chat_id, seq, message);
    }

    /// Delivers a committed message if it is the chat's next, drops it if
    /// delivered already, and otherwise has the gap filled.
    fn offer(&self, chat_id: Uuid, seq: i64, message: Option<&Message>) {
        let mut state = self.lock();
        let Some(cursor) = state.cursors.get_mut(&chat_id) else {
            // No subscriber here.
            return;
        };
        match cursor.offer(seq, message.is_some()) {
            Offer::Deliver => {
                if let Some(message) = message {
                    deliver_message(&state, message);
                }
            }
            Offer::Drop => {}
            Offer::Fill => {
                drop(state);
                self.request_fill(chat_id);
            }
        }
    }

    /// The delivery position of every chat with subscribers here, for the
    /// sweep to compare with the database.
    pub fn positions(&self) -> Vec<(Uuid, i64)> {
        self.lock()
            .cursors
            .iter()
            .filter_map(|(chat_id, cursor)| Some((*chat_id, cursor.delivered?)))
            .collect()
    }

    /// Typing, to the chat's subscribers but the typing connection, and
    /// to the other nodes.
    pub fn publish_typing(&self, from: ConnectionId, chat_id: Uuid, author: Author, active: bool) {
        self.deliver_typing(from, chat_id, author.clone(), active);
        self.tell_cluster(Event::Typing {
            chat_id,
            author,
            active,
        });
    }

    /// Typing on another node.
    pub fn typing_from_elsewhere(&self, chat_id: Uuid, author: Author, active: bool) {
        self.deliver_typing(Uuid::nil(), chat_id, author, active);
    }

    fn deliver_typing(&self, from: ConnectionId, chat_id: Uuid, author: Author, active: bool) {
        let frame = render(&ServerFrame::Typing {
            chat_id,
            author,
            active,
        });
        let state = self.lock();
        for (id, peer) in subscribers_with_ids(&state, chat_id) {
            if id != from {
                peer.deliver(Outbound::Frame(frame.clone()));
            }
        }
    }

    /// A read marker, to the chat's subscribers but the reading
    /// connection, and to the other nodes.
    pub fn publish_read(&self, from: ConnectionId, chat_id: Uuid, author: Author, seq: i64) {
        self.deliver_read(from, chat_id, author.clone(), seq);
        self.tell_cluster(Event::Read {
            chat_id,
            author,
            seq,
        });
    }

    /// A read marker moved on another node.
    pub fn read_from_elsewhere(&self, chat_id: Uuid, author: Author, seq: i64) {
        self.deliver_read(Uuid::nil(), chat_id, author, seq);
    }

    fn deliver_read(&self, from: ConnectionId, chat_id: Uuid, author: Author, seq: i64) {
        let frame = render(&ServerFrame::Read {
            chat_id,
            author,
            seq,
        });
        let state = self.lock();
        for (id, peer) in subscribers_with_ids(&state, chat_id) {
            if id != from {
                peer.deliver(Outbound::Frame(frame.clone()));
            }
        }
    }

    /// A chat was created, assigned or closed: every agent learns it, and
    /// so do the guest connections of that chat, here and on the other
    /// nodes.
    pub fn publish_chat_updated(&self, chat: &Chat) {
        self.chat_updated_from_elsewhere(chat);
        self.tell_cluster(Event::ChatUpdated { chat: chat.clone() });
    }

    /// A chat changed on another node (or a sweep found it changed).
    pub fn chat_updated_from_elsewhere(&self, chat: &Chat) {
        let frame = render(&ServerFrame::ChatUpdated { chat: chat.clone() });
        let mut state = self.lock();
        state.chat_states.announced(&ChatState::of(chat));
        for id in &state.agents {
            if let Some(peer) = state.peers.get(id) {
                peer.deliver(Outbound::Frame(frame.clone()));
            }
        }
        for peer in subscribers(&state, chat.id).filter(|p| p.kind == PartyType::Guest) {
            peer.deliver(Outbound::Frame(frame.clone()));
        }
    }

    /// The chats among `stored` (states read from the database) whose
    /// state was not announced here: a `chat_updated` was lost.
    pub fn stale_chats(&self, stored: &[ChatState]) -> Vec<Uuid> {
        self.lock().chat_states.stale(stored)
    }

    /// Closes the connections authenticated by the revoked token or
    /// session, here and on the other nodes.
    pub fn revoke(&self, jti: Option<&str>, session: Option<Uuid>) {
        self.revoked_elsewhere(jti, session);
        self.tell_cluster(Event::Revoked {
            jti: jti.map(str::to_owned),
            session,
        });
    }

    /// Closes this node's connections of a token or session revoked on
    /// another node (or found revoked by a sweep).
    pub fn revoked_elsewhere(&self, jti: Option<&str>, session: Option<Uuid>) {
        let mut state = self.lock();
        let now = Instant::now();
        state.forget_old_revocations(now);
        if let Some(jti) = jti {
            state.revoked_tokens.insert(jti.to_owned(), now);
        }
        if let Some(session) = session {
            state.revoked_sessions.insert(session, now);
        }
        let revocation = Arc::new(Revocation {
            jti: jti.map(str::to_owned),
            session,
        });
        for id in &state.agents {
            if let Some(peer) = state.peers.get(id) {
                peer.deliver(Outbound::Revoked(revocation.clone()));
            }
        }
    }

    /// Tells every connection to close with 1001.
    pub fn shutdown(&self) {
        for peer in self.lock().peers.values() {
            peer.kill.trigger(CloseReason::GoingAway);
        }
    }

    /// Open connections, for metrics and tests.
    pub fn connection_count(&self) -> usize {
        self.lock().peers.len()
    }

    /// Agents with a connection to this node.
    pub fn local_agents(&self) -> Vec<Uuid> {
        self.lock().agent_connections.keys().copied().collect()
    }

    /// The agents online on other nodes, as the cluster last read them;
    /// agents whose status changes are announced here.
    pub fn set_remote_online(&self, agents: HashSet<Uuid>) {
        let mut state = self.lock();
        let changed: Vec<Uuid> = state
            .remote_online
            .symmetric_difference(&agents)
            .copied()
            .collect();
        state.remote_online = agents;
        for agent in changed {
            update_presence(&mut state, agent);
        }
    }

    fn ring_presence(&self) {
        if let Some(link) = self.links.cluster.get() {
            link.presence_changed.notify_one();
        }
    }
}

/// The store announces every commit here, from its writer, in commit
/// order: one chat's messages arrive in `seq` order, which a connection
/// with no `seq` to compare with yet (a guest's connect-time subscription)
/// relies on. Publishing from the writer also means a stored change is
/// published even when the request that made it has gone away.
impl CommitListener for Hub {
    fn committed(&self, change: &Committed) {
        match change {
            Committed::Message(message) => self.publish_message(message),
            Committed::ChatUpdated(chat) => self.publish_chat_updated(chat),
            Committed::Revoked { jti, session } => self.revoke(jti.as_deref(), *session),
        }
    }
}

fn subscribers_with_ids(
    state: &HubState,
    chat_id: Uuid,
) -> impl Iterator<Item = (ConnectionId, &Peer)> {
    state
        .subscribers
        .get(&chat_id)
        .into_iter()
        .flatten()
        .filter_map(|id| state.peers.get(id).map(|peer| (*id, peer)))
}

fn subscribers(state: &HubState, chat_id: Uuid) -> impl Iterator<Item = &Peer> {
    subscribers_with_ids(state, chat_id).map(|(_, peer)| peer)
}

fn remove_subscriber(state: &mut HubState, chat_id: Uuid, id: ConnectionId) {
    if let Some(subs) = state.subscribers.get_mut(&chat_id) {
        subs.remove(&id);
        if subs.is_empty() {
            state.subscribers.remove(&chat_id);
            state.cursors.remove(&chat_id);
        }
    }
}

/// Queues a stored message to every subscriber of its chat.
fn deliver_message(state: &HubState, message: &Message) {
    let rendered = Arc::new(ChatMessage {
        chat_id: message.chat_id,
        seq: message.seq,
        frame: render_string(&ServerFrame::Message {
            message: message.clone(),
        }),
    });
    for peer in subscribers(state, message.chat_id) {
        peer.deliver(Outbound::ChatMessage(rendered.clone()));
    }
}

/// Announces `agent` online or offline to this node's agents when that
/// changed: online while it has a connection here or on another node.
fn update_presence(state: &mut HubState, agent: Uuid) {
    let online =
        state.agent_connections.contains_key(&agent) || state.remote_online.contains(&agent);
    let changed = if online {
        state.announced_online.insert(agent)
    } else {
        state.announced_online.remove(&agent)
    };
    if changed {
        let status = if online {
            PresenceStatus::Online
        } else {
            PresenceStatus::Offline
        };
        broadcast_presence(state, agent, status);
    }
}

fn broadcast_presence(state: &HubState, agent_id: Uuid, status: PresenceStatus) {
    let frame = render(&ServerFrame::Presence { agent_id, status });
    for id in &state.agents {
        if let Some(peer) = state.peers.get(id) {
            peer.deliver(Outbound::Frame(frame.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Credentials {
        Credentials {
            jti: Uuid::new_v4().to_string(),
            session: None,
        }
    }

    #[tokio::test]
    async fn a_connection_leaves_the_hub_however_its_registration_is_dropped() {
        let hub = Hub::new(8);
        let registration = hub.register(PartyType::Guest, Uuid::now_v7(), &credentials());
        hub.subscribe(registration.id, Uuid::now_v7(), Some(0));
        let task = tokio::spawn(async move {
            let _registration = registration;
            panic!("the connection task fails");
        });
        assert!(task.await.is_err());
        assert_eq!(hub.connection_count(), 0);
        assert!(hub.lock().subscribers.is_empty());
    }

    #[tokio::test]
    async fn a_connection_registering_just_after_its_revocation_is_closed() {
        // A logout can commit between a handshake's token check and its
        // registration; the registration still closes with 4002.
        let hub = Hub::new(8);
        let revoked = credentials();
        let session = Credentials {
            jti: Uuid::new_v4().to_string(),
            session: Some(Uuid::now_v7()),
        };
        hub.revoke(Some(&revoked.jti), None);
        hub.revoke(None, session.session);

        let by_token = hub.register(PartyType::Agent, Uuid::now_v7(), &revoked);
        let by_session = hub.register(PartyType::Agent, Uuid::now_v7(), &session);
        let other = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());

        let revoked_code = Some(CloseReason::Protocol(CloseCode::TokenRevoked));
        assert_eq!(by_token.kill.reason(), revoked_code);
        assert_eq!(by_session.kill.reason(), revoked_code);
        assert_eq!(other.kill.reason(), None);
    }

    #[tokio::test]
    async fn a_full_queue_kills_only_the_slow_connection() {
        let hub = Hub::new(2);
        let chat = Uuid::now_v7();
        let mut fast = hub.register(PartyType::Guest, Uuid::now_v7(), &credentials());
        let slow = hub.register(PartyType::Guest, Uuid::now_v7(), &credentials());
        hub.subscribe(fast.id, chat, Some(0));
        hub.subscribe(slow.id, chat, Some(0));
        for _ in 0..3 {
            hub.publish_typing(
                Uuid::nil(),
                chat,
                Author {
                    kind: PartyType::Agent,
                    id: Uuid::nil(),
                    name: None,
                },
                true,
            );
            fast.queue.recv().await;
        }
        assert_eq!(
            slow.kill.triggered().await,
            CloseReason::Protocol(CloseCode::SlowConsumer)
        );
        assert!(fast.kill.reason.get().is_none());
    }

    #[tokio::test]
    async fn leaving_removes_every_subscription_of_the_connection() {
        let hub = Hub::new(8);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let leaving = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());
        let mut staying = hub.register(PartyType::Guest, Uuid::now_v7(), &credentials());
        hub.subscribe(leaving.id, a, Some(0));
        hub.subscribe(leaving.id, b, Some(0));
        hub.subscribe(staying.id, b, Some(0));
        drop(leaving);
        {
            let state = hub.lock();
            assert!(!state.subscribers.contains_key(&a));
            assert_eq!(state.subscribers[&b].len(), 1);
        }
        let author = Author {
            kind: PartyType::Agent,
            id: Uuid::nil(),
            name: None,
        };
        hub.publish_typing(Uuid::nil(), b, author, true);
        assert!(matches!(staying.queue.try_recv(), Some(Outbound::Frame(_))));
    }

    #[tokio::test]
    async fn presence_goes_online_with_the_first_connection_and_offline_with_the_last() {
        let hub = Hub::new(8);
        let mut watcher = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());
        let agent = Uuid::now_v7();
        let a = hub.register(PartyType::Agent, agent, &credentials());
        let b = hub.register(PartyType::Agent, agent, &credentials());
        drop(a);
        drop(b);
        let mut frames = Vec::new();
        while let Some(Outbound::Frame(frame)) = watcher.queue.try_recv() {
            frames.push(frame.to_string());
        }
        assert_eq!(frames.len(), 2, "{frames:?}");
        assert!(frames[0].contains("online") && frames[1].contains("offline"));
    }
}
