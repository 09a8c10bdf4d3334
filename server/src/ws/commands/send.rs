//! `send`: store a message, ack it to the sender once committed; the
//! store's writer fans it out.
//!
//! The message is queued to the writer and the connection moves on: its
//! `ack` goes out when the commit answers (see `Connection::pending`), so
//! one socket can have many sends in flight, answered in order.

use byrd_spec::ws::SendFrame;

use crate::error::ApiError;
use crate::messaging::new_message;
use crate::ws::connection::{Connection, MAX_ECHO_CHARS, PendingAck, truncated};

pub(super) async fn apply(connection: &mut Connection, frame: SendFrame) -> Result<bool, ApiError> {
    let new = new_message(
        &connection.state,
        &connection.claims,
        frame.chat_id,
        &frame.client_msg_id,
        frame.body,
    )?;
    let answer = connection.state.store.queue_message(new)?;
    connection.pending.push_back(PendingAck {
        reference: Some(
            truncated(
                frame.reference.as_deref().unwrap_or(&frame.client_msg_id),
                MAX_ECHO_CHARS,
            )
            .to_owned(),
        ),
        client_msg_id: frame.client_msg_id,
        answer,
    });
    Ok(true)
}
