//! One file per client frame type. `apply` dispatches a parsed frame; each
//! command answers through the connection and returns `Ok(false)` when the
//! socket is gone, or an error the connection turns into an `error` frame.

mod ping;
mod read;
mod refresh_token;
mod send;
mod subscribe;
mod typing;
mod unsubscribe;

use byrd_spec::error::ErrorCode;
use byrd_spec::ws::ClientFrame;

use super::connection::Connection;
use crate::error::ApiError;

pub(super) async fn apply(
    connection: &mut Connection,
    frame: ClientFrame,
) -> Result<bool, ApiError> {
    match frame {
        ClientFrame::Send(frame) => send::apply(connection, frame).await,
        ClientFrame::Subscribe(frame) => subscribe::apply(connection, frame).await,
        ClientFrame::Unsubscribe(frame) => unsubscribe::apply(connection, frame).await,
        ClientFrame::Typing(frame) => typing::apply(connection, frame).await,
        ClientFrame::Read(frame) => read::apply(connection, frame).await,
        ClientFrame::Ping(frame) => ping::apply(connection, frame).await,
        ClientFrame::RefreshToken(frame) => refresh_token::apply(connection, frame).await,
        // The enum is non-exhaustive for clients of the spec crate; a frame
        // type the spec gains before this server learns it is refused.
        #[allow(unreachable_patterns)]
        _ => Err(ApiError::new(
            ErrorCode::UnknownFrameType,
            "This server does not handle that frame type.",
        )),
    }
}
