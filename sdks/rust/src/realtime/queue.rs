//! Following the queue (`subscribe_queue`, agents only): the server then
//! sends the messages, typing and read events of every chat that is not
//! closed, without a `subscribe` per chat. The task sends it again after
//! every `hello`, as it resumes followed chats, until the application
//! unsubscribes from the queue (`unsubscribe_queue`).
//!
//! Nothing is replayed: what came while disconnected is found by comparing
//! `last_seq` from [`Client::list_chat_summaries`](crate::Client) with what
//! the application has. A chat also followed with `subscribe` keeps its
//! exactly-once, in-order delivery; the queue's messages of other chats
//! are passed on as they come (the server sends each once and in order on
//! a connection).

use crate::types::{ClientFrame, ClientSubscribeQueue, ClientUnsubscribeQueue};

/// `ref` of the client's `subscribe_queue` frames.
pub(crate) const QUEUE_REF: &str = "subscribe_queue";
/// `ref` of the client's `unsubscribe_queue` frames.
pub(crate) const UNQUEUE_REF: &str = "unsubscribe_queue";

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

    /// Stops following the queue; true when it was followed, when the
    /// frame is to be written.
    pub fn unfollow(&mut self) -> bool {
        std::mem::take(&mut self.following)
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

pub(crate) fn unsubscribe_queue_frame() -> ClientFrame {
    ClientFrame::UnsubscribeQueue(ClientUnsubscribeQueue {
        reference: Some(UNQUEUE_REF.into()),
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

    #[test]
    fn unfollowing_is_written_only_when_following_and_ends_it() {
        let mut queue = QueueFollow::default();
        assert!(!queue.unfollow());
        queue.follow();
        assert!(queue.unfollow());
        assert!(!queue.following());
        assert!(!queue.unfollow());
        assert!(queue.follow(), "following again writes the frame again");
        let text = serde_json::to_string(&unsubscribe_queue_frame()).unwrap();
        assert_eq!(
            text,
            r#"{"type":"unsubscribe_queue","ref":"unsubscribe_queue"}"#
        );
    }
}
