//! Request bodies and path segments.

use std::fmt::Display;

use serde::Serialize;

use crate::Error;

/// A request body as JSON bytes.
pub(crate) fn encode_body<T: Serialize>(body: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body)
        .map_err(|error| Error::Config(format!("cannot encode a body: {error}")))
}

/// A path parameter, percent-encoded (RFC 3986 unreserved characters stay)
/// so that no value can change the path it is put in.
pub(crate) fn path_segment(value: &impl Display) -> String {
    let mut out = String::new();
    for byte in value.to_string().bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_escape_their_segment() {
        assert_eq!(path_segment(&"a/../b?c#d"), "a%2F..%2Fb%3Fc%23d");
        let id = uuid::Uuid::nil();
        assert_eq!(path_segment(&id), id.to_string());
        assert_eq!(path_segment(&"é"), "%C3%A9");
    }
}
