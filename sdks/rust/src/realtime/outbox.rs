//! Sends waiting for their `ack`, in the order they were made.
//!
//! A send stays here from the moment the application makes it until it
//! settles: with the stored message from its `ack`, with the server's
//! error, or with the client's final error. Each settles exactly once,
//! because settling takes its reply channel out. A dropped connection
//! marks every entry unsent, and the next connection sends them again, in
//! order, with the same `client_msg_id`, which the server stores at most
//! once.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::sync::oneshot;
use uuid::Uuid;

use super::backoff::Backoff;
use crate::Error;
use crate::types::{ClientSend, Message};

/// The bounded queue of sends.
pub(crate) struct Outbox {
    capacity: usize,
    entries: VecDeque<Entry>,
    /// Once set, every new send fails with it.
    closed: Option<Error>,
}

struct Entry {
    frame: ClientSend,
    reply: oneshot::Sender<Result<Message, Error>>,
    /// Written on the current connection.
    sent: bool,
    /// Not to be written before this (the server refused it, storing
    /// nothing).
    not_before: Option<Instant>,
    /// How often the server refused it so far; each wait is longer.
    refusals: u32,
}

impl Outbox {
    pub fn new(capacity: usize) -> Outbox {
        Outbox {
            capacity,
            entries: VecDeque::new(),
            closed: None,
        }
    }

    /// Queues a send; fails at once when the queue is full or closed.
    pub fn push(&mut self, chat_id: Uuid, client_msg_id: String, body: String) -> PendingSend {
        if let Some(error) = &self.closed {
            return PendingSend::ready(client_msg_id, Err(error.clone()));
        }
        if self.entries.len() >= self.capacity {
            return PendingSend::ready(
                client_msg_id,
                Err(Error::QueueFull {
                    capacity: self.capacity,
                }),
            );
        }
        let (reply, receiver) = oneshot::channel();
        self.entries.push_back(Entry {
            frame: ClientSend {
                chat_id,
                client_msg_id: client_msg_id.clone(),
                body,
                reference: None,
            },
            reply,
            sent: false,
            not_before: None,
            refusals: 0,
        });
        PendingSend {
            client_msg_id,
            state: PendingState::Waiting(receiver),
        }
    }

    /// The frames to write now, in order, marked as sent.
    pub fn take_unsent(&mut self, now: Instant) -> Vec<ClientSend> {
        self.entries
            .iter_mut()
            .filter(|entry| !entry.sent && entry.not_before.is_none_or(|at| at <= now))
            .map(|entry| {
                entry.sent = true;
                entry.not_before = None;
                entry.frame.clone()
            })
            .collect()
    }

    /// The earliest moment a deferred send may go again.
    pub fn next_deferred(&self) -> Option<Instant> {
        self.entries.iter().filter_map(|e| e.not_before).min()
    }

    /// Every send written and not acked goes again on this connection
    /// (those refused and waiting keep their wait): a refusal named no
    /// frame, so any of them may be the one the server did not read.
    pub fn resend_written(&mut self) {
        self.mark_all_unsent();
    }

    /// The connection dropped: everything not acked goes again.
    pub fn mark_all_unsent(&mut self) {
        for entry in &mut self.entries {
            entry.sent = false;
        }
    }

    /// Settles the oldest send of `client_msg_id` with its stored message.
    pub fn ack(&mut self, client_msg_id: &str, message: Message) -> bool {
        self.settle(client_msg_id, Ok(message))
    }

    /// Settles the oldest send of `client_msg_id` with the server's error.
    pub fn reject(&mut self, client_msg_id: &str, error: Error) -> bool {
        self.settle(client_msg_id, Err(error))
    }

    /// Holds a send the server refused without storing it (`rate_limited`,
    /// `unavailable`) and writes it again after the frame backoff, longer
    /// with each refusal of the same send.
    pub fn defer(&mut self, client_msg_id: &str, now: Instant) -> bool {
        match self
            .entries
            .iter_mut()
            .find(|e| e.frame.client_msg_id == client_msg_id)
        {
            Some(entry) => {
                entry.refusals += 1;
                entry.sent = false;
                entry.not_before = Some(now + Backoff::for_frames().delay(entry.refusals));
                true
            }
            None => false,
        }
    }

    pub fn contains(&self, client_msg_id: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.frame.client_msg_id == client_msg_id)
    }

    /// Settles every send with `error`, and every later one too.
    pub fn close(&mut self, error: Error) {
        for entry in self.entries.drain(..) {
            let _ = entry.reply.send(Err(error.clone()));
        }
        self.closed = Some(error);
    }

    fn settle(&mut self, client_msg_id: &str, outcome: Result<Message, Error>) -> bool {
        let Some(index) = self
            .entries
            .iter()
            .position(|e| e.frame.client_msg_id == client_msg_id)
        else {
            return false;
        };
        if let Some(entry) = self.entries.remove(index) {
            // The application may have dropped its future; the send still
            // counts as settled.
            let _ = entry.reply.send(outcome);
        }
        true
    }
}

/// A send in flight: resolves with the stored message once the server
/// acked it, or with the error that settled it. Dropping it does not
/// cancel the send.
#[must_use = "a send settles with the stored message or an error"]
pub struct PendingSend {
    client_msg_id: String,
    state: PendingState,
}

enum PendingState {
    Waiting(oneshot::Receiver<Result<Message, Error>>),
    Ready(Option<Result<Message, Error>>),
}

impl PendingSend {
    /// Whether the send was queued (false: it failed at once).
    pub(crate) fn queued(&self) -> bool {
        matches!(self.state, PendingState::Waiting(_))
    }

    fn ready(client_msg_id: String, outcome: Result<Message, Error>) -> PendingSend {
        PendingSend {
            client_msg_id,
            state: PendingState::Ready(Some(outcome)),
        }
    }

    /// The send's idempotency key.
    pub fn client_msg_id(&self) -> &str {
        &self.client_msg_id
    }
}

impl Future for PendingSend {
    type Output = Result<Message, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match &mut this.state {
            PendingState::Ready(outcome) => Poll::Ready(outcome.take().unwrap_or_else(|| {
                Err(Error::Closed {
                    code: None,
                    reason: "polled after it settled".into(),
                })
            })),
            PendingState::Waiting(receiver) => Pin::new(receiver).poll(cx).map(|outcome| {
                outcome.unwrap_or_else(|_| {
                    Err(Error::Closed {
                        code: None,
                        reason: "the realtime client stopped".into(),
                    })
                })
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(client_msg_id: &str) -> Message {
        serde_json::from_value(serde_json::json!({
            "id": Uuid::new_v4(), "chat_id": Uuid::nil(), "seq": 1,
            "author": {"type": "guest", "id": Uuid::nil(), "name": null},
            "body": "hi", "client_msg_id": client_msg_id, "created_at": "2026-01-01T12:00:00Z"
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_sends_settle_once() {
        let mut outbox = Outbox::new(2);
        let first = outbox.push(Uuid::nil(), "a".into(), "1".into());
        let second = outbox.push(Uuid::nil(), "b".into(), "2".into());
        let third = outbox.push(Uuid::nil(), "c".into(), "3".into());
        assert!(matches!(third.await, Err(Error::QueueFull { capacity: 2 })));
        assert!(outbox.ack("a", message("a")));
        assert!(
            !outbox.ack("a", message("a")),
            "an ack settles one send only"
        );
        assert_eq!(first.await.unwrap().client_msg_id, "a");
        outbox.close(Error::Closed {
            code: None,
            reason: "bye".into(),
        });
        assert!(matches!(second.await, Err(Error::Closed { .. })));
        let late = outbox.push(Uuid::nil(), "d".into(), "4".into());
        assert!(matches!(late.await, Err(Error::Closed { .. })));
    }

    #[test]
    fn a_dropped_connection_resends_everything_unacked_in_order() {
        let mut outbox = Outbox::new(10);
        let _pending: Vec<PendingSend> = ["a", "b", "c"]
            .iter()
            .map(|id| outbox.push(Uuid::nil(), (*id).into(), "x".into()))
            .collect();
        let now = Instant::now();
        assert_eq!(outbox.take_unsent(now).len(), 3);
        assert!(outbox.take_unsent(now).is_empty());
        outbox.ack("b", message("b"));
        outbox.mark_all_unsent();
        let again: Vec<String> = outbox
            .take_unsent(now)
            .into_iter()
            .map(|f| f.client_msg_id)
            .collect();
        assert_eq!(again, ["a", "c"]);
        outbox.defer("a", now);
        assert!(outbox.take_unsent(now).is_empty());
        let frames = Backoff::for_frames();
        assert!(outbox.next_deferred() >= Some(now + frames.floor));
        let later = now + frames.cap;
        assert_eq!(outbox.take_unsent(later).len(), 1);
    }
}
