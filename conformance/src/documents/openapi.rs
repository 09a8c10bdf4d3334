//! REST responses against `openapi.json`: the operation is found by method
//! and path template, the response by status (exact, then `4XX`-style
//! ranges, then `default`), and its JSON body is validated against the
//! schema there, with every `$ref` resolved inside the document.
//!
//! Validators are compiled on first use and cached per response.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonschema::Validator;
use serde_json::Value;

use super::{DocumentError, compile_in, escape_pointer_token, problems, resolve_local};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What the document says a response must be.
#[derive(Clone)]
pub enum Expectation {
    /// The path matches no template: the document says nothing.
    UndocumentedPath,
    /// The path matches, the method does not.
    UndocumentedMethod { template: String },
    /// The operation exists but does not list this status.
    UndocumentedStatus {
        template: String,
        listed: Vec<String>,
    },
    /// A documented response: a JSON body checked by `validator`, or no
    /// body at all (`validator` is `None` and `has_body` false).
    Documented {
        template: String,
        /// The `$ref` name of the schema, for messages (`ErrorBody`).
        schema_name: Option<String>,
        /// The body's validator, or why the document's schema would not
        /// compile (itself a problem to report, never a silent pass).
        validator: Option<Result<Arc<Validator>, String>>,
        has_body: bool,
        /// The error codes the response lists (`x-byrd-error-codes`).
        error_codes: Option<Vec<String>>,
    },
}

pub struct OpenApi {
    document: Value,
    /// `(method, template, status)` to its compiled expectation.
    cache: Mutex<HashMap<(String, String, u16), Expectation>>,
}

impl OpenApi {
    pub fn new(document: Value) -> Result<OpenApi, DocumentError> {
        if !document.get("paths").is_some_and(Value::is_object) {
            return Err(DocumentError {
                document: "openapi.json",
                reason: "it has no `paths` object".to_owned(),
            });
        }
        Ok(OpenApi {
            document,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The template of `path` (no query string) that matches best: the one
    /// with the most literal segments, so `/v1/chats/mine` would beat
    /// `/v1/chats/{chat_id}`.
    pub fn template_of(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let paths = self.document["paths"].as_object()?;
        paths
            .keys()
            .filter_map(|template| {
                let parts: Vec<&str> = template.trim_end_matches('/').split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') && part.ends_with('}') {
                        if segment.is_empty() {
                            return None;
                        }
                    } else if part == segment {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, template))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, template)| template.clone())
    }

    /// What the document expects of a `status` answer to `method path`.
    pub fn expectation(&self, method: &str, path: &str, status: u16) -> Expectation {
        let Some(template) = self.template_of(path) else {
            return Expectation::UndocumentedPath;
        };
        let method = method.to_ascii_lowercase();
        let key = (method.clone(), template.clone(), status);
        if let Some(found) = self.lock().get(&key) {
            return found.clone();
        }
        let expectation = self.build(&method, &template, status);
        self.lock().insert(key, expectation.clone());
        expectation
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String, u16), Expectation>> {
        // A poisoned cache only means a panic elsewhere; its entries are fine.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn build(&self, method: &str, template: &str, status: u16) -> Expectation {
        match self.response(method, template, status) {
            Ok((response, pointer)) => documented(template, response, &pointer),
            Err(undocumented) => undocumented,
        }
    }

    /// The response the document gives a `status` answer to `method
    /// template`, with its JSON pointer (`$ref`s followed), or why there is
    /// none.
    fn response(
        &self,
        method: &str,
        template: &str,
        status: u16,
    ) -> Result<(&Value, String), Expectation> {
        let path_item = &self.document["paths"][template];
        let operation = match path_item.get(method) {
            Some(operation) if METHODS.contains(&method) => operation,
            _ => {
                return Err(Expectation::UndocumentedMethod {
                    template: template.to_owned(),
                });
            }
        };
        let responses = &operation["responses"];
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        let Some((code, mut response)) = [exact.as_str(), range.as_str(), "default"]
            .into_iter()
            .find_map(|code| responses.get(code).map(|response| (code, response)))
        else {
            let listed = responses
                .as_object()
                .map(|map| map.keys().cloned().collect())
                .unwrap_or_default();
            return Err(Expectation::UndocumentedStatus {
                template: template.to_owned(),
                listed,
            });
        };
        let mut pointer = format!(
            "/paths/{}/{method}/responses/{code}",
            escape_pointer_token(template)
        );
        // A response may itself be a `$ref` into `components/responses`.
        while let Some(reference) = response.get("$ref").and_then(Value::as_str) {
            match resolve_local(&self.document, reference) {
                Some((target, target_pointer)) => {
                    response = target;
                    pointer = target_pointer;
                }
                None => break,
            }
        }
        Ok((response, pointer))
    }

    /// The problems of a response, as lines; empty when it conforms.
    /// `body` is the parsed JSON body (`None` when there was no body or it
    /// was not JSON; `raw_len` tells which).
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: Option<&Value>,
        raw_len: usize,
    ) -> Vec<String> {
        match self.expectation(method, path, status) {
            Expectation::UndocumentedPath | Expectation::UndocumentedMethod { .. } => Vec::new(),
            Expectation::UndocumentedStatus { template, listed } => {
                vec![format!(
                    "status {status} is not documented for {} {template} (documented: {})",
                    method.to_ascii_uppercase(),
                    listed.join(", ")
                )]
            }
            Expectation::Documented {
                template,
                schema_name,
                validator,
                has_body,
                error_codes,
            } => {
                let operation = format!("{} {template} {status}", method.to_ascii_uppercase());
                if !has_body {
                    return if raw_len == 0 {
                        Vec::new()
                    } else {
                        vec![format!(
                            "{operation} documents no body, but {raw_len} bytes came"
                        )]
                    };
                }
                let validator = match validator {
                    None => return Vec::new(),
                    Some(Err(reason)) => {
                        return vec![format!(
                            "the spec's schema for {operation} does not compile: {reason}"
                        )];
                    }
                    Some(Ok(validator)) => validator,
                };
                if !content_type.is_some_and(is_json) {
                    return vec![format!(
                        "{operation} documents a JSON body, but the Content-Type is {}",
                        content_type.unwrap_or("missing")
                    )];
                }
                let Some(body) = body else {
                    return vec![format!(
                        "{operation} documents a JSON body, but the body is not JSON"
                    )];
                };
                let schema = schema_name.unwrap_or_else(|| "its schema".to_owned());
                let mut found: Vec<String> = problems(&validator, body)
                    .into_iter()
                    .map(|problem| format!("{operation} body against {schema}: {problem}"))
                    .collect();
                // An error code the spec does not list for this answer is a
                // contract break even when the body's shape is right.
                if let (Some(codes), Some(code)) = (&error_codes, body["error"]["code"].as_str())
                    && !codes.iter().any(|listed| listed == code)
                {
                    found.push(format!(
                        "{operation} carries error code `{code}`, which the spec does not list for it (listed: {})",
                        codes.join(", ")
                    ));
                }
                found
            }
        }
    }
}

/// What a documented `response` (at `pointer` in the document) expects:
/// no body, a body the document does not describe as JSON (not checked),
/// or a JSON body with its compiled schema and listed error codes.
fn documented(template: &str, response: &Value, pointer: &str) -> Expectation {
    let content = response.get("content").and_then(Value::as_object);
    let Some(content) = content.filter(|content| !content.is_empty()) else {
        return Expectation::Documented {
            template: template.to_owned(),
            schema_name: None,
            validator: None,
            has_body: false,
            error_codes: None,
        };
    };
    let Some((media_type, media)) = content.iter().find(|(media_type, _)| is_json(media_type))
    else {
        // A body the document does not describe as JSON is not checked.
        return Expectation::Documented {
            template: template.to_owned(),
            schema_name: None,
            validator: None,
            has_body: true,
            error_codes: None,
        };
    };
    let schema_name = media["schema"]["$ref"]
        .as_str()
        .and_then(|reference| reference.rsplit('/').next())
        .map(str::to_owned);
    let schema_pointer = format!(
        "{pointer}/content/{}/schema",
        escape_pointer_token(media_type)
    );
    let validator = compile_in("openapi.json", &schema_pointer).map(Arc::new);
    let error_codes = response
        .get("x-byrd-error-codes")
        .and_then(Value::as_array)
        .map(|codes| {
            codes
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        });
    Expectation::Documented {
        template: template.to_owned(),
        schema_name,
        validator: Some(validator),
        has_body: true,
        error_codes,
    }
}

fn is_json(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::documents::{OPENAPI_JSON, parse};

    fn openapi() -> OpenApi {
        OpenApi::new(parse("openapi.json", OPENAPI_JSON).unwrap()).unwrap()
    }

    #[test]
    fn paths_match_their_templates() {
        let openapi = openapi();
        let chat = "/v1/chats/0193a5f2-7000-7abc-8def-0123456789ab";
        assert_eq!(
            openapi.template_of(chat).as_deref(),
            Some("/v1/chats/{chat_id}")
        );
        assert_eq!(
            openapi.template_of(&format!("{chat}/messages")).as_deref(),
            Some("/v1/chats/{chat_id}/messages")
        );
        assert_eq!(
            openapi.template_of("/v1/chats").as_deref(),
            Some("/v1/chats")
        );
        assert_eq!(openapi.template_of("/v1/nowhere"), None);
    }

    #[test]
    fn a_documented_error_body_passes_and_a_wrong_one_fails() {
        let openapi = openapi();
        let good = json!({"error": {"code": "token_missing", "message": "No token."}});
        assert!(
            openapi
                .check(
                    "GET",
                    "/v1/me",
                    401,
                    Some("application/json"),
                    Some(&good),
                    10
                )
                .is_empty()
        );
        let bad = json!({"error": {"code": 401}});
        let found = openapi.check(
            "GET",
            "/v1/me",
            401,
            Some("application/json"),
            Some(&bad),
            10,
        );
        assert!(!found.is_empty());
        assert!(found[0].contains("ErrorBody"), "{found:?}");
    }

    #[test]
    fn an_undocumented_status_is_a_problem() {
        // Byrd's own operations all have a `default` answer; a document
        // without one shows the check.
        let document = json!({"paths": {"/v1/me": {"get": {"responses": {"200": {}}}}}});
        let found = OpenApi::new(document)
            .unwrap()
            .check("GET", "/v1/me", 500, None, None, 0);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("not documented"), "{found:?}");
    }

    #[test]
    fn an_error_code_not_listed_for_the_answer_is_a_problem() {
        let openapi = openapi();
        let listed = json!({"error": {"code": "token_expired", "message": "Expired."}});
        let unlisted = json!({"error": {"code": "chat_closed", "message": "Closed."}});
        let check = |body: &Value| {
            openapi.check(
                "GET",
                "/v1/me",
                401,
                Some("application/json"),
                Some(body),
                10,
            )
        };
        assert!(check(&listed).is_empty(), "{:?}", check(&listed));
        let found = check(&unlisted);
        assert!(
            found.iter().any(|p| p.contains("`chat_closed`")),
            "{found:?}"
        );
    }

    #[test]
    fn every_documented_response_schema_compiles() {
        let openapi = openapi();
        let paths = openapi.document["paths"].as_object().unwrap().clone();
        for (template, item) in paths {
            for (method, operation) in item.as_object().unwrap() {
                for status in operation["responses"].as_object().unwrap().keys() {
                    let status: u16 = status.parse().unwrap_or(599);
                    if let Expectation::Documented {
                        validator: Some(Err(reason)),
                        ..
                    } = openapi.expectation(method, &template, status)
                    {
                        panic!("{method} {template} {status}: {reason}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_no_content_response_must_have_no_body() {
        let openapi = openapi();
        assert!(
            openapi
                .check("POST", "/v1/auth/logout", 204, None, None, 0)
                .is_empty()
        );
        assert_eq!(
            openapi
                .check("POST", "/v1/auth/logout", 204, None, None, 3)
                .len(),
            1
        );
    }
}
