//! The `identity` of a chat start: a visitor identity token the site's
//! backend signed with a trusted issuer's key, checked into a
//! [`VerifiedIdentity`].
//!
//! Verifying needs trusted issuers; a server configured with none cannot
//! tell a real identity from a forged one, so it refuses every identity
//! rather than start the chat as anyone's. The widget then starts the chat
//! as an anonymous visitor.

use crate::domain::{ValidationError, VerifiedIdentity};
use crate::error::ApiError;
use crate::state::AppState;

/// The identity `token` proves, or why it proves none.
pub async fn verify_identity(
    _state: &AppState,
    _token: &str,
) -> Result<VerifiedIdentity, ApiError> {
    Err(ValidationError::new("identity", "identity verification is not configured").into())
}
