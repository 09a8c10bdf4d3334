//! The committed protocol documents under `spec/v1/`.
//!
//! spec/v1/README.md, "Documents": `openapi.json`, `claims.schema.json`,
//! `ws.schema.json` and `asyncapi.yaml` are generated from the code and
//! committed. These tests hold the committed files to that: no drift, a
//! valid OpenAPI 3.1 document, examples that match their schemas, a claims
//! schema that describes the tokens the server really issues, an AsyncAPI
//! document with an example of every frame that `ws.schema.json` accepts,
//! a frame schema that accepts what a live server sends, and a README that
//! lists every error code with its status.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_server::spec_docs;
use byrd_spec::error::ErrorCode;
use byrd_spec::ws::ClientFrame;
use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::ws_client::{WsClient, chat_and_guest};

/// Where the official OpenAPI 3.1 schema is vendored (see the README there).
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn committed(file: &str) -> Value {
    read_json(&spec_docs::default_dir().join(file))
}

/// Every reason `instance` fails `validator`, one per line, with where.
fn violations(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|error| format!("at `{}`: {error}", error.instance_path))
        .collect()
}

/// A validator for the official OpenAPI 3.1 document schema.
///
/// The schema is fully self-contained: its `$dynamicRef: "#meta"` resolves
/// to the `$dynamicAnchor` of its own `$defs/schema`, which accepts any
/// object or boolean as a Schema Object. Schema Objects are checked
/// separately, against their own examples, in
/// `every_example_in_openapi_json_matches_its_schema`.
fn openapi_31_validator() -> Validator {
    let schema = read_json(&fixture("openapi-3.1.schema.json"));
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the official OpenAPI 3.1 schema compiles")
}

// spec/v1/README.md, "Documents": every generated
// document is committed exactly as the code produces it, and a test fails
// with the one command that regenerates them.
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

// Issue: `openapi.json` is OpenAPI 3.1. Checked against the schema the
// OpenAPI Initiative publishes for 3.1 documents.
#[test]
fn openapi_json_is_a_valid_openapi_3_1_document() {
    let document = committed("openapi.json");
    assert_eq!(document["openapi"].as_str().map(|v| &v[..4]), Some("3.1."));
    let problems = violations(&openapi_31_validator(), &document);
    assert!(
        problems.is_empty(),
        "spec/v1/openapi.json is not valid OpenAPI 3.1:\n{}",
        problems.join("\n")
    );
}

// The document served at `/openapi.json` (what the `/docs` page renders)
// is valid OpenAPI 3.1 too, and lists the same operations as the committed one.
#[tokio::test]
async fn served_openapi_json_is_valid_and_lists_the_committed_operations() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    let served: Value = response.json().await.expect("JSON");
    let problems = violations(&openapi_31_validator(), &served);
    assert!(
        problems.is_empty(),
        "/openapi.json is not valid OpenAPI 3.1:\n{}",
        problems.join("\n")
    );
    assert_eq!(
        operations(&served),
        operations(&committed("openapi.json")),
        "/openapi.json and spec/v1/openapi.json list different operations"
    );
}

/// `METHOD /path` of every operation in an OpenAPI document, sorted.
fn operations(document: &Value) -> Vec<String> {
    let mut found: Vec<String> = document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .map(move |(method, _)| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    found.sort();
    found
}

/// Escapes one JSON Pointer segment (RFC 6901) and percent-encodes it for a
/// URI fragment, where `{` and `}` of path templates may not appear raw.
fn pointer_segment(segment: &str) -> String {
    segment
        .replace('~', "~0")
        .replace('/', "~1")
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An example found in the OpenAPI document, and the schema it illustrates.
struct Example {
    /// Where the example sits, for failure messages.
    at: String,
    /// URI-fragment JSON Pointer of the schema it must match.
    schema_pointer: String,
    value: Value,
}

/// Collects every example under `node`: `example`/`examples` of Schema
/// Objects under `components/schemas`, and the `example` of any Media Type
/// or Parameter Object next to its `schema`.
fn collect_examples(node: &Value, pointer: &str, in_schemas: bool, found: &mut Vec<Example>) {
    match node {
        Value::Object(object) => {
            if in_schemas {
                if let Some(example) = object.get("example") {
                    found.push(Example {
                        at: format!("{pointer}/example"),
                        schema_pointer: pointer.to_owned(),
                        value: example.clone(),
                    });
                }
                if let Some(Value::Array(examples)) = object.get("examples") {
                    for (i, example) in examples.iter().enumerate() {
                        found.push(Example {
                            at: format!("{pointer}/examples/{i}"),
                            schema_pointer: pointer.to_owned(),
                            value: example.clone(),
                        });
                    }
                }
            } else if let (Some(example), Some(_)) = (object.get("example"), object.get("schema")) {
                found.push(Example {
                    at: format!("{pointer}/example"),
                    schema_pointer: format!("{pointer}/schema"),
                    value: example.clone(),
                });
            }
            for (key, child) in object {
                // `example` values are data, not schemas: do not look inside.
                if key == "example" || (key == "examples" && in_schemas) {
                    continue;
                }
                let child_pointer = format!("{pointer}/{}", pointer_segment(key));
                let child_in_schemas = in_schemas
                    || child_pointer.starts_with("/components/schemas/")
                    || key == "schema";
                collect_examples(child, &child_pointer, child_in_schemas, found);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_examples(item, &format!("{pointer}/{i}"), in_schemas, found);
            }
        }
        _ => {}
    }
}

// Issue: "checks every example in the spec against its schema". Each
// example is validated against the schema it belongs to, with the whole
// OpenAPI document registered as a resource so that `$ref`s such as
// `#/components/schemas/Visitor` resolve, and with formats (`uuid`,
// `date-time`, ...) checked.
#[test]
fn every_example_in_openapi_json_matches_its_schema() {
    const DOCUMENT_URI: &str = "urn:byrd:spec:v1:openapi";
    let document = committed("openapi.json");
    let mut examples = Vec::new();
    collect_examples(&document, "", false, &mut examples);
    assert!(
        examples.len() >= 5,
        "expected the components to carry examples, found {}",
        examples.len()
    );
    let mut failures = Vec::new();
    for example in &examples {
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .with_resource(
                DOCUMENT_URI,
                Draft::Draft202012.create_resource(document.clone()),
            )
            .build(&json!({"$ref": format!("{DOCUMENT_URI}#{}", example.schema_pointer)}))
            .unwrap_or_else(|e| panic!("schema of {} does not compile: {e}", example.at));
        for problem in violations(&validator, &example.value) {
            failures.push(format!("{}: {problem}", example.at));
        }
    }
    assert!(
        failures.is_empty(),
        "examples that break their schema:\n{}",
        failures.join("\n")
    );
}

/// A validator for the committed `claims.schema.json`.
fn claims_validator() -> Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&committed("claims.schema.json"))
        .expect("claims.schema.json compiles")
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
// at chat start must match it.
#[tokio::test]
async fn claims_schema_accepts_the_claims_of_issued_tokens() {
    let app = spawn_app().await;
    let validator = claims_validator();

    let session = app.admin_session().await;
    let agent = payload_of(session["access_token"].as_str().expect("access_token"));
    assert_eq!(agent["type"], "agent");
    let problems = violations(&validator, &agent);
    assert!(
        problems.is_empty(),
        "agent claims {agent} break claims.schema.json:\n{}",
        problems.join("\n")
    );

    let chat = app.start_chat().await;
    let guest = payload_of(chat["guest_token"].as_str().expect("guest_token"));
    assert_eq!(guest["type"], "guest");
    assert_eq!(guest["chat"]["id"], chat["chat"]["id"]);
    let problems = violations(&validator, &guest);
    assert!(
        problems.is_empty(),
        "guest claims {guest} break claims.schema.json:\n{}",
        problems.join("\n")
    );
}

// RFC 8725, sections 3.11-3.12, as the spec applies them: an agent token
// may not carry `chat`, a guest token must. The schema says so as well as
// the server.
#[tokio::test]
async fn claims_schema_refuses_an_agent_with_a_chat_and_a_guest_without_one() {
    let app = spawn_app().await;
    let validator = claims_validator();

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

// Issue: the README lists every error code. Each code of `ErrorCode::ALL`
// must appear in a table row of spec/v1/README.md with its HTTP status.
#[test]
fn spec_readme_lists_every_error_code_with_its_status() {
    let path = spec_docs::default_dir().join("README.md");
    let readme = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let missing: Vec<String> = ErrorCode::ALL
        .iter()
        .filter(|code| {
            let name = format!("`{}`", code.as_str());
            let status = code.http_status().to_string();
            !readme.lines().any(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                line.trim_start().starts_with('|')
                    && cells.contains(&name.as_str())
                    && cells.contains(&status.as_str())
            })
        })
        .map(|code| format!("{} ({})", code.as_str(), code.http_status()))
        .collect();
    assert!(
        missing.is_empty(),
        "spec/v1/README.md has no table row for: {}",
        missing.join(", ")
    );
}

// spec/v1/README.md, "Documents": the drift check covers every generated
// document, the two WebSocket ones included.
#[test]
fn drift_check_covers_every_generated_document() {
    let files: Vec<&str> = spec_docs::documents()
        .expect("spec documents render")
        .iter()
        .map(|doc| doc.file)
        .collect();
    for file in [
        "openapi.json",
        "claims.schema.json",
        "ws.schema.json",
        "asyncapi.yaml",
    ] {
        assert!(
            files.contains(&file),
            "`spec write`/`spec check` do not cover {file}"
        );
    }
}

/// The committed `asyncapi.yaml`, as JSON values.
fn committed_asyncapi() -> Value {
    let path = spec_docs::default_dir().join("asyncapi.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_norway::from_str::<Value>(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// A validator for `ws.schema.json`: the whole document as the root
/// resource (under its own `$id`), entered at `fragment` (`""` for the
/// document itself, `/$defs/ClientSend` for one frame type).
fn ws_validator(fragment: &str) -> Validator {
    let schema = committed("ws.schema.json");
    let id = schema["$id"]
        .as_str()
        .expect("ws.schema.json has an $id")
        .to_owned();
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .with_resource(id.as_str(), Draft::Draft202012.create_resource(schema))
        .build(&json!({"$ref": format!("{id}#{fragment}")}))
        .unwrap_or_else(|e| panic!("ws.schema.json#{fragment} does not compile: {e}"))
}

/// `(message key, example payload)` of every example in `asyncapi.yaml`.
fn asyncapi_examples(document: &Value) -> Vec<(String, Value)> {
    let messages = document["components"]["messages"]
        .as_object()
        .expect("asyncapi.yaml has components.messages");
    messages
        .iter()
        .flat_map(|(key, message)| {
            message["examples"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |example| (key.clone(), example["payload"].clone()))
        })
        .collect()
}

/// `hello` → `Hello`, `refresh_token` → `RefreshToken`: the suffix of a
/// frame type's message and definition names.
fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

// Issue: "every example is validated against its schema". Each example of
// an AsyncAPI message (`ClientSend`, `ServerHello`, ...) must match the
// definition of the same name in ws.schema.json, formats included, and be
// a frame of the type its message is for.
#[test]
fn every_asyncapi_example_matches_its_frame_definition_in_ws_schema() {
    let document = committed_asyncapi();
    let schema = committed("ws.schema.json");
    let examples = asyncapi_examples(&document);
    assert!(
        examples.len() >= 20,
        "expected an example of every frame, found {}",
        examples.len()
    );
    let mut failures = Vec::new();
    for (key, payload) in &examples {
        assert!(
            schema["$defs"].get(key).is_some(),
            "asyncapi.yaml has message {key} but ws.schema.json has no $defs/{key}"
        );
        let message_type = document["components"]["messages"][key]["name"].clone();
        if payload["type"] != message_type {
            failures.push(format!(
                "{key}: example of type {} in the message for {message_type}",
                payload["type"]
            ));
        }
        for problem in violations(&ws_validator(&format!("/$defs/{key}")), payload) {
            failures.push(format!("{key}: {payload}: {problem}"));
        }
    }
    assert!(
        failures.is_empty(),
        "asyncapi.yaml examples that break ws.schema.json:\n{}",
        failures.join("\n")
    );
}

// spec/v1/README.md, "Frames" and ws.schema.json's own description: every
// frame, in either direction, is a frame of ws.schema.json. So every
// AsyncAPI example must also match the document's top-level schema.
#[test]
fn every_asyncapi_example_is_a_frame_of_ws_schema() {
    let validator = ws_validator("");
    let failures: Vec<String> = asyncapi_examples(&committed_asyncapi())
        .iter()
        .flat_map(|(key, payload)| {
            violations(&validator, payload)
                .into_iter()
                .map(move |problem| format!("{key}: {payload}: {problem}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "asyncapi.yaml examples the top-level ws.schema.json refuses:\n{}",
        failures.join("\n")
    );
}

/// The `type` of every frame of `$defs/ServerFrame`'s `oneOf`, in order.
fn server_frame_types(schema: &Value) -> Vec<String> {
    schema["$defs"]["ServerFrame"]["oneOf"]
        .as_array()
        .expect("$defs/ServerFrame has a oneOf")
        .iter()
        .map(|branch| {
            let reference = branch["$ref"].as_str().expect("a $ref per frame type");
            let name = reference
                .strip_prefix("#/$defs/")
                .unwrap_or_else(|| panic!("{reference} is not a local definition"));
            schema["$defs"][name]
                .pointer("/properties/type/const")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("$defs/{name} has no `type` constant"))
                .to_owned()
        })
        .collect()
}

/// The message keys an AsyncAPI operation lists, via the channel's messages.
fn operation_message_keys(document: &Value, action: &str) -> Vec<String> {
    let operations = document["operations"]
        .as_object()
        .expect("asyncapi.yaml has operations");
    let mut keys: Vec<String> = operations
        .values()
        .filter(|operation| operation["action"] == action)
        .flat_map(|operation| {
            operation["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|reference| {
            let reference = reference["$ref"].as_str().expect("a message $ref");
            let key = reference.rsplit('/').next().unwrap_or_default();
            key.to_owned()
        })
        .collect();
    keys.sort();
    keys
}

// Issue: asyncapi.yaml documents "every message, which side sends it".
// Every client frame type and each of the 13 server frame types has a
// message with at least one example; the server receives the client's
// frames and sends its own.
#[test]
fn asyncapi_documents_every_frame_type_with_an_example_and_its_sender() {
    let document = committed_asyncapi();
    let messages = &document["components"]["messages"];
    let server_types = server_frame_types(&committed("ws.schema.json"));
    assert_eq!(
        server_types.len(),
        13,
        "ws.schema.json's ServerFrame has {} frame types: {server_types:?}",
        server_types.len()
    );
    let mut missing = Vec::new();
    let mut client_keys = Vec::new();
    let mut server_keys = Vec::new();
    for (prefix, types, keys) in [
        (
            "Client",
            ClientFrame::TYPES
                .iter()
                .map(|ty| (*ty).to_owned())
                .collect::<Vec<_>>(),
            &mut client_keys,
        ),
        ("Server", server_types, &mut server_keys),
    ] {
        for ty in types {
            let key = format!("{prefix}{}", pascal_case(&ty));
            let examples = messages[&key]["examples"].as_array().map_or(0, Vec::len);
            if messages[&key]["name"] != ty.as_str() || examples == 0 {
                missing.push(format!("{key} (`{ty}`)"));
            }
            keys.push(key);
        }
    }
    assert!(
        missing.is_empty(),
        "asyncapi.yaml has no message with an example for: {}",
        missing.join(", ")
    );
    client_keys.sort();
    server_keys.sort();
    assert_eq!(
        operation_message_keys(&document, "receive"),
        client_keys,
        "the server's `receive` operation must list exactly the client frames"
    );
    assert_eq!(
        operation_message_keys(&document, "send"),
        server_keys,
        "the server's `send` operation must list exactly the server frames"
    );
}

/// Every `$ref` string under `node`, with where it sits.
fn collect_refs(node: &Value, pointer: &str, found: &mut Vec<(String, String)>) {
    match node {
        Value::Object(object) => {
            for (key, child) in object {
                let child_pointer = format!("{pointer}/{key}");
                if let ("$ref", Value::String(reference)) = (key.as_str(), child) {
                    found.push((child_pointer, reference.clone()));
                } else {
                    collect_refs(child, &child_pointer, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_refs(item, &format!("{pointer}/{i}"), found);
            }
        }
        _ => {}
    }
}

/// The node a document-local `$ref` (`#/a/b`) points at, if any.
fn resolve_local<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    pointer
        .split('/')
        .skip(1)
        .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
        .try_fold(document, |node, segment| node.get(segment.as_str()))
}

// Issue: asyncapi.yaml is an AsyncAPI 3 document of the channel `/v1/ws`
// with its auth: the `token` query parameter or an `Authorization: Bearer`
// header. It is self-contained: every `$ref` points inside it.
#[test]
fn asyncapi_describes_the_ws_channel_and_both_ways_to_authenticate() {
    let document = committed_asyncapi();
    assert_eq!(document["asyncapi"], "3.0.0");
    let channels = document["channels"]
        .as_object()
        .expect("asyncapi.yaml has channels");
    assert!(
        channels
            .values()
            .any(|channel| channel["address"] == "/v1/ws"),
        "no channel has `address: /v1/ws`: {:?}",
        channels.keys().collect::<Vec<_>>()
    );

    let schemes: Vec<&Value> = document["components"]["securitySchemes"]
        .as_object()
        .expect("asyncapi.yaml has components.securitySchemes")
        .values()
        .collect();
    assert!(
        schemes
            .iter()
            .any(|s| s["type"] == "httpApiKey" && s["in"] == "query" && s["name"] == "token"),
        "no security scheme for the `token` query parameter: {schemes:?}"
    );
    assert!(
        schemes.iter().any(|s| s["type"] == "http"
            && s["scheme"].as_str().map(str::to_ascii_lowercase) == Some("bearer".into())),
        "no security scheme for `Authorization: Bearer`: {schemes:?}"
    );

    let mut refs = Vec::new();
    collect_refs(&document, "", &mut refs);
    assert!(refs.len() > 20, "expected many $refs, found {}", refs.len());
    let dangling: Vec<String> = refs
        .iter()
        .filter(|(_, reference)| resolve_local(&document, reference).is_none())
        .map(|(at, reference)| format!("{at}: {reference}"))
        .collect();
    assert!(
        dangling.is_empty(),
        "asyncapi.yaml $refs that do not resolve inside it:\n{}",
        dangling.join("\n")
    );
}

// spec/v1/README.md, "Frames": a `send` carries `chat_id`, `client_msg_id`
// and `body`, and a frame's `type` is one the protocol defines; the schema
// says so as the server does.
#[test]
fn ws_schema_refuses_a_send_without_body_and_an_unknown_type() {
    let validator = ws_validator("");
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

// Issue: ws.schema.json is "JSON Schema of every frame". The frames a real
// server sends, here `hello` on connect and the `message` a REST
// `POST /v1/chats/{chat_id}/messages` fans out to the chat's guest, must
// match it, both the top-level schema and their own definitions.
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

    let whole = ws_validator("");
    for (frame, definition) in [(&hello, "ServerHello"), (&message, "ServerMessage")] {
        for (validator, what) in [
            (&whole, "ws.schema.json".to_owned()),
            (
                &ws_validator(&format!("/$defs/{definition}")),
                format!("$defs/{definition}"),
            ),
        ] {
            let problems = violations(validator, frame);
            assert!(
                problems.is_empty(),
                "a live {} frame breaks {what}: {frame}\n{}",
                frame["type"],
                problems.join("\n")
            );
        }
    }
}
