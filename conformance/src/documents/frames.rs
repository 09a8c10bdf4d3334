//! Server WebSocket frames against `ws.schema.json`.
//!
//! Every frame is validated against the server-frame union
//! (`#/$defs/ServerFrame`). When it fails, the branch whose `type` tag
//! matches the frame is validated on its own, so the message says which
//! field of which frame is wrong instead of "no branch matched".

use std::collections::HashMap;

use jsonschema::Validator;
use serde_json::Value;

use super::{DocumentError, compile_in, problems, resolve_local};

/// The name the spec's prose gives the union of server frames.
const SERVER_FRAME: &str = "ServerFrame";

pub struct FrameSchema {
    union: Validator,
    /// `type` tag to the validator of that one frame, for diagnostics.
    branches: HashMap<String, Validator>,
}

impl FrameSchema {
    pub fn new(document: Value) -> Result<FrameSchema, DocumentError> {
        let error = |reason: String| DocumentError {
            document: "ws.schema.json",
            reason,
        };
        let pointer = ["$defs", "definitions"]
            .iter()
            .map(|container| format!("/{container}/{SERVER_FRAME}"))
            .find(|pointer| document.pointer(pointer).is_some())
            .ok_or_else(|| error(format!("it defines no `{SERVER_FRAME}`")))?;
        let union = compile_in("ws.schema.json", &pointer).map_err(error)?;
        let mut branches = HashMap::new();
        let definition = &document.pointer(&pointer).unwrap_or(&Value::Null);
        for keyword in ["oneOf", "anyOf"] {
            let alternatives = definition
                .get(keyword)
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for (index, branch) in alternatives.iter().enumerate() {
                // A branch is a frame schema of its own, or a `$ref` to one.
                let (schema, branch_pointer) = match branch.get("$ref").and_then(Value::as_str) {
                    Some(reference) => match resolve_local(&document, reference) {
                        Some(found) => found,
                        None => continue,
                    },
                    None => (branch, format!("{pointer}/{keyword}/{index}")),
                };
                if let Some(tag) = type_tag(schema)
                    && let Ok(validator) = compile_in("ws.schema.json", &branch_pointer)
                {
                    branches.insert(tag, validator);
                }
            }
        }
        Ok(FrameSchema { union, branches })
    }

    /// The problems of one server frame; empty when it conforms.
    pub fn check(&self, frame: &Value) -> Vec<String> {
        if self.union.is_valid(frame) {
            return Vec::new();
        }
        let tag = frame.get("type").and_then(Value::as_str);
        match tag.and_then(|tag| self.branches.get(tag).map(|branch| (tag, branch))) {
            Some((tag, branch)) => {
                let found = problems(branch, frame);
                if found.is_empty() {
                    // Valid alone but not in the union: it matched twice.
                    problems(&self.union, frame)
                } else {
                    found
                        .into_iter()
                        .map(|problem| format!("`{tag}` frame {problem}"))
                        .collect()
                }
            }
            None if !self.branches.is_empty() => vec![format!(
                "no server frame has type {}",
                tag.map_or_else(|| "(none)".to_owned(), |tag| format!("{tag:?}"))
            )],
            None => problems(&self.union, frame),
        }
    }
}

/// The constant a frame schema requires of `type`, if it names one.
fn type_tag(schema: &Value) -> Option<String> {
    let tag = &schema["properties"]["type"];
    if let Some(constant) = tag.get("const").and_then(Value::as_str) {
        return Some(constant.to_owned());
    }
    match tag.get("enum").and_then(Value::as_array).map(Vec::as_slice) {
        Some([only]) => only.as_str().map(str::to_owned),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::documents::{WS_SCHEMA_JSON, parse};

    fn schema() -> FrameSchema {
        FrameSchema::new(parse("ws.schema.json", WS_SCHEMA_JSON).unwrap()).unwrap()
    }

    #[test]
    fn every_frame_type_has_a_branch() {
        let schema = schema();
        for tag in ["hello", "message", "ack", "error", "pong", "subscribed"] {
            assert!(schema.branches.contains_key(tag), "{tag}");
        }
    }

    #[test]
    fn a_good_frame_passes_and_a_bad_one_names_its_field() {
        let schema = schema();
        let pong = json!({"type": "pong", "nonce": "n-1"});
        assert!(schema.check(&pong).is_empty(), "{:?}", schema.check(&pong));
        let error = json!({"type": "error", "code": "forbidden", "message": "no", "ref": 7});
        let found = schema.check(&error);
        assert!(!found.is_empty());
        assert!(found[0].starts_with("`error` frame at /ref"), "{found:?}");
        let unknown = schema.check(&json!({"type": "shout"}));
        assert_eq!(unknown, ["no server frame has type \"shout\""]);
    }
}
