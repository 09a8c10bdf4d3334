//! `typing`: an ephemeral signal to the chat's other subscribers; never stored.

use byrd_spec::ws::TypingFrame;

use crate::error::ApiError;
use crate::messaging::authorize_chat;
use crate::ws::connection::Connection;

pub(super) async fn apply(
    connection: &mut Connection,
    frame: TypingFrame,
) -> Result<bool, ApiError> {
    authorize_chat(&connection.claims, frame.chat_id)?;
    let author = connection.author().await?;
    connection
        .state
        .hub
        .publish_typing(connection.id, frame.chat_id, author, frame.active);
    Ok(true)
}
