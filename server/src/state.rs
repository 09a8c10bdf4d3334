//! Shared state handed to every handler.

use std::ops::Deref;
use std::sync::Arc;

use uuid::Uuid;

use crate::auth::{FailedLogins, PasswordSlots, TokenAuthority, TokenKeys, TrustedIssuers};
use crate::configuration::Settings;
use crate::hub::Hub;
use crate::rate_limit::RateLimiter;
use crate::readiness::Readiness;
use crate::socket_caps::SocketCaps;
use crate::store::Store;
use crate::ws::gate::HandshakeGate;

/// Cheap to clone: one `Arc` around everything.
#[derive(Clone, Debug)]
pub struct AppState(Arc<AppStateInner>);

#[derive(Debug)]
pub struct AppStateInner {
    /// The database; lives as long as the server.
    pub store: Store,
    /// Signs and verifies every token; fixed at start-up.
    pub tokens: TokenKeys,
    /// Backends whose agent and visitor identity tokens are accepted;
    /// fixed at start-up, their JWKS refreshed as they go.
    pub trusted_issuers: TrustedIssuers,
    /// Settings the server started with.
    pub settings: Settings,
    /// Limits chat starts per client address, against widget abuse.
    pub chat_start_limiter: RateLimiter,
    /// Limits logins and refreshes per client address, against guessing.
    pub login_limiter: RateLimiter,
    /// Live fan-out to WebSocket connections.
    pub hub: Hub,
    /// Limits sends per principal, over REST and WebSocket together.
    pub send_limiter: RateLimiter<Uuid>,
    /// Limits history reads per principal, over REST and WebSocket.
    pub read_limiter: RateLimiter<Uuid>,
    /// Takes guests' WebSocket handshakes a few at a time.
    pub handshakes: HandshakeGate,
    /// Caps open WebSockets per principal and per address.
    pub socket_caps: Arc<SocketCaps>,
    /// Throttles failed logins per account, against distributed guessing.
    pub failed_logins: FailedLogins,
    /// Bounds the password hashes computed at once.
    pub password_slots: PasswordSlots,
    /// What `/readyz` asks besides the database; fixed at start-up.
    pub readiness: Readiness,
}

impl AppState {
    pub fn new(inner: AppStateInner) -> Self {
        AppState(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl TokenAuthority for AppState {
    fn token_keys(&self) -> &TokenKeys {
        &self.tokens
    }

    fn trusted_issuers(&self) -> &TrustedIssuers {
        &self.trusted_issuers
    }

    fn store(&self) -> &Store {
        &self.store
    }
}
