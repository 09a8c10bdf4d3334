//! What makes the documents read right in generators, not only valid.
//!
//! spec/v1/README.md, "Documents" and "Extensions": every operation has a
//! stable id, a summary, its error codes per status with an example each,
//! and a `default` error; agent and guest schemes are told apart by
//! `x-byrd-token-type`; `/v1/ws` is marked for REST generators to skip;
//! types shared by REST and WebSocket are defined once, in ws.schema.json;
//! frame unions are whole, titled, `type`-tagged objects; open enums say
//! so; what the server sends has every field required.

use std::collections::{BTreeMap, BTreeSet};

use byrd_spec::error::ErrorCode;
use byrd_spec::ws::{ClientFrame, CloseCode};
use serde_json::Value;

use crate::spec_files::{committed, frame_branches, operations};

fn error_code(name: &str) -> ErrorCode {
    ErrorCode::ALL
        .iter()
        .copied()
        .find(|code| code.as_str() == name)
        .unwrap_or_else(|| panic!("`{name}` is not an error code"))
}

#[test]
fn every_operation_has_a_stable_camel_case_id_and_a_summary() {
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&committed("openapi.json")) {
        let id = operation["operationId"].as_str().unwrap_or_default();
        assert!(
            id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "{method} {path}: operationId {id:?} is not camelCase"
        );
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        let summary = operation["summary"].as_str().unwrap_or_default();
        assert!(!summary.is_empty(), "{method} {path} has no summary");
    }
    // Ids are part of the contract: the SDKs' method names come from them.
    for id in [
        "login",
        "startChat",
        "sendMessage",
        "listMessages",
        "connectWebSocket",
    ] {
        assert!(ids.contains(id), "operationId {id} is gone");
    }
}

#[test]
fn every_error_response_lists_its_codes_with_their_status_and_an_example_each() {
    for (method, path, operation) in operations(&committed("openapi.json")) {
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.contains_key("default"),
            "{method} {path} has no default response"
        );
        for (status, response) in responses {
            assert!(
                response.pointer("/headers/X-Request-Id").is_some(),
                "{method} {path} {status} does not declare X-Request-Id"
            );
            let Some(codes) = response.get("x-byrd-error-codes") else {
                let numeric: u16 = status.parse().unwrap_or(0);
                let body = response
                    .pointer("/content/application~1json/schema/$ref")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                assert!(
                    numeric < 400 || !body.ends_with("/ErrorBody"),
                    "{method} {path} {status} carries an error body without x-byrd-error-codes"
                );
                continue;
            };
            let codes: Vec<&str> = codes
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            assert!(!codes.is_empty(), "{method} {path} {status}: no codes");
            let examples = response
                .pointer("/content/application~1json/examples")
                .and_then(Value::as_object)
                .unwrap_or_else(|| panic!("{method} {path} {status}: no examples"));
            for name in codes {
                let code = error_code(name);
                if status != "default" {
                    assert_eq!(
                        status,
                        &code.http_status().to_string(),
                        "{method} {path}: `{name}` listed under the wrong status"
                    );
                }
                assert_eq!(
                    examples[name]["value"]["error"]["code"], name,
                    "{method} {path} {status}: no example for `{name}`"
                );
                if code == ErrorCode::RateLimited {
                    assert!(
                        response.pointer("/headers/Retry-After").is_some(),
                        "{method} {path}: 429 without a Retry-After header"
                    );
                }
                if code.http_status() == 401 {
                    assert!(
                        response.pointer("/headers/WWW-Authenticate").is_some(),
                        "{method} {path}: 401 without WWW-Authenticate"
                    );
                }
            }
        }
    }
}

#[test]
fn every_body_has_an_example() {
    for (method, path, operation) in operations(&committed("openapi.json")) {
        let mut media = Vec::new();
        if let Some(body) = operation.pointer("/requestBody/content/application~1json") {
            media.push(("request".to_owned(), body.clone()));
        }
        for (status, response) in operation["responses"].as_object().unwrap() {
            if let Some(body) = response.pointer("/content/application~1json") {
                media.push((status.clone(), body.clone()));
            }
        }
        for (which, body) in media {
            let examples = body["examples"].as_object().map_or(0, |e| e.len());
            assert!(examples > 0, "{method} {path} {which} has no example");
        }
    }
}

#[test]
fn agent_and_guest_schemes_are_told_apart_and_public_operations_say_so() {
    let document = committed("openapi.json");
    let schemes = document["components"]["securitySchemes"]
        .as_object()
        .unwrap();
    let mut token_types = BTreeMap::new();
    for (name, scheme) in schemes {
        let token_type = scheme["x-byrd-token-type"].as_str().unwrap_or_default();
        assert!(
            ["agent", "guest"].contains(&token_type),
            "scheme {name} has no x-byrd-token-type"
        );
        token_types.insert(
            name.clone(),
            (token_type.to_owned(), scheme["in"] == "query"),
        );
    }
    for public in ["login", "refreshSession", "startChat", "getHealth"] {
        let (_, _, operation) = operations(&document)
            .into_iter()
            .find(|(_, _, op)| op["operationId"] == public)
            .unwrap();
        assert_eq!(operation["security"], Value::Array(vec![]), "{public}");
    }
    for (method, path, operation) in operations(&document) {
        for requirement in operation["security"].as_array().unwrap() {
            for name in requirement.as_object().unwrap().keys() {
                let (_, in_query) = &token_types[name];
                assert!(
                    !in_query || path == "/v1/ws",
                    "{method} {path}: only /v1/ws reads a token from the query string"
                );
            }
        }
    }
    let logout = operations(&document)
        .into_iter()
        .find(|(_, _, op)| op["operationId"] == "logout")
        .unwrap()
        .2;
    assert_eq!(logout["security"], serde_json::json!([{"agent_token": []}]));
}

// Generators retry a POST only when it is idempotent, and page a list only
// when they know how: the documents say which, for each operation.
#[test]
fn idempotency_and_pagination_are_declared_where_they_apply() {
    let document = committed("openapi.json");
    let by_id = |id: &str| {
        operations(&document)
            .into_iter()
            .find(|(_, _, op)| op["operationId"] == id)
            .unwrap()
            .2
    };
    let send = by_id("sendMessage");
    let key = send["x-byrd-idempotency-key"]["name"].as_str().unwrap();
    assert!(
        send.pointer(&format!(
            "/requestBody/content/application~1json/examples/hello/value/{key}"
        ))
        .is_some(),
        "the idempotency key is not a body field"
    );
    for (id, parameter, items) in [
        ("listChats", "cursor", "chats"),
        ("listMessages", "after_seq", "messages"),
    ] {
        let operation = by_id(id);
        let pagination = &operation["x-byrd-pagination"];
        assert_eq!(pagination["parameter"], parameter, "{id}");
        assert_eq!(pagination["items"], items, "{id}");
        assert!(
            operation["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == parameter),
            "{id} has no {parameter} parameter"
        );
    }
}

#[test]
fn the_websocket_operation_is_marked_for_rest_generators_to_skip() {
    let marked: Vec<String> = operations(&committed("openapi.json"))
        .into_iter()
        .filter(|(_, _, op)| op.get("x-byrd-websocket").is_some())
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    assert_eq!(marked, ["get /v1/ws"]);
}

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
