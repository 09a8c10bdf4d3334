//! What a chat message is made of before it is stored: the sender's
//! idempotency key and the body, each parsed once at the edge.

use super::ValidationError;

/// A sender's idempotency key: 1 to 64 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(ValidationError::new(
                "client_msg_id",
                "must be 1 to 64 printable ASCII characters without spaces",
            ));
        }
        Ok(ClientMsgId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message body: not blank, at most the server's limit in characters.
/// Kept as sent (no trimming): whitespace can be meaningful in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

/// Why a body was refused; its own type because it has its own error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("body must be 1 to {max_chars} characters and not blank")]
pub struct BodyTooLong {
    pub max_chars: usize,
}

impl MessageBody {
    pub fn parse(raw: String, max_chars: usize) -> Result<Self, BodyTooLong> {
        if raw.trim().is_empty() || raw.chars().count() > max_chars {
            return Err(BodyTooLong { max_chars });
        }
        Ok(MessageBody(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_msg_ids_are_short_printable_ascii() {
        assert!(ClientMsgId::parse("c-1_ok").is_ok());
        assert!(ClientMsgId::parse("").is_err());
        assert!(ClientMsgId::parse("has space").is_err());
        assert!(ClientMsgId::parse("é").is_err());
        assert!(ClientMsgId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn bodies_are_bounded_in_characters_and_not_blank() {
        assert!(MessageBody::parse("  hi ".into(), 5).is_ok());
        assert!(MessageBody::parse(" \n ".into(), 5).is_err());
        assert!(MessageBody::parse("ééééé".into(), 5).is_ok());
        assert!(MessageBody::parse("ééééé!".into(), 5).is_err());
    }
}
