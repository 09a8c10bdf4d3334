//! `refresh_token`: swap in a fresh token without reconnecting.
//!
//! The new token must be valid and name the same principal (and, for a
//! guest, the same chat): a connection can be renewed, never turned into
//! someone else's.

use byrd_spec::claims::Claims;
use byrd_spec::error::ErrorCode;
use byrd_spec::ws::{RefreshTokenFrame, ServerFrame};

use crate::auth::authenticate_token;
use crate::error::ApiError;
use crate::ws::connection::{Connection, expiry_of, principal_of};

fn same_chat(old: &Claims, new: &Claims) -> bool {
    match (old, new) {
        (Claims::Guest(old), Claims::Guest(new)) => old.chat.id == new.chat.id,
        (Claims::Agent(_), Claims::Agent(_)) => true,
        _ => false,
    }
}

pub(super) async fn apply(
    connection: &mut Connection,
    frame: RefreshTokenFrame,
) -> Result<bool, ApiError> {
    let claims = authenticate_token(&connection.state, &frame.token).await?;
    if principal_of(&claims) != principal_of(&connection.claims)
        || !same_chat(&connection.claims, &claims)
    {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "The new token must be for the same principal as the connection.",
        ));
    }
    connection.token_expires_at = expiry_of(&claims);
    connection.claims = claims;
    connection.reset_expiry_warning();
    Ok(connection
        .send_frame(&ServerFrame::TokenRefreshed {
            token_expires_at: connection.token_expires_at,
        })
        .await)
}
