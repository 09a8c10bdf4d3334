//! Messages offered while nobody here followed their chat.
//!
//! A chat's position starts from its `last_seq` read before the first
//! subscription joins. A message committed between that read and the join
//! is offered to a hub with no cursor for the chat and dropped; the new
//! cursor then starts below it, and only a later message of the chat
//! would have it filled. In a quiet chat there may be none: the message
//! would never reach the subscriber live. Reconnect storms make the
//! window wide (tens of thousands of reads queue at once), and a storm of
//! 18,000 sockets left 22 chats behind this way.
//!
//! So the hub remembers the last offers it dropped, and a subscriber
//! takes a [`Mark`] before its read: at the join, any offer of its chat
//! dropped since the mark and above the read position starts a fill. When
//! more offers were dropped since the mark than are remembered, the join
//! fills to whatever is stored, which costs a read or two and misses
//! nothing.

use std::collections::VecDeque;

use uuid::Uuid;

/// Dropped offers remembered: far more than reach a node during one read.
const REMEMBERED: usize = 4096;

/// The count of dropped offers when a subscriber began its read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark(u64);

/// What a join must fill beyond its read position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// Nothing of the chat was dropped since the mark.
    Nothing,
    /// The chat's messages up to this `seq` were dropped.
    Through(i64),
    /// Too much was dropped since the mark to tell: fill to the end.
    Unknown,
}

#[derive(Debug, Default)]
pub(super) struct Unfollowed {
    recent: VecDeque<(Uuid, i64)>,
    /// Offers dropped since the hub started; the last `recent.len()` of
    /// them are remembered.
    dropped: u64,
}

impl Unfollowed {
    pub fn mark(&self) -> Mark {
        Mark(self.dropped)
    }

    pub fn dropped(&mut self, chat_id: Uuid, seq: i64) {
        if self.recent.len() == REMEMBERED {
            self.recent.pop_front();
        }
        self.recent.push_back((chat_id, seq));
        self.dropped += 1;
    }

    /// What of `chat_id` was dropped since `mark`.
    pub fn since(&self, mark: Mark, chat_id: Uuid) -> Missed {
        let since = self.dropped.saturating_sub(mark.0);
        if since > self.recent.len() as u64 {
            return Missed::Unknown;
        }
        let newer = self.recent.len() - since as usize;
        self.recent
            .range(newer..)
            .filter(|(chat, _)| *chat == chat_id)
            .map(|(_, seq)| *seq)
            .max()
            .map_or(Missed::Nothing, Missed::Through)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_was_dropped_after_the_mark_counts() {
        let (chat, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut unfollowed = Unfollowed::default();
        unfollowed.dropped(chat, 3);
        let mark = unfollowed.mark();
        assert_eq!(unfollowed.since(mark, chat), Missed::Nothing);
        unfollowed.dropped(other, 9);
        unfollowed.dropped(chat, 4);
        unfollowed.dropped(chat, 5);
        assert_eq!(unfollowed.since(mark, chat), Missed::Through(5));
        assert_eq!(unfollowed.since(mark, other), Missed::Through(9));
        assert_eq!(unfollowed.since(unfollowed.mark(), chat), Missed::Nothing);
    }

    #[test]
    fn a_mark_older_than_what_is_remembered_asks_for_everything() {
        let chat = Uuid::from_u128(1);
        let mut unfollowed = Unfollowed::default();
        let mark = unfollowed.mark();
        for seq in 0..REMEMBERED as i64 {
            unfollowed.dropped(Uuid::from_u128(2), seq);
        }
        assert_eq!(unfollowed.since(mark, chat), Missed::Nothing);
        unfollowed.dropped(Uuid::from_u128(2), 0);
        assert_eq!(unfollowed.since(mark, chat), Missed::Unknown);
    }
}
