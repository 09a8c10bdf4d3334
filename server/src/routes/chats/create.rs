//! `POST /v1/chats`: a visitor starts a chat and gets its guest token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use byrd_spec::chat::{CreateChatRequest, CreateChatResponse};
use byrd_spec::error::{ErrorBody, ErrorCode};

use crate::domain::{DisplayName, EmailAddress, Subject};
use crate::error::ApiError;
use crate::extract::{ClientAddr, OptionalJson};
use crate::operation::Operation;
use crate::state::AppState;
use crate::store::NewChat;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "startChat",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::ValidationFailed,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
    ],
    behaviour: None,
};

/// Start a chat as a website visitor.
///
/// Needs no token: answers the new chat and a guest token that opens this chat
/// and nothing else. Rate limited per client address.
#[utoipa::path(
    post,
    path = "/v1/chats",
    operation_id = OPERATION.id,
    tag = "chats",
    request_body(content = Option<CreateChatRequest>, description = "Optional; an empty body starts an anonymous chat."),
    responses(
        (status = 201, description = "The chat, and a guest token that opens it and nothing else.", body = CreateChatResponse),
        (status = 400, description = "`invalid_request`: the body is not JSON.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a field breaks its rules.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many chats from this address; see `Retry-After`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the server is overloaded or its database busy; nothing was changed; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn start_chat(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    OptionalJson(body): OptionalJson<CreateChatRequest>,
) -> Result<(StatusCode, Json<CreateChatResponse>), ApiError> {
    state.chat_start_limiter.check(client)?;
    let visitor = body.visitor.unwrap_or_default();
    let new = NewChat {
        visitor_name: visitor
            .name
            .as_deref()
            .map(|n| DisplayName::parse("visitor.name", n))
            .transpose()?,
        visitor_email: visitor
            .email
            .as_deref()
            .map(|e| EmailAddress::parse("visitor.email", e))
            .transpose()?,
        subject: body
            .subject
            .as_deref()
            .map(|s| Subject::parse("subject", s))
            .transpose()?,
    };
    let chat = state.store.insert_chat(new).await?;
    let guest = state.tokens.issue_guest_token(&chat)?;
    tracing::info!(chat_id = %chat.id, "chat started");
    Ok((
        StatusCode::CREATED,
        Json(CreateChatResponse {
            chat,
            guest_token: guest.token,
            expires_in: guest.expires_in,
        }),
    ))
}
