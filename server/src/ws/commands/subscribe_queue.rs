//! `subscribe_queue`: follow every chat that is not closed, live and
//! without replay (agents only); see `hub::followers`.
//!
//! Following costs no history read: the client learns what it missed from
//! the chat list's `last_seq`. Following again is answered the same way
//! and changes nothing.

use byrd_spec::claims::Claims;
use byrd_spec::error::ErrorCode;
use byrd_spec::ws::ServerFrame;

use crate::error::ApiError;
use crate::ws::exit::CommandError;
use crate::ws::session::Session;
use crate::ws::socket::Socket;

pub(super) async fn apply(session: &mut Session, out: &mut Socket) -> Result<(), CommandError> {
    if !matches!(session.claims, Claims::Agent(_)) {
        return Err(
            ApiError::new(ErrorCode::Forbidden, "Only agents may follow the queue.").into(),
        );
    }
    session.follows_queue = session.state.hub.follow_queue(session.id);
    out.send_frame(&ServerFrame::QueueSubscribed {}).await?;
    Ok(())
}
