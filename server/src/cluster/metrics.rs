//! The cluster's metrics: counters by event kind registered once, since
//! publishing and receiving happen for every message; the rarer ones
//! looked up by name where they happen.

use metrics::Counter;

use super::Event;

/// One counter per event kind, under one metric name.
pub(super) struct ByKind {
    message: Counter,
    chat_updated: Counter,
    typing: Counter,
    read: Counter,
    revoked: Counter,
    presence: Counter,
}

impl ByKind {
    pub fn new(name: &'static str) -> ByKind {
        let kind = |kind: &'static str| metrics::counter!(name, "kind" => kind);
        ByKind {
            message: kind("message"),
            chat_updated: kind("chat_updated"),
            typing: kind("typing"),
            read: kind("read"),
            revoked: kind("revoked"),
            presence: kind("presence"),
        }
    }

    /// The counter of `event`'s kind; never asked for an unknown one,
    /// which is dropped before it counts.
    pub fn of(&self, event: &Event) -> &Counter {
        match event {
            Event::Message { .. } => &self.message,
            Event::ChatUpdated { .. } => &self.chat_updated,
            Event::Typing { .. } => &self.typing,
            Event::Read { .. } => &self.read,
            Event::Revoked { .. } => &self.revoked,
            Event::Presence | Event::Unknown => &self.presence,
        }
    }
}

/// Counts an event dropped for `reason`; drops are rare, so the counter is
/// looked up each time.
pub(super) fn dropped(reason: &'static str) {
    metrics::counter!("byrd_redis_events_dropped_total", "reason" => reason).increment(1);
}

/// Sets the gauge that says whether the subscription is live.
pub(super) fn subscribed(live: bool) {
    metrics::gauge!("byrd_redis_subscribed").set(if live { 1.0 } else { 0.0 });
}
