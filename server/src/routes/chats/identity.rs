//! The `identity` of a chat start: a visitor identity token the site's
//! backend signed with a trusted issuer's key, checked into a
//! [`VerifiedIdentity`].
//!
//! The trusted issuers check the signature, issuer, audience and lifetime;
//! the domain then holds the claims to the bounds of everything a client
//! can make an agent read. A server that trusts no issuer refuses every
//! identity (`identity_invalid`) rather than start the chat as anyone's;
//! the widget then starts the chat as an anonymous visitor.

use byrd_spec::error::ErrorCode;

use crate::domain::VerifiedIdentity;
use crate::error::ApiError;
use crate::state::AppState;

/// The identity `token` proves, or why it proves none.
pub async fn verify_identity(state: &AppState, token: &str) -> Result<VerifiedIdentity, ApiError> {
    let checked = state.trusted_issuers.verify_identity(token).await?;
    let attributes = checked
        .attributes()
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()));
    VerifiedIdentity::parse(
        checked.issuer(),
        checked.user_id(),
        checked.name(),
        checked.email(),
        attributes,
    )
    .map_err(|error| {
        // The signer vouched for claims that break Byrd's bounds: the
        // token is at fault, not the visitor's input.
        tracing::debug!(%error, "identity claims out of bounds");
        ApiError::new(
            ErrorCode::IdentityInvalid,
            "The visitor identity token's claims break their bounds.",
        )
    })
}
