//! The `identity` of a chat start: a visitor identity token the site's
//! backend signed with a trusted issuer's key, checked into a
//! [`VerifiedIdentity`].
//!
//! The trusted issuers check the signature, issuer, audience and lifetime,
//! and hold the claims to the bounds of everything a client can make an
//! agent read. A server that trusts no issuer refuses every identity
//! (`identity_invalid`) rather than start the chat as anyone's; the widget
//! then starts the chat as an anonymous visitor.

use crate::domain::VerifiedIdentity;
use crate::error::ApiError;
use crate::state::AppState;

/// The identity `token` proves, or why it proves none.
pub async fn verify_identity(state: &AppState, token: &str) -> Result<VerifiedIdentity, ApiError> {
    Ok(state.trusted_issuers.verify_identity(token).await?)
}
