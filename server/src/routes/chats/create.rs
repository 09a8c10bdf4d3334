//! `POST /v1/chats`: a visitor starts a chat and gets its guest token.
//!
//! Two bounds hold what one client address can put in the queue: a rate
//! (chats started per minute) and a cap on the chats it holds open at once
//! (`store::AddressBound`), counted by the same key: the address, or an
//! IPv6 /64, as the peer or the trusted `X-Forwarded-For` hop gives it.

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
use crate::store::{AddressBound, AddressKey, NewChat, StoreError};

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "startChat",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::ValidationFailed,
        ErrorCode::RateLimited,
        ErrorCode::TooManyOpenChats,
        ErrorCode::Unavailable,
    ],
    behaviour: None,
};

/// Start a chat as a website visitor.
///
/// Needs no token: answers the new chat and a guest token that opens this chat
/// and nothing else. Rate limited per client address, which may also hold
/// only so many open chats at once (`--open-chats-per-address`; an IPv6
/// client counts by its /64).
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
        (status = 429, description = "`rate_limited`: too many chats started from this address; see `Retry-After`. `too_many_open_chats`: this address (an IPv6 /64) holds as many open chats as the server allows until one closes; `Retry-After` is a hint.", body = ErrorBody),
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
        address: Some(AddressBound {
            key: AddressKey::of(client),
            max_open: state.settings.limits.open_chats_per_address,
        }),
    };
    let chat = match state.store.insert_chat(new).await {
        Err(StoreError::TooManyOpenChats) => {
            metrics::counter!("byrd_chats_refused_total", "reason" => "address_limit").increment(1);
            return Err(StoreError::TooManyOpenChats.into());
        }
        chat => chat?,
    };
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
