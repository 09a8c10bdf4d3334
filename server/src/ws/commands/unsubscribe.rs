//! `unsubscribe`: stop a chat's live events on this connection.

use byrd_spec::ws::{ServerFrame, UnsubscribeFrame};

use crate::error::ApiError;
use crate::ws::connection::Connection;

pub(super) async fn apply(
    connection: &mut Connection,
    frame: UnsubscribeFrame,
) -> Result<bool, ApiError> {
    connection
        .state
        .hub
        .unsubscribe(connection.id, frame.chat_id);
    connection.subscriptions.remove(&frame.chat_id);
    Ok(connection
        .send_frame(&ServerFrame::Unsubscribed {
            chat_id: frame.chat_id,
        })
        .await)
}
