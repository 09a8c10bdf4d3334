//! One file per client frame type, dispatched like mini-redis dispatches
//! commands. Each command acts on the connection's [`Session`] and writes
//! its answers through the [`Socket`]; it fails with a [`CommandError`]:
//! refuse this frame (an `error` with its stable code), or end the
//! connection.

mod ping;
mod read;
mod refresh_token;
mod send;
mod subscribe;
mod subscribe_queue;
mod typing;
mod unsubscribe;
mod unsubscribe_queue;

use byrd_spec::error::ErrorCode;
use byrd_spec::ws::ClientFrame;

use super::exit::CommandError;
use super::session::Session;
use super::socket::Socket;
use crate::error::ApiError;

pub(super) async fn apply(
    session: &mut Session,
    out: &mut Socket,
    frame: ClientFrame,
) -> Result<(), CommandError> {
    match frame {
        ClientFrame::Send(frame) => send::apply(session, frame),
        ClientFrame::Subscribe(frame) => subscribe::apply(session, out, frame).await,
        ClientFrame::Unsubscribe(frame) => unsubscribe::apply(session, out, frame).await,
        ClientFrame::Typing(frame) => typing::apply(session, frame).await,
        ClientFrame::Read(frame) => read::apply(session, frame).await,
        ClientFrame::Ping(frame) => ping::apply(out, frame).await,
        ClientFrame::RefreshToken(frame) => refresh_token::apply(session, out, frame).await,
        ClientFrame::SubscribeQueue(_) => subscribe_queue::apply(session, out).await,
        ClientFrame::UnsubscribeQueue(_) => unsubscribe_queue::apply(session, out).await,
        // The enum is non-exhaustive for clients of the spec crate; a frame
        // type the spec gains before this server learns it is refused.
        #[allow(unreachable_patterns)]
        _ => Err(ApiError::new(
            ErrorCode::UnknownFrameType,
            "This server does not handle that frame type.",
        )
        .into()),
    }
}
