//! `openapi.json` paths into the model's operations.

use anyhow::{Context, bail, ensure};
use serde_json::{Map, Value};

use super::documents::{Doc, Documents};
use super::schemas::{SchemaReader, as_object, doc};
use crate::model::{
    Body, Operation, Pagination, Param, Response, Shape, TokenKind, TypeDef, TypeRef,
    WebSocketEndpoint,
};

/// A parameter and where it goes (`path` or `query`).
type Located = (String, Param);

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every REST operation and the WebSocket endpoint of `openapi.json`.
pub fn read_operations(
    docs: &Documents,
    types: &[TypeDef],
) -> anyhow::Result<(Vec<Operation>, WebSocketEndpoint)> {
    let reader = SchemaReader {
        docs,
        doc: Doc::OpenApi,
    };
    let schemes = docs
        .openapi
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
        .context("openapi.json has no security schemes")?;
    let paths = docs
        .openapi
        .get("paths")
        .and_then(Value::as_object)
        .context("openapi.json has no paths")?;
    let mut operations = Vec::new();
    let mut websocket = None;
    for (path, item) in paths {
        let item = as_object(item)?;
        for (method, operation) in item
            .iter()
            .filter(|(key, _)| METHODS.contains(&key.as_str()))
        {
            let operation = as_object(operation)?;
            let id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .with_context(|| format!("{method} {path} has no operationId"))?;
            let context = || format!("operation `{id}` ({} {path})", method.to_uppercase());
            let tokens = token_kinds(operation, schemes).with_context(context)?;
            if operation
                .get("x-byrd-websocket")
                .is_some_and(|marker| marker != &Value::Bool(false))
            {
                ensure!(
                    websocket.is_none(),
                    "two operations are marked `x-byrd-websocket`"
                );
                websocket = Some(
                    read_websocket(&reader, path, item, operation, schemes, tokens)
                        .with_context(context)?,
                );
                continue;
            }
            operations.push(
                read_operation(&reader, types, path, method, id, item, operation, tokens)
                    .with_context(context)?,
            );
        }
    }
    let websocket = websocket.context("no operation is marked `x-byrd-websocket`")?;
    Ok((operations, websocket))
}

#[allow(clippy::too_many_arguments)]
fn read_operation(
    reader: &SchemaReader<'_>,
    types: &[TypeDef],
    path: &str,
    method: &str,
    id: &str,
    item: &Map<String, Value>,
    operation: &Map<String, Value>,
    tokens: Vec<TokenKind>,
) -> anyhow::Result<Operation> {
    let params = parameters(reader, item, operation)?;
    let (path_params, query_params): (Vec<Located>, Vec<Located>) = params
        .into_iter()
        .partition(|(location, _)| location == "path");
    let path_params: Vec<Param> = path_params.into_iter().map(|(_, param)| param).collect();
    let query_params: Vec<Param> = query_params.into_iter().map(|(_, param)| param).collect();
    for param in &path_params {
        ensure!(
            path.contains(&format!("{{{}}}", param.name)),
            "path parameter `{}` is not in the path",
            param.name
        );
    }
    let body = match operation.get("requestBody") {
        None => None,
        Some(body) => {
            let body = as_object(body)?;
            let schema =
                json_schema(body).context("a request body without an application/json schema")?;
            let (ty, nullable) = reader.read_type(schema)?;
            let required = body.get("required") == Some(&Value::Bool(true));
            ensure!(!(required && nullable), "a required body that may be null");
            Some(Body { ty, required })
        }
    };
    let mut responses = Vec::new();
    let answers = operation
        .get("responses")
        .and_then(Value::as_object)
        .context("an operation without responses")?;
    for (status, response) in answers {
        let response = as_object(response)?;
        let status = match status.as_str() {
            "default" => None,
            code => Some(
                code.parse::<u16>()
                    .with_context(|| format!("response status {code:?}"))?,
            ),
        };
        let body = match json_schema(response) {
            None => None,
            Some(schema) => Some(reader.read_type(schema)?.0),
        };
        let error_codes = response
            .get("x-byrd-error-codes")
            .and_then(Value::as_array)
            .map(|codes| {
                codes
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        responses.push(Response {
            status,
            description: response
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned(),
            body,
            error_codes,
        });
    }
    // `default` last; numbered statuses keep the document's (ascending) order.
    responses.sort_by_key(|response| response.status.is_none());
    let method = method.to_uppercase();
    let idempotent = matches!(
        method.as_str(),
        "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE"
    );
    let pagination = cursor_pagination(types, &query_params, &responses);
    Ok(Operation {
        id: id.to_owned(),
        method,
        path: path.to_owned(),
        summary: text(operation, "summary"),
        description: text(operation, "description"),
        path_params,
        query_params,
        body,
        responses,
        tokens,
        idempotent,
        pagination,
    })
}

fn read_websocket(
    reader: &SchemaReader<'_>,
    path: &str,
    item: &Map<String, Value>,
    operation: &Map<String, Value>,
    schemes: &Map<String, Value>,
    tokens: Vec<TokenKind>,
) -> anyhow::Result<WebSocketEndpoint> {
    let mut token_param = None;
    for requirement in operation
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for name in requirement.as_object().into_iter().flat_map(|r| r.keys()) {
            let scheme = schemes
                .get(name)
                .and_then(Value::as_object)
                .context("unknown security scheme")?;
            if scheme.get("in").and_then(Value::as_str) == Some("query") {
                token_param = scheme
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
        }
    }
    let token_param = token_param.context("the WebSocket has no query-string token scheme")?;
    let query_params = parameters(reader, item, operation)?
        .into_iter()
        .filter(|(location, param)| location == "query" && param.name != token_param)
        .map(|(_, param)| param)
        .collect();
    Ok(WebSocketEndpoint {
        path: path.to_owned(),
        query_params,
        token_param,
        tokens,
    })
}

/// The path item's and the operation's parameters, with their location.
fn parameters(
    reader: &SchemaReader<'_>,
    item: &Map<String, Value>,
    operation: &Map<String, Value>,
) -> anyhow::Result<Vec<Located>> {
    let listed = item
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            operation
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    let mut params = Vec::new();
    for param in listed {
        let param = as_object(param)?;
        ensure!(
            !param.contains_key("$ref"),
            "parameter `$ref`s are not supported"
        );
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .context("a parameter without a name")?;
        let location = param
            .get("in")
            .and_then(Value::as_str)
            .context("a parameter without `in`")?;
        ensure!(
            matches!(location, "path" | "query"),
            "parameter `{name}` is in {location:?}"
        );
        let schema = param
            .get("schema")
            .with_context(|| format!("parameter `{name}` has no schema"))?;
        let (ty, nullable) = reader.read_type(as_object(schema)?)?;
        ensure!(!nullable, "parameter `{name}` may be null");
        params.push((
            location.to_owned(),
            Param {
                name: name.to_owned(),
                doc: doc(param),
                ty,
                required: param.get("required") == Some(&Value::Bool(true)),
            },
        ));
    }
    Ok(params)
}

/// The token kinds of an operation's security requirements; none when it
/// is public (`security: []`).
fn token_kinds(
    operation: &Map<String, Value>,
    schemes: &Map<String, Value>,
) -> anyhow::Result<Vec<TokenKind>> {
    let requirements = operation
        .get("security")
        .and_then(Value::as_array)
        .context("every operation states its `security`, `[]` when public")?;
    let mut kinds = Vec::new();
    for requirement in requirements {
        for name in as_object(requirement)?.keys() {
            let scheme = schemes
                .get(name)
                .with_context(|| format!("unknown security scheme `{name}`"))?;
            let kind = match scheme.get("x-byrd-token-type").and_then(Value::as_str) {
                Some("agent") => TokenKind::Agent,
                Some("guest") => TokenKind::Guest,
                other => bail!("security scheme `{name}` has `x-byrd-token-type` {other:?}"),
            };
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    kinds.sort();
    Ok(kinds)
}

/// Cursor pagination, recognised by its shape: a string query parameter
/// `P`, and a success body with a nullable string `next_P` and one array.
fn cursor_pagination(
    types: &[TypeDef],
    query: &[Param],
    responses: &[Response],
) -> Option<Pagination> {
    let success: Vec<&Response> = responses.iter().filter(|r| r.is_success()).collect();
    let [response] = success.as_slice() else {
        return None;
    };
    let Some(TypeRef::Named { name }) = &response.body else {
        return None;
    };
    let Shape::Struct { fields, .. } = &types.iter().find(|t| &t.name == name)?.shape else {
        return None;
    };
    let param = query.iter().find(|p| {
        p.ty == TypeRef::String
            && fields.iter().any(|f| {
                f.name == format!("next_{}", p.name)
                    && f.ty == TypeRef::String
                    && f.nullable
                    && f.required
            })
    })?;
    let arrays: Vec<_> = fields
        .iter()
        .filter(|f| matches!(f.ty, TypeRef::Array { .. }))
        .collect();
    let [items] = arrays.as_slice() else {
        return None;
    };
    let TypeRef::Array { items: item } = &items.ty else {
        return None;
    };
    Some(Pagination::Cursor {
        param: param.name.clone(),
        next_field: format!("next_{}", param.name),
        items_field: items.name.clone(),
        item: (**item).clone(),
    })
}

/// The `application/json` schema of a body or response.
fn json_schema(object: &Map<String, Value>) -> Option<&Map<String, Value>> {
    object
        .get("content")?
        .get("application/json")?
        .get("schema")?
        .as_object()
}

fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    object
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}
