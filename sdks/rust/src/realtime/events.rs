//! What the realtime client tells the application, as a `Stream`.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::ConnectionState;
use crate::ApiError;
use crate::types::{Chat, Message, ServerPresence, ServerRead, ServerTyping};

/// One thing that happened.
// A chat carries its visitor's context inline, as the generated frames do
// (`types` allows the same lint): events go to the application one at a
// time, so their size costs little.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A message of a followed chat: each stored message exactly once,
    /// in `seq` order per chat, the application's own included.
    Message(Message),
    /// Someone in a followed chat started or stopped typing.
    Typing(ServerTyping),
    /// Someone marked a followed chat read up to a `seq`.
    Read(ServerRead),
    /// An agent came online or went offline (agents only).
    Presence(ServerPresence),
    /// A chat was created, assigned or closed.
    ChatUpdated(Chat),
    /// A chat was (re)subscribed after a connect. `recovered` is the
    /// server's word on whether it could replay everything missed;
    /// `fetched` counts the messages the client paged over REST instead.
    Resumed {
        /// The chat.
        chat_id: Uuid,
        /// The server replayed everything missed.
        recovered: bool,
        /// Messages the client paged over REST.
        fetched: usize,
    },
    /// The connection state changed.
    State(ConnectionState),
    /// The server refused a frame that belongs to no `send` (a
    /// `subscribe` to a chat that does not exist, say).
    Error {
        /// The server's refusal.
        error: ApiError,
        /// The refused frame's `ref`.
        reference: Option<String>,
    },
}

/// The stream of [`Event`]s; it ends after the final
/// [`ConnectionState::Closed`].
///
/// Events wait in a bounded buffer: an application that stops reading
/// holds the client back (and the server may then close the connection as
/// a slow consumer, after which the client resumes where it was).
pub struct Events {
    pub(crate) receiver: mpsc::Receiver<Event>,
}

impl Events {
    /// The next event, or `None` once the client is closed and every event
    /// was read.
    pub async fn recv(&mut self) -> Option<Event> {
        self.receiver.recv().await
    }
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.receiver.poll_recv(cx)
    }
}
