//! What this node last announced of each chat's state, so that a lost
//! `chat_updated` is not lost for good.
//!
//! Every `chat_updated` the hub delivers (its own commits and other
//! nodes') records the chat's state: its status and assigned agent. The
//! sweep reads the state of every chat changed since its last look and
//! asks [`ChatStates::stale`] which differ from what was announced here:
//! those are announced again from the database. `updated_at` cannot serve
//! as a version, since every message moves it too; comparing the state
//! itself means a message is no reason to announce a chat, and an
//! announcement that arrived out of order is corrected by the next sweep.
//!
//! A chat this node has heard nothing of is announced when it changed
//! after the node started (its creation or a change was lost), and only
//! recorded otherwise. Entries not touched for [`FORGET_AFTER`] are
//! dropped, so memory follows the chats in use; a chat forgotten and then
//! changed is announced once more than needed, which is harmless, as a
//! `chat_updated` carries the whole chat.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use byrd_spec::chat::ChatStatus;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::ChatState;

/// How long an entry lives without a sweep or an announcement touching it.
const FORGET_AFTER: Duration = Duration::from_secs(10 * 60);

/// Whether `state` is what this node announced of its chat.
fn same_as(state: &ChatState, known: &Known) -> bool {
    state.status == known.status && state.assigned_agent_id == known.assigned_agent_id
}

#[derive(Debug)]
struct Known {
    status: ChatStatus,
    assigned_agent_id: Option<Uuid>,
    touched: Instant,
}

#[derive(Debug)]
pub(super) struct ChatStates {
    known: HashMap<Uuid, Known>,
    /// When this node started listening: a chat unknown here that changed
    /// later had its announcement lost.
    since: DateTime<Utc>,
    next_forget: Instant,
}

impl Default for ChatStates {
    fn default() -> Self {
        ChatStates {
            known: HashMap::new(),
            since: Utc::now(),
            next_forget: Instant::now() + FORGET_AFTER,
        }
    }
}

impl ChatStates {
    /// Records an announced state.
    pub fn announced(&mut self, state: &ChatState) {
        let now = Instant::now();
        self.known.insert(
            state.id,
            Known {
                status: state.status,
                assigned_agent_id: state.assigned_agent_id,
                touched: now,
            },
        );
        self.forget_old(now);
    }

    /// Whether `chat_id` was last announced closed here.
    pub fn is_closed(&self, chat_id: Uuid) -> bool {
        self.known
            .get(&chat_id)
            .is_some_and(|known| known.status == ChatStatus::Closed)
    }

    /// The chats among `stored` (states read from the database) whose
    /// state was not announced here.
    pub fn stale(&mut self, stored: &[ChatState]) -> Vec<Uuid> {
        let now = Instant::now();
        let mut stale = Vec::new();
        for state in stored {
            match self.known.get_mut(&state.id) {
                Some(known) if same_as(state, known) => known.touched = now,
                Some(_) => stale.push(state.id),
                None if state.updated_at >= self.since => stale.push(state.id),
                None => self.announced(state),
            }
        }
        self.forget_old(now);
        stale
    }

    fn forget_old(&mut self, now: Instant) {
        if now >= self.next_forget {
            self.known
                .retain(|_, known| now.duration_since(known.touched) < FORGET_AFTER);
            self.next_forget = now + FORGET_AFTER / 10;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(id: Uuid, status: ChatStatus, updated_at: DateTime<Utc>) -> ChatState {
        ChatState {
            id,
            status,
            assigned_agent_id: None,
            updated_at,
        }
    }

    #[test]
    fn a_changed_state_is_stale_and_a_moved_updated_at_alone_is_not() {
        let mut states = ChatStates::default();
        let chat = Uuid::now_v7();
        let now = Utc::now();
        states.announced(&state(chat, ChatStatus::Open, now));
        let later = now + chrono::Duration::seconds(5);
        assert!(
            states
                .stale(&[state(chat, ChatStatus::Open, later)])
                .is_empty()
        );
        assert_eq!(
            states.stale(&[state(chat, ChatStatus::Closed, later)]),
            vec![chat]
        );
    }

    #[test]
    fn an_unknown_chat_is_stale_only_when_it_changed_after_the_start() {
        let mut states = ChatStates::default();
        let (old, new) = (Uuid::now_v7(), Uuid::now_v7());
        let before = states.since - chrono::Duration::seconds(5);
        let after = states.since + chrono::Duration::seconds(1);
        let stale = states.stale(&[
            state(old, ChatStatus::Open, before),
            state(new, ChatStatus::Open, after),
        ]);
        assert_eq!(stale, vec![new]);
        // The old one is known now, with the state read.
        assert!(
            states
                .stale(&[state(old, ChatStatus::Open, after)])
                .is_empty()
        );
    }
}
