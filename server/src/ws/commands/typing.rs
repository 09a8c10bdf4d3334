//! `typing`: an ephemeral signal to the chat's other subscribers; never stored.

use byrd_spec::ws::TypingFrame;

use crate::hub::{Event, Origin};
use crate::messaging::authorize_chat;
use crate::ws::exit::CommandError;
use crate::ws::session::Session;

pub(super) async fn apply(session: &mut Session, frame: TypingFrame) -> Result<(), CommandError> {
    authorize_chat(&session.claims, frame.chat_id)?;
    let author = session.author().await?;
    let event = Event::Typing {
        chat_id: frame.chat_id,
        author: &author,
        active: frame.active,
    };
    session
        .state
        .hub
        .publish(event, Origin::connection(session.id));
    Ok(())
}
