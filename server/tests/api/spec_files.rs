//! Reading the committed documents under `spec/v1/` and validating JSON
//! against them, for the spec tests.
//!
//! Every document is registered as a resource under the URI it would have
//! next to the others (`https://byrd.chat/spec/v1/<file>`), so that the
//! relative `$ref`s between them (`openapi.json` to `ws.schema.json`,
//! `asyncapi.yaml` to `ws.schema.json`) resolve as they do for a reader
//! that fetched them from one folder.

use std::path::{Path, PathBuf};

use byrd_server::spec_docs;
use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

/// The folder the documents are published under; `ws.schema.json` and
/// `claims.schema.json` carry it in their `$id`.
pub const BASE: &str = "https://byrd.chat/spec/v1/";

/// The generated documents, as JSON values (YAML parsed).
pub const FILES: [&str; 4] = [
    "openapi.json",
    "ws.schema.json",
    "claims.schema.json",
    "asyncapi.yaml",
];

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A committed document as a JSON value.
pub fn committed(file: &str) -> Value {
    let path = spec_docs::default_dir().join(file);
    if file.ends_with(".yaml") {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_norway::from_str::<Value>(&text)
            .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
    } else {
        read_json(&path)
    }
}

/// Every reason `instance` fails `validator`, one per line, with where.
pub fn violations(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|error| format!("at `{}`: {error}", error.instance_path))
        .collect()
}

/// A validator entering the committed `file` at JSON Pointer `pointer`
/// (`""` for the document itself), with every document resolvable and
/// formats (`uuid`, `date-time`, ...) checked.
pub fn validator_at(file: &str, pointer: &str) -> Validator {
    let mut options = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true);
    for document in FILES {
        let mut contents = committed(document);
        // `$id`s already name these URIs; drop them so the registry's
        // name is the only one.
        if let Some(object) = contents.as_object_mut() {
            object.remove("$id");
        }
        options = options.with_resource(
            format!("{BASE}{document}"),
            Draft::Draft202012.create_resource(contents),
        );
    }
    let target = format!("{BASE}{file}#{pointer}");
    options
        .build(&json!({"$ref": target}))
        .unwrap_or_else(|e| panic!("{target} does not compile: {e}"))
}

/// Escapes one JSON Pointer segment (RFC 6901) and percent-encodes it for a
/// URI fragment, where `{` and `}` of path templates may not appear raw.
pub fn pointer_segment(segment: &str) -> String {
    segment
        .replace('~', "~0")
        .replace('/', "~1")
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'$' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every `(method, path, operation)` of `openapi.json`.
pub fn operations(document: &Value) -> Vec<(String, String, Value)> {
    document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .map(move |(method, operation)| (method.clone(), path.clone(), operation.clone()))
        })
        .collect()
}

/// The branches of a `oneOf` union of `ws.schema.json`.
pub fn frame_branches(union: &str) -> Vec<Value> {
    committed("ws.schema.json")["$defs"][union]["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("ws.schema.json's {union} is not a oneOf"))
        .clone()
}
