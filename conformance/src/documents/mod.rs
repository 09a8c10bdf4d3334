//! The committed `spec/v1` documents, embedded at build time, and the
//! validators built from them: every REST response against `openapi.json`,
//! every server WebSocket frame against `ws.schema.json`, every token the
//! server issues against `claims.schema.json`.
//!
//! The validators read the documents generically: an operation is found by
//! method and path template, a response by status, a schema by following
//! `$ref`s. The only fixed names are the ones the spec's prose gives: the
//! server-frame union (`ServerFrame`) and the `type` tag of every frame.

mod frames;
mod openapi;

use jsonschema::{Draft, Validator};
use serde_json::Value;

pub use frames::FrameSchema;
pub use openapi::{Expectation, OpenApi};

pub const OPENAPI_JSON: &str = include_str!("../../../spec/v1/openapi.json");
pub const WS_SCHEMA_JSON: &str = include_str!("../../../spec/v1/ws.schema.json");
pub const CLAIMS_SCHEMA_JSON: &str = include_str!("../../../spec/v1/claims.schema.json");

/// Every validator the runner needs, built once per run.
pub struct Documents {
    pub openapi: OpenApi,
    pub frames: FrameSchema,
    claims: Validator,
}

#[derive(Debug, thiserror::Error)]
#[error("the embedded spec document {document} cannot be used: {reason}")]
pub struct DocumentError {
    pub document: &'static str,
    pub reason: String,
}

impl Documents {
    pub fn embedded() -> Result<Documents, DocumentError> {
        let claims = parse("claims.schema.json", CLAIMS_SCHEMA_JSON)?;
        Ok(Documents {
            openapi: OpenApi::new(parse("openapi.json", OPENAPI_JSON)?)?,
            frames: FrameSchema::new(parse("ws.schema.json", WS_SCHEMA_JSON)?)?,
            claims: compile(&claims).map_err(|reason| DocumentError {
                document: "claims.schema.json",
                reason,
            })?,
        })
    }

    /// Problems of a token's claims against `claims.schema.json`.
    pub fn claims_problems(&self, claims: &Value) -> Vec<String> {
        problems(&self.claims, claims)
    }
}

fn parse(document: &'static str, text: &str) -> Result<Value, DocumentError> {
    serde_json::from_str(text).map_err(|error| DocumentError {
        document,
        reason: error.to_string(),
    })
}

/// Compiles a self-contained schema, checking formats (`uuid`, `date-time`).
fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .build(schema)
        .map_err(|error| error.to_string())
}

/// Where the documents are published side by side; relative `$ref`s
/// between them (`openapi.json` to `ws.schema.json`) resolve against it.
const BASE: &str = "https://byrd.chat/spec/v1/";

/// Compiles the schema at `pointer` inside the embedded document `file`,
/// with every embedded document registered under its published URI so
/// that `$ref`s inside it and between documents resolve.
fn compile_in(file: &str, pointer: &str) -> Result<Validator, String> {
    let mut options = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true);
    for (name, text) in [
        ("openapi.json", OPENAPI_JSON),
        ("ws.schema.json", WS_SCHEMA_JSON),
        ("claims.schema.json", CLAIMS_SCHEMA_JSON),
    ] {
        let mut document: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        // Registered under the published URI only.
        if let Some(object) = document.as_object_mut() {
            object.remove("$id");
        }
        options = options.with_resource(
            format!("{BASE}{name}"),
            Draft::Draft202012.create_resource(document),
        );
    }
    options
        .build(&serde_json::json!({"$ref": format!("{BASE}{file}#{}", fragment(pointer))}))
        .map_err(|error| error.to_string())
}

/// A JSON pointer as a URI fragment: characters a fragment may not hold
/// raw, such as the `{` and `}` of path templates, are percent-encoded.
fn fragment(pointer: &str) -> String {
    pointer
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b'$' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every violation of `instance`, one line each: where, then what.
fn problems(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|error| {
            let at = error.instance_path.to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("at {at}: {error}")
        })
        .collect()
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Follows a local `$ref` (`#/a/b`) inside `document`.
fn resolve_local<'a>(document: &'a Value, reference: &str) -> Option<(&'a Value, String)> {
    let pointer = reference.strip_prefix('#')?;
    document
        .pointer(pointer)
        .map(|value| (value, pointer.to_owned()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_embedded_documents_compile() {
        let documents = Documents::embedded().expect("the committed documents are usable");
        assert!(
            documents
                .claims_problems(&json!({"type": "agent"}))
                .iter()
                .any(|problem| problem.contains("required") || problem.contains("valid")),
            "incomplete claims are refused"
        );
    }
}
