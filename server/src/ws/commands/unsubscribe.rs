//! `unsubscribe`: stop a chat's live events on this connection.

use byrd_spec::ws::{ServerFrame, UnsubscribeFrame};

use crate::ws::exit::CommandError;
use crate::ws::session::Session;
use crate::ws::socket::Socket;

pub(super) async fn apply(
    session: &mut Session,
    out: &mut Socket,
    frame: UnsubscribeFrame,
) -> Result<(), CommandError> {
    session.state.hub.unsubscribe(session.id, frame.chat_id);
    session.subscriptions.remove(&frame.chat_id);
    out.send_frame(&ServerFrame::Unsubscribed {
        chat_id: frame.chat_id,
    })
    .await?;
    Ok(())
}
