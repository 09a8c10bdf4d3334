//! Subscribes read ahead.
//!
//! An agent coming back sends a `subscribe` for every chat it follows,
//! hundreds at once. Run strictly one after another, each waited for its
//! chat's `last_seq` and then for its turn among every other task: in a
//! reconnect storm of 18,000 sockets an agent following 900 chats was
//! back only when the storm was over, and messages to its chats waited
//! for it.
//!
//! So when an agent's `subscribe` arrives, the frames already received
//! behind it come along (up to [`LOOK_AHEAD`], for as long as they are
//! subscribes), their chats' positions are read together, in one batched
//! query, then the first page of every replay they ask for, all at once,
//! and then every frame runs in order as usual, each subscribe taking its
//! chat's position and first page from here (stored messages never
//! change, so a page read a moment early is the page). Frames are still
//! charged, parsed and answered one by one. The reads come before the
//! charging: only agents read ahead, at most [`LOOK_AHEAD`] chats a time,
//! and a batched read of their positions costs about what one did.

use std::collections::HashMap;

use byrd_spec::message::Message;
use serde::Deserialize;
use uuid::Uuid;

use crate::hub::Mark;
use crate::store::StoreError;

/// Most frames taken behind a `subscribe` at once.
pub(super) const LOOK_AHEAD: usize = 64;

/// The chats' positions read ahead, with the hub's mark taken before the
/// reads (see `Hub::subscribe`).
pub(super) struct ReadAhead {
    mark: Mark,
    last_seqs: HashMap<Uuid, Result<Option<i64>, StoreError>>,
    /// First pages of replays: the messages after a `seq`, by chat.
    pages: HashMap<Uuid, (i64, Vec<Message>)>,
}

impl ReadAhead {
    pub fn new(mark: Mark, last_seqs: HashMap<Uuid, Result<Option<i64>, StoreError>>) -> Self {
        ReadAhead {
            mark,
            last_seqs,
            pages: HashMap::new(),
        }
    }

    /// The position read for `chat_id`, unless it could not be read.
    pub fn last_seq(&self, chat_id: Uuid) -> Option<i64> {
        self.last_seqs
            .get(&chat_id)?
            .as_ref()
            .ok()
            .copied()
            .flatten()
    }

    /// Keeps a page of `chat_id`'s messages after `after`, in order; an
    /// empty page says nothing (more may have come since) and is not kept.
    pub fn keep_page(&mut self, chat_id: Uuid, after: i64, page: Vec<Message>) {
        if !page.is_empty() {
            self.pages.insert(chat_id, (after, page));
        }
    }

    /// The page of `chat_id`'s messages after `after`, once.
    pub fn take_page(&mut self, chat_id: Uuid, after: i64) -> Option<Vec<Message>> {
        match self.pages.remove(&chat_id)? {
            (from, page) if from == after => Some(page),
            _ => None,
        }
    }

    /// The position read for `chat_id`, once: a second subscribe of the
    /// same chat reads again.
    pub fn take(&mut self, chat_id: Uuid) -> Option<(Mark, Result<Option<i64>, StoreError>)> {
        Some((self.mark, self.last_seqs.remove(&chat_id)?))
    }
}

/// The chat a text frame subscribes to, when it is a `subscribe`; a quick
/// look, the frame is parsed for real when it runs.
pub(super) fn subscribed_chat(text: &str) -> Option<Uuid> {
    subscribe_of(text).map(|(chat_id, _)| chat_id)
}

/// The chat and `after_seq` of a `subscribe`; see [`subscribed_chat`].
pub(super) fn subscribe_of(text: &str) -> Option<(Uuid, i64)> {
    #[derive(Deserialize)]
    struct Peek<'a> {
        #[serde(rename = "type", borrow)]
        kind: &'a str,
        chat_id: Uuid,
        #[serde(default)]
        after_seq: i64,
    }
    let peek: Peek<'_> = serde_json::from_str(text).ok()?;
    (peek.kind == "subscribe").then_some((peek.chat_id, peek.after_seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_subscribe_with_a_chat_is_seen_as_one() {
        let chat = Uuid::now_v7();
        let frame = |text: String| subscribed_chat(&text);
        assert_eq!(
            frame(format!(
                r#"{{"type":"subscribe","chat_id":"{chat}","after_seq":3}}"#
            )),
            Some(chat)
        );
        assert_eq!(
            frame(format!(r#"{{"type":"unsubscribe","chat_id":"{chat}"}}"#)),
            None
        );
        assert_eq!(frame(r#"{"type":"subscribe","chat_id":"x"}"#.into()), None);
        assert_eq!(frame(r#"{"type":"subscribe"#.into()), None);
    }
}
