//! `client.json`: the behaviour every SDK shares (what it retries and
//! how, backoff, pacing, fallback limits, how a socket is opened), from
//! `byrd_spec::client`.

use anyhow::Context;
use serde_json::{Value, json};

use super::GENERATED_NOTICE;

/// Where the document lives.
pub const FILE: &str = "client.json";

/// The document: the table, under a notice and the protocol version.
pub fn client_behaviour() -> anyhow::Result<Value> {
    let table = serde_json::to_value(byrd_spec::client::behaviour())
        .context("cannot serialise the client behaviour table")?;
    let mut document = json!({
        "$comment": GENERATED_NOTICE,
        "title": "Byrd v1 client behaviour",
        "description": "What every Byrd SDK does when a call fails or a connection drops: the retries per REST operation and per WebSocket frame, the backoffs, pacing and the limits assumed before `hello`; and how it opens its WebSocket (`socket_auth`: a fresh single-use ticket by default). Durations are in milliseconds. The close codes' actions are in `ws.schema.json` (`CloseCode`).",
        "protocol_version": byrd_spec::PROTOCOL_VERSION,
    });
    if let (Some(document), Value::Object(table)) = (document.as_object_mut(), table) {
        document.extend(table);
    }
    Ok(document)
}
