//! A connection's session: who is connected, with what token, following
//! which chats, with which sends in flight and what the hub queued for it.
//! Commands act on the session and write through the socket; they never
//! see the loop that drives them.

use std::collections::HashMap;

use byrd_spec::claims::Claims;
use byrd_spec::message::{Author, PartyType};
use byrd_spec::ws::Principal;
use uuid::Uuid;

use super::pending::PendingSends;
use super::read_ahead::ReadAhead;
use super::token::TokenClock;
use crate::error::ApiError;
use crate::hub::{ConnectionId, ConnectionQueue, Credentials, Mark, Position};
use crate::messaging::author_of;
use crate::state::AppState;
use crate::store::StoreError;

/// Delivery state of one subscribed chat.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Subscription {
    /// Highest `seq` delivered on this connection; unknown while a guest's
    /// connect-time subscription has delivered nothing yet.
    pub delivered: Position,
}

pub(super) struct Session {
    pub state: AppState,
    pub id: ConnectionId,
    /// The current token's claims; replaced by `refresh_token`.
    pub claims: Claims,
    pub token: TokenClock,
    pub subscriptions: HashMap<Uuid, Subscription>,
    /// Whether this connection follows the queue (`subscribe_queue`): the
    /// hub then also queues messages of chats it is not subscribed to.
    pub follows_queue: bool,
    /// Sends queued to the store, waiting for their commits.
    pub pending: PendingSends,
    /// What the hub queued for this connection: live messages and events.
    pub queue: ConnectionQueue,
    /// A guest's display name, read from its chat on first need: tokens
    /// do not carry it, and `typing` and `read` must name the guest as
    /// its messages do. `None` until read.
    guest_name: Option<Option<String>>,
    /// Positions of chats whose `subscribe`s are about to run, read
    /// together (see `read_ahead`); `None` between such runs.
    pub read_ahead: Option<Box<ReadAhead>>,
}

impl Session {
    pub fn new(state: AppState, id: ConnectionId, claims: Claims, queue: ConnectionQueue) -> Self {
        Session {
            state,
            id,
            token: TokenClock::of(&claims),
            claims,
            subscriptions: HashMap::new(),
            follows_queue: false,
            pending: PendingSends::default(),
            queue,
            guest_name: None,
            read_ahead: None,
        }
    }

    /// Where `chat_id` stands, taken before joining it in the hub: the
    /// hub's mark, then the hub's own position when it follows the chat
    /// and a client at `after_seq` is not past it (then the chat exists),
    /// else the stored `last_seq` (`None`: no such chat). A client past
    /// the hub's position saw stored messages the hub has not handed on
    /// yet, and only a read covers them.
    pub async fn chat_position(
        &self,
        chat_id: Uuid,
        after_seq: i64,
    ) -> (Mark, Result<Option<i64>, StoreError>) {
        let hub = &self.state.hub;
        let mark = hub.mark();
        let known = hub
            .position(chat_id)
            .filter(|&position| after_seq <= position);
        match known {
            Some(position) => (mark, Ok(Some(position))),
            None => (mark, self.state.store.chat_last_seq(chat_id).await),
        }
    }

    /// Who this connection's `typing` and `read` events come from, named
    /// like the author of its messages.
    pub async fn author(&mut self) -> Result<Author, ApiError> {
        let mut author = author_of(&self.claims);
        if let Claims::Guest(guest) = &self.claims {
            if self.guest_name.is_none() {
                let chat = self.state.store.chat_by_id(guest.chat.id).await?;
                self.guest_name = Some(chat.and_then(|chat| chat.visitor.name));
            }
            author.name = self.guest_name.clone().flatten();
        }
        Ok(author)
    }
}

pub(super) fn principal_of(claims: &Claims) -> Principal {
    match claims {
        Claims::Agent(c) => Principal {
            kind: PartyType::Agent,
            id: c.sub,
        },
        Claims::Guest(c) => Principal {
            kind: PartyType::Guest,
            id: c.sub,
        },
    }
}

/// What the hub checks a revocation against.
pub(super) fn credentials_of(claims: &Claims) -> Credentials {
    match claims {
        Claims::Agent(agent) => Credentials {
            jti: agent.jti.clone(),
            session: agent.sid,
        },
        Claims::Guest(guest) => Credentials {
            jti: guest.jti.clone(),
            session: None,
        },
    }
}
