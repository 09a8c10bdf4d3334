//! Every example in every document is valid, and means what `byrd-spec`
//! means.
//!
//! spec/v1/README.md, "Documents": each example is validated against the
//! schema it illustrates, with formats checked and every document
//! resolvable, and then decoded into its `byrd-spec` type and encoded again:
//! an example that the schema accepts but the protocol types read
//! differently (a renamed field, a lost `null`) fails here.

use byrd_spec::agent::{Agent, AgentList, CreateAgentRequest};
use byrd_spec::auth::{LoginRequest, RefreshRequest, TokenResponse};
use byrd_spec::chat::{
    AssignChatRequest, Chat, ChatPage, ChatSummaryPage, CreateChatRequest, CreateChatResponse,
    GuestTokenResponse,
};
use byrd_spec::error::ErrorBody;
use byrd_spec::health::{Health, Readiness};
use byrd_spec::keys::JwkSet;
use byrd_spec::me::Me;
use byrd_spec::message::{Message, MessagePage, SendMessageRequest};
use byrd_spec::read::ChatReads;
use byrd_spec::ticket::WsTicketResponse;
use byrd_spec::ws::{ClientFrame, ServerFrame};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::spec_files::{
    committed, frame_branches, operations, pointer_segment, validator_at, violations,
};

/// Decodes `value` as `T` and encodes it again.
fn through<T: DeserializeOwned + Serialize>(value: &Value) -> Result<Value, String> {
    let decoded: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(decoded).map_err(|e| e.to_string())
}

/// `value` decoded as the `byrd-spec` type of schema `name` and encoded
/// again.
fn round_trip(name: &str, value: &Value) -> Result<Value, String> {
    match name {
        "LoginRequest" => through::<LoginRequest>(value),
        "RefreshRequest" => through::<RefreshRequest>(value),
        "TokenResponse" => through::<TokenResponse>(value),
        "CreateChatRequest" => through::<CreateChatRequest>(value),
        "CreateChatResponse" => through::<CreateChatResponse>(value),
        "GuestTokenResponse" => through::<GuestTokenResponse>(value),
        "WsTicketResponse" => through::<WsTicketResponse>(value),
        "JwkSet" => through::<JwkSet>(value),
        "AssignChatRequest" => through::<AssignChatRequest>(value),
        "Chat" => through::<Chat>(value),
        "ChatPage" => through::<ChatPage>(value),
        "ChatSummaryPage" => through::<ChatSummaryPage>(value),
        "SendMessageRequest" => through::<SendMessageRequest>(value),
        "Message" => through::<Message>(value),
        "MessagePage" => through::<MessagePage>(value),
        "ChatReads" => through::<ChatReads>(value),
        "Agent" => through::<Agent>(value),
        "AgentList" => through::<AgentList>(value),
        "CreateAgentRequest" => through::<CreateAgentRequest>(value),
        "Me" => through::<Me>(value),
        "Health" => through::<Health>(value),
        "Readiness" => through::<Readiness>(value),
        "ErrorBody" => through::<ErrorBody>(value),
        "ClientFrame" => through::<ClientFrame>(value),
        "ServerFrame" => through::<ServerFrame>(value),
        other => Err(format!("no byrd-spec type for schema {other}: add it here")),
    }
}

/// An example of `openapi.json`, and the schema it illustrates.
struct Example {
    at: String,
    /// JSON Pointer of the media type's schema.
    schema_pointer: String,
    /// The component the schema refers to (`Chat`), through the
    /// `oneOf [null, $ref]` of an optional body.
    schema_name: String,
    value: Value,
}

fn media_examples(document: &Value) -> Vec<Example> {
    let mut found = Vec::new();
    for (method, path, operation) in operations(document) {
        let base = format!("/paths/{}/{method}", pointer_segment(&path));
        let mut media = Vec::new();
        if let Some(body) = operation.pointer("/requestBody/content/application~1json") {
            media.push((
                "/requestBody/content/application~1json".to_owned(),
                body.clone(),
            ));
        }
        for (status, response) in operation["responses"].as_object().unwrap() {
            if let Some(body) = response.pointer("/content/application~1json") {
                media.push((
                    format!("/responses/{status}/content/application~1json"),
                    body.clone(),
                ));
            }
        }
        for (at, body) in media {
            let schema = &body["schema"];
            let reference = schema["$ref"]
                .as_str()
                .or_else(|| {
                    schema["oneOf"]
                        .as_array()?
                        .iter()
                        .find_map(|b| b["$ref"].as_str())
                })
                .unwrap_or_default();
            let name = reference.rsplit('/').next().unwrap_or_default().to_owned();
            for (example_name, example) in body["examples"].as_object().into_iter().flatten() {
                found.push(Example {
                    at: format!("{method} {path} {at} example {example_name}"),
                    schema_pointer: format!("{base}{at}/schema"),
                    schema_name: name.clone(),
                    value: example["value"].clone(),
                });
            }
        }
    }
    found
}

#[test]
fn every_openapi_example_matches_its_schema_and_round_trips_through_byrd_spec() {
    let document = committed("openapi.json");
    let examples = media_examples(&document);
    assert!(examples.len() > 60, "only {} examples", examples.len());
    let mut failures = Vec::new();
    for example in &examples {
        let validator = validator_at("openapi.json", &example.schema_pointer);
        for problem in violations(&validator, &example.value) {
            failures.push(format!("{}: {problem}", example.at));
        }
        match round_trip(&example.schema_name, &example.value) {
            Ok(again) if again == example.value => {}
            Ok(again) => failures.push(format!("{}: reads back as {again}", example.at)),
            Err(error) => failures.push(format!("{}: {error}", example.at)),
        }
    }
    assert!(
        failures.is_empty(),
        "bad examples:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_frame_example_matches_its_frame_and_round_trips_through_byrd_spec() {
    let whole = validator_at("ws.schema.json", "");
    let mut failures = Vec::new();
    let mut count = 0;
    for union in ["ClientFrame", "ServerFrame"] {
        for (index, branch) in frame_branches(union).iter().enumerate() {
            let own = validator_at("ws.schema.json", &format!("/$defs/{union}/oneOf/{index}"));
            let title = branch["title"].as_str().unwrap();
            for example in branch["examples"].as_array().unwrap() {
                count += 1;
                for problem in violations(&own, example)
                    .into_iter()
                    .chain(violations(&whole, example))
                {
                    failures.push(format!("{title}: {example}: {problem}"));
                }
                match round_trip(union, example) {
                    Ok(again) if again == *example => {}
                    Ok(again) => failures.push(format!("{title}: reads back as {again}")),
                    Err(error) => failures.push(format!("{title}: {error}")),
                }
            }
        }
    }
    assert!(count >= 20, "only {count} frame examples");
    assert!(
        failures.is_empty(),
        "bad frame examples:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_asyncapi_example_matches_its_payload_and_is_of_its_frame_type() {
    let document = committed("asyncapi.yaml");
    let mut failures = Vec::new();
    for (key, message) in document["components"]["messages"].as_object().unwrap() {
        let payload = message["payload"]["$ref"].as_str().unwrap();
        let (file, pointer) = payload.split_once('#').unwrap();
        let validator = validator_at(file, pointer);
        let examples = message["examples"].as_array().unwrap();
        assert!(!examples.is_empty(), "{key} has no example");
        for example in examples {
            let payload = &example["payload"];
            if payload["type"] != message["x-byrd-frame-type"] {
                failures.push(format!("{key}: example of type {}", payload["type"]));
            }
            for problem in violations(&validator, payload) {
                failures.push(format!("{key}: {payload}: {problem}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "bad asyncapi examples:\n{}",
        failures.join("\n")
    );
}

// The validation above can fail: an example with a wrong field type is
// refused by the same validator.
#[test]
fn a_broken_example_is_refused() {
    let document = committed("openapi.json");
    let example = media_examples(&document)
        .into_iter()
        .find(|e| e.schema_name == "Chat")
        .expect("an example of a chat");
    let mut broken = example.value.clone();
    broken["last_seq"] = Value::from("one");
    assert!(!validator_at("openapi.json", &example.schema_pointer).is_valid(&broken));
}
