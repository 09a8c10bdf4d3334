//! Queue followers: agent connections that receive the `message`,
//! `typing` and `read` events of every chat that is not closed, without a
//! subscription per chat.
//!
//! A console following a queue of a thousand chats would otherwise spend
//! a `subscribe` (and a history read) per chat on every connect, and stop
//! at the per-connection subscription cap. A follower is one entry here;
//! a message reaches it through the same per-chat position (see
//! `cursors`) as a subscriber's, so it arrives once, in `seq` order,
//! whichever road it took. While anyone follows the queue, a message of a
//! chat without subscribers here starts a position for that chat (unknown
//! until the first message with its body), which the sweep and the gap
//! fills then keep as they keep a subscribed chat's; the position goes with
//! the chat's close or the last follower.
//!
//! A connection that both follows the queue and is subscribed to a chat
//! gets that chat's events once, as a subscriber: the queue's fan-out
//! skips the connections among the chat's subscribers. With nobody
//! following, what a message costs is one check of an empty set.
//!
//! There is no replay: what a follower missed while away it finds by
//! comparing the chat list's `last_seq` with what it has.

use std::collections::hash_map::Entry;

use byrd_spec::chat::{Chat, ChatStatus};
use uuid::Uuid;

use super::cursors::Cursor;
use super::fanout::Outbound;
use super::registry::{ConnectionId, Peer};
use super::{Hub, HubState};

impl Hub {
    /// Makes connection `id` a queue follower; false when it is not
    /// registered. Who may follow is the caller's to decide.
    pub fn follow_queue(&self, id: ConnectionId) -> bool {
        let mut state = self.lock();
        if !state.peers.contains_key(&id) {
            return false;
        }
        state.queue_followers.insert(id);
        true
    }

    /// Connection `id` no longer follows the queue (whether it did or
    /// not); its subscriptions stay.
    pub fn unfollow_queue(&self, id: ConnectionId) {
        left(&mut self.lock(), id);
    }
}

/// The position of `chat_id`, started for the queue's followers when the
/// chat has none and someone follows the queue; `None` when nobody needs
/// the chat's messages here.
pub(super) fn cursor_for(state: &mut HubState, chat_id: Uuid) -> Option<&mut Cursor> {
    let HubState {
        cursors,
        queue_followers,
        ..
    } = state;
    match cursors.entry(chat_id) {
        Entry::Occupied(cursor) => Some(cursor.into_mut()),
        Entry::Vacant(_) if queue_followers.is_empty() => None,
        Entry::Vacant(place) => Some(place.insert(Cursor::starting_at(None))),
    }
}

/// The followers that do not get `chat_id`'s events as its subscribers.
pub(super) fn followers_outside(
    state: &HubState,
    chat_id: Uuid,
) -> impl Iterator<Item = (ConnectionId, &Peer)> {
    state.queue_followers.iter().filter_map(move |id| {
        let peer = state.peers.get(id)?;
        (!peer.follows(chat_id)).then_some((*id, peer))
    })
}

/// Queues `item` to the followers outside `chat_id`'s subscribers but
/// `sender`, unless the chat was announced closed.
pub(super) fn signal_followers(
    state: &HubState,
    chat_id: Uuid,
    sender: Option<ConnectionId>,
    item: &Outbound,
) {
    if state.queue_followers.is_empty() || state.chat_states.is_closed(chat_id) {
        return;
    }
    for (id, peer) in followers_outside(state, chat_id) {
        if Some(id) != sender {
            peer.deliver(item.clone());
        }
    }
}

/// A chat changed: a closed one no longer needs a position for the queue.
pub(super) fn chat_changed(state: &mut HubState, chat: &Chat) {
    if chat.status == ChatStatus::Closed && !state.subscribers.contains_key(&chat.id) {
        state.cursors.remove(&chat.id);
    }
}

/// Connection `id` left: with the last follower gone, the positions kept
/// only for the queue go too.
pub(super) fn left(state: &mut HubState, id: ConnectionId) {
    if state.queue_followers.remove(&id) && state.queue_followers.is_empty() {
        let HubState {
            cursors,
            subscribers,
            ..
        } = state;
        cursors.retain(|chat_id, _| subscribers.contains_key(chat_id));
    }
}

#[cfg(test)]
mod tests {
    use byrd_spec::message::{Author, Message, PartyType};
    use chrono::Utc;

    use super::super::{ConnectionQueue, Credentials, Event, Hub, Origin, Outbound};
    use super::*;

    fn message(chat_id: Uuid, seq: i64) -> Message {
        Message {
            id: Uuid::now_v7(),
            chat_id,
            seq,
            author: Author {
                kind: PartyType::Guest,
                id: Uuid::nil(),
                name: None,
            },
            body: "hello".into(),
            client_msg_id: format!("m{seq}"),
            created_at: Utc::now(),
        }
    }

    fn credentials() -> Credentials {
        Credentials {
            jti: Uuid::new_v4().to_string(),
            session: None,
        }
    }

    /// The `(chat, seq)` of every message queued, in order.
    fn messages(queue: &mut ConnectionQueue) -> Vec<(Uuid, i64)> {
        let mut seen = Vec::new();
        while let Some(item) = queue.try_recv() {
            if let Outbound::ChatMessage(message) = item {
                seen.push((message.chat_id, message.seq));
            }
        }
        seen
    }

    fn publish(hub: &Hub, message: &Message) {
        hub.publish(Event::message(message), Origin::COMMITTED);
    }

    #[tokio::test]
    async fn with_nobody_following_a_chat_without_subscribers_costs_no_position() {
        let hub = Hub::new(8);
        let _agent = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());
        publish(&hub, &message(Uuid::now_v7(), 1));
        assert!(hub.lock().cursors.is_empty());
    }

    #[tokio::test]
    async fn a_follower_gets_every_chat_once_and_in_order_even_where_it_is_subscribed() {
        let hub = Hub::new(16);
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut follower = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());
        let mut guest = hub.register(PartyType::Guest, Uuid::now_v7(), &credentials());
        assert!(hub.follow_queue(follower.id));
        hub.subscribe(guest.id, a, Some(0), hub.mark());
        hub.subscribe(follower.id, b, Some(0), hub.mark());
        for sent in [message(a, 1), message(b, 1), message(c, 1), message(c, 1)] {
            publish(&hub, &sent);
        }
        publish(&hub, &message(c, 2));
        assert_eq!(
            messages(&mut follower.queue),
            vec![(a, 1), (b, 1), (c, 1), (c, 2)]
        );
        assert_eq!(messages(&mut guest.queue), vec![(a, 1)]);
    }

    #[tokio::test]
    async fn typing_reaches_followers_but_its_sender_and_not_in_a_closed_chat() {
        let hub = Hub::new(8);
        let chat = Uuid::now_v7();
        let mut follower = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());
        let mut sender = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());
        hub.follow_queue(follower.id);
        hub.follow_queue(sender.id);
        let author = Author {
            kind: PartyType::Guest,
            id: Uuid::nil(),
            name: None,
        };
        let typing = Event::Typing {
            chat_id: chat,
            author: &author,
            active: true,
        };
        // The sender's presence, queued to the follower as it registered.
        while follower.queue.try_recv().is_some() {}
        hub.publish(typing, Origin::connection(sender.id));
        assert!(matches!(
            follower.queue.try_recv(),
            Some(Outbound::Frame(_))
        ));
        assert!(sender.queue.try_recv().is_none());
        hub.lock().chat_states.announced(&crate::store::ChatState {
            id: chat,
            status: ChatStatus::Closed,
            assigned_agent_id: None,
            updated_at: Utc::now(),
        });
        hub.publish(typing, Origin::COMMITTED);
        assert!(follower.queue.try_recv().is_none());
    }

    #[tokio::test]
    async fn positions_kept_for_the_queue_go_with_its_last_follower() {
        let hub = Hub::new(8);
        let (kept, dropped) = (Uuid::now_v7(), Uuid::now_v7());
        let follower = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());
        let guest = hub.register(PartyType::Guest, Uuid::now_v7(), &credentials());
        hub.follow_queue(follower.id);
        hub.subscribe(guest.id, kept, Some(0), hub.mark());
        publish(&hub, &message(kept, 1));
        publish(&hub, &message(dropped, 1));
        assert_eq!(hub.lock().cursors.len(), 2);
        drop(follower);
        let state = hub.lock();
        assert!(state.cursors.contains_key(&kept));
        assert!(!state.cursors.contains_key(&dropped));
    }

    #[tokio::test]
    async fn an_unfollower_keeps_its_subscriptions_and_gets_no_other_chat() {
        let hub = Hub::new(8);
        let (subscribed, other) = (Uuid::now_v7(), Uuid::now_v7());
        let mut agent = hub.register(PartyType::Agent, Uuid::now_v7(), &credentials());
        hub.follow_queue(agent.id);
        hub.subscribe(agent.id, subscribed, Some(0), hub.mark());
        publish(&hub, &message(other, 1));
        hub.unfollow_queue(agent.id);
        hub.unfollow_queue(agent.id);
        publish(&hub, &message(other, 2));
        publish(&hub, &message(subscribed, 1));
        assert_eq!(
            messages(&mut agent.queue),
            vec![(other, 1), (subscribed, 1)]
        );
        let state = hub.lock();
        assert!(state.queue_followers.is_empty());
        assert!(!state.cursors.contains_key(&other));
    }
}
