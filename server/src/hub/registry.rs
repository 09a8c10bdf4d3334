//! The hub's registry: which connections are open, which chats each
//! follows, and the kill switch by which the hub tells one to close.
//!
//! A connection registers when its handshake succeeds and gets a
//! [`Registration`]: its id, its queue, its kill switch and a
//! [`Membership`] whose drop unregisters it, however the connection's task
//! ends.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use byrd_spec::message::PartyType;
use byrd_spec::ws::CloseCode;
use tokio::sync::Notify;
use uuid::Uuid;

use super::fanout::Outbound;
use super::queue::{ConnectionQueue, QueueSender, connection_queue};
use super::revocations::Credentials;
use super::unfollowed::{Mark, Missed};
use super::{Hub, HubState, Position, cursors::Cursor, followers, presence};

pub type ConnectionId = Uuid;

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
pub(super) struct Peer {
    pub kind: PartyType,
    pub principal: Uuid,
    queue: QueueSender,
    pub kill: Arc<KillSwitch>,
    /// The chats this connection is subscribed to, so leaving touches only
    /// those entries of `HubState::subscribers`.
    chats: HashSet<Uuid>,
}

impl Peer {
    /// Whether this connection is subscribed to `chat_id`.
    pub fn follows(&self, chat_id: Uuid) -> bool {
        self.chats.contains(&chat_id)
    }

    /// Queues `item` without waiting; a full queue means a slow consumer.
    pub fn deliver(&self, item: Outbound) {
        if self.queue.try_send(item).is_err() {
            self.kill
                .trigger(CloseReason::Protocol(CloseCode::SlowConsumer));
        }
    }
}

/// A registered connection's ends of the hub.
pub struct Registration {
    pub id: ConnectionId,
    pub queue: ConnectionQueue,
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

impl Hub {
    /// Adds a connection. One whose credentials were revoked moments ago
    /// is told to close at once (4002): checking this under the same lock
    /// a revocation takes leaves no gap between a handshake's token check
    /// and its registration.
    pub fn register(
        &self,
        kind: PartyType,
        principal: Uuid,
        credentials: &Credentials,
    ) -> Registration {
        let id = Uuid::new_v4();
        let (tx, rx) = connection_queue(self.queue_capacity);
        let kill = Arc::new(KillSwitch::default());
        let mut state = self.lock();
        if state.revocations.covers(credentials) {
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
            online_agents = state.presence.online_besides(principal);
            // Before joining `agents`: the new connection learns who is
            // online from `online_agents`, not from its own presence.
            if presence::agent_connected(&mut state, principal) {
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
        followers::left(&mut state, id);
        if peer.kind == PartyType::Agent {
            state.agents.remove(&id);
            if presence::agent_disconnected(&mut state, peer.principal) {
                self.ring_presence();
            }
        }
    }

    /// Subscribes a connection to a chat. `last_seq` is the chat's last
    /// `seq` read before this call (`None` when it could not be read):
    /// where the chat's position starts if this is its first subscriber;
    /// `since` is the hub's [`mark`](Hub::mark) taken before that read, so
    /// that a message dropped meanwhile for want of a subscriber is filled.
    /// Returns the position: every later message is queued to the
    /// connection, so a replay up to it leaves no gap.
    pub fn subscribe(
        &self,
        id: ConnectionId,
        chat_id: Uuid,
        last_seq: Option<i64>,
        since: Mark,
    ) -> Option<i64> {
        let mut state = self.lock();
        let state = &mut *state;
        let peer = state.peers.get_mut(&id)?;
        peer.chats.insert(chat_id);
        state.subscribers.entry(chat_id).or_default().insert(id);
        let mut fill = false;
        let cursor = state.cursors.entry(chat_id).or_insert_with(|| {
            let mut cursor = Cursor::starting_at(last_seq);
            if let Some(read) = last_seq {
                cursor.fill_to = match state.unfollowed.since(since, chat_id) {
                    Missed::Through(seq) if seq > read => Some(seq),
                    Missed::Unknown => Some(i64::MAX),
                    Missed::Through(_) | Missed::Nothing => None,
                };
                fill = cursor.fill_to.is_some();
            }
            cursor
        });
        if cursor.delivered.get().is_none() && cursor.fill_to.is_none() {
            cursor.delivered = Position::at(last_seq);
        }
        let position = cursor.delivered.get();
        if fill {
            self.request_fill(chat_id);
        }
        position
    }

    /// Where the hub's record of dropped messages stands: taken before
    /// reading a chat's `last_seq` for [`subscribe`](Hub::subscribe).
    pub fn mark(&self) -> Mark {
        self.lock().unfollowed.mark()
    }

    /// The chat's position here, when the hub follows the chat and knows
    /// it. Every message up to it is stored, so it is a lower bound of
    /// the chat's `last_seq` that costs no read: [`subscribe`] starts an
    /// absent position from it as safely as from a read (anything stored
    /// above it is filled), and answers the position at joining anyway.
    ///
    /// [`subscribe`]: Hub::subscribe
    pub fn position(&self, chat_id: Uuid) -> Option<i64> {
        self.lock().cursors.get(&chat_id)?.delivered.get()
    }

    pub fn unsubscribe(&self, id: ConnectionId, chat_id: Uuid) {
        let mut state = self.lock();
        if let Some(peer) = state.peers.get_mut(&id) {
            peer.chats.remove(&chat_id);
        }
        remove_subscriber(&mut state, chat_id, id);
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
}

fn remove_subscriber(state: &mut HubState, chat_id: Uuid, id: ConnectionId) {
    if let Some(subs) = state.subscribers.get_mut(&chat_id) {
        subs.remove(&id);
        if subs.is_empty() {
            state.subscribers.remove(&chat_id);
            // The queue's followers may still need the chat's position.
            if state.queue_followers.is_empty() || state.chat_states.is_closed(chat_id) {
                state.cursors.remove(&chat_id);
            }
        }
    }
}
