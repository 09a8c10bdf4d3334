//! The token a connection lives by: when to warn (`token_expiring`) and
//! when to close (4001), renewed by `refresh_token`.

use std::time::Duration;

use byrd_spec::claims::Claims;
use byrd_spec::ws::ServerFrame;
use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::configuration::Settings;

/// `exp` (seconds) as a time; out-of-range values count as already expired.
pub(super) fn expiry_of(claims: &Claims) -> DateTime<Utc> {
    DateTime::from_timestamp(claims.exp(), 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn deadline(at: DateTime<Utc>) -> Instant {
    let from_now = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    Instant::now() + from_now
}

/// The current token's clock.
#[derive(Debug)]
pub(super) struct TokenClock {
    pub expires_at: DateTime<Utc>,
    /// Whether `token_expiring` was sent for the current token.
    pub warned: bool,
}

impl TokenClock {
    pub fn of(claims: &Claims) -> TokenClock {
        TokenClock {
            expires_at: expiry_of(claims),
            warned: false,
        }
    }

    /// When to send `token_expiring`: the configured time before `exp`,
    /// but not before half the token's life, so that a short-lived token is
    /// not announced as expiring (and refreshed) the moment it arrives.
    pub fn warn_at(&self, claims: &Claims, settings: &Settings) -> Instant {
        let warning =
            chrono::Duration::from_std(settings.ws.token_expiry_warning).unwrap_or_default();
        let half_life = chrono::Duration::seconds((claims.exp() - claims.iat()).max(0) / 2);
        deadline(self.expires_at - warning.min(half_life))
    }

    /// When to close: the handshake admits a token until `exp` plus the
    /// clock leeway, and the live socket keeps the same rule.
    pub fn expire_at(&self, settings: &Settings) -> Instant {
        let leeway = chrono::Duration::from_std(settings.jwt.leeway.get()).unwrap_or_default();
        deadline(self.expires_at + leeway)
    }

    /// The warning to send, once.
    pub fn warning(&mut self) -> ServerFrame {
        self.warned = true;
        ServerFrame::TokenExpiring {
            expires_at: self.expires_at,
        }
    }

    /// Starts over for a fresh token.
    pub fn renew(&mut self, claims: &Claims) {
        *self = TokenClock::of(claims);
    }
}
