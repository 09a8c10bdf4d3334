//! What makes the OpenAPI document read right in generators, not only
//! valid (`spec/v1/README.md#documents`, `#extensions`; every operation of
//! `spec/v1/openapi.json`): every operation has a stable id, a summary,
//! its error codes per status with an example each, and a `default`
//! error; agent and guest schemes are told apart by `x-byrd-token-type`;
//! idempotency and pagination are declared where they apply; `/v1/ws` is
//! marked for REST generators to skip. The schemas and frames are
//! `spec_schemas.rs`.

use std::collections::{BTreeMap, BTreeSet};

use byrd_spec::error::ErrorCode;
use serde_json::Value;

use crate::spec_files::{committed, operations};

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
