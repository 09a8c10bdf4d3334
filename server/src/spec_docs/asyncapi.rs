//! `asyncapi.yaml`: the WebSocket channel `/v1/ws` as AsyncAPI 3.0: how to
//! authenticate, which side sends which frame, an example of each.
//!
//! Payloads are `$ref`s into `ws.schema.json`, so each frame is defined
//! once, in the same encoding for both documents. Message keys and names
//! are the frame titles (`ClientTyping`, `ServerTyping`), unique although
//! both sides have a `typing` frame.

use byrd_spec::ws::CloseCode;
use serde_json::{Map, Value, json};

use super::GENERATED_NOTICE;
use super::examples::ws::Sender;
use super::schemas::Definitions;
use super::security::SCHEMES;
use super::ws::{self as ws_doc, FILE as WS_FILE, Frame};

fn message_entry(frame: &Frame, examples: Vec<Value>) -> Value {
    json!({
        "name": frame.title,
        "title": frame.title,
        "summary": frame.description,
        "contentType": "application/json",
        "payload": {"$ref": format!("{WS_FILE}#{}", frame.pointer)},
        "examples": examples.into_iter().map(|payload| json!({"payload": payload})).collect::<Vec<_>>(),
        "x-byrd-frame-type": frame.tag,
    })
}

/// The close codes as a Markdown table, for the channel's description.
fn close_code_table() -> String {
    let mut table =
        String::from("| Code | Reason | Meaning | Client action |\n| --- | --- | --- | --- |\n");
    for code in CloseCode::ALL {
        table.push_str(&format!(
            "| {} | `{}` | {} | `{}` |\n",
            code.code(),
            code.reason(),
            code.description(),
            code.action().as_str()
        ));
    }
    table
}

/// The frames as AsyncAPI messages, and the references that place them.
struct Messages {
    /// `components.messages`: every frame, with its examples.
    components: Map<String, Value>,
    /// The channel's messages, each a reference into the components.
    channel: Map<String, Value>,
    /// What the server receives (client frames) and sends.
    received: Vec<Value>,
    sent: Vec<Value>,
}

fn messages(defs: &Definitions) -> Messages {
    let mut messages = Messages {
        components: Map::new(),
        channel: Map::new(),
        received: Vec::new(),
        sent: Vec::new(),
    };
    for frame in ws_doc::frame_types(defs) {
        let examples = super::examples::ws::frames(frame.sender, &frame.tag);
        messages
            .components
            .insert(frame.title.clone(), message_entry(&frame, examples));
        messages.channel.insert(
            frame.title.clone(),
            json!({"$ref": format!("#/components/messages/{}", frame.title)}),
        );
        let reference = json!({"$ref": format!("#/channels/ws/messages/{}", frame.title)});
        match frame.sender {
            Sender::Client => messages.received.push(reference),
            Sender::Server => messages.sent.push(reference),
        }
    }
    messages
}

/// The document's `info`: what the channel is, with the close codes.
fn info() -> Value {
    json!({
        "title": "Byrd WebSocket",
        "version": byrd_spec::PROTOCOL_VERSION,
        "description": format!(
            "{GENERATED_NOTICE}\n\nOne WebSocket per client at `/v1/ws`. Authenticate with the `token` query parameter or an `Authorization: Bearer` header, with an agent or a guest token; refusals happen before the upgrade with a JSON error body (401 for the token, 403 for an Origin not allowed, 400 for a request that is not an upgrade). The server sends `hello` first. Frames are defined in ws.schema.json; see spec/v1/README.md for ordering, delivery and recovery.\n\nClose codes (also `CloseCode` in ws.schema.json):\n\n{}",
            close_code_table()
        ),
        "license": {"name": "Apache-2.0"}
    })
}

/// The one channel, `/v1/ws`, with the query of its upgrade request.
fn channel(messages: Map<String, Value>) -> Value {
    json!({
        "address": "/v1/ws",
        "title": "Byrd live chat",
        "messages": messages,
        "bindings": {
            "ws": {
                "method": "GET",
                "query": {
                    "type": "object",
                    "properties": {
                        "token": {"type": "string", "description": "An agent or guest JWT."},
                        "after_seq": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "Guests only: replay the chat's messages with a greater seq at once, as a subscribe would."
                        }
                    }
                },
                "bindingVersion": "0.1.0"
            }
        },
        "x-byrd-close-codes": {"$ref": format!("{WS_FILE}#/$defs/CloseCode")},
    })
}

/// The document.
pub fn asyncapi() -> anyhow::Result<Value> {
    let defs = ws_doc::definitions()?;
    let messages = messages(&defs);
    let schemes: Map<String, Value> = SCHEMES
        .iter()
        .map(|scheme| (scheme.name.to_owned(), scheme.asyncapi()))
        .collect();
    let security: Vec<Value> = SCHEMES
        .iter()
        .map(|scheme| json!({"$ref": format!("#/components/securitySchemes/{}", scheme.name)}))
        .collect();

    Ok(json!({
        "asyncapi": "3.0.0",
        "info": info(),
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:8080",
                "protocol": "ws",
                "description": "A development server; production servers use wss.",
                "security": security,
            }
        },
        "channels": {"ws": channel(messages.channel)},
        "operations": {
            "receiveClientFrames": {
                "action": "receive",
                "title": "Frames a client sends",
                "channel": {"$ref": "#/channels/ws"},
                "messages": messages.received
            },
            "sendServerFrames": {
                "action": "send",
                "title": "Frames the server sends",
                "channel": {"$ref": "#/channels/ws"},
                "messages": messages.sent
            }
        },
        "components": {
            "messages": messages.components,
            "securitySchemes": schemes,
        }
    }))
}
