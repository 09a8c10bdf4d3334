//! `POST /v1/chats`: a visitor starts a chat and gets its guest token.
//!
//! The visitor is the one a verified identity names, or the one the
//! presented continuity token names while it is valid, or a new one whose
//! token the answer carries: a stale token never fails a chat start. The
//! token is renewed, not replaced (its expiry moves on, the text stays), so
//! two tabs of one browser never overwrite each other's.
//!
//! Two bounds hold what one client address can put in the queue: a rate
//! (chats started per minute) and a cap on the chats it holds open at once
//! (`store::AddressBound`), counted by the same key: the address, or an
//! IPv6 /64, as the peer or the trusted `X-Forwarded-For` hop gives it.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use byrd_spec::chat::{ChatContext, ChatContextInput, CreateChatRequest, CreateChatResponse};
use byrd_spec::error::{ErrorBody, ErrorCode};

use super::identity::verify_identity;
use crate::domain::user_agent::{browser_of, os_of};
use crate::domain::{DisplayName, EmailAddress, PageContext, Subject, VisitorToken};
use crate::error::ApiError;
use crate::extract::{ClientAddr, OptionalJson};
use crate::operation::Operation;
use crate::state::AppState;
use crate::store::{
    AddressBound, AddressKey, ChatVisitor, NewChat, StartedChat, StoreError, VisitorFound,
};

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "startChat",
    errors: &[
        ErrorCode::InvalidRequest,
        ErrorCode::ValidationFailed,
        ErrorCode::IdentityInvalid,
        ErrorCode::IdentityExpired,
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
///
/// A `visitor_token` from an earlier answer makes the chat the same
/// visitor's (agents then see their earlier chats); an unknown, expired or
/// malformed one starts a new visitor instead of failing. The `context`
/// and the `User-Agent` header tell agents where the visitor is and what
/// browser they use. An `identity` token from a trusted issuer makes the
/// chat that verified visitor's, on any device.
#[utoipa::path(
    post,
    path = "/v1/chats",
    operation_id = OPERATION.id,
    tag = "chats",
    request_body(content = Option<CreateChatRequest>, description = "Optional; an empty body starts an anonymous chat."),
    responses(
        (status = 201, description = "The chat, a guest token that opens it and nothing else, and the visitor's continuity token.", body = CreateChatResponse),
        (status = 400, description = "`invalid_request`: the body is not JSON.", body = ErrorBody),
        (status = 401, description = "`identity_invalid`: the `identity` token is forged, not from a trusted issuer that vouches for visitors, for another audience, or breaks its bounds (a server trusting no issuer refuses every one); `identity_expired`: it has expired. Start the chat again without it, as an anonymous visitor.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a field breaks its rules (the message names it).", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many chats started from this address; see `Retry-After`. `too_many_open_chats`: this address (an IPv6 /64) holds as many open chats as the server allows until one closes; `Retry-After` is a hint.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the server is overloaded or its database busy; nothing was changed; retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn start_chat(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<CreateChatRequest>,
) -> Result<(StatusCode, Json<CreateChatResponse>), ApiError> {
    state.chat_start_limiter.check(client)?;
    let visitor = body.visitor.unwrap_or_default();
    let context = chat_context(body.context.as_ref(), &headers)?;
    let presented = body
        .visitor_token
        .as_deref()
        .and_then(VisitorToken::presented);
    let fresh = VisitorToken::generate();
    let chat_visitor = match body.identity.as_deref() {
        Some(identity) => ChatVisitor::Verified(verify_identity(&state, identity).await?),
        None => ChatVisitor::Anonymous {
            presented: presented.as_ref().map(|token| token.hash),
            fresh: fresh.hash,
            ttl: state.settings.limits.visitor_token_ttl,
        },
    };
    let new = NewChat {
        visitor: chat_visitor,
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
        context,
        address: Some(AddressBound {
            key: AddressKey::of(client),
            max_open: state.settings.limits.open_chats_per_address,
        }),
    };
    let StartedChat { chat, visitor } = match state.store.insert_chat(new).await {
        Err(StoreError::TooManyOpenChats) => {
            metrics::counter!("byrd_chats_refused_total", "reason" => "address_limit").increment(1);
            return Err(StoreError::TooManyOpenChats.into());
        }
        started => started?,
    };
    let visitor_token = match visitor {
        VisitorFound::Returning => presented.map(|token| token.token),
        VisitorFound::New => Some(fresh.token),
        VisitorFound::Verified => None,
    };
    let guest = state.tokens.issue_guest_token(&chat)?;
    tracing::info!(chat_id = %chat.id, visitor_id = %chat.visitor.id, "chat started");
    Ok((
        StatusCode::CREATED,
        Json(CreateChatResponse {
            chat,
            guest_token: guest.token,
            expires_in: guest.expires_in,
            visitor_token,
        }),
    ))
}

/// The chat's context: what the widget reported, parsed, and the browser
/// and system the `User-Agent` header names (none without the header).
fn chat_context(
    input: Option<&ChatContextInput>,
    headers: &HeaderMap,
) -> Result<ChatContext, ApiError> {
    let page = input
        .map(PageContext::parse)
        .transpose()?
        .unwrap_or_default();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.trim().is_empty());
    Ok(ChatContext {
        page_url: page.page_url,
        page_title: page.page_title,
        referrer: page.referrer,
        locale: page.locale,
        time_zone: page.time_zone,
        browser: user_agent.map(browser_of),
        os: user_agent.map(os_of),
    })
}
