//! The hub: fan-out of live events to WebSocket connections.
//!
//! Every connection registers here (see `registry`) with a bounded
//! outbound queue (see `queue`). What happens reaches the hub as one
//! [`Event`] through [`Hub::publish`]; handlers never see connections. An
//! event is rendered to JSON once and shared by every receiver (see
//! `fanout`). Delivery never waits: a connection whose queue is full is a
//! slow consumer and is told to close (4008), so it can neither stall the
//! others nor grow memory.
//!
//! Messages go through a per-chat position (see `cursors`): each reaches a
//! chat's subscribers once and in `seq` order, whether it comes from this
//! node's writer, another node, or a fill from the database.
//!
//! Every event has an [`Origin`]. One that happened on this node is
//! delivered here, then handed to the [`Relay`] when the node is part of a
//! cluster; one from elsewhere (another node, or found by a sweep) is
//! delivered here only. The hub knows nothing of how the relay reaches the
//! other nodes. Presence (see `presence`) is the union of this node's
//! agents and those the cluster reports online elsewhere; recent
//! revocations (see `revocations`) close connections that register just
//! after one. Agents may follow the whole queue rather than chat by chat
//! (see `followers`).

mod chat_states;
mod cursors;
mod fanout;
mod followers;
mod presence;
mod queue;
mod registry;
mod revocations;
mod unfollowed;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use byrd_spec::chat::Chat;
use byrd_spec::message::{Author, Message};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::store::{ChatState, CommitListener, Committed, Store};
use chat_states::ChatStates;
use cursors::{Cursor, Offer};
use presence::Presence;
use registry::Peer;
use revocations::RecentRevocations;
use unfollowed::Unfollowed;

pub use cursors::{Place, Position};
pub use fanout::{ChatMessage, Outbound, Revocation};
pub use queue::ConnectionQueue;
pub use registry::{CloseReason, ConnectionId, KillSwitch, Membership, Registration};
pub use revocations::Credentials;
pub use unfollowed::Mark;

/// Something that happened, as the hub delivers it; borrowed, so that
/// publishing copies nothing the fan-out does not need.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Message `seq` of `chat_id` was committed; `message` is it when
    /// known (another node may announce only the `seq`, a sweep always
    /// does).
    Message {
        chat_id: Uuid,
        seq: i64,
        message: Option<&'a Message>,
    },
    /// A chat was created, assigned or closed.
    ChatUpdated(&'a Chat),
    Typing {
        chat_id: Uuid,
        author: &'a Author,
        active: bool,
    },
    /// A read marker moved.
    Read {
        chat_id: Uuid,
        author: &'a Author,
        seq: i64,
    },
    /// An access token (`jti`), a whole login session, or both, were
    /// revoked.
    Revoked {
        jti: Option<&'a str>,
        session: Option<Uuid>,
    },
}

impl<'a> Event<'a> {
    /// A message stored on this node.
    pub fn message(message: &'a Message) -> Event<'a> {
        Event::Message {
            chat_id: message.chat_id,
            seq: message.seq,
            message: Some(message),
        }
    }
}

/// Where an event happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// On this node: delivered here, then relayed to the other nodes.
    /// `sender`, when set, is the connection the event came from, which
    /// is not sent its own `typing` or `read`.
    ThisNode { sender: Option<ConnectionId> },
    /// On another node, or found by a sweep: delivered here only.
    Elsewhere,
}

impl Origin {
    /// A change this node committed.
    pub const COMMITTED: Origin = Origin::ThisNode { sender: None };

    /// A signal from one of this node's connections.
    pub fn connection(id: ConnectionId) -> Origin {
        Origin::ThisNode { sender: Some(id) }
    }
}

/// How the hub tells the other nodes what happened on this one. Called
/// while the hub's lock may be held: it must not wait.
pub trait Relay: Send + Sync + std::fmt::Debug {
    /// Hands on an event that happened on this node.
    fn forward(&self, event: &Event<'_>);
    /// This node's set of online agents changed.
    fn presence_changed(&self);
}

/// Everything behind the hub's one lock.
#[derive(Debug, Default)]
struct HubState {
    peers: HashMap<ConnectionId, Peer>,
    /// Agent connections: they receive `chat_updated` and `presence`.
    agents: HashSet<ConnectionId>,
    /// Connections subscribed to each chat.
    subscribers: HashMap<Uuid, HashSet<ConnectionId>>,
    /// Agent connections following the queue: the messages, typing and
    /// read events of every chat that is not closed.
    queue_followers: HashSet<ConnectionId>,
    /// The delivery position of each chat in `subscribers`, and while
    /// someone follows the queue of each chat with messages since; dropped
    /// when no connection needs the chat any more.
    cursors: HashMap<Uuid, Cursor>,
    /// The state of each chat as last announced here, for the sweep to
    /// find a lost `chat_updated`.
    chat_states: ChatStates,
    /// Which agents are online, here and elsewhere.
    presence: Presence,
    /// Revocations of the last minutes, for connections registering late.
    revocations: RecentRevocations,
    /// The last messages dropped because no connection here needed their
    /// chat, for subscriptions that read the chat's position meanwhile.
    unfollowed: Unfollowed,
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
    relay: OnceLock<Box<dyn Relay>>,
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

    /// Makes this node's events reach the other nodes through `relay`.
    pub fn link_relay(&self, relay: Box<dyn Relay>) {
        let _ = self.links.relay.set(relay);
    }

    /// Delivers `event` to this node's connections, and relays it to the
    /// other nodes when it happened here.
    pub fn publish(&self, event: Event<'_>, origin: Origin) {
        let sender = match origin {
            Origin::ThisNode { sender } => sender,
            Origin::Elsewhere => None,
        };
        match event {
            Event::Message {
                chat_id,
                seq,
                message,
            } => self.offer(chat_id, seq, message),
            Event::ChatUpdated(chat) => self.deliver_chat_updated(chat),
            Event::Typing { chat_id, .. } | Event::Read { chat_id, .. } => {
                self.deliver_signal(&event, chat_id, sender);
            }
            Event::Revoked { jti, session } => self.deliver_revocation(jti, session),
        }
        if let (Origin::ThisNode { .. }, Some(relay)) = (origin, self.links.relay.get()) {
            relay.forward(&event);
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

    /// Delivers a committed message if it is the chat's next, drops it if
    /// delivered already, and otherwise has the gap filled.
    fn offer(&self, chat_id: Uuid, seq: i64, message: Option<&Message>) {
        let mut state = self.lock();
        let Some(cursor) = followers::cursor_for(&mut state, chat_id) else {
            // No subscriber here, and nobody follows the queue.
            state.unfollowed.dropped(chat_id, seq);
            return;
        };
        match cursor.offer(seq, message.is_some()) {
            Offer::Deliver => {
                if let Some(message) = message {
                    fanout::deliver_message(&state, message);
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
            .filter_map(|(chat_id, cursor)| Some((*chat_id, cursor.delivered.get()?)))
            .collect()
    }

    /// The chats among `stored` (states read from the database) whose
    /// state was not announced here: a `chat_updated` was lost.
    pub fn stale_chats(&self, stored: &[ChatState]) -> Vec<Uuid> {
        self.lock().chat_states.stale(stored)
    }
}

/// The store announces every commit here, from its writer, in commit
/// order: one chat's messages arrive in `seq` order, which a connection
/// with no `seq` to compare with yet (a guest's connect-time subscription)
/// relies on. Publishing from the writer also means a stored change is
/// published even when the request that made it has gone away.
impl CommitListener for Hub {
    fn committed(&self, change: &Committed) {
        let event = match change {
            Committed::Message(message) => Event::message(message),
            Committed::ChatUpdated(chat) => Event::ChatUpdated(chat),
            Committed::Revoked { jti, session } => Event::Revoked {
                jti: jti.as_deref(),
                session: *session,
            },
        };
        self.publish(event, Origin::COMMITTED);
    }
}

#[cfg(test)]
mod tests;
