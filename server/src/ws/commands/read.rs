//! `read`: store how far the sender has read, and tell the chat.

use byrd_spec::error::ErrorCode;
use byrd_spec::ws::ReadFrame;

use crate::error::ApiError;
use crate::hub::{Event, Origin};
use crate::messaging::authorize_chat;
use crate::ws::exit::CommandError;
use crate::ws::session::Session;

pub(super) async fn apply(session: &mut Session, frame: ReadFrame) -> Result<(), CommandError> {
    authorize_chat(&session.claims, frame.chat_id)?;
    if frame.seq < 0 {
        return Err(ApiError::new(ErrorCode::InvalidFrame, "seq must not be negative.").into());
    }
    let author = session.author().await?;
    // The marker is clamped to the chat's last message and never moves back.
    let seq = session
        .state
        .store
        .mark_read(frame.chat_id, author.kind, author.id, frame.seq)
        .await?;
    let event = Event::Read {
        chat_id: frame.chat_id,
        author: &author,
        seq,
    };
    session
        .state
        .hub
        .publish(event, Origin::connection(session.id));
    Ok(())
}
