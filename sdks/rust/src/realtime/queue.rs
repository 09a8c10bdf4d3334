//! Following the queue (`subscribe_queue`, agents only): the server then
//! sends the messages, typing and read events of every chat that is not
//! closed, without a `subscribe` per chat. The task sends it again after
//! every `hello`, as it resumes followed chats.
//!
//! Nothing is replayed: what came while disconnected is found by comparing
//! `last_seq` from [`Client::list_chat_summaries`](crate::Client) with what
//! the application has. A chat also followed with `subscribe` keeps its
//! exactly-once, in-order delivery; the queue's messages of other chats
//! are passed on as they come (the server sends each once and in order on
//! a connection).

use crate::types::{ClientFrame, ClientSubscribeQueue};

/// `ref` of the client's `subscribe_queue` frames.
pub(crate) const QUEUE_REF: &str = "subscribe_queue";

/// Whether the application asked to follow the queue.
#[derive(Debug, Default)]
pub(crate) struct QueueFollow {
    following: bool,
}

impl QueueFollow {
    /// Follows the queue from now on; true the first time, when the frame
    /// is to be written.
    pub fn follow(&mut self) -> bool {
        !std::mem::replace(&mut self.following, true)
    }

    pub fn following(&self) -> bool {
        self.following
    }
}

pub(crate) fn subscribe_queue_frame() -> ClientFrame {
    ClientFrame::SubscribeQueue(ClientSubscribeQueue {
        reference: Some(QUEUE_REF.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn following_is_asked_once_and_kept() {
        let mut queue = QueueFollow::default();
        assert!(!queue.following());
        assert!(queue.follow());
        assert!(!queue.follow());
        assert!(queue.following());
        let text = serde_json::to_string(&subscribe_queue_frame()).unwrap();
        assert_eq!(
            text,
            r#"{"type":"subscribe_queue","ref":"subscribe_queue"}"#
        );
    }
}
