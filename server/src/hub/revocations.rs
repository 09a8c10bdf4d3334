//! Revocations: closing the connections a revoked token or session
//! authenticated, including one that registers just after.
//!
//! A handshake checks its token before the revocation commits, then
//! registers after it: the hub remembers each revocation for
//! [`REVOCATION_MEMORY`] and a registration it covers is closed at once
//! (4002). Both happen under the hub's lock, so there is no gap.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::Hub;
use super::fanout::{self, Outbound, Revocation};

/// How long the hub remembers a revocation: far longer than a handshake
/// takes from its token check to its registration.
const REVOCATION_MEMORY: Duration = Duration::from_secs(120);

/// What authenticated a connection, as far as revocation goes.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub jti: String,
    pub session: Option<Uuid>,
}

/// The revocations of the last [`REVOCATION_MEMORY`].
#[derive(Debug, Default)]
pub(super) struct RecentRevocations {
    tokens: HashMap<String, Instant>,
    sessions: HashMap<Uuid, Instant>,
}

impl RecentRevocations {
    fn remember(&mut self, jti: Option<&str>, session: Option<Uuid>, now: Instant) {
        let fresh = |at: &mut Instant| now.duration_since(*at) < REVOCATION_MEMORY;
        self.tokens.retain(|_, at| fresh(at));
        self.sessions.retain(|_, at| fresh(at));
        if let Some(jti) = jti {
            self.tokens.insert(jti.to_owned(), now);
        }
        if let Some(session) = session {
            self.sessions.insert(session, now);
        }
    }

    /// Whether `credentials` were revoked lately.
    pub fn covers(&self, credentials: &Credentials) -> bool {
        self.tokens.contains_key(&credentials.jti)
            || credentials
                .session
                .is_some_and(|session| self.sessions.contains_key(&session))
    }
}

impl Hub {
    /// Remembers a revocation and tells every agent connection, which
    /// closes if it is one the revocation covers.
    pub(super) fn deliver_revocation(&self, jti: Option<&str>, session: Option<Uuid>) {
        let mut state = self.lock();
        state.revocations.remember(jti, session, Instant::now());
        let revocation = Arc::new(Revocation {
            jti: jti.map(str::to_owned),
            session,
        });
        fanout::to_agents(&state, &Outbound::Revoked(revocation));
    }
}
