//! The fixed label sets of the WebSocket metrics: frame types and close
//! codes, each an index into the handles' arrays.
//!
//! A label value is never taken from the client: an unknown frame type is
//! `unknown`, a close code Byrd does not use is `other`.

use byrd_spec::ws::ClientFrame;

/// A client frame of a type this server does not know.
pub const UNKNOWN: &str = "unknown";
/// A client frame that is not a JSON object with a string `type`.
pub const INVALID: &str = "invalid";

/// How a client frame is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivedFrame {
    /// A frame of the type at this index of `ClientFrame::TYPES`.
    Type(usize),
    Unknown,
    Invalid,
}

impl ReceivedFrame {
    /// The label of a frame whose `type` is `kind`.
    pub fn of_type(kind: &str) -> ReceivedFrame {
        match ClientFrame::TYPES.iter().position(|known| *known == kind) {
            Some(index) => ReceivedFrame::Type(index),
            None => ReceivedFrame::Unknown,
        }
    }

    /// Its index in the handles: the frame types, then `unknown`, then
    /// `invalid`.
    pub(super) fn index(self) -> usize {
        let types = ClientFrame::TYPES.len();
        match self {
            ReceivedFrame::Type(index) => index.min(types),
            ReceivedFrame::Unknown => types,
            ReceivedFrame::Invalid => types + 1,
        }
    }
}

/// Every server frame type, then `other` for one missing here (a test
/// checks this list against the protocol's frames).
pub(super) const SENT_LABELS: &[&str] = &[
    "hello",
    "message",
    "ack",
    "typing",
    "read",
    "presence",
    "chat_updated",
    "subscribed",
    "unsubscribed",
    "error",
    "pong",
    "token_expiring",
    "token_refreshed",
    "queue_subscribed",
    "queue_unsubscribed",
    "other",
];

/// The index in [`SENT_LABELS`] of a rendered server frame. Frames are
/// rendered by serde with their tag first, `{"type":"...",`, so reading
/// the prefix costs a few byte comparisons and no parse.
pub(super) fn sent_index(rendered: &str) -> usize {
    let other = SENT_LABELS.len() - 1;
    let Some(rest) = rendered.strip_prefix(r#"{"type":""#) else {
        return other;
    };
    let kind = rest.split_once('"').map_or("", |(kind, _)| kind);
    SENT_LABELS[..other]
        .iter()
        .position(|known| *known == kind)
        .unwrap_or(other)
}

/// A WebSocket close, by its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseLabel(pub u16);

impl CloseLabel {
    /// The connection ended without a close frame.
    pub const ABNORMAL: CloseLabel = CloseLabel(1006);
    /// The client's close frame carried no code.
    pub const NO_STATUS: CloseLabel = CloseLabel(1005);

    pub(super) fn index(self) -> usize {
        CLOSE_CODES
            .iter()
            .position(|code| *code == self.0)
            .unwrap_or(CLOSE_CODES.len())
    }
}

/// The close codes counted by number: the protocol's, and the two that
/// say there was no code; any other is `other`.
const CLOSE_CODES: [u16; 11] = [
    1000, 1001, 1005, 1006, 1008, 1009, 1011, 4001, 4002, 4008, 4009,
];

/// [`CLOSE_CODES`] as label values, then `other`.
pub(super) const CLOSE_LABELS: [&str; 12] = [
    "1000", "1001", "1005", "1006", "1008", "1009", "1011", "4001", "4002", "4008", "4009", "other",
];

#[cfg(test)]
mod tests {
    use byrd_spec::ws::{CloseCode, ServerFrame};

    use super::*;

    #[test]
    fn every_close_code_of_the_protocol_has_its_own_label() {
        for code in CloseCode::ALL {
            let index = CloseLabel(code.code()).index();
            assert_eq!(CLOSE_LABELS[index], code.code().to_string());
        }
        assert_eq!(CLOSE_LABELS[CloseLabel(3999).index()], "other");
        for (code, label) in CLOSE_CODES.iter().zip(CLOSE_LABELS) {
            assert_eq!(code.to_string(), label);
        }
    }

    #[test]
    fn every_server_frame_type_of_the_protocol_has_its_own_label() {
        let schema = crate::spec_docs::ws_schema().unwrap();
        let branches = schema["$defs"]["ServerFrame"]["oneOf"].as_array().unwrap();
        assert!(branches.len() >= 10, "the schema lists the server frames");
        for branch in branches {
            let kind = branch["properties"]["type"]["const"].as_str().unwrap();
            let rendered = format!(r#"{{"type":"{kind}","x":1}}"#);
            assert_eq!(
                SENT_LABELS[sent_index(&rendered)],
                kind,
                "no label for {kind}"
            );
        }
    }

    #[test]
    fn a_rendered_frame_is_labelled_by_its_type_and_anything_else_is_other() {
        let pong = serde_json::to_string(&ServerFrame::Pong { nonce: None }).unwrap();
        assert_eq!(SENT_LABELS[sent_index(&pong)], "pong");
        assert_eq!(SENT_LABELS[sent_index(r#"{"type":"shout"}"#)], "other");
        assert_eq!(SENT_LABELS[sent_index("[]")], "other");
    }

    #[test]
    fn client_frames_are_labelled_by_known_type_else_unknown() {
        assert_eq!(ReceivedFrame::of_type("send"), ReceivedFrame::Type(0));
        assert_eq!(ReceivedFrame::of_type("shout"), ReceivedFrame::Unknown);
        assert_eq!(ReceivedFrame::Invalid.index(), ClientFrame::TYPES.len() + 1);
    }
}
