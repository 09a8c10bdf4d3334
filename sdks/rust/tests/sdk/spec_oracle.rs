//! The generated types against `byrd-spec`, the server's own types: every
//! example of the spec documents decodes through both and encodes back to
//! the same JSON text, and to the example itself.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use byrd_sdk::close_codes::{CloseAction, CloseCode};
use byrd_sdk::types::{ErrorCode, ServerFrame};

fn document(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../spec/v1")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("the spec document exists"))
        .expect("the spec document is JSON")
}

/// Decodes `example` as the SDK's `Ours` and byrd-spec's `Theirs` and
/// checks both encode it back identically.
fn same<Ours, Theirs>(what: &str, example: &Value)
where
    Ours: Serialize + DeserializeOwned,
    Theirs: Serialize + DeserializeOwned,
{
    let ours: Ours = serde_json::from_value(example.clone())
        .unwrap_or_else(|error| panic!("{what}: the SDK cannot decode {example}: {error}"));
    let theirs: Theirs = serde_json::from_value(example.clone())
        .unwrap_or_else(|error| panic!("{what}: byrd-spec cannot decode {example}: {error}"));
    let ours = serde_json::to_string(&ours).unwrap();
    assert_eq!(ours, serde_json::to_string(&theirs).unwrap(), "{what}");
    assert_eq!(
        serde_json::from_str::<Value>(&ours).unwrap(),
        *example,
        "{what}"
    );
}

/// Checks one OpenAPI example of the component `schema`.
fn same_component(schema: &str, what: &str, example: &Value) {
    use byrd_sdk::types as sdk;
    use byrd_spec as spec;
    match schema {
        "Agent" => same::<sdk::Agent, spec::agent::Agent>(what, example),
        "AgentList" => same::<sdk::AgentList, spec::agent::AgentList>(what, example),
        "CreateAgentRequest" => {
            same::<sdk::CreateAgentRequest, spec::agent::CreateAgentRequest>(what, example)
        }
        "LoginRequest" => same::<sdk::LoginRequest, spec::auth::LoginRequest>(what, example),
        "RefreshRequest" => same::<sdk::RefreshRequest, spec::auth::RefreshRequest>(what, example),
        "TokenResponse" => same::<sdk::TokenResponse, spec::auth::TokenResponse>(what, example),
        "Chat" => same::<sdk::Chat, spec::chat::Chat>(what, example),
        "ChatPage" => same::<sdk::ChatPage, spec::chat::ChatPage>(what, example),
        "ChatSummaryPage" => {
            same::<sdk::ChatSummaryPage, spec::chat::ChatSummaryPage>(what, example)
        }
        "CreateChatRequest" => {
            same::<sdk::CreateChatRequest, spec::chat::CreateChatRequest>(what, example)
        }
        "CreateChatResponse" => {
            same::<sdk::CreateChatResponse, spec::chat::CreateChatResponse>(what, example)
        }
        "GuestTokenResponse" => {
            same::<sdk::GuestTokenResponse, spec::chat::GuestTokenResponse>(what, example)
        }
        "WsTicketResponse" => {
            same::<sdk::WsTicketResponse, spec::ticket::WsTicketResponse>(what, example)
        }
        "AssignChatRequest" => {
            same::<sdk::AssignChatRequest, spec::chat::AssignChatRequest>(what, example)
        }
        "ErrorBody" => same::<sdk::ErrorBody, spec::error::ErrorBody>(what, example),
        "Health" => same::<sdk::Health, spec::health::Health>(what, example),
        "Readiness" => same::<sdk::Readiness, spec::health::Readiness>(what, example),
        "JwkSet" => same::<sdk::JwkSet, spec::keys::JwkSet>(what, example),
        "Me" => same::<sdk::Me, spec::me::Me>(what, example),
        "Message" => same::<sdk::Message, spec::message::Message>(what, example),
        "MessagePage" => same::<sdk::MessagePage, spec::message::MessagePage>(what, example),
        "ChatReads" => same::<sdk::ChatReads, spec::read::ChatReads>(what, example),
        "SendMessageRequest" => {
            same::<sdk::SendMessageRequest, spec::message::SendMessageRequest>(what, example)
        }
        other => panic!("{what}: an example of `{other}`, which this test does not know"),
    }
}

/// The component a body's schema names: `{"$ref"}` or `oneOf [null, $ref]`.
fn component_of(schema: &Value) -> Option<String> {
    let reference = schema.get("$ref").or_else(|| {
        schema
            .get("oneOf")?
            .as_array()?
            .iter()
            .find_map(|option| option.get("$ref"))
    })?;
    Some(reference.as_str()?.rsplit('/').next()?.to_owned())
}

#[test]
fn every_openapi_example_round_trips_like_byrd_spec() {
    let openapi = document("openapi.json");
    let mut checked = 0;
    for (path, item) in openapi["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let bodies = operation["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, response)| (status.clone(), response))
                .chain(
                    operation
                        .get("requestBody")
                        .map(|body| ("request".to_owned(), body)),
                );
            for (status, body) in bodies {
                let Some(content) = body.pointer("/content/application~1json") else {
                    continue;
                };
                let Some(schema) = component_of(&content["schema"]) else {
                    continue;
                };
                for (name, example) in content["examples"].as_object().into_iter().flatten() {
                    let what = format!("{method} {path} {status} example {name}");
                    same_component(&schema, &what, &example["value"]);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 60, "only {checked} examples found");
}

#[test]
fn every_frame_example_round_trips_like_byrd_spec() {
    let ws = document("ws.schema.json");
    let (mut checked, mut frame_types) = (0, 0);
    for (union, theirs) in [("ClientFrame", true), ("ServerFrame", false)] {
        for branch in ws["$defs"][union]["oneOf"].as_array().unwrap() {
            frame_types += 1;
            let title = branch["title"].as_str().unwrap();
            let examples = branch["examples"]
                .as_array()
                .expect("every frame has examples");
            for example in examples {
                if theirs {
                    same::<byrd_sdk::types::ClientFrame, byrd_spec::ws::ClientFrame>(
                        title, example,
                    );
                } else {
                    same::<ServerFrame, byrd_spec::ws::ServerFrame>(title, example);
                }
                checked += 1;
            }
        }
    }
    assert!(frame_types >= 22, "only {frame_types} frame types found");
    assert_eq!(checked, frame_types, "one example per frame type");
}

#[test]
fn unknown_frames_codes_and_close_codes_keep_their_raw_value() {
    let frame: ServerFrame =
        serde_json::from_value(serde_json::json!({"type": "reaction", "emoji": "+1"})).unwrap();
    let ServerFrame::Unknown(unknown) = &frame else {
        panic!("decoded as {frame:?}");
    };
    assert_eq!(unknown.tag, "reaction");
    assert_eq!(unknown.raw["emoji"], "+1");
    assert_eq!(
        serde_json::to_value(&frame).unwrap(),
        serde_json::json!({"type": "reaction", "emoji": "+1"})
    );

    let code: ErrorCode = serde_json::from_value(Value::from("quota_exceeded")).unwrap();
    assert_eq!(code, ErrorCode::Unknown("quota_exceeded".into()));
    assert_eq!(
        serde_json::to_value(&code).unwrap(),
        Value::from("quota_exceeded")
    );
    assert_eq!(code.http_status(), None);

    assert_eq!(CloseCode::from_code(4999), CloseCode::Unknown(4999));
    assert_eq!(CloseCode::Unknown(4999).action(), CloseAction::Reconnect);

    // A known type with a bad field is still an error, not "unknown".
    assert!(serde_json::from_value::<ServerFrame>(serde_json::json!({"type": "ack"})).is_err());
}

#[test]
fn the_tables_agree_with_byrd_spec() {
    for code in byrd_spec::error::ErrorCode::ALL {
        let ours = ErrorCode::from_wire(code.as_str());
        assert!(!matches!(ours, ErrorCode::Unknown(_)), "{code}");
        assert_eq!(ours.http_status(), Some(code.http_status()), "{code}");
    }
    assert_eq!(ErrorCode::ALL.len(), byrd_spec::error::ErrorCode::ALL.len());
    for code in byrd_spec::ws::CloseCode::ALL {
        let ours = CloseCode::from_code(code.code());
        assert_eq!(ours.reason(), Some(code.reason()));
        assert_eq!(
            format!("{:?}", ours.action()),
            format!("{:?}", code.action())
        );
    }
    assert_eq!(byrd_sdk::PROTOCOL_VERSION, byrd_spec::PROTOCOL_VERSION);
}
