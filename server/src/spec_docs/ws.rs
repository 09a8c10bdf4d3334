//! `ws.schema.json`: every WebSocket frame, both directions, as one
//! self-contained JSON Schema (draft 2020-12).
//!
//! `ClientFrame` and `ServerFrame` are `oneOf` unions whose branches are
//! whole objects, each with a `type` constant and a title (`ClientSend`,
//! `ServerHello`, ...), so stock generators emit `type`-tagged unions (typify
//! does not follow a `$ref` to find a tag). The types frames share with the
//! REST API (`Chat`, `Message`, `ErrorCode`, ...) are defined here once;
//! `openapi.json` and `asyncapi.yaml` refer to them.

use anyhow::Context;
use byrd_spec::ws::{ClientFrame, CloseCode, ServerFrame};
use serde_json::{Value, json};

use super::GENERATED_NOTICE;
use super::examples::ws::{Sender, frames};
use super::schemas::{Definitions, Direction, pascal};

/// Where the document lives, and the file name other documents refer to.
pub const FILE: &str = "ws.schema.json";

/// One frame type: a branch of `ClientFrame` or `ServerFrame`.
pub struct Frame {
    pub sender: Sender,
    /// The `type` constant.
    pub tag: String,
    /// `ClientSend`, `ServerHello`, ...
    pub title: String,
    pub description: String,
    /// JSON pointer of the branch inside `ws.schema.json`.
    pub pointer: String,
}

fn union_of(sender: Sender) -> &'static str {
    match sender {
        Sender::Client => "ClientFrame",
        Sender::Server => "ServerFrame",
    }
}

/// The prefix of the titles of `sender`'s frames.
fn prefix_of(sender: Sender) -> &'static str {
    match sender {
        Sender::Client => "Client",
        Sender::Server => "Server",
    }
}

/// Every named schema of `ws.schema.json`.
pub fn definitions() -> anyhow::Result<Definitions> {
    let mut defs = Definitions::default();
    defs.add::<ClientFrame>(Direction::ToServer)?;
    defs.add::<ServerFrame>(Direction::ToClient)?;
    defs.add::<CloseCode>(Direction::ToClient)?;
    for sender in [Sender::Client, Sender::Server] {
        let prefix = prefix_of(sender);
        let union = union_of(sender);
        defs.complete_tagged_union(union, |tag| format!("{prefix}{}", pascal(tag)))?;
        let branches = defs
            .get_mut(union)
            .and_then(|schema| schema.get_mut("oneOf"))
            .and_then(Value::as_array_mut)
            .with_context(|| format!("{union} has no branches"))?;
        for branch in branches {
            let tag = branch["properties"]["type"]["const"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            branch["examples"] = Value::Array(frames(sender, &tag));
        }
    }
    Ok(defs)
}

/// Every frame type, client frames first, in the order of the unions.
pub fn frame_types(defs: &Definitions) -> Vec<Frame> {
    let mut all = Vec::new();
    for sender in [Sender::Client, Sender::Server] {
        let union = union_of(sender);
        let branches = defs
            .get(union)
            .and_then(|schema| schema.get("oneOf"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (index, branch) in branches.iter().enumerate() {
            let text = |key: &str| branch[key].as_str().unwrap_or_default().to_owned();
            all.push(Frame {
                sender,
                tag: branch["properties"]["type"]["const"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                title: text("title"),
                description: text("description"),
                pointer: format!("/$defs/{union}/oneOf/{index}"),
            });
        }
    }
    all
}

/// The document.
pub fn ws_schema() -> anyhow::Result<Value> {
    Ok(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://byrd.chat/spec/v1/ws.schema.json",
        "$comment": GENERATED_NOTICE,
        "title": "Byrd v1 WebSocket frames",
        "description": format!(
            "Every frame on GET /v1/ws is one JSON text message matching ClientFrame (client to server) or ServerFrame (server to client), tagged by `type`. Both unions are open (`x-byrd-open`): v1 may add frame types, which receivers ignore. Protocol version {}.",
            byrd_spec::PROTOCOL_VERSION
        ),
        // `anyOf`: client frames ignore unknown fields, so a server
        // `typing` frame also reads as a client one; `oneOf` would refuse it.
        "anyOf": [
            {"$ref": "#/$defs/ClientFrame"},
            {"$ref": "#/$defs/ServerFrame"}
        ],
        "$defs": definitions()?.into_map(),
    }))
}
