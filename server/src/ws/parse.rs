//! Parsing a client's text frame: JSON first, then the `type`, then the
//! frame itself, each failure with its own error code, echoing the frame's
//! `ref` (or `client_msg_id`) when it could be read.

use byrd_spec::error::ErrorCode;
use byrd_spec::ws::ClientFrame;

use crate::error::ApiError;
use crate::metrics::{ReceivedFrame, handles};

/// Longest `ref` (or `client_msg_id`) echoed, and longest unknown frame
/// type named, in an `error`: a client cannot make the server repeat a
/// large payload back.
pub(super) const MAX_ECHO_CHARS: usize = 64;

/// At most `max` characters of `text`.
pub(super) fn truncated(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// A frame refused before it could be run: the error and the `ref` to echo.
pub(super) type Unparsed = (ApiError, Option<String>);

/// Parses a text frame into a client frame and the `ref` (or
/// `client_msg_id`) its answers echo, counting it by its `type` (a known
/// type counts as that type even when the rest of the frame is refused).
pub(super) fn parse_frame(text: &str) -> Result<(ClientFrame, Option<String>), Unparsed> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| {
        handles().frame_received(ReceivedFrame::Invalid);
        (
            ApiError::new(ErrorCode::InvalidJson, "The frame is not valid JSON."),
            None,
        )
    })?;
    let reference = ["ref", "client_msg_id"]
        .iter()
        .find_map(|key| value.get(key).and_then(|v| v.as_str()))
        .map(|echo| truncated(echo, MAX_ECHO_CHARS).to_owned());
    let Some(kind) = value.get("type").and_then(|t| t.as_str()) else {
        handles().frame_received(ReceivedFrame::Invalid);
        return Err((
            ApiError::new(
                ErrorCode::InvalidFrame,
                "A frame is a JSON object with a string `type`.",
            ),
            reference,
        ));
    };
    let label = ReceivedFrame::of_type(kind);
    handles().frame_received(label);
    if label == ReceivedFrame::Unknown {
        let message = format!("Unknown frame type {:?}.", truncated(kind, MAX_ECHO_CHARS));
        return Err((
            ApiError::new(ErrorCode::UnknownFrameType, message),
            reference,
        ));
    }
    match serde_json::from_value::<ClientFrame>(value) {
        Ok(frame) => Ok((frame, reference)),
        Err(error) => Err((
            ApiError::new(ErrorCode::InvalidFrame, error.to_string()),
            reference,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_have_distinct_codes_and_echo_the_reference() {
        let code = |text: &str| parse_frame(text).err().map(|(e, r)| (e.code(), r));
        assert_eq!(code("{"), Some((ErrorCode::InvalidJson, None)));
        assert_eq!(code("[1]"), Some((ErrorCode::InvalidFrame, None)));
        assert_eq!(
            code(r#"{"type":"shout","ref":"r1"}"#),
            Some((ErrorCode::UnknownFrameType, Some("r1".into())))
        );
        assert_eq!(
            code(r#"{"type":"send","client_msg_id":"c1"}"#),
            Some((ErrorCode::InvalidFrame, Some("c1".into())))
        );
        assert!(parse_frame(r#"{"type":"ping"}"#).is_ok());
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncated("héllo", 2), "hé");
        assert_eq!(truncated("hi", 64), "hi");
    }
}
