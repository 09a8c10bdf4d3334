//! The sweep: what makes delivery across nodes not depend on the broker.
//!
//! Every `interval`, and whenever the listener asks (a lost or restored
//! subscription), the node reads the `last_seq` of every chat it serves in
//! one query and offers each that is ahead of its position to the hub,
//! which fills the gap with one range read (those messages are what
//! `byrd_sweep_deliveries_total` counts). It reads the state of the
//! chats changed since its last look and announces again those whose
//! state differs from what this node announced (a lost `chat_updated`;
//! see `hub::chat_states`). It also reads the tokens and sessions revoked
//! since its last look and closes their sockets here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::time::MissedTickBehavior;
use uuid::Uuid;

use crate::hub::{self, Hub, Origin};
use crate::store::ClusterReads;

/// How far back each look at revocations and changed chats reaches before
/// the previous one: both are stamped before their transaction commits,
/// so one that committed just after a look may carry a time before it.
const LOOK_BACK: chrono::Duration = chrono::Duration::seconds(10);

pub(super) async fn run(hub: Hub, store: impl ClusterReads, interval: Duration, now: Arc<Notify>) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut revocations_seen: Option<DateTime<Utc>> = None;
    // From the start: a chat changed since then whose announcement was
    // lost is announced by the first sweep.
    let mut chats_seen = Utc::now();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = now.notified() => {}
        }
        sweep_messages(&hub, &store).await;
        chats_seen = sweep_chats(&hub, &store, chats_seen).await;
        revocations_seen = sweep_revocations(&hub, &store, revocations_seen).await;
    }
}

async fn sweep_messages(hub: &Hub, store: &impl ClusterReads) {
    let positions = hub.positions();
    if positions.is_empty() {
        return;
    }
    let chats: Vec<_> = positions.iter().map(|(chat_id, _)| *chat_id).collect();
    match store.chats_last_seq(&chats).await {
        Ok(stored) => {
            let missed = missed_messages(&positions, &stored);
            if missed > 0 {
                metrics::counter!("byrd_sweep_deliveries_total").increment(missed);
            }
            for (chat_id, last_seq) in stored {
                hub.publish(
                    hub::Event::Message {
                        chat_id,
                        seq: last_seq,
                        message: None,
                    },
                    Origin::Elsewhere,
                );
            }
        }
        Err(error) => tracing::warn!(error = %error, "the sweep cannot read chat positions"),
    }
}

/// How many stored messages the delivery positions are behind: what live
/// fan-out missed and the sweep has filled.
fn missed_messages(positions: &[(Uuid, i64)], stored: &[(Uuid, i64)]) -> u64 {
    let positions: HashMap<Uuid, i64> = positions.iter().copied().collect();
    stored
        .iter()
        .filter_map(|(chat_id, last_seq)| {
            let behind = last_seq - positions.get(chat_id)?;
            u64::try_from(behind).ok()
        })
        .sum()
}

/// Announces the chats changed since `seen` whose `chat_updated` did not
/// reach this node; returns where the next look starts.
async fn sweep_chats(hub: &Hub, store: &impl ClusterReads, seen: DateTime<Utc>) -> DateTime<Utc> {
    let changed = match store.chats_changed_since(seen - LOOK_BACK).await {
        Ok(changed) => changed,
        Err(error) => {
            tracing::warn!(error = %error, "the sweep cannot read changed chats");
            return seen;
        }
    };
    for chat_id in hub.stale_chats(&changed.chats) {
        match store.chat_by_id(chat_id).await {
            Ok(Some(chat)) => hub.publish(hub::Event::ChatUpdated(&chat), Origin::Elsewhere),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(error = %error, %chat_id, "the sweep cannot read a changed chat");
                // Looked at again next time.
                return seen;
            }
        }
    }
    changed.as_of
}

/// Closes the sockets of what was revoked since `seen`; returns where the
/// next look starts.
async fn sweep_revocations(
    hub: &Hub,
    store: &impl ClusterReads,
    seen: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let since = seen.map(|seen| seen - LOOK_BACK);
    match store.revocations_since(since).await {
        Ok(revocations) => {
            for jti in &revocations.tokens {
                hub.publish(
                    hub::Event::Revoked {
                        jti: Some(jti),
                        session: None,
                    },
                    Origin::Elsewhere,
                );
            }
            for session in &revocations.sessions {
                hub.publish(
                    hub::Event::Revoked {
                        jti: None,
                        session: Some(*session),
                    },
                    Origin::Elsewhere,
                );
            }
            Some(revocations.as_of)
        }
        Err(error) => {
            tracing::warn!(error = %error, "the sweep cannot read revocations");
            seen
        }
    }
}

#[cfg(test)]
mod tests {
    use byrd_spec::chat::Chat;

    use super::*;
    use crate::store::{ChangedChats, Revocations, StoreError};

    /// A shared database that answers the sweep's reads with nothing new
    /// as of `as_of`, or fails them.
    struct Database {
        as_of: DateTime<Utc>,
        failing: bool,
    }

    impl Database {
        fn answer<T>(&self, value: T) -> Result<T, StoreError> {
            if self.failing {
                return Err(StoreError::Unavailable);
            }
            Ok(value)
        }
    }

    impl ClusterReads for Database {
        async fn chats_last_seq(&self, _: &[Uuid]) -> Result<Vec<(Uuid, i64)>, StoreError> {
            self.answer(Vec::new())
        }

        async fn chats_changed_since(&self, _: DateTime<Utc>) -> Result<ChangedChats, StoreError> {
            self.answer(ChangedChats {
                chats: Vec::new(),
                as_of: self.as_of,
            })
        }

        async fn chat_by_id(&self, _: Uuid) -> Result<Option<Chat>, StoreError> {
            self.answer(None)
        }

        async fn revocations_since(
            &self,
            _: Option<DateTime<Utc>>,
        ) -> Result<Revocations, StoreError> {
            self.answer(Revocations {
                as_of: self.as_of,
                ..Revocations::default()
            })
        }
    }

    #[test]
    fn the_messages_missed_are_those_stored_past_each_position() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let positions = [(a, 4), (b, 9), (c, 2)];
        assert_eq!(missed_messages(&positions, &[(a, 7), (b, 9), (c, 1)]), 3);
    }

    #[tokio::test]
    async fn each_look_starts_where_the_database_answered_and_a_failed_one_is_repeated() {
        let hub = Hub::new(16);
        let as_of = Utc::now();
        let seen = as_of - chrono::Duration::minutes(1);
        let answering = Database {
            as_of,
            failing: false,
        };
        assert_eq!(sweep_chats(&hub, &answering, seen).await, as_of);
        assert_eq!(
            sweep_revocations(&hub, &answering, Some(seen)).await,
            Some(as_of)
        );
        let failing = Database {
            as_of,
            failing: true,
        };
        assert_eq!(sweep_chats(&hub, &failing, seen).await, seen);
        assert_eq!(
            sweep_revocations(&hub, &failing, Some(seen)).await,
            Some(seen)
        );
    }
}
