//! Assertions for case bodies. Each returns a [`Failure`] that says what
//! was being done, what the spec expects and what the server sent, with
//! JSON read by exact key (a renamed field fails, it is never defaulted).

use serde_json::Value;

use crate::case::Failure;
use crate::jwt;
use crate::wire::http::Reply;
use crate::wire::redact;
use crate::wire::ws::{Refusal, Ws, kind};

/// `value` as compact JSON with credentials redacted, for messages.
pub fn show(value: &Value) -> String {
    let mut value = value.clone();
    redact::value(&mut value);
    let text = value.to_string();
    if text.chars().count() > 400 {
        text.chars().take(400).collect::<String>() + "..."
    } else {
        text
    }
}

pub fn ensure(
    condition: bool,
    context: impl Into<String>,
    expected: impl Into<String>,
    actual: impl FnOnce() -> String,
) -> Result<(), Failure> {
    if condition {
        Ok(())
    } else {
        Err(Failure::new(context, expected, actual()))
    }
}

/// An error response: `status` with `{"error": {"code": code, ...}}`.
pub fn expect_error(reply: &Reply, status: u16, code: &str, context: &str) -> Result<(), Failure> {
    ensure(
        reply.status == status && reply.error_code() == Some(code),
        context,
        format!("{status} with error.code {code:?}"),
        || reply.describe(),
    )
}

/// A status, whatever the body.
pub fn expect_status(reply: &Reply, status: u16, context: &str) -> Result<(), Failure> {
    crate::context::expect_status(reply, status, context)
}

/// A handshake refused before the upgrade with `status` and `code`.
pub async fn expect_refused(
    outcome: Result<Ws, Refusal>,
    status: u16,
    code: &str,
    context: &str,
) -> Result<(), Failure> {
    match outcome {
        Err(refusal) => ensure(
            refusal.status == status && refusal.error_code() == Some(code),
            context,
            format!("the handshake refused with {status} and error.code {code:?}"),
            || refusal.describe(),
        ),
        Ok(ws) => {
            ws.close().await;
            Err(Failure::new(
                context,
                format!("the handshake refused with {status} and error.code {code:?}"),
                "101: the socket opened",
            ))
        }
    }
}

/// An `error` frame with `code` whose `ref` is `reference`.
pub fn expect_error_frame(
    frame: &Value,
    code: &str,
    reference: &Value,
    context: &str,
) -> Result<(), Failure> {
    ensure(
        kind(frame) == "error" && frame["code"] == code && &frame["ref"] == reference,
        context,
        format!("`error` {{code: {code:?}, ref: {reference}}}"),
        || show(frame),
    )
}

/// Two JSON values must be equal.
pub fn same(context: &str, expected: &Value, actual: &Value) -> Result<(), Failure> {
    ensure(expected == actual, context, show(expected), || show(actual))
}

/// The string at `pointer` of `value`.
pub fn str_at<'a>(value: &'a Value, pointer: &str, context: &str) -> Result<&'a str, Failure> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::new(context, format!("a string at {pointer}"), show(value)))
}

/// The integer at `pointer` of `value`.
pub fn i64_at(value: &Value, pointer: &str, context: &str) -> Result<i64, Failure> {
    value
        .pointer(pointer)
        .and_then(Value::as_i64)
        .ok_or_else(|| Failure::new(context, format!("an integer at {pointer}"), show(value)))
}

/// The array at `pointer` of `value`.
pub fn array_at<'a>(
    value: &'a Value,
    pointer: &str,
    context: &str,
) -> Result<&'a Vec<Value>, Failure> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .ok_or_else(|| Failure::new(context, format!("an array at {pointer}"), show(value)))
}

/// A token answer's `expires_in` is the token's own lifetime, its
/// `exp - iat`, to within a second (a server may read its clock twice).
/// Against the token rather than a default, so a server set to other
/// lifetimes passes; the lifetime itself is checked where it is known.
pub fn expect_expires_in(body: &Value, token: &str, context: &str) -> Result<i64, Failure> {
    let claims = jwt::claims_of(token).unwrap_or(Value::Null);
    let lifetime = i64_at(&claims, "/exp", context)? - i64_at(&claims, "/iat", context)?;
    ensure(
        body["expires_in"]
            .as_i64()
            .is_some_and(|expires_in| (expires_in - lifetime).abs() <= 1),
        context,
        format!("expires_in {lifetime}, the token's exp - iat"),
        || format!("expires_in {}", body["expires_in"]),
    )?;
    Ok(lifetime)
}

/// The `seq` of every message in `messages`, in order.
pub fn seqs(messages: &[Value]) -> Vec<i64> {
    messages
        .iter()
        .map(|message| message["seq"].as_i64().unwrap_or(-1))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn token(iat: i64, exp: i64) -> String {
        let claims = json!({"iat": iat, "exp": exp});
        jwt::sign(&jwt::byrd_header("k"), &claims, &jwt::Hmac::Sha256, b"key")
    }

    #[test]
    fn expires_in_is_read_against_the_tokens_own_lifetime() {
        let short = token(1_000, 1_600);
        let body = |expires_in: i64| json!({"expires_in": expires_in});
        assert_eq!(expect_expires_in(&body(600), &short, "t").unwrap(), 600);
        assert!(expect_expires_in(&body(599), &short, "t").is_ok());
        // The default lifetime is no excuse for a token that lives otherwise.
        assert!(expect_expires_in(&body(900), &short, "t").is_err());
        assert!(expect_expires_in(&body(1_200), &short, "t").is_err());
        assert!(expect_expires_in(&json!({}), &short, "t").is_err());
        let failure = expect_expires_in(&body(900), &short, "t").unwrap_err();
        assert_eq!(failure.expected, "expires_in 600, the token's exp - iat");
        assert_eq!(failure.actual, "expires_in 900");
    }
}
