//! Redaction of credentials in recorded exchanges.
//!
//! A JWT keeps its header and claims (they say what was sent, which is the
//! point of a transcript) but loses its signature, which makes it useless
//! to anyone reading a report. Refresh tokens, visitor tokens, socket
//! tickets and passwords are removed whole. The same rule applies to
//! bodies, frames, headers and URLs.

use serde_json::Value;

use super::transcript::Entry;

pub const REDACTED: &str = "[redacted]";

/// Keys whose string values are always secret.
const SECRET_KEYS: [&str; 2] = ["password", "admin_password"];

pub fn entry(entry: &mut Entry) {
    match entry {
        Entry::Request {
            path,
            headers,
            body,
            ..
        } => {
            *path = url(path);
            headers
                .values_mut()
                .for_each(|value| *value = header(value));
            if let Some(body) = body {
                value(body);
            }
        }
        Entry::Response { headers, body, .. } => {
            headers
                .values_mut()
                .for_each(|value| *value = header(value));
            if let Some(body) = body {
                value(body);
            }
        }
        Entry::WsConnect { path, headers, .. } => {
            *path = url(path);
            headers
                .values_mut()
                .for_each(|value| *value = header(value));
        }
        Entry::WsRefused { body, .. } => value(body),
        Entry::WsSent { frame, .. } | Entry::WsReceived { frame, .. } => value(frame),
        Entry::WsClosed { .. } | Entry::Note { .. } => {}
    }
}

/// Redacts every credential inside a JSON value.
pub fn value(value: &mut Value) {
    match value {
        Value::String(text) => *text = text_value(text),
        Value::Array(items) => items.iter_mut().for_each(self::value),
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if SECRET_KEYS.contains(&key.as_str()) && item.is_string() {
                    *item = Value::String(REDACTED.to_owned());
                } else {
                    self::value(item);
                }
            }
        }
        _ => {}
    }
}

/// A header value: `Bearer <token>` keeps its scheme.
pub fn header(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, rest)) => format!("{scheme} {}", text_value(rest)),
        None => text_value(value),
    }
}

/// A path with a query string: each parameter value is redacted as text.
pub fn url(path: &str) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => format!("{key}={}", text_value(value)),
            None => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

/// Prefixes of Byrd's opaque tokens: refresh tokens, visitors'
/// continuity tokens and WebSocket tickets.
const OPAQUE_TOKENS: [&str; 3] = ["byrd_rt_", "byrd_vt_", "byrd_wst_"];

/// One string: an opaque token goes whole, a JWT loses its signature.
pub fn text_value(text: &str) -> String {
    for prefix in OPAQUE_TOKENS {
        if let Some(rest) = text.strip_prefix(prefix)
            && !rest.is_empty()
        {
            return format!("{prefix}{REDACTED}");
        }
    }
    match jwt_parts(text) {
        Some((header, claims, signature)) if !signature.is_empty() => {
            format!("{header}.{claims}.{REDACTED}")
        }
        _ => text.to_owned(),
    }
}

/// The three parts of a string shaped like a compact JWS.
pub fn jwt_parts(text: &str) -> Option<(&str, &str, &str)> {
    let mut parts = text.splitn(4, '.');
    let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let base64url = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
    };
    let shaped = parts.next().is_none()
        && header.len() >= 4
        && base64url(header)
        && base64url(claims)
        && base64url(signature);
    shaped.then_some((header, claims, signature))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn signatures_refresh_tokens_and_passwords_are_removed() {
        let mut body = json!({
            "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
            "refresh_token": "byrd_rt_abcdef",
            "visitor_token": "byrd_vt_abcdef",
            "ticket": "byrd_wst_abcdef",
            "password": "hunter2hunter2",
            "note": "a sentence. with dots. here",
        });
        value(&mut body);
        assert_eq!(
            body,
            json!({
                "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.[redacted]",
                "refresh_token": "byrd_rt_[redacted]",
                "visitor_token": "byrd_vt_[redacted]",
                "ticket": "byrd_wst_[redacted]",
                "password": "[redacted]",
                "note": "a sentence. with dots. here",
            })
        );
    }

    #[test]
    fn urls_and_headers_are_redacted() {
        assert_eq!(
            url("/v1/ws?token=eyJhbGci.eyJzdWIi.c2ln&after_seq=2"),
            "/v1/ws?token=eyJhbGci.eyJzdWIi.[redacted]&after_seq=2"
        );
        assert_eq!(
            url("/v1/ws?ticket=byrd_wst_c2VjcmV0&token=byrd_vt_c2VjcmV0"),
            "/v1/ws?ticket=byrd_wst_[redacted]&token=byrd_vt_[redacted]"
        );
        assert_eq!(
            header("Bearer eyJhbGci.eyJzdWIi.c2ln"),
            "Bearer eyJhbGci.eyJzdWIi.[redacted]"
        );
    }
}
