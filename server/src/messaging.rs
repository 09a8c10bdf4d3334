//! Sending messages and checking chat access: the rules REST and the
//! WebSocket share, so both paths behave identically.

use byrd_spec::claims::{Claims, GuestClaims};
use byrd_spec::error::ErrorCode;
use byrd_spec::message::{Author, PartyType};
use uuid::Uuid;

use crate::domain::{ClientMsgId, MessageBody};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::NewMessage;

/// A guest token opens its own chat and no other. The answer is the same
/// whether or not the other chat exists, so guests cannot probe for ids.
pub fn guest_may_open(guest: &GuestClaims, chat_id: Uuid) -> Result<(), ApiError> {
    if guest.chat.id == chat_id {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "A guest token opens only its own chat.",
        ))
    }
}

/// A guest may act on its own chat only; agents on any chat.
pub fn authorize_chat(claims: &Claims, chat_id: Uuid) -> Result<(), ApiError> {
    match claims {
        Claims::Guest(guest) => guest_may_open(guest, chat_id),
        Claims::Agent(_) => Ok(()),
    }
}

/// The author a token's bearer appears as. A guest's name is not in its
/// token, so it is `null` here; stored messages carry the visitor's name.
pub fn author_of(claims: &Claims) -> Author {
    match claims {
        Claims::Agent(agent) => Author {
            kind: PartyType::Agent,
            id: agent.sub,
            name: Some(agent.name.clone()),
        },
        Claims::Guest(guest) => Author {
            kind: PartyType::Guest,
            id: guest.sub,
            name: None,
        },
    }
}

/// Checks a message a client sends, for either path; storing it is the
/// caller's (REST waits for it, a WebSocket queues it). The store's writer
/// fans it out once it is committed. Idempotent per author, chat and
/// `client_msg_id`: a retry returns the stored message and publishes
/// nothing new.
pub fn new_message(
    state: &AppState,
    claims: &Claims,
    chat_id: Uuid,
    client_msg_id: &str,
    body: String,
) -> Result<NewMessage, ApiError> {
    authorize_chat(claims, chat_id)?;
    let client_msg_id = ClientMsgId::parse(client_msg_id)?;
    let body = MessageBody::parse(body, state.settings.ws.max_body_chars)
        .map_err(|e| ApiError::new(ErrorCode::BodyTooLong, e.to_string()))?;
    let author = author_of(claims);
    state.send_limiter.check_key(&author.id)?;
    Ok(NewMessage {
        chat_id,
        author_kind: author.kind,
        author_id: author.id,
        author_name: author.name,
        client_msg_id,
        body,
    })
}
