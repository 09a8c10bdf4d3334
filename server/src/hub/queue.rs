//! A connection's outbound queue, what the hub hands one connection:
//! bounded, never waiting on the sending side, and costing next to nothing
//! while empty. (Not to be confused with an SDK's outbox of unacked
//! sends: this queue holds what the server is about to write.)
//!
//! tokio's bounded channel allocates its first block of slots and its
//! cache-padded state up front, about a kilobyte for every connection,
//! busy or idle. Idle chat sockets are the common case, so this queue is a
//! `VecDeque` behind a mutex that grows only when items come and gives the
//! room back once drained, and a `Notify` to wake the one receiver.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::Outbound;

/// Room kept after a drain; a busier queue gives the rest back.
const KEPT_CAPACITY: usize = 16;

#[derive(Debug)]
struct Shared {
    items: Mutex<VecDeque<Outbound>>,
    ready: Notify,
    capacity: usize,
}

impl Shared {
    fn items(&self) -> std::sync::MutexGuard<'_, VecDeque<Outbound>> {
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The hub's end.
#[derive(Debug)]
pub struct QueueSender(Arc<Shared>);

/// The connection's end: what the hub queued for it, live messages and
/// events, in order.
#[derive(Debug)]
pub struct ConnectionQueue(Arc<Shared>);

/// The queue was full: the receiver is a slow consumer.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

/// A queue holding at most `capacity` items: the hub's end and the
/// connection's.
pub fn connection_queue(capacity: usize) -> (QueueSender, ConnectionQueue) {
    let shared = Arc::new(Shared {
        items: Mutex::new(VecDeque::new()),
        ready: Notify::new(),
        capacity: capacity.max(1),
    });
    (QueueSender(shared.clone()), ConnectionQueue(shared))
}

impl QueueSender {
    /// Queues `item` without waiting.
    pub fn try_send(&self, item: Outbound) -> Result<(), Full> {
        {
            let mut items = self.0.items();
            if items.len() >= self.0.capacity {
                return Err(Full);
            }
            items.push_back(item);
        }
        self.0.ready.notify_one();
        Ok(())
    }
}

impl ConnectionQueue {
    /// The next item, waiting for one.
    pub async fn recv(&mut self) -> Outbound {
        loop {
            if let Some(item) = self.try_recv() {
                return item;
            }
            self.0.ready.notified().await;
        }
    }

    /// Puts `items` back at the front, in their order: they go out before
    /// anything queued since. For items the connection held back while it
    /// wrote something that must come first; the queue may run over its
    /// capacity by them until they are taken again.
    pub fn put_back(&mut self, items: Vec<Outbound>) {
        let mut queue = self.0.items();
        for item in items.into_iter().rev() {
            queue.push_front(item);
        }
    }

    /// The next item if one is queued.
    pub fn try_recv(&mut self) -> Option<Outbound> {
        let mut items = self.0.items();
        let item = items.pop_front();
        if items.is_empty() && items.capacity() > KEPT_CAPACITY {
            items.shrink_to(KEPT_CAPACITY);
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn items_come_out_in_order_and_a_full_queue_refuses() {
        let (tx, mut rx) = connection_queue(2);
        let frame = |text: &str| Outbound::Frame(Arc::new(text.to_owned()));
        tx.try_send(frame("a")).unwrap();
        tx.try_send(frame("b")).unwrap();
        assert_eq!(tx.try_send(frame("c")), Err(Full));
        for expected in ["a", "b"] {
            match rx.recv().await {
                Outbound::Frame(text) => assert_eq!(text.as_str(), expected),
                other => panic!("unexpected {other:?}"),
            }
        }
        let waiting = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        tx.try_send(frame("d")).unwrap();
        assert!(matches!(waiting.await.unwrap(), Outbound::Frame(t) if t.as_str() == "d"));
    }

    #[test]
    fn items_put_back_come_out_first_in_their_order() {
        let (tx, mut rx) = connection_queue(4);
        let frame = |text: &str| Outbound::Frame(Arc::new(text.to_owned()));
        tx.try_send(frame("c")).unwrap();
        rx.put_back(vec![frame("a"), frame("b")]);
        for expected in ["a", "b", "c"] {
            match rx.try_recv() {
                Some(Outbound::Frame(text)) => assert_eq!(text.as_str(), expected),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(rx.try_recv().is_none());
    }
}
