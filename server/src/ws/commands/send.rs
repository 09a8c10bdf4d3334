//! `send`: store a message, ack it to the sender once committed; the
//! store's writer fans it out.
//!
//! The message is queued to the writer and the connection moves on: its
//! `ack` goes out when the commit answers (see `pending`), so one socket
//! can have many sends in flight, answered in order.

use byrd_spec::ws::SendFrame;

use crate::messaging::new_message;
use crate::ws::exit::CommandError;
use crate::ws::parse::{MAX_ECHO_CHARS, truncated};
use crate::ws::pending::PendingAck;
use crate::ws::session::Session;

pub(super) fn apply(session: &mut Session, frame: SendFrame) -> Result<(), CommandError> {
    let new = new_message(
        &session.state,
        &session.claims,
        frame.chat_id,
        &frame.client_msg_id,
        frame.body,
    )?;
    let answer = session.state.store.queue_message(new)?;
    let reference = frame.reference.as_deref().unwrap_or(&frame.client_msg_id);
    session.pending.push(PendingAck {
        reference: Some(truncated(reference, MAX_ECHO_CHARS).to_owned()),
        client_msg_id: frame.client_msg_id,
        answer,
    });
    Ok(())
}
