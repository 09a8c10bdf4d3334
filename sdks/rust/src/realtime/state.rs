//! The connection's state machine, as the application sees it.

use std::time::Duration;

use crate::Error;
use crate::close_codes::CloseCode;

/// Where the realtime client is. Every change is also an
/// [`Event::State`](super::Event::State).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Opening the WebSocket; attempt 1 is the first try.
    Connecting {
        /// 1 for the first try.
        attempt: u32,
    },
    /// `hello` received: frames flow.
    Connected,
    /// The connection dropped; attempt `attempt` starts after `delay`.
    Reconnecting {
        /// The attempt that comes next.
        attempt: u32,
        /// How long until it starts.
        delay: Duration,
    },
    /// Final: closed by the application, by the server with a code whose
    /// action is `stop`, because the credentials were refused, or because
    /// the server's TLS certificate is not trusted.
    Closed {
        /// The close code: the server's, or `1000` when the application
        /// closed.
        code: Option<CloseCode>,
        /// Why, in words.
        reason: String,
        /// Why, unless the application closed it.
        error: Option<Error>,
    },
}

impl ConnectionState {
    /// `Connected`: frames flow.
    pub fn is_connected(&self) -> bool {
        matches!(self, ConnectionState::Connected)
    }

    /// `Closed`: final.
    pub fn is_closed(&self) -> bool {
        matches!(self, ConnectionState::Closed { .. })
    }
}
