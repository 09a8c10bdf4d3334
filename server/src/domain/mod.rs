//! Validated values: once you hold one, it is valid ("parse, don't validate").
//!
//! Each `parse` returns a [`ValidationError`] naming the field, which the API
//! layer turns into `422 validation_failed`.

mod context;
mod email;
mod message;
mod password;
mod text;
pub mod user_agent;
mod visitor;

pub use context::PageContext;
pub use email::EmailAddress;
pub use message::{BodyTooLong, ClientMsgId, MessageBody};
pub use password::Password;
pub use text::{DisplayName, Subject};
pub use visitor::{VerifiedIdentity, VisitorToken};

/// A value a client sent that breaks its field's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    pub field: &'static str,
    pub reason: &'static str,
}

impl ValidationError {
    pub(crate) fn new(field: &'static str, reason: &'static str) -> Self {
        ValidationError { field, reason }
    }
}
