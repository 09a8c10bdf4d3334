//! The committed protocol documents under `spec/v1/`.
//!
//! spec/v1/README.md, "Documents": `openapi.json`, `claims.schema.json`,
//! `ws.schema.json` and `asyncapi.yaml` are generated from the code and
//! committed. These tests hold the committed files to that: no drift,
//! valid OpenAPI 3.1 and AsyncAPI 3.0 documents, one protocol version
//! everywhere, a claims schema that describes the tokens the server really
//! issues, a frame schema that accepts what a live server sends, and a
//! README that lists every error and close code.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_server::spec_docs;
use byrd_spec::error::ErrorCode;
use byrd_spec::ws::CloseCode;
use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::spec_files::{committed, fixture, read_json, validator_at, violations};
use crate::ws_client::{WsClient, chat_and_guest};

// spec/v1/README.md, "Documents": every generated document is committed
// exactly as the code produces it, and a test fails with the one command
// that regenerates them.
#[test]
fn committed_spec_documents_match_the_code() {
    let stale = spec_docs::stale(&spec_docs::default_dir()).expect("spec documents render");
    assert!(
        stale.is_empty(),
        "spec/v1 documents out of date: {}; run `{}` and commit the result",
        stale.join(", "),
        spec_docs::REGENERATE_COMMAND
    );
}

#[test]
fn drift_check_covers_every_generated_document() {
    let files: Vec<&str> = spec_docs::documents()
        .expect("spec documents render")
        .iter()
        .map(|doc| doc.file)
        .collect();
    assert_eq!(
        files,
        [
            "openapi.json",
            "claims.schema.json",
            "visitor-identity.schema.json",
            "ws.schema.json",
            "client.json",
            "asyncapi.yaml"
        ]
    );
}

/// A validator for the official schema of a document format, vendored
/// under `tests/fixtures/` (see the README there).
fn official_validator(fixture_name: &str, draft: Draft) -> Validator {
    jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(true)
        .build(&read_json(&fixture(fixture_name)))
        .unwrap_or_else(|e| panic!("{fixture_name} does not compile: {e}"))
}

// `openapi.json` is OpenAPI 3.1, checked against the schema the OpenAPI
// Initiative publishes for 3.1 documents. Its self-contained
// `$dynamicRef: "#meta"` accepts any Schema Object; those are checked
// against their own examples in `spec_examples`.
#[test]
fn openapi_json_is_a_valid_openapi_3_1_document() {
    let document = committed("openapi.json");
    assert_eq!(document["openapi"].as_str().map(|v| &v[..4]), Some("3.1."));
    let validator = official_validator("openapi-3.1.schema.json", Draft::Draft202012);
    let problems = violations(&validator, &document);
    assert!(
        problems.is_empty(),
        "spec/v1/openapi.json is not valid OpenAPI 3.1:\n{}",
        problems.join("\n")
    );
}

// `asyncapi.yaml` is AsyncAPI 3.0, checked against the schema the AsyncAPI
// Initiative publishes for 3.0.0 documents.
#[test]
fn asyncapi_yaml_is_a_valid_asyncapi_3_0_document() {
    let document = committed("asyncapi.yaml");
    assert_eq!(document["asyncapi"], "3.0.0");
    let validator = official_validator("asyncapi-3.0.0.schema.json", Draft::Draft7);
    let problems = violations(&validator, &document);
    assert!(
        problems.is_empty(),
        "spec/v1/asyncapi.yaml is not valid AsyncAPI 3.0:\n{}",
        problems.join("\n")
    );
}

// The official schema must be able to fail: a document that breaks it is
// refused, so the test above is not passing vacuously.
#[test]
fn the_asyncapi_schema_refuses_a_broken_document() {
    let mut document = committed("asyncapi.yaml");
    document["channels"]["ws"]["address"] = json!(42);
    document["operations"]["sendServerFrames"]["action"] = json!("shout");
    let validator = official_validator("asyncapi-3.0.0.schema.json", Draft::Draft7);
    assert!(!validator.is_valid(&document));
}

// spec/v1/README.md, "Versioning": one protocol version everywhere: both
// API documents, the JSON Schema of the frames, and the server's `hello`.
#[tokio::test]
async fn every_document_and_hello_state_the_same_protocol_version() {
    let version = byrd_spec::PROTOCOL_VERSION;
    assert_eq!(committed("openapi.json")["info"]["version"], version);
    assert_eq!(committed("asyncapi.yaml")["info"]["version"], version);
    assert!(
        committed("ws.schema.json")["description"]
            .as_str()
            .unwrap()
            .contains(version)
    );
    let app = spawn_app().await;
    let (_, guest) = chat_and_guest(&app.start_chat().await);
    let (_socket, hello) = WsClient::connect(&app, &guest).await;
    assert_eq!(hello["protocol_version"], version);
}

/// The table rows of a Markdown document, as trimmed cells.
fn table_rows(markdown: &str) -> Vec<Vec<String>> {
    markdown
        .lines()
        .filter(|line| line.trim_start().starts_with('|'))
        .map(|line| line.split('|').map(|cell| cell.trim().to_owned()).collect())
        .collect()
}

fn spec_readme() -> String {
    let path = spec_docs::default_dir().join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

// The README lists every error code in a table row with its HTTP status.
#[test]
fn spec_readme_lists_every_error_code_with_its_status() {
    let rows = table_rows(&spec_readme());
    let missing: Vec<String> = ErrorCode::ALL
        .iter()
        .filter(|code| {
            let name = format!("`{}`", code.as_str());
            let status = code.http_status().to_string();
            !rows
                .iter()
                .any(|cells| cells.contains(&name) && cells.contains(&status))
        })
        .map(|code| format!("{} ({})", code.as_str(), code.http_status()))
        .collect();
    assert!(
        missing.is_empty(),
        "spec/v1/README.md has no table row for: {}",
        missing.join(", ")
    );
}

// spec/v1/README.md, "Close codes": every close code has a row with its
// reason text and the client's action, as `CloseCode` in ws.schema.json.
#[test]
fn spec_readme_lists_every_close_code_with_its_reason_and_action() {
    let rows = table_rows(&spec_readme());
    let missing: Vec<String> = CloseCode::ALL
        .iter()
        .filter(|code| {
            let number = code.code().to_string();
            let reason = format!("`{}`", code.reason());
            let action = format!("`{}`", code.action().as_str());
            !rows.iter().any(|cells| {
                cells.contains(&number) && cells.contains(&reason) && cells.contains(&action)
            })
        })
        .map(|code| code.code().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "spec/v1/README.md has no close-code row for: {}",
        missing.join(", ")
    );
}

/// The claims of a JWT, read without verifying it: the payload segment,
/// base64url without padding.
fn payload_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three segments");
    let bytes = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

// spec/v1/README.md, "Token claims": `claims.schema.json` describes the
// claims of both kinds of token. The tokens the server issues at login and
// at chat start must match it, each its own titled branch.
#[tokio::test]
async fn claims_schema_accepts_the_claims_of_issued_tokens() {
    let app = spawn_app().await;
    let session = app.admin_session().await;
    let agent = payload_of(session["access_token"].as_str().expect("access_token"));
    let chat = app.start_chat().await;
    let guest = payload_of(chat["guest_token"].as_str().expect("guest_token"));
    assert_eq!(guest["chat"]["id"], chat["chat"]["id"]);

    for (claims, branch) in [(&agent, "/oneOf/0"), (&guest, "/oneOf/1")] {
        for pointer in ["", branch] {
            let problems = violations(&validator_at("claims.schema.json", pointer), claims);
            assert!(
                problems.is_empty(),
                "claims {claims} break claims.schema.json#{pointer}:\n{}",
                problems.join("\n")
            );
        }
    }
    let claims = committed("claims.schema.json");
    assert_eq!(claims["oneOf"][0]["title"], "AgentClaims");
    assert_eq!(claims["oneOf"][1]["title"], "GuestClaims");
}

// RFC 8725, sections 3.11-3.12, as the spec applies them: an agent token
// may not carry `chat`, a guest token must. The schema says so as well as
// the server.
#[tokio::test]
async fn claims_schema_refuses_an_agent_with_a_chat_and_a_guest_without_one() {
    let app = spawn_app().await;
    let validator = validator_at("claims.schema.json", "");

    let session = app.admin_session().await;
    let mut agent = payload_of(session["access_token"].as_str().expect("access_token"));
    agent["chat"] = json!({
        "id": "0193a5f2-7000-7abc-8def-0123456789ab",
        "created_at": "2026-01-01T12:00:00Z"
    });
    assert!(
        !validator.is_valid(&agent),
        "an agent claims object with `chat` must be refused: {agent}"
    );

    let chat = app.start_chat().await;
    let mut guest = payload_of(chat["guest_token"].as_str().expect("guest_token"));
    guest
        .as_object_mut()
        .expect("claims are an object")
        .remove("chat");
    assert!(
        !validator.is_valid(&guest),
        "a guest claims object without `chat` must be refused: {guest}"
    );
}

// spec/v1/README.md, "Frames": a `send` carries `chat_id`, `client_msg_id`
// and `body`, and a frame's `type` is one the protocol defines; the schema
// says so as the server does.
#[test]
fn ws_schema_refuses_a_send_without_body_and_an_unknown_type() {
    let validator = validator_at("ws.schema.json", "");
    let chat_id = "0193a5f2-7000-7abc-8def-0123456789ab";
    let complete = json!({"type": "send", "chat_id": chat_id, "client_msg_id": "c1", "body": "Hi"});
    assert!(
        validator.is_valid(&complete),
        "a complete `send` must be accepted: {:?}",
        violations(&validator, &complete)
    );
    let without_body = json!({"type": "send", "chat_id": chat_id, "client_msg_id": "c1"});
    assert!(
        !validator.is_valid(&without_body),
        "a `send` without `body` must be refused"
    );
    let unknown = json!({"type": "shout", "chat_id": chat_id, "body": "Hi"});
    assert!(
        !validator.is_valid(&unknown),
        "a frame of unknown type must be refused"
    );
}

/// The branch of `ServerFrame` whose `type` is `tag`, as a pointer.
fn server_branch(tag: &str) -> String {
    let branches = committed("ws.schema.json")["$defs"]["ServerFrame"]["oneOf"]
        .as_array()
        .unwrap()
        .clone();
    let index = branches
        .iter()
        .position(|b| b["properties"]["type"]["const"] == tag)
        .unwrap_or_else(|| panic!("no ServerFrame branch for {tag}"));
    format!("/$defs/ServerFrame/oneOf/{index}")
}

// ws.schema.json is "JSON Schema of every frame". The frames a real server
// sends, here `hello` on connect and the `message` a REST
// `POST /v1/chats/{chat_id}/messages` fans out to the chat's guest, must
// match it, both the top-level schema and their own branch.
#[tokio::test]
async fn ws_schema_accepts_the_frames_a_live_server_sends() {
    let app = spawn_app().await;
    let (chat_id, guest) = chat_and_guest(&app.start_chat().await);
    let (mut socket, hello) = WsClient::connect(&app, &guest).await;

    let posted = app
        .post(
            &format!("/v1/chats/{chat_id}/messages"),
            Some(&guest),
            Some(&json!({"client_msg_id": "spec-1", "body": "Hello over REST"})),
        )
        .await;
    assert_eq!(posted.status(), 201, "the REST send failed");
    let message = socket.expect_type("message").await;
    assert_eq!(message["message"]["client_msg_id"], "spec-1");

    for frame in [&hello, &message] {
        let tag = frame["type"].as_str().unwrap();
        for pointer in [String::new(), server_branch(tag)] {
            let problems = violations(&validator_at("ws.schema.json", &pointer), frame);
            assert!(
                problems.is_empty(),
                "a live {tag} frame breaks ws.schema.json#{pointer}: {frame}\n{}",
                problems.join("\n")
            );
        }
    }
}
