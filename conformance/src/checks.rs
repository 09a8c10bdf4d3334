//! Assertions for case bodies. Each returns a [`Failure`] that says what
//! was being done, what the spec expects and what the server sent, with
//! JSON read by exact key (a renamed field fails, it is never defaulted).

use serde_json::Value;

use crate::case::Failure;
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

/// The `seq` of every message in `messages`, in order.
pub fn seqs(messages: &[Value]) -> Vec<i64> {
    messages
        .iter()
        .map(|message| message["seq"].as_i64().unwrap_or(-1))
        .collect()
}
