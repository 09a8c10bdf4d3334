//! The hub's way out to the other nodes: each event that happened on this
//! node, translated to what crosses the broker and queued for the
//! publisher; and the presence rounds' bell.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc};

use super::Event;
use crate::hub::{self, Relay};

#[derive(Debug)]
pub(super) struct ClusterRelay {
    /// Events for the other nodes. Bounded: when the broker is too slow
    /// they are dropped, which the other nodes' sweeps make good.
    pub events: mpsc::Sender<Event>,
    /// Rung when this node's set of online agents changes.
    pub presence_changed: Arc<Notify>,
}

impl Relay for ClusterRelay {
    fn forward(&self, event: &hub::Event<'_>) {
        // A full queue drops the event: it is only a hint.
        let _ = self.events.try_send(Event::of(event));
    }

    fn presence_changed(&self) {
        self.presence_changed.notify_one();
    }
}
