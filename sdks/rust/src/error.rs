//! The SDK's one error type.
//!
//! Kinds are apart so that callers can act on them: an [`ApiError`] is the
//! server's answer (branch on its [`ErrorCode`]); a transport failure may
//! pass on a retry; a decode failure means client and server disagree on
//! the protocol; an authentication error ends the session; a full queue
//! and a closed client are the realtime client's. Errors are `Clone`,
//! because one final error settles every pending `send`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::close_codes::CloseCode;
use crate::types::ErrorCode;

/// Everything that can go wrong in the SDK.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server refused the request (REST) or a frame (WebSocket).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The request or the connection failed on the way: refused
    /// connection, reset, timeout, DNS.
    #[error("transport failure: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// The underlying failure, when there is one.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// An answer that does not read as the spec says it should.
    #[error("undecodable answer{}: {message}", status_suffix(*status))]
    Decode {
        /// The HTTP status of a REST answer.
        status: Option<u16>,
        /// The server's `X-Request-Id` of a REST answer.
        request_id: Option<String>,
        /// What did not read.
        message: String,
    },
    /// The session is over: its credentials were refused, revoked or
    /// have expired, or this client has no token for the operation.
    /// Retrying does not help; log in (or start a chat) again.
    #[error("authentication ended: {0}")]
    Auth(AuthError),
    /// `send` found the realtime client's queue full, or `typing` or
    /// `mark_read` found too many frames waiting for the pace.
    #[error("the realtime queue is full ({capacity} wait already)")]
    QueueFull {
        /// The queue's size: [`RealtimeOptions::send_queue`](crate::realtime::RealtimeOptions::send_queue)
        /// for sends, 2 200 for other frames.
        capacity: usize,
    },
    /// The realtime client is closed for good: by the application, or by
    /// the server with a close code whose action is `stop`.
    #[error("the realtime client is closed{}", close_suffix(*code, reason))]
    Closed {
        /// The close code, when the connection had one.
        code: Option<CloseCode>,
        /// Why, in words.
        reason: String,
    },
    /// The client was set up wrong (a base URL that is not `http(s)`).
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// An error answer of the API: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{code}: {message}{}", status_prefix(*status), request_suffix(request_id))]
pub struct ApiError {
    /// The HTTP status; for a WebSocket `error` frame, the status the code
    /// has over REST (`None` for a code this SDK does not know).
    pub status: Option<u16>,
    /// Branch on this, never on `message`.
    pub code: ErrorCode,
    /// For people; may change.
    pub message: String,
    /// The server's `X-Request-Id`, to quote when reporting a failure.
    pub request_id: Option<String>,
    /// `Retry-After` of a `429` or `503`.
    pub retry_after: Option<Duration>,
}

/// Why authentication ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    /// Which way it ended.
    pub kind: AuthErrorKind,
    /// The server's answer that ended it, when one did.
    pub api: Option<ApiError>,
}

/// The cases of [`AuthError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// The server refused the token or refresh token (`token_invalid`,
    /// `token_expired` that a refresh could not cure, `invalid_credentials`).
    Refused,
    /// The token or its session was revoked (`token_revoked`, close 4002).
    Revoked,
    /// The application ended the session (`end_session`).
    LoggedOut,
    /// The operation needs a token and this client has none.
    NoCredential,
    /// The operation needs another kind of token (an agent's, say).
    WrongTokenKind,
    /// The token provider failed, or gave something that is not a Byrd token.
    Provider,
    /// The server refused the WebSocket handshake with `403`.
    Forbidden,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            AuthErrorKind::Refused => "the server refused the credentials",
            AuthErrorKind::Revoked => "the token or its session was revoked",
            AuthErrorKind::LoggedOut => "the session was ended",
            AuthErrorKind::NoCredential => "this operation needs a token and the client has none",
            AuthErrorKind::WrongTokenKind => "this operation needs another kind of token",
            AuthErrorKind::Provider => "the token provider failed",
            AuthErrorKind::Forbidden => "the server refused the connection (403)",
        };
        f.write_str(what)?;
        if let Some(api) = &self.api {
            write!(f, " ({api})")?;
        }
        Ok(())
    }
}

impl Error {
    pub(crate) fn transport(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Transport {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    pub(crate) fn auth(kind: AuthErrorKind, api: Option<ApiError>) -> Error {
        Error::Auth(AuthError { kind, api })
    }

    /// The API's error code, when the server refused something.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Api(api) => Some(&api.code),
            Error::Auth(AuthError { api: Some(api), .. }) => Some(&api.code),
            _ => None,
        }
    }

    /// Whether trying the same thing again later may succeed: transport
    /// failures, and the server's `429`, `503` and `internal_error`.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            Error::Api(api) => {
                matches!(api.status, Some(429 | 503))
                    || matches!(api.code, ErrorCode::RateLimited | ErrorCode::InternalError)
            }
            _ => false,
        }
    }
}

impl From<AuthError> for Error {
    fn from(error: AuthError) -> Self {
        Error::Auth(error)
    }
}

fn status_suffix(status: Option<u16>) -> String {
    status.map(|s| format!(" (status {s})")).unwrap_or_default()
}

fn status_prefix(status: Option<u16>) -> String {
    status.map(|s| format!("{s} ")).unwrap_or_default()
}

fn request_suffix(request_id: &Option<String>) -> String {
    request_id
        .as_ref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

fn close_suffix(code: Option<CloseCode>, reason: &str) -> String {
    match (code, reason.is_empty()) {
        (Some(code), true) => format!(" ({code})"),
        (Some(code), false) => format!(" ({code}: {reason})"),
        (None, false) => format!(" ({reason})"),
        (None, true) => String::new(),
    }
}
