//! `ws.schema.json` and `asyncapi.yaml`: the WebSocket frames as JSON
//! Schema, and the channel, its auth and its messages as AsyncAPI 3.
//!
//! Both come from `byrd_spec::ws`. Each variant of `ClientFrame` and
//! `ServerFrame` becomes its own named schema (`ClientSend`,
//! `ServerHello`, ...) so that AsyncAPI messages and SDK generators can
//! refer to one frame type at a time.

use byrd_spec::ws::{ClientFrame, CloseCode, ServerFrame};
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::GENERATED_NOTICE;
use super::ws_examples;

/// `hello` → `Hello`, `refresh_token` → `RefreshToken`.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The `type` constant of one `oneOf` branch of a tagged enum's schema.
fn frame_type(branch: &Value) -> Option<&str> {
    branch
        .pointer("/properties/type/const")
        .and_then(Value::as_str)
}

/// Moves each `oneOf` branch of `defs[enum_name]` into its own definition
/// `<prefix><Type>` and returns the frame types in order.
fn split_variants(defs: &mut Map<String, Value>, enum_name: &str, prefix: &str) -> Vec<String> {
    let Some(branches) = defs
        .get_mut(enum_name)
        .and_then(|schema| schema.get_mut("oneOf"))
        .and_then(Value::as_array_mut)
        .map(std::mem::take)
    else {
        return Vec::new();
    };
    let mut types = Vec::new();
    let mut refs = Vec::new();
    for branch in branches {
        let ty = frame_type(&branch).unwrap_or("unknown").to_owned();
        let name = format!("{prefix}{}", pascal(&ty));
        refs.push(json!({"$ref": format!("#/$defs/{name}")}));
        defs.insert(name, branch);
        types.push(ty);
    }
    if let Some(schema) = defs.get_mut(enum_name) {
        schema["oneOf"] = Value::Array(refs);
    }
    types
}

/// Frame definitions with every variant split out, `$ref`s as `#/$defs/`.
fn frame_definitions() -> (Map<String, Value>, Vec<String>, Vec<String>) {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    generator.subschema_for::<ClientFrame>();
    generator.subschema_for::<ServerFrame>();
    let mut defs = generator.take_definitions(true);
    let client = split_variants(&mut defs, "ClientFrame", "Client");
    let server = split_variants(&mut defs, "ServerFrame", "Server");
    (defs, client, server)
}

/// JSON Schema of every frame, both directions.
pub fn ws_schema() -> Value {
    let (defs, _, _) = frame_definitions();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://byrd.chat/spec/v1/ws.schema.json",
        "$comment": GENERATED_NOTICE,
        "title": "Byrd v1 WebSocket frames",
        "description": "Every frame on GET /v1/ws is one JSON text message matching ClientFrame (client to server) or ServerFrame (server to client).",
        // `anyOf`: client frames ignore unknown fields, so a server
        // `typing` frame also reads as a client one; `oneOf` would refuse it.
        "anyOf": [
            {"$ref": "#/$defs/ClientFrame"},
            {"$ref": "#/$defs/ServerFrame"}
        ],
        "$defs": defs,
    })
}

/// Rewrites `#/$defs/X` references to `#/components/schemas/X`, and a
/// `$ref` with sibling keywords into an `allOf`: AsyncAPI schemas follow
/// JSON Schema draft 7, where siblings of `$ref` are ignored.
fn rebase_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.len() > 1
                && let Some(reference) = map.remove("$ref")
            {
                let rest = Value::Object(std::mem::take(map));
                map.insert("allOf".into(), json!([{"$ref": reference}, rest]));
            }
            for (key, child) in map.iter_mut() {
                if key == "$ref"
                    && let Some(target) = child.as_str().and_then(|r| r.strip_prefix("#/$defs/"))
                {
                    *child = Value::String(format!("#/components/schemas/{target}"));
                } else {
                    rebase_refs(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rebase_refs),
        _ => {}
    }
}

/// A schema's description, or that of the schema its `allOf` starts from.
fn describe(schemas: &Value, key: &str) -> String {
    let schema = &schemas[key];
    let own = schema["description"].as_str();
    let referenced = schema
        .pointer("/allOf/0/$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .and_then(|name| schemas[name]["description"].as_str());
    own.or(referenced).unwrap_or_default().to_owned()
}

fn message_entry(prefix: &str, ty: &str, summary: &str, examples: Vec<Value>) -> Value {
    let name = format!("{prefix}{}", pascal(ty));
    json!({
        "name": ty,
        "title": name,
        "summary": summary,
        "contentType": "application/json",
        "payload": {"$ref": format!("#/components/schemas/{name}")},
        "examples": examples.into_iter().map(|payload| json!({"payload": payload})).collect::<Vec<_>>(),
    })
}

/// The AsyncAPI 3 document of channel `/v1/ws`.
pub fn asyncapi() -> Value {
    let (mut defs, client_types, server_types) = frame_definitions();
    let mut schemas = Value::Object(std::mem::take(&mut defs));
    rebase_refs(&mut schemas);

    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    let mut receive_refs = Vec::new();
    let mut send_refs = Vec::new();
    for (prefix, types, refs) in [
        ("Client", &client_types, &mut receive_refs),
        ("Server", &server_types, &mut send_refs),
    ] {
        for ty in types {
            let key = format!("{prefix}{}", pascal(ty));
            let summary = describe(&schemas, &key);
            let examples = ws_examples::for_type(prefix == "Client", ty);
            messages.insert(key.clone(), message_entry(prefix, ty, &summary, examples));
            channel_messages.insert(
                key.clone(),
                json!({"$ref": format!("#/components/messages/{key}")}),
            );
            refs.push(json!({"$ref": format!("#/channels/ws/messages/{key}")}));
        }
    }
    let close_codes: Vec<String> = CloseCode::ALL
        .iter()
        .map(|c| format!("{} `{}`", c.code(), c.reason()))
        .collect();

    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Byrd WebSocket",
            "version": "1.0.0",
            "description": format!(
                "{GENERATED_NOTICE}\n\nOne WebSocket per client at `/v1/ws`. Authenticate with the `token` query parameter or an `Authorization: Bearer` header; refusals happen before the upgrade with a JSON error body (401 for the token, 403 for an Origin not allowed, 400 for a request that is not an upgrade). The server sends `hello` first. Close codes beyond RFC 6455's 1000, 1001 and 1009: {}. See spec/v1/README.md for ordering, delivery and recovery guarantees.",
                close_codes.join(", ")
            ),
            "license": {"name": "Apache-2.0"}
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:8080",
                "protocol": "ws",
                "description": "A development server; production servers use wss.",
                "security": [
                    {"$ref": "#/components/securitySchemes/queryToken"},
                    {"$ref": "#/components/securitySchemes/bearerToken"}
                ]
            }
        },
        "channels": {
            "ws": {
                "address": "/v1/ws",
                "title": "Byrd live chat",
                "messages": channel_messages,
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
                }
            }
        },
        "operations": {
            "receiveClientFrames": {
                "action": "receive",
                "title": "Frames a client sends",
                "channel": {"$ref": "#/channels/ws"},
                "messages": receive_refs
            },
            "sendServerFrames": {
                "action": "send",
                "title": "Frames the server sends",
                "channel": {"$ref": "#/channels/ws"},
                "messages": send_refs
            }
        },
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "queryToken": {
                    "type": "httpApiKey",
                    "name": "token",
                    "in": "query",
                    "description": "An agent or guest JWT in the `token` query parameter (browsers cannot set headers on a WebSocket)."
                },
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An agent or guest JWT in the Authorization header."
                }
            }
        }
    })
}
