//! How a step of a connection can fail: the connection ends ([`Exit`]),
//! or a client frame is refused while the connection goes on
//! ([`CommandError`]).
//!
//! Every write answers `Result<(), Exit>`, so "the socket is gone" is said
//! one way, and `?` carries it (or a close a command decided on) up to the
//! connection's loop, which is the one place a connection stops.

use byrd_spec::ws::CloseCode;

use crate::error::ApiError;
use crate::hub::CloseReason;
use crate::store::StoreError;

/// Why a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Exit {
    /// The client vanished, or its socket failed; nothing more to send.
    Gone,
    /// The client sent a close frame, which the server answers (RFC 6455,
    /// section 5.5.1) before ending the connection.
    ClosedByClient,
    /// The server closes with this code and reason.
    Close(CloseCode),
}

impl From<CloseReason> for Exit {
    fn from(reason: CloseReason) -> Self {
        match reason {
            CloseReason::GoingAway => Exit::Close(CloseCode::GoingAway),
            CloseReason::Protocol(code) => Exit::Close(code),
        }
    }
}

/// What a client frame can come to besides success.
#[derive(Debug)]
pub(super) enum CommandError {
    /// Refuse the frame with an `error` (its stable code, echoing the
    /// frame's `ref`); the connection goes on.
    Refuse(ApiError),
    /// The connection ends.
    End(Exit),
}

impl From<ApiError> for CommandError {
    fn from(error: ApiError) -> Self {
        CommandError::Refuse(error)
    }
}

impl From<StoreError> for CommandError {
    fn from(error: StoreError) -> Self {
        CommandError::Refuse(error.into())
    }
}

impl From<Exit> for CommandError {
    fn from(exit: Exit) -> Self {
        CommandError::End(exit)
    }
}
