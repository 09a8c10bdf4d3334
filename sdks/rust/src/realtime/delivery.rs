//! Which messages reach the application: per followed chat, the highest
//! `seq` delivered, and the verdict on each message that arrives.
//!
//! `seq` is per chat, starts at 1 and has no gaps, so "delivered up to
//! `n`" says everything: the next message to deliver is `n + 1`, anything
//! at or below `n` is a duplicate, and anything above `n + 1` means the
//! messages in between must be fetched first.

use std::collections::BTreeMap;

use uuid::Uuid;

/// The fate of a message that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The next one: deliver it.
    Next,
    /// Already delivered: drop it.
    Duplicate,
    /// `(after, before)` exclusive is missing: fetch it, then deliver this.
    Gap { after: i64, before: i64 },
    /// Not a chat the client follows: drop it.
    NotFollowed,
}

/// The chats the client follows, in a stable order (resubscribes go out
/// in it), with the highest `seq` delivered in each.
#[derive(Debug, Default)]
pub(crate) struct Follows {
    delivered: BTreeMap<Uuid, i64>,
}

impl Follows {
    /// Follows `chat_id` from `after_seq` on; a chat already followed
    /// keeps its position.
    pub fn follow(&mut self, chat_id: Uuid, after_seq: i64) -> bool {
        if self.delivered.contains_key(&chat_id) {
            return false;
        }
        self.delivered.insert(chat_id, after_seq.max(0));
        true
    }

    pub fn unfollow(&mut self, chat_id: Uuid) {
        self.delivered.remove(&chat_id);
    }

    pub fn delivered(&self, chat_id: Uuid) -> Option<i64> {
        self.delivered.get(&chat_id).copied()
    }

    /// Every followed chat and where it stands.
    pub fn positions(&self) -> Vec<(Uuid, i64)> {
        self.delivered.iter().map(|(id, seq)| (*id, *seq)).collect()
    }

    pub fn judge(&self, chat_id: Uuid, seq: i64) -> Verdict {
        match self.delivered.get(&chat_id) {
            None => Verdict::NotFollowed,
            Some(&delivered) if seq <= delivered => Verdict::Duplicate,
            Some(&delivered) if seq == delivered + 1 => Verdict::Next,
            Some(&delivered) => Verdict::Gap {
                after: delivered,
                before: seq,
            },
        }
    }

    /// Records that `seq` of `chat_id` reached the application; only the
    /// next `seq` moves the position.
    pub fn mark_delivered(&mut self, chat_id: Uuid, seq: i64) -> bool {
        match self.delivered.get_mut(&chat_id) {
            Some(delivered) if seq == *delivered + 1 => {
                *delivered = seq;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_delivered_position() {
        let chat = Uuid::new_v4();
        let mut follows = Follows::default();
        assert_eq!(follows.judge(chat, 1), Verdict::NotFollowed);
        follows.follow(chat, 0);
        assert_eq!(follows.judge(chat, 1), Verdict::Next);
        assert_eq!(
            follows.judge(chat, 4),
            Verdict::Gap {
                after: 0,
                before: 4
            }
        );
        assert!(follows.mark_delivered(chat, 1));
        assert_eq!(follows.judge(chat, 1), Verdict::Duplicate);
        assert!(
            !follows.mark_delivered(chat, 3),
            "a gap never moves the position"
        );
        assert_eq!(follows.delivered(chat), Some(1));
    }

    #[test]
    fn following_again_keeps_the_position() {
        let chat = Uuid::new_v4();
        let mut follows = Follows::default();
        assert!(follows.follow(chat, 5));
        assert!(!follows.follow(chat, 0));
        assert_eq!(follows.delivered(chat), Some(5));
        follows.unfollow(chat);
        assert_eq!(follows.judge(chat, 6), Verdict::NotFollowed);
    }
}
