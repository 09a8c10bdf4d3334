//! What makes the schemas and frames read right in generators, not only
//! valid (`spec/v1/README.md#documents`, `#extensions`, `#errors`,
//! `#close-codes`; `spec/v1/ws.schema.json`, `spec/v1/asyncapi.yaml`):
//! types shared by REST and WebSocket are defined once, in
//! `ws.schema.json`; frame unions are whole, titled, `type`-tagged
//! objects; open enums say so; what the server sends has every field
//! required and described; formats are ones generators know; AsyncAPI
//! message names are unique, with the right senders.

use std::collections::BTreeSet;

use byrd_spec::error::ErrorCode;
use byrd_spec::ws::{ClientFrame, CloseCode};
use serde_json::Value;

use crate::spec_files::{committed, frame_branches};

#[test]
fn types_shared_by_rest_and_websocket_are_defined_once_in_ws_schema() {
    let openapi = committed("openapi.json");
    let ws = committed("ws.schema.json");
    let components = openapi["components"]["schemas"].as_object().unwrap();
    let defs = ws["$defs"].as_object().unwrap();
    let shared: Vec<&String> = components
        .keys()
        .filter(|k| defs.contains_key(*k))
        .collect();
    for name in ["Chat", "Message", "Author", "ErrorCode"] {
        assert!(shared.iter().any(|s| *s == name), "{name} is not shared");
    }
    for name in shared {
        assert_eq!(
            components[name],
            serde_json::json!({"$ref": format!("ws.schema.json#/$defs/{name}")}),
            "openapi.json defines {name} again instead of referring to ws.schema.json"
        );
    }
    let asyncapi = committed("asyncapi.yaml");
    assert!(
        asyncapi["components"].get("schemas").is_none(),
        "asyncapi.yaml copies schemas instead of referring to ws.schema.json"
    );
    for (key, message) in asyncapi["components"]["messages"].as_object().unwrap() {
        let payload = message["payload"]["$ref"].as_str().unwrap_or_default();
        assert!(
            payload.starts_with("ws.schema.json#/$defs/"),
            "message {key}'s payload is not a reference into ws.schema.json"
        );
    }
}

/// Whether any object under `node` has a `$ref` beside other keywords.
fn ref_with_siblings(node: &Value, at: &str, found: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            // Annotations beside a `$ref` (its field's description) are
            // safe to ignore; a sibling that constrains or adds fields is not.
            let constraining = map
                .keys()
                .any(|key| !matches!(key.as_str(), "$ref" | "description" | "title"));
            if map.contains_key("$ref") && constraining {
                found.push(at.to_owned());
            }
            for (key, child) in map {
                ref_with_siblings(child, &format!("{at}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                ref_with_siblings(item, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

// Frame unions are whole objects: draft-07 readers (AsyncAPI tools,
// json-schema-to-typescript) ignore a `$ref`'s siblings, and typify only
// tags a union whose branches carry the tag themselves.
#[test]
fn every_frame_is_a_whole_titled_object_tagged_by_type_with_examples() {
    let mut found = Vec::new();
    ref_with_siblings(&committed("ws.schema.json"), "", &mut found);
    assert!(found.is_empty(), "$ref with sibling keywords at {found:?}");

    let mut titles = BTreeSet::new();
    for (union, prefix) in [("ClientFrame", "Client"), ("ServerFrame", "Server")] {
        let ws = committed("ws.schema.json");
        assert_eq!(
            ws["$defs"][union]["x-byrd-open"], true,
            "{union} is not open"
        );
        let mut tags = Vec::new();
        for branch in frame_branches(union) {
            let tag = branch["properties"]["type"]["const"].as_str().unwrap();
            assert!(branch.get("$ref").is_none(), "{union} {tag} is a $ref");
            assert_eq!(branch["type"], "object");
            assert_eq!(
                branch["required"][0], "type",
                "{union} {tag}: type not required"
            );
            let title = branch["title"].as_str().unwrap();
            assert!(title.starts_with(prefix), "{union} {tag}: title {title}");
            assert!(titles.insert(title.to_owned()), "title {title} used twice");
            assert!(
                branch["examples"].as_array().is_some_and(|e| !e.is_empty()),
                "{union} {tag} has no example"
            );
            tags.push(tag.to_owned());
        }
        if union == "ClientFrame" {
            assert_eq!(tags, ClientFrame::TYPES);
        }
    }
}

// What the server sends always carries every field (`null` when empty), so
// every field is required; a generator then types it `T | null`, not
// "maybe absent".
#[test]
fn every_field_the_server_sends_is_required() {
    fn check(schema: &Value, at: &str, problems: &mut Vec<String>) {
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            let required: BTreeSet<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for name in properties.keys() {
                if !required.contains(name.as_str()) {
                    problems.push(format!("{at}.{name}"));
                }
            }
        }
    }
    let ws = committed("ws.schema.json");
    let mut problems = Vec::new();
    for branch in frame_branches("ServerFrame") {
        check(&branch, branch["title"].as_str().unwrap(), &mut problems);
    }
    for name in ["Chat", "Message", "Author", "Visitor", "Principal"] {
        check(&ws["$defs"][name], name, &mut problems);
    }
    let openapi = committed("openapi.json");
    for name in [
        "TokenResponse",
        "Agent",
        "ChatPage",
        "MessagePage",
        "CreateChatResponse",
        "AgentMe",
        "GuestMe",
        "ErrorDetail",
    ] {
        check(&openapi["components"]["schemas"][name], name, &mut problems);
    }
    assert!(problems.is_empty(), "sent but not required: {problems:?}");
}

#[test]
fn error_codes_and_close_codes_are_open_tables_matching_the_protocol_types() {
    let ws = committed("ws.schema.json");
    let codes = &ws["$defs"]["ErrorCode"];
    assert_eq!(codes["x-byrd-open"], true);
    let listed: Vec<(String, u64)> = codes["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["const"].as_str().unwrap().to_owned(),
                b["x-byrd-http-status"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), u64::from(c.http_status())))
        .collect();
    assert_eq!(listed, expected);

    let close = &ws["$defs"]["CloseCode"];
    assert_eq!(close["x-byrd-open"], true);
    let listed: Vec<(u64, String, String)> = close["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["const"].as_u64().unwrap(),
                b["title"].as_str().unwrap().to_owned(),
                b["x-byrd-client-action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String, String)> = CloseCode::ALL
        .iter()
        .map(|c| {
            (
                u64::from(c.code()),
                c.reason().to_owned(),
                c.action().as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(listed, expected);
    assert!(
        listed
            .iter()
            .any(|(code, _, action)| *code == 4002 && action == "stop"),
        "a revoked token must stop a client"
    );
}

#[test]
fn formats_are_from_the_registries_generators_know() {
    fn formats(node: &Value, found: &mut BTreeSet<String>) {
        match node {
            Value::Object(map) => {
                if let Some(format) = map.get("format").and_then(Value::as_str) {
                    found.insert(format.to_owned());
                }
                map.values().for_each(|child| formats(child, found));
            }
            Value::Array(items) => items.iter().for_each(|item| formats(item, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    for file in ["openapi.json", "ws.schema.json", "claims.schema.json"] {
        formats(&committed(file), &mut found);
    }
    let known: BTreeSet<String> = ["uuid", "date-time", "int32", "int64", "email", "uri"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert!(
        found.is_subset(&known),
        "unregistered formats: {:?}",
        found.difference(&known)
    );
}

#[test]
fn asyncapi_message_names_are_unique_and_senders_are_right() {
    let document = committed("asyncapi.yaml");
    let messages = document["components"]["messages"].as_object().unwrap();
    let names: BTreeSet<&str> = messages
        .values()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), messages.len(), "message names collide");
    for (operation, action, prefix) in [
        ("receiveClientFrames", "receive", "Client"),
        ("sendServerFrames", "send", "Server"),
    ] {
        let op = &document["operations"][operation];
        assert_eq!(op["action"], action);
        let keys: Vec<&str> = op["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["$ref"].as_str().unwrap().rsplit('/').next().unwrap())
            .collect();
        assert!(!keys.is_empty());
        assert!(
            keys.iter().all(|k| k.starts_with(prefix)),
            "{operation}: {keys:?}"
        );
    }
}

// Generators turn descriptions into doc comments: every field of every
// body, frame and claim says what it holds.
#[test]
fn every_field_has_a_description() {
    fn walk(node: &Value, at: &str, missing: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(properties) = map.get("properties").and_then(Value::as_object) {
                    for (name, property) in properties {
                        if name != "type" && property.get("description").is_none() {
                            missing.push(format!("{at}.{name}"));
                        }
                    }
                }
                for (key, child) in map {
                    if key != "examples" {
                        walk(child, &format!("{at}/{key}"), missing);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{at}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    let mut missing = Vec::new();
    for file in ["openapi.json", "ws.schema.json", "claims.schema.json"] {
        walk(&committed(file), file, &mut missing);
    }
    assert!(
        missing.is_empty(),
        "fields without a description: {missing:?}"
    );
}
