//! Fan-out: what each event puts on which connections' queues.
//!
//! An event is rendered once; every receiver's queue gets one thin
//! pointer to the shared rendering. Messages go to a chat's subscribers
//! (the sender too: its client learns the `seq` from the live message as
//! from the ack); `typing` and `read` to the chat's subscribers but their
//! sender; the same three to the queue's followers (see `followers`),
//! once per connection; `chat_updated` to every agent and to the chat's
//! guest connections; revocations to every agent connection, each of which
//! checks whether it is one the revocation covers.

use std::sync::Arc;

use byrd_spec::chat::Chat;
use byrd_spec::message::{Message, PartyType};
use byrd_spec::ws::ServerFrame;
use uuid::Uuid;

use super::followers::{self, followers_outside};
use super::registry::{ConnectionId, Peer};
use super::{ChatState, Event, Hub, HubState};

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

pub(super) fn render(frame: &ServerFrame) -> Arc<String> {
    Arc::new(render_string(frame))
}

fn render_string(frame: &ServerFrame) -> String {
    // Serialising these types cannot fail: no maps with non-string keys.
    serde_json::to_string(frame).unwrap_or_default()
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

/// Queues `item` to every agent connection.
pub(super) fn to_agents(state: &HubState, item: &Outbound) {
    for id in &state.agents {
        if let Some(peer) = state.peers.get(id) {
            peer.deliver(item.clone());
        }
    }
}

/// Queues a stored message to every subscriber of its chat and to the
/// queue's other followers.
pub(super) fn deliver_message(state: &HubState, message: &Message) {
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
    if !state.queue_followers.is_empty() {
        for (_, peer) in followers_outside(state, message.chat_id) {
            peer.deliver(Outbound::ChatMessage(rendered.clone()));
        }
    }
}

impl Hub {
    /// `typing` or `read`, to the chat's subscribers but `sender`.
    pub(super) fn deliver_signal(
        &self,
        event: &Event<'_>,
        chat_id: Uuid,
        sender: Option<ConnectionId>,
    ) {
        let frame = match *event {
            Event::Typing {
                chat_id,
                author,
                active,
            } => ServerFrame::Typing {
                chat_id,
                author: author.clone(),
                active,
            },
            Event::Read {
                chat_id,
                author,
                seq,
            } => ServerFrame::Read {
                chat_id,
                author: author.clone(),
                seq,
            },
            _ => return,
        };
        let frame = Outbound::Frame(render(&frame));
        let state = self.lock();
        for (id, peer) in subscribers_with_ids(&state, chat_id) {
            if Some(id) != sender {
                peer.deliver(frame.clone());
            }
        }
        followers::signal_followers(&state, chat_id, sender, &frame);
    }

    /// A chat was created, assigned or closed: every agent learns it, and
    /// so do the guest connections of that chat.
    pub(super) fn deliver_chat_updated(&self, chat: &Chat) {
        let frame = Outbound::Frame(render(&ServerFrame::ChatUpdated { chat: chat.clone() }));
        let mut state = self.lock();
        state.chat_states.announced(&ChatState::of(chat));
        followers::chat_changed(&mut state, chat);
        to_agents(&state, &frame);
        for peer in subscribers(&state, chat.id).filter(|p| p.kind == PartyType::Guest) {
            peer.deliver(frame.clone());
        }
    }
}
