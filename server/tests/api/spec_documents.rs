//! The committed protocol documents under `spec/v1/`.
//!
//! spec/v1/README.md, "Documents": `openapi.json` and `claims.schema.json`
//! are generated from the code and committed. These tests hold the
//! committed files to that: no drift, a valid OpenAPI 3.1 document,
//! examples that match their schemas, a claims schema that describes the
//! tokens the server really issues, and a README that lists every error
//! code with its status.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_server::spec_docs;
use byrd_spec::error::ErrorCode;
use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

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
