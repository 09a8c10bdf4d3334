//! Per-chat delivery positions: what makes the hub hand its subscribers
//! each message once and in `seq` order, whichever way it arrives.
//!
//! A message reaches a node by several roads: its own writer's commit, an
//! event from another node over the broker, the periodic sweep that
//! compares positions with the database, a gap fill. The node keeps, for
//! every chat it has subscribers for, the last `seq` it handed them. An
//! offer at or below it is a duplicate and is dropped; the next `seq`
//! (with its body) is delivered at once; anything further, or a `seq`
//! announced without its body, starts one fill: a range read from the
//! database, done by [`run_filler`] off the hub's lock, which delivers
//! what is missing in order. Offers arriving while a fill runs only raise
//! its target.
//!
//! A target is a hint, not a fact: when the database has nothing more to
//! read, the fill holds the target to the chat's stored `last_seq`, so a
//! `seq` announced far ahead costs one more read, never a stall. Each
//! chat's fill is a task of its own, at most [`FILLS_AT_ONCE`] at a time,
//! given up after [`FILL_TIME_LIMIT`] (the sweep then offers the stored
//! position again): one chat whose fill cannot finish never holds up the
//! others.
//!
//! A position starts at the chat's `last_seq` as read *before* the first
//! subscription became visible, so a message committed in between is
//! above it and is filled rather than skipped.
//!
//! The same rule, written once in [`Position::place`], keeps each
//! connection's place in each chat it follows (see `ws::delivery`): there
//! a subscribe's replay can overtake the live queue, so a connection too
//! drops what it already sent and fills what it misses before a message,
//! from the database, before sending it.

use std::sync::Arc;
use std::time::Duration;

use byrd_spec::message::Message;
use tokio::sync::{Semaphore, mpsc};
use uuid::Uuid;

use super::{Hub, fanout};
use crate::store::{MessagesAfter, Store};

/// Most messages one fill reads at once; a longer gap takes several reads.
const FILL_PAGE: i64 = 1000;

/// Longest pause between fill attempts while the database fails.
const MAX_FILL_BACKOFF: Duration = Duration::from_secs(5);

/// Fills running at once, each of its own chat; more wait for a slot.
const FILLS_AT_ONCE: usize = 16;

/// How long one chat's fill may take before it is given up.
const FILL_TIME_LIMIT: Duration = Duration::from_secs(10);

/// The last `seq` handed on in one chat; `None` while unknown (a
/// subscription started without knowing the chat's position, until a
/// message with its body comes). Plain data: a connection keeps one per
/// chat it follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position(Option<i64>);

/// Where an offered `seq` stands against a [`Position`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// No position yet: the first message decides it.
    Unknown,
    /// At or below the position: handed on already.
    Repeat,
    /// The one right after the position.
    Next,
    /// Further on: the messages after `after` and before it are missing.
    Ahead { after: i64 },
}

impl Position {
    pub const fn at(seq: Option<i64>) -> Position {
        Position(seq)
    }

    pub fn get(self) -> Option<i64> {
        self.0
    }

    /// Where `seq` stands.
    pub fn place(self, seq: i64) -> Place {
        match self.0 {
            None => Place::Unknown,
            Some(delivered) if seq <= delivered => Place::Repeat,
            Some(delivered) if seq == delivered + 1 => Place::Next,
            Some(delivered) => Place::Ahead { after: delivered },
        }
    }

    /// Moves the position up to `seq`, never back.
    pub fn advance(&mut self, seq: i64) {
        self.0 = Some(self.0.map_or(seq, |delivered| delivered.max(seq)));
    }
}

/// One served chat's position.
#[derive(Debug, Default)]
pub(super) struct Cursor {
    /// The last `seq` handed to the chat's subscribers.
    pub delivered: Position,
    /// While a fill runs: the highest `seq` known to be committed.
    pub fill_to: Option<i64>,
}

/// What to do with an offered message.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Offer {
    /// Hand it to the subscribers now; the cursor already moved.
    Deliver,
    /// Already delivered, or a running fill will bring it.
    Drop,
    /// Start a fill up to it.
    Fill,
}

impl Cursor {
    pub fn starting_at(delivered: Option<i64>) -> Cursor {
        Cursor {
            delivered: Position::at(delivered),
            fill_to: None,
        }
    }

    /// Decides about committed message `seq`; `with_body` says whether the
    /// offer carries the message itself.
    pub fn offer(&mut self, seq: i64, with_body: bool) -> Offer {
        match self.delivered.place(seq) {
            Place::Unknown if with_body && self.fill_to.is_none() => {
                self.delivered.advance(seq);
                Offer::Deliver
            }
            Place::Unknown | Place::Repeat => Offer::Drop,
            _ if self.fill_to.is_some() => {
                self.fill_to = self.fill_to.max(Some(seq));
                Offer::Drop
            }
            Place::Next if with_body => {
                self.delivered.advance(seq);
                Offer::Deliver
            }
            Place::Next | Place::Ahead { .. } => {
                self.fill_to = Some(seq);
                Offer::Fill
            }
        }
    }

    /// What a fill reads next: after `delivered`, up to `fill_to`.
    fn next_fill(&self) -> Option<MessagesAfter> {
        let (after, to) = (self.delivered.get()?, self.fill_to?);
        let to = to.min(after + FILL_PAGE);
        Some(MessagesAfter {
            after,
            through: to,
            limit: u32::try_from(to - after).unwrap_or(1),
        })
    }

    /// Holds the fill's target to `stored`, the chat's `last_seq` in the
    /// database; true when that leaves nothing to fill.
    fn bound_fill(&mut self, stored: i64) -> bool {
        self.fill_to = self.fill_to.map(|to| to.min(stored));
        let done = match (self.delivered.get(), self.fill_to) {
            (Some(delivered), Some(to)) => delivered >= to,
            _ => true,
        };
        if done {
            self.fill_to = None;
        }
        done
    }

    /// Takes what a fill read, in `seq` order: the messages to deliver.
    /// True in the second value when the fill is done.
    fn take_filled(&mut self, messages: Vec<Message>) -> (Vec<Message>, bool) {
        let mut fresh = Vec::with_capacity(messages.len());
        for message in messages {
            let delivered = self.delivered.get().unwrap_or(0);
            if message.seq <= delivered {
                continue;
            }
            if message.seq != delivered + 1 {
                // Seqs commit without holes, so this cannot be; rather than
                // stall the chat for good, go on from what exists (each
                // connection still checks its own order).
                tracing::error!(chat_id = %message.chat_id, after = delivered, found = message.seq,
                    "a gap in a chat's seqs; delivering from the next stored message");
            }
            self.delivered.advance(message.seq);
            fresh.push(message);
        }
        let done = match (self.delivered.get(), self.fill_to) {
            (Some(delivered), Some(to)) => delivered >= to,
            _ => true,
        };
        if done {
            self.fill_to = None;
        }
        (fresh, done)
    }
}

/// Runs the fills the hub asks for, each chat's in a task of its own,
/// until the hub's side of the channel is gone. A chat asks again only
/// once its fill is over, so the requests waiting are at most one a chat.
pub async fn run_filler(hub: Hub, store: Store, mut requests: mpsc::UnboundedReceiver<Uuid>) {
    let slots = Arc::new(Semaphore::new(FILLS_AT_ONCE));
    while let Some(chat_id) = requests.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (hub, store) = (hub.clone(), store.clone());
        tokio::spawn(async move {
            fill_within_limit(&hub, &store, chat_id).await;
            drop(slot);
        });
    }
}

/// One chat's fill, given up after [`FILL_TIME_LIMIT`]: the cursor then
/// takes offers again, and the sweep's next offer starts a new fill.
async fn fill_within_limit(hub: &Hub, store: &Store, chat_id: Uuid) {
    let mut failing = false;
    let outcome = match tokio::time::timeout(
        FILL_TIME_LIMIT,
        fill(hub, store, chat_id, &mut failing),
    )
    .await
    {
        Ok(()) => "filled",
        Err(_) => {
            tracing::warn!(%chat_id, "a chat's gap fill did not finish in time; the sweep will start another");
            if let Some(cursor) = hub.lock().cursors.get_mut(&chat_id) {
                cursor.fill_to = None;
            }
            if failing { "failed" } else { "timed_out" }
        }
    };
    metrics::counter!("byrd_gap_fills_total", "outcome" => outcome).increment(1);
}

/// Reads and delivers what `chat_id`'s subscribers miss, until the cursor
/// reaches its target or the chat has no subscriber left. A failing
/// database is retried with a growing pause (`failing` says whether the
/// last attempt failed) until the caller's time limit.
async fn fill(hub: &Hub, store: &Store, chat_id: Uuid, failing: &mut bool) {
    let mut failures: u32 = 0;
    loop {
        let Some(span) = hub.lock().cursors.get(&chat_id).and_then(Cursor::next_fill) else {
            return;
        };
        *failing = false;
        match store.messages_after(chat_id, span).await {
            Ok(messages) => match hub.deliver_filled(chat_id, messages) {
                Filled::Done => return,
                Filled::More => {
                    failures = 0;
                    continue;
                }
                // Nothing more stored: the target may be a false hint.
                Filled::Nothing => match store.chat_last_seq(chat_id).await {
                    Ok(stored) if hub.bound_fill(chat_id, stored.unwrap_or(0)) => return,
                    // Committed messages not readable yet (a standby
                    // behind its primary, say): wait as for a failure.
                    Ok(_) => failures += 1,
                    Err(error) => {
                        failures += 1;
                        *failing = true;
                        tracing::warn!(%chat_id, error = %error, "cannot read a chat's position; retrying");
                    }
                },
            },
            Err(error) => {
                failures += 1;
                *failing = true;
                tracing::warn!(%chat_id, error = %error, "cannot read a chat's missing messages; retrying");
            }
        }
        let pause = Duration::from_millis(50) * 2u32.saturating_pow(failures.min(7));
        tokio::time::sleep(pause.min(MAX_FILL_BACKOFF)).await;
    }
}

/// How far one read of a fill got.
enum Filled {
    Done,
    More,
    Nothing,
}

impl Hub {
    /// Holds `chat_id`'s fill to `stored`; true when nothing is left.
    fn bound_fill(&self, chat_id: Uuid, stored: i64) -> bool {
        self.lock()
            .cursors
            .get_mut(&chat_id)
            .is_none_or(|cursor| cursor.bound_fill(stored))
    }

    /// Delivers the messages a fill read.
    fn deliver_filled(&self, chat_id: Uuid, messages: Vec<Message>) -> Filled {
        let mut state = self.lock();
        let Some(cursor) = state.cursors.get_mut(&chat_id) else {
            return Filled::Done;
        };
        let (fresh, done) = cursor.take_filled(messages);
        for message in &fresh {
            fanout::deliver_message(&state, message);
        }
        match (done, fresh.is_empty()) {
            (true, _) => Filled::Done,
            (false, false) => Filled::More,
            (false, true) => Filled::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_seq_is_delivered_and_repeats_are_dropped() {
        let mut cursor = Cursor::starting_at(Some(4));
        assert_eq!(cursor.offer(5, true), Offer::Deliver);
        assert_eq!(cursor.offer(5, true), Offer::Drop);
        assert_eq!(cursor.offer(3, true), Offer::Drop);
        assert_eq!(cursor.delivered.get(), Some(5));
    }

    #[test]
    fn a_gap_starts_one_fill_and_later_offers_raise_its_target() {
        let mut cursor = Cursor::starting_at(Some(4));
        assert_eq!(cursor.offer(7, true), Offer::Fill);
        assert_eq!(cursor.offer(6, true), Offer::Drop);
        assert_eq!(cursor.offer(9, false), Offer::Drop);
        assert_eq!(cursor.fill_to, Some(9));
        let span = cursor.next_fill().unwrap();
        assert_eq!((span.after, span.through, span.limit), (4, 9, 5));
    }

    #[test]
    fn a_target_past_the_stored_last_seq_is_held_to_it() {
        let mut cursor = Cursor::starting_at(Some(4));
        assert_eq!(cursor.offer(1_000_000, true), Offer::Fill);
        assert!(!cursor.bound_fill(6), "5 and 6 are stored, still to fill");
        assert_eq!(cursor.fill_to, Some(6));
        let (fresh, done) = cursor.take_filled(Vec::new());
        assert!(fresh.is_empty() && !done);
        cursor.delivered.advance(6);
        assert!(cursor.bound_fill(6));
        assert_eq!(cursor.fill_to, None);
        assert_eq!(cursor.offer(7, true), Offer::Deliver, "takes offers again");
    }

    #[test]
    fn a_seq_without_its_body_is_filled_even_when_it_is_the_next() {
        let mut cursor = Cursor::starting_at(Some(4));
        assert_eq!(cursor.offer(5, false), Offer::Fill);
    }

    #[test]
    fn an_unknown_position_is_set_by_the_first_message_with_a_body() {
        let mut cursor = Cursor::starting_at(None);
        assert_eq!(cursor.offer(8, false), Offer::Drop);
        assert_eq!(cursor.offer(9, true), Offer::Deliver);
        assert_eq!(cursor.delivered.get(), Some(9));
    }

    #[test]
    fn a_position_places_a_seq_and_only_moves_forward() {
        let mut position = Position::at(Some(4));
        assert_eq!(position.place(3), Place::Repeat);
        assert_eq!(position.place(4), Place::Repeat);
        assert_eq!(position.place(5), Place::Next);
        assert_eq!(position.place(8), Place::Ahead { after: 4 });
        position.advance(8);
        position.advance(6);
        assert_eq!(position.get(), Some(8));
        assert_eq!(Position::default().place(1), Place::Unknown);
    }
}
