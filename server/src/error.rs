//! `ApiError`: how every failure reaches a REST client.
//!
//! A response carries a stable code from the spec and a message fit for
//! clients. The cause of an internal error is logged and never sent.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use byrd_spec::error::{ErrorBody, ErrorCode};

use crate::domain::ValidationError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    retry_after_secs: Option<u64>,
    /// For the logs only.
    internal: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after_secs: None,
            internal: None,
        }
    }

    /// An error with the spec's standard message for `code`.
    pub fn from_code(code: ErrorCode) -> Self {
        ApiError::new(code, code.description())
    }

    /// A server-side failure; the client learns nothing of its cause.
    pub fn internal(error: anyhow::Error) -> Self {
        ApiError {
            internal: Some(error),
            ..ApiError::from_code(ErrorCode::InternalError)
        }
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        ApiError {
            retry_after_secs: Some(retry_after_secs),
            ..ApiError::from_code(ErrorCode::RateLimited)
        }
    }

    /// The server cannot take this now (database busy, hashing slots
    /// full); nothing was changed and a retry may succeed.
    pub fn unavailable() -> Self {
        ApiError {
            retry_after_secs: Some(1),
            ..ApiError::from_code(ErrorCode::Unavailable)
        }
    }

    /// The client address holds as many open chats as allowed. Like every
    /// 429 it says when to come back: a minute, a hint, since only a
    /// close frees a place and none can be foreseen.
    pub fn too_many_open_chats() -> Self {
        ApiError {
            retry_after_secs: Some(60),
            ..ApiError::from_code(ErrorCode::TooManyOpenChats)
        }
    }

    /// A cap on open resources is reached; waiting alone does not help.
    pub fn limit_exceeded(message: &'static str) -> Self {
        ApiError {
            retry_after_secs: Some(5),
            ..ApiError::new(ErrorCode::LimitExceeded, message)
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same failure as a WebSocket `error` frame answering the client
    /// frame `reference`.
    pub fn into_ws_frame(self, reference: Option<String>) -> byrd_spec::ws::ServerFrame {
        if let Some(internal) = &self.internal {
            tracing::error!(error = format!("{internal:#}"), "frame failed");
        }
        byrd_spec::ws::ServerFrame::Error {
            code: self.code,
            message: self.message.into_owned(),
            reference,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(internal) = &self.internal {
            tracing::error!(error = format!("{internal:#}"), "request failed");
        }
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody::new(self.code, self.message);
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750, section 3.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::EmailTaken => ApiError::from_code(ErrorCode::EmailTaken),
            StoreError::ChatNotFound => ApiError::from_code(ErrorCode::ChatNotFound),
            StoreError::AgentNotFound => ApiError::from_code(ErrorCode::AgentNotFound),
            StoreError::ChatClosed => ApiError::from_code(ErrorCode::ChatClosed),
            StoreError::CannotDeactivateSelf => {
                ApiError::from_code(ErrorCode::CannotDeactivateSelf)
            }
            StoreError::LastActiveAdmin => ApiError::from_code(ErrorCode::LastActiveAdmin),
            StoreError::TooManyOpenChats => ApiError::too_many_open_chats(),
            StoreError::ClientMsgIdReused => ApiError::from_code(ErrorCode::ClientMsgIdReused),
            StoreError::Unavailable => ApiError::unavailable(),
            StoreError::Unexpected(e) => ApiError::internal(e),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::new(ErrorCode::ValidationFailed, error.to_string())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        ApiError::internal(error)
    }
}
