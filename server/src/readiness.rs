//! Readiness: whether this node should be sent traffic, as `/readyz`
//! answers it.
//!
//! A node is ready while its database answers and, when it is one of
//! several (Redis configured), while its subscription to the other nodes'
//! events is live: without it, its sockets hear of their messages only at
//! the next sweep. What tells whether the subscription is live is handed
//! in as a check (`Readiness::with_subscription`), so the cluster code can
//! own it; `/healthz` stays liveness only.

use std::fmt;
use std::sync::Arc;

/// Whether the cluster subscription is live, asked at every `/readyz`.
type SubscriptionCheck = Arc<dyn Fn() -> bool + Send + Sync>;

/// What `/readyz` asks besides the database.
#[derive(Clone, Default)]
pub struct Readiness {
    /// `None` for a node that runs alone.
    subscription: Option<SubscriptionCheck>,
}

impl Readiness {
    /// A node that runs alone: only the database counts.
    pub fn standalone() -> Readiness {
        Readiness::default()
    }

    /// A node of a cluster, ready only while `is_subscribed` says its
    /// subscription is live.
    pub fn with_subscription(
        is_subscribed: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Readiness {
        Readiness {
            subscription: Some(Arc::new(is_subscribed)),
        }
    }

    /// `None` without a cluster, else whether the subscription is live.
    pub fn subscription_live(&self) -> Option<bool> {
        self.subscription.as_ref().map(|check| check())
    }
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Readiness")
            .field("clustered", &self.subscription.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn a_standalone_node_has_no_subscription_to_check() {
        assert_eq!(Readiness::standalone().subscription_live(), None);
    }

    #[test]
    fn a_cluster_node_asks_its_check_every_time() {
        let live = Arc::new(AtomicBool::new(true));
        let seen = live.clone();
        let readiness = Readiness::with_subscription(move || seen.load(Ordering::Relaxed));
        assert_eq!(readiness.subscription_live(), Some(true));
        live.store(false, Ordering::Relaxed);
        assert_eq!(readiness.subscription_live(), Some(false));
    }
}
