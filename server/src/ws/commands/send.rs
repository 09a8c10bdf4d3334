//! `send`: store a message, ack it to the sender, fan it out.

use byrd_spec::ws::{SendFrame, ServerFrame};

use crate::error::ApiError;
use crate::messaging::send_message;
use crate::ws::connection::Connection;

pub(super) async fn apply(connection: &mut Connection, frame: SendFrame) -> Result<bool, ApiError> {
    let appended = send_message(
        &connection.state,
        &connection.claims,
        frame.chat_id,
        &frame.client_msg_id,
        frame.body,
    )
    .await?;
    // Only now, with the message committed, does the sender hear of it.
    let ack = ServerFrame::Ack {
        client_msg_id: frame.client_msg_id,
        message: appended.message().clone(),
    };
    Ok(connection.send_frame(&ack).await)
}
