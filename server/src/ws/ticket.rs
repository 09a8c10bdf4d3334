//! Single-use WebSocket tickets: what `POST /v1/ws/tickets` makes from a
//! verified token and `GET /v1/ws?ticket=` spends.
//!
//! A WebSocket cannot carry an `Authorization` header from a browser, so a
//! token would ride in the query string, which reverse proxies and
//! browser consoles log. A ticket rides there instead: 32 random bytes,
//! base64url, behind a `byrd_wst_` prefix that makes a leaked one easy to
//! spot; good for seconds, once. Only its SHA-256 is stored (256 bits of
//! entropy need no slow hash), beside the verified claims of the token it
//! was made from, so the socket it opens lives by that token (its `exp`,
//! `token_expiring`, 4001, `refresh_token`) and sees what it would. A
//! ticket never outlives its token: it expires with the token's clock
//! leeway at the latest.
//!
//! Every way a ticket can be wrong (malformed, unknown, spent, expired)
//! gets the same answer, so a caller learns nothing about which tickets
//! exist. A revocation of the token between the ticket's making and its
//! use is checked when it is spent, as the handshake checks a token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_spec::claims::Claims;
use byrd_spec::error::ErrorCode;
use byrd_spec::ticket::WsTicketResponse;
use chrono::Utc;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::session::principal_of;
use crate::auth::ensure_not_revoked;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{NewWsTicket, TicketIssue};

const PREFIX: &str = "byrd_wst_";
/// Base64url characters of 32 bytes, unpadded.
const ENCODED_LEN: usize = 43;

/// A ticket as presented: well formed, reduced to the hash the store
/// keeps. Parsing first spares the database a write for garbage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentedTicket {
    hash: [u8; 32],
}

impl PresentedTicket {
    pub fn parse(text: &str) -> Result<PresentedTicket, ApiError> {
        let encoded = text.strip_prefix(PREFIX).ok_or_else(invalid)?;
        let well_formed = encoded.len() == ENCODED_LEN
            && URL_SAFE_NO_PAD
                .decode(encoded)
                .is_ok_and(|bytes| bytes.len() == 32);
        if !well_formed {
            return Err(invalid());
        }
        Ok(PresentedTicket { hash: hash(text) })
    }
}

/// The one answer to every ticket that does not open a socket.
pub fn invalid() -> ApiError {
    ApiError::new(
        ErrorCode::TicketInvalid,
        "The ticket is not valid; ask for a new one.",
    )
}

fn hash(ticket: &str) -> [u8; 32] {
    Sha256::digest(ticket.as_bytes()).into()
}

fn generate() -> String {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(secret))
}

/// When a ticket made at `now` expires (Unix milliseconds): `ttl_ms`
/// later, or when the token's clock leeway no longer admits the token it
/// carries (`token_exp` seconds plus `leeway` seconds), if that is sooner.
fn expiry(now: i64, ttl_ms: i64, token_exp: i64, leeway: i64) -> i64 {
    let token_end = token_exp.saturating_add(leeway).saturating_mul(1000);
    now.saturating_add(ttl_ms).min(token_end)
}

/// Makes a ticket carrying `claims`, verified and unrevoked, unless their
/// principal holds as many unspent tickets as it may.
pub async fn issue(state: &AppState, claims: &Claims) -> Result<WsTicketResponse, ApiError> {
    let settings = &state.settings;
    let now = Utc::now().timestamp_millis();
    let ttl_ms = i64::try_from(settings.ws.ticket_ttl.as_millis()).unwrap_or(i64::MAX);
    let leeway = i64::try_from(settings.jwt.leeway.get().as_secs()).unwrap_or(0);
    let expires_at = expiry(now, ttl_ms, claims.exp(), leeway);
    let ticket = generate();
    let new = NewWsTicket {
        hash: hash(&ticket),
        principal: principal_of(claims).id,
        claims: serde_json::to_string(claims)
            .map_err(|error| ApiError::internal(anyhow::Error::new(error)))?,
        expires_at,
    };
    match state
        .store
        .issue_ws_ticket(new, settings.ws.max_unspent_tickets)
        .await?
    {
        TicketIssue::Issued => Ok(WsTicketResponse {
            ticket,
            expires_in: u64::try_from((expires_at - now).max(0) / 1000).unwrap_or(0),
        }),
        TicketIssue::TooMany { retry_after } => Err(ApiError::rate_limited(retry_after.as_secs())),
    }
}

/// Spends `presented`: the claims of the token it was made from, once,
/// unless that token or its session has been revoked since.
pub async fn redeem(state: &AppState, presented: &str) -> Result<Claims, ApiError> {
    let ticket = PresentedTicket::parse(presented)?;
    let stored = state
        .store
        .redeem_ws_ticket(ticket.hash)
        .await?
        .ok_or_else(invalid)?;
    let claims: Claims = serde_json::from_str(&stored).map_err(|error| {
        tracing::warn!(%error, "a stored WebSocket ticket has unreadable claims");
        invalid()
    })?;
    ensure_not_revoked(&state.store, &claims).await?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_ticket_parses_to_its_own_hash() {
        let ticket = generate();
        assert!(ticket.starts_with(PREFIX));
        assert_eq!(ticket.len(), PREFIX.len() + ENCODED_LEN);
        let parsed = PresentedTicket::parse(&ticket).unwrap();
        assert_eq!(parsed.hash, hash(&ticket));
        assert_ne!(generate(), ticket, "tickets are random");
    }

    #[test]
    fn anything_else_is_refused_with_the_one_answer() {
        let good = generate();
        let encoded = &good[PREFIX.len()..];
        for garbage in [
            String::new(),
            encoded.to_owned(),
            format!("byrd_rt_{encoded}"),
            format!("{good}A"),
            good[..good.len() - 1].to_owned(),
            format!("{PREFIX}{}", "!".repeat(ENCODED_LEN)),
            "eyJhbGciOiJIUzI1NiJ9.e30.sig".to_owned(),
        ] {
            let refused = PresentedTicket::parse(&garbage).unwrap_err();
            assert_eq!(refused.code(), ErrorCode::TicketInvalid, "{garbage:?}");
            assert_eq!(refused.message(), invalid().message());
        }
    }

    #[test]
    fn a_ticket_expires_after_its_lifetime_or_with_its_token() {
        // Made at 1,000 s with a 30 s lifetime.
        assert_eq!(expiry(1_000_000, 30_000, 5_000, 60), 1_030_000);
        // The token's exp (plus leeway) comes first.
        assert_eq!(expiry(1_000_000, 30_000, 1_000, 10), 1_010_000);
        assert_eq!(expiry(1_000_000, 30_000, i64::MAX, 60), 1_030_000);
    }
}
