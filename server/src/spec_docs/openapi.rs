//! `openapi.json`: the REST API as OpenAPI 3.1.
//!
//! utoipa collects the operations from the handlers' `#[utoipa::path]`
//! annotations (paths, parameters, statuses, bodies by name, operation ids,
//! summaries), under the frame `ApiDoc` gives (info and tags). This
//! module completes the document so that generators read it right:
//! - every body schema comes from schemars (see `schemas`), like every
//!   other document's, and those the WebSocket shares are `$ref`s into
//!   `ws.schema.json`, so each is defined once;
//! - each error response lists its codes in `x-byrd-error-codes`, taken
//!   from the typed `OPERATION` beside the handler (see `crate::operation`)
//!   and grouped by the status each code is sent with, with one example per
//!   code; a documented error status without a code, or a code without its
//!   status, is refused;
//! - the `OPERATION`'s behaviour becomes its `x-byrd-` extension;
//! - every operation gets a `default` error response, `X-Request-Id` on
//!   every response, examples on its bodies, `security: []` when it needs no token, and `/v1/ws` is marked
//!   `x-byrd-websocket` for REST generators to skip.

use std::collections::BTreeSet;

use anyhow::{Context, bail, ensure};
use byrd_spec::agent::{AgentList, CreateAgentRequest};
use byrd_spec::auth::{LoginRequest, RefreshRequest, TokenResponse};
use byrd_spec::chat::{
    AssignChatRequest, ChatPage, ChatSummaryPage, CreateChatRequest, CreateChatResponse,
    GuestTokenResponse,
};
use byrd_spec::error::{ErrorBody, ErrorCode};
use byrd_spec::health::{Health, Readiness};
use byrd_spec::keys::JwkSet;
use byrd_spec::me::Me;
use byrd_spec::message::{MessagePage, SendMessageRequest};
use byrd_spec::read::ChatReads;
use byrd_spec::ticket::WsTicketResponse;
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

use super::GENERATED_NOTICE;
use super::examples::rest::{bodies, error as error_example};
use super::schemas::{Definitions, Direction, pascal};
use super::security::SCHEMES;
use super::ws::{self as ws_doc, FILE as WS_FILE};
use crate::operation::Operation;

/// The document's frame: info and tags. The operations come from the
/// handlers themselves (see `routes::api_router`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Byrd",
        description = "Byrd helpdesk live-chat server, protocol v1. Agents log in for agent tokens; a visitor starting a chat gets a guest token that opens that chat only. Errors are `{\"error\": {\"code\", \"message\"}}` with a stable code (`x-byrd-error-codes` lists them per response); see spec/v1/README.md. The live chat runs over the WebSocket `GET /v1/ws`, described in asyncapi.yaml and ws.schema.json.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "auth", description = "Agent login sessions and token introspection."),
        (name = "chats", description = "Starting and handling chats."),
        (name = "agents", description = "The support team."),
        (name = "realtime", description = "The WebSocket endpoint; its frames are described in asyncapi.yaml."),
        (name = "meta", description = "Operations."),
    ),
)]
struct ApiDoc;

/// The path whose operation opens the WebSocket.
const WS_PATH: &str = "/v1/ws";

/// Every REST body type, with the way it travels.
fn rest_definitions() -> anyhow::Result<Definitions> {
    let mut defs = Definitions::default();
    defs.add::<LoginRequest>(Direction::ToServer)?;
    defs.add::<RefreshRequest>(Direction::ToServer)?;
    defs.add::<CreateChatRequest>(Direction::ToServer)?;
    defs.add::<AssignChatRequest>(Direction::ToServer)?;
    defs.add::<SendMessageRequest>(Direction::ToServer)?;
    defs.add::<CreateAgentRequest>(Direction::ToServer)?;
    defs.add::<TokenResponse>(Direction::ToClient)?;
    defs.add::<CreateChatResponse>(Direction::ToClient)?;
    defs.add::<GuestTokenResponse>(Direction::ToClient)?;
    defs.add::<WsTicketResponse>(Direction::ToClient)?;
    defs.add::<ChatPage>(Direction::ToClient)?;
    defs.add::<ChatSummaryPage>(Direction::ToClient)?;
    defs.add::<MessagePage>(Direction::ToClient)?;
    defs.add::<ChatReads>(Direction::ToClient)?;
    defs.add::<AgentList>(Direction::ToClient)?;
    defs.add::<Health>(Direction::ToClient)?;
    defs.add::<Readiness>(Direction::ToClient)?;
    defs.add::<JwkSet>(Direction::ToClient)?;
    defs.add::<ErrorBody>(Direction::ToClient)?;
    let me = defs.add::<Me>(Direction::ToClient)?;
    defs.complete_tagged_union(&me, |tag| format!("{}Me", pascal(tag)))?;
    defs.hoist_union_branches(&me)?;
    Ok(defs)
}

/// `components.schemas`: the REST definitions, where those `ws.schema.json`
/// defines too become a `$ref` to it (after checking both agree).
fn components(needed: &BTreeSet<String>) -> anyhow::Result<Map<String, Value>> {
    let rest = rest_definitions()?;
    let ws = ws_doc::definitions()?;
    let shared: BTreeSet<String> = rest
        .names()
        .filter(|name| ws.get(name).is_some())
        .cloned()
        .collect();
    for name in &shared {
        ensure!(
            rest.get(name) == ws.get(name),
            "{name} differs between the REST and WebSocket documents"
        );
    }
    for name in needed {
        ensure!(
            rest.get(name).is_some(),
            "an operation uses schema {name}, which has no definition: add its type to rest_definitions"
        );
    }
    let locate = |name: &str| {
        if shared.contains(name) {
            format!("{WS_FILE}#/$defs/{name}")
        } else {
            format!("#/components/schemas/{name}")
        }
    };
    let mut schemas = Map::new();
    for (name, mut schema) in rest.into_map() {
        if shared.contains(&name) {
            schemas.insert(name.clone(), json!({"$ref": locate(&name)}));
            continue;
        }
        super::schemas::rewrite_refs(&mut schema, &locate);
        if let Some(mapping) = schema.pointer_mut("/discriminator/mapping")
            && let Some(mapping) = mapping.as_object_mut()
        {
            for target in mapping.values_mut() {
                if let Some(name) = target.as_str().and_then(|t| t.strip_prefix("#/$defs/")) {
                    *target = locate(name).into();
                }
            }
        }
        schemas.insert(name, schema);
    }
    Ok(schemas)
}

/// The error codes a response's description names in backquotes; every
/// other backquoted word (a field, a status) is not a code and is skipped.
/// Only checked against the `OPERATION`: the codes come from there.
fn codes_named_in(description: &str) -> Vec<ErrorCode> {
    description
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|word| ErrorCode::ALL.iter().find(|code| code.as_str() == word))
        .copied()
        .collect()
}

/// Named examples as an OpenAPI Media Type's `examples`.
fn media_examples(examples: Vec<(String, Value)>) -> Value {
    let map: Map<String, Value> = examples
        .into_iter()
        .map(|(name, value)| (name, json!({"value": value})))
        .collect();
    Value::Object(map)
}

/// The schema name a media type's schema refers to, also through the
/// `oneOf [null, $ref]` of an optional body.
fn body_schema_name(media: &Value) -> Option<String> {
    let schema = media.get("schema")?;
    let reference = schema.get("$ref").or_else(|| {
        schema
            .get("oneOf")?
            .as_array()?
            .iter()
            .find_map(|branch| branch.get("$ref"))
    })?;
    reference.as_str()?.rsplit('/').next().map(str::to_owned)
}

fn add_body_examples(content: &mut Value, status: u16) {
    let Some(media) = content.get_mut("application/json") else {
        return;
    };
    let Some(name) = body_schema_name(media) else {
        return;
    };
    let examples: Vec<(String, Value)> = bodies(&name, status)
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    if !examples.is_empty() {
        media["examples"] = media_examples(examples);
    }
}

/// Lists the codes of an error response, with an example of each, and the
/// headers that go with its status.
fn complete_error_response(
    response: &mut Value,
    status: u16,
    codes: &[ErrorCode],
) -> anyhow::Result<()> {
    for code in codes {
        ensure!(
            status == 0 || code.http_status() == status,
            "`{code}` is sent with {}, not {status}",
            code.http_status()
        );
    }
    let examples = codes
        .iter()
        .map(|code| (code.as_str().to_owned(), error_example(*code)))
        .collect();
    response["x-byrd-error-codes"] = codes.iter().map(|c| c.as_str()).collect();
    response["content"] = json!({
        "application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorBody"},
            "examples": media_examples(examples),
        }
    });
    let mut headers = Map::new();
    if codes.iter().any(|c| c.http_status() == 401) {
        headers.insert(
            "WWW-Authenticate".into(),
            json!({
                "description": "Always `Bearer` (RFC 6750).",
                "schema": {"type": "string", "const": "Bearer"}
            }),
        );
    }
    if codes.contains(&ErrorCode::RateLimited) {
        headers.insert(
            "Retry-After".into(),
            json!({
                "description": "Whole seconds to wait, rounded up, after which one more request will pass.",
                "required": true,
                "schema": {"type": "integer", "minimum": 1}
            }),
        );
    }
    if !headers.is_empty() {
        response["headers"] = Value::Object(headers);
    }
    Ok(())
}

/// The `default` response: errors any operation may answer besides those
/// it lists.
fn default_response(takes_body: bool) -> anyhow::Result<Value> {
    let mut codes = vec![ErrorCode::InternalError];
    let mut description = String::from(
        "Any other error. `internal_error` (500): the server failed; its logs say why.",
    );
    if takes_body {
        codes.insert(0, ErrorCode::PayloadTooLarge);
        description.push_str(" `payload_too_large` (413): the body is over the size limit.");
    }
    let mut response = json!({"description": description});
    complete_error_response(&mut response, 0, &codes)?;
    Ok(response)
}

/// The codes `operation` answers with `status`, in the order it lists
/// them. The description must name no code the operation does not list
/// there, so that the prose and the data cannot drift apart.
fn error_codes(
    operation: &Operation,
    status: u16,
    description: &str,
) -> anyhow::Result<Vec<ErrorCode>> {
    let codes: Vec<ErrorCode> = operation
        .errors
        .iter()
        .copied()
        .filter(|code| code.http_status() == status)
        .collect();
    ensure!(
        !codes.is_empty(),
        "{}: the {status} response has no error code in its OPERATION",
        operation.id
    );
    if let Some(stray) = codes_named_in(description)
        .into_iter()
        .find(|code| !codes.contains(code))
    {
        bail!(
            "{}: the {status} response's description names `{stray}`, which its OPERATION does not list with {status}",
            operation.id
        );
    }
    Ok(codes)
}

/// The metadata declared beside the handler whose operation id is `id`.
fn declared(id: &str) -> anyhow::Result<&'static Operation> {
    crate::routes::operations()
        .into_iter()
        .find(|operation| operation.id == id)
        .with_context(|| format!("{id} has no OPERATION in routes::operations"))
}

fn complete_operation(path: &str, method: &str, operation: &mut Value) -> anyhow::Result<()> {
    let id = operation["operationId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ensure!(
        !id.is_empty() && operation.get("summary").is_some(),
        "{method} {path} needs an operation_id and a doc comment"
    );
    if operation.get("security").is_none() {
        operation["security"] = json!([]);
    }
    if path == WS_PATH {
        operation["x-byrd-websocket"] = json!({"asyncapi": "asyncapi.yaml"});
    }
    let declared = declared(&id)?;
    if let Some(behaviour) = declared.behaviour {
        let (key, value) = behaviour.extension();
        operation[key] = value;
    }
    let takes_body = operation.get("requestBody").is_some();
    if let Some(content) = operation.pointer_mut("/requestBody/content") {
        add_body_examples(content, 0);
    }
    let responses = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
        .with_context(|| format!("{id} has no responses"))?;
    for (status, response) in responses.iter_mut() {
        let status: u16 = status
            .parse()
            .with_context(|| format!("{id}: response {status} is not a status"))?;
        let body = response
            .pointer("/content/application~1json")
            .and_then(body_schema_name);
        // An error status with a body of its own (`/healthz`'s 503) is an
        // answer like any other, not an error body.
        if status >= 400 && body.is_none_or(|name| name == "ErrorBody") {
            let description = response["description"].as_str().unwrap_or_default();
            let codes = error_codes(declared, status, description)?;
            complete_error_response(response, status, &codes)?;
        } else if let Some(content) = response.get_mut("content") {
            add_body_examples(content, status);
        }
    }
    if let Some(code) = declared
        .errors
        .iter()
        .find(|code| !responses.contains_key(&code.http_status().to_string()))
    {
        bail!(
            "{id}: its OPERATION lists `{code}`, but it documents no {} response",
            code.http_status()
        );
    }
    responses.insert("default".into(), default_response(takes_body)?);
    for response in responses.values_mut() {
        let headers = response
            .as_object_mut()
            .context("a response is not an object")?
            .entry("headers")
            .or_insert_with(|| json!({}));
        headers["X-Request-Id"] = json!({
            "description": "The id the server gave this request, as in its logs.",
            "schema": {"type": "string", "format": "uuid"}
        });
    }
    Ok(())
}

/// Every `#/components/schemas/X` the document refers to.
fn referenced_components(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match child
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    Some(name) if key == "$ref" => {
                        found.insert(name.to_owned());
                    }
                    _ => referenced_components(child, found),
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| referenced_components(item, found)),
        _ => {}
    }
}

/// The document.
pub fn openapi() -> anyhow::Result<Value> {
    let mut annotated = ApiDoc::openapi();
    annotated.merge(crate::routes::api_router().into_openapi());
    let mut document =
        serde_json::to_value(&annotated).context("cannot render the annotated operations")?;
    document["info"]["version"] = byrd_spec::PROTOCOL_VERSION.into();
    document["x-generated-by"] = GENERATED_NOTICE.into();
    let paths = document
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .context("the document has no paths")?;
    let mut completed = 0;
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            complete_operation(path, method, operation)?;
            completed += 1;
        }
    }
    // Each operation found its own `OPERATION`; one left over belongs to
    // a handler the router no longer registers.
    ensure!(
        completed == crate::routes::operations().len(),
        "routes::operations lists {} operations, the router {completed}",
        crate::routes::operations().len()
    );
    let mut needed = BTreeSet::new();
    referenced_components(&document["paths"], &mut needed);
    let schemes: Map<String, Value> = SCHEMES
        .iter()
        .map(|scheme| (scheme.name.to_owned(), scheme.openapi()))
        .collect();
    document["components"] = json!({
        "schemas": components(&needed)?,
        "securitySchemes": schemes,
    });
    Ok(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_from_backquotes_and_other_words_are_skipped() {
        let codes =
            codes_named_in("`validation_failed` (a bad `client_msg_id`) or `body_too_long`.");
        assert_eq!(codes, [ErrorCode::ValidationFailed, ErrorCode::BodyTooLong]);
    }

    const ASSIGN: Operation = Operation {
        id: "assignChat",
        errors: &[
            ErrorCode::ChatNotFound,
            ErrorCode::AgentNotFound,
            ErrorCode::ChatClosed,
        ],
        behaviour: None,
    };

    #[test]
    fn a_response_lists_the_codes_its_operation_sends_with_its_status() {
        let codes = error_codes(&ASSIGN, 404, "`chat_not_found` or `agent_not_found`.").unwrap();
        assert_eq!(codes, [ErrorCode::ChatNotFound, ErrorCode::AgentNotFound]);
        // The description need not name them: the codes come from the data.
        assert_eq!(
            error_codes(&ASSIGN, 409, "Closed.").unwrap(),
            [ErrorCode::ChatClosed]
        );
    }

    #[test]
    fn an_error_status_without_a_declared_code_is_refused() {
        assert!(error_codes(&ASSIGN, 422, "`validation_failed`").is_err());
    }

    #[test]
    fn a_description_naming_an_undeclared_code_is_refused() {
        assert!(error_codes(&ASSIGN, 404, "`chat_not_found` or `not_found`").is_err());
    }

    #[test]
    fn a_code_under_the_wrong_status_is_refused() {
        let mut response = json!({"description": "`chat_not_found`"});
        assert!(complete_error_response(&mut response, 400, &[ErrorCode::ChatNotFound]).is_err());
    }
}
