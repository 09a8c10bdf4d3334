//! `read`: store how far the sender has read, and tell the chat.

use byrd_spec::error::ErrorCode;
use byrd_spec::ws::ReadFrame;

use crate::error::ApiError;
use crate::messaging::authorize_chat;
use crate::ws::connection::Connection;

pub(super) async fn apply(connection: &mut Connection, frame: ReadFrame) -> Result<bool, ApiError> {
    authorize_chat(&connection.claims, frame.chat_id)?;
    if frame.seq < 0 {
        return Err(ApiError::new(
            ErrorCode::InvalidFrame,
            "seq must not be negative.",
        ));
    }
    let author = connection.author().await?;
    // The marker is clamped to the chat's last message and never moves back.
    let seq = connection
        .state
        .store
        .mark_read(frame.chat_id, author.kind, author.id, frame.seq)
        .await?;
    connection
        .state
        .hub
        .publish_read(connection.id, frame.chat_id, author, seq);
    Ok(true)
}
