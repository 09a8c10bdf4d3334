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
use crate::ws::exit::CommandError;
use crate::ws::session::{Session, principal_of};
use crate::ws::socket::Socket;

fn same_chat(old: &Claims, new: &Claims) -> bool {
    match (old, new) {
        (Claims::Guest(old), Claims::Guest(new)) => old.chat.id == new.chat.id,
        (Claims::Agent(_), Claims::Agent(_)) => true,
        _ => false,
    }
}

pub(super) async fn apply(
    session: &mut Session,
    out: &mut Socket,
    frame: RefreshTokenFrame,
) -> Result<(), CommandError> {
    let claims = authenticate_token(&session.state, &frame.token).await?;
    if principal_of(&claims) != principal_of(&session.claims)
        || !same_chat(&session.claims, &claims)
    {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "The new token must be for the same principal as the connection.",
        )
        .into());
    }
    session.token.renew(&claims);
    session.claims = claims;
    out.send_frame(&ServerFrame::TokenRefreshed {
        token_expires_at: session.token.expires_at,
    })
    .await?;
    Ok(())
}
