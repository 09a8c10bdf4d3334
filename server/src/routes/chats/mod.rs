//! `/v1/chats/*`: starting, reading and handling chats.

pub mod assign;
pub mod close;
pub mod create;
pub mod get;
pub mod list;
pub mod messages_list;
pub mod messages_send;
pub mod token;

use byrd_spec::claims::GuestClaims;
use byrd_spec::error::ErrorCode;
use uuid::Uuid;

use crate::error::ApiError;

/// A guest token opens its own chat and no other. The answer is the same
/// whether or not the other chat exists, so guests cannot probe for ids.
fn guest_may_open(claims: &GuestClaims, chat_id: Uuid) -> Result<(), ApiError> {
    if claims.chat.id == chat_id {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "A guest token opens only its own chat.",
        ))
    }
}
