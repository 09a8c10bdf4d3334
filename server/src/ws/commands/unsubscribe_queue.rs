//! `unsubscribe_queue`: stop following the queue (agents only); the
//! chats subscribed one by one stay subscribed.
//!
//! Answered `queue_unsubscribed` also when the connection did not follow
//! the queue, as `unsubscribe` is for a chat it did not subscribe to: the
//! client's wish holds either way.

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
    session.state.hub.unfollow_queue(session.id);
    // What the hub queued before this, of chats not subscribed, is
    // dropped on its way out (see `delivery`).
    session.follows_queue = false;
    out.send_frame(&ServerFrame::QueueUnsubscribed {}).await?;
    Ok(())
}
