//! Sessions and their tokens: agent logins, guest chats, token providers.

mod claims;
mod credential;
mod sessions;

pub use credential::BoxError;
pub(crate) use credential::Credential;
