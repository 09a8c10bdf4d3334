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
    let body = request_body(reader, operation)?;
    let mut responses = Vec::new();
    let answers = operation
        .get("responses")
        .and_then(Value::as_object)
        .context("an operation without responses")?;
    for (status, response) in answers {
        responses.push(read_response(reader, status, as_object(response)?)?);
    }
    // `default` last; numbered statuses keep the document's (ascending) order.
    responses.sort_by_key(|response| response.status.is_none());
    let method = method.to_uppercase();
    // A POST whose body carries an idempotency key (`x-byrd-idempotency-key`)
    // is as safe to repeat as an idempotent method: the server answers a
    // repeat with what it stored the first time.
    let idempotent = matches!(
        method.as_str(),
        "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE"
    ) || idempotency_key(operation, body.as_ref().map(|b| &b.ty), types)?;
    let pagination = cursor_pagination(operation, types, &query_params, &responses)?;
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
        // Filled in from `client.json` once every operation is read.
        replay_window_ms: None,
    })
}

/// The JSON body the operation takes, if any.
fn request_body(
    reader: &SchemaReader<'_>,
    operation: &Map<String, Value>,
) -> anyhow::Result<Option<Body>> {
    let Some(body) = operation.get("requestBody") else {
        return Ok(None);
    };
    let body = as_object(body)?;
    let schema = json_schema(body).context("a request body without an application/json schema")?;
    let (ty, nullable) = reader.read_type(schema)?;
    let required = body.get("required") == Some(&Value::Bool(true));
    ensure!(!(required && nullable), "a required body that may be null");
    Ok(Some(Body { ty, required }))
}

/// One answer of an operation: `status` is a code or `default`.
fn read_response(
    reader: &SchemaReader<'_>,
    status: &str,
    response: &Map<String, Value>,
) -> anyhow::Result<Response> {
    let status = match status {
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
    Ok(Response {
        status,
        description: response
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned(),
        body,
        error_codes,
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

/// The paging an operation declares with `x-byrd-pagination`, when it is
/// cursor-style; every name it gives must exist, or the document is wrong.
/// Other styles (`seq`) are paged by the SDKs' hand-written code.
fn cursor_pagination(
    operation: &Map<String, Value>,
    types: &[TypeDef],
    query: &[Param],
    responses: &[Response],
) -> anyhow::Result<Option<Pagination>> {
    let Some(declared) = operation.get("x-byrd-pagination") else {
        return Ok(None);
    };
    let name = |key: &str| -> anyhow::Result<&str> {
        declared
            .get(key)
            .and_then(Value::as_str)
            .with_context(|| format!("`x-byrd-pagination` lacks `{key}`"))
    };
    if name("style")? != "cursor" {
        return Ok(None);
    }
    let (param, next, items) = (name("parameter")?, name("next")?, name("items")?);
    ensure!(
        query
            .iter()
            .any(|p| p.name == param && p.ty == TypeRef::String),
        "`x-byrd-pagination` names `{param}`, which is no string query parameter"
    );
    let success: Vec<&Response> = responses.iter().filter(|r| r.is_success()).collect();
    let [response] = success.as_slice() else {
        bail!("a paged operation has one success response");
    };
    let fields = match &response.body {
        Some(TypeRef::Named { name }) => match types.iter().find(|t| &t.name == name) {
            Some(TypeDef {
                shape: Shape::Struct { fields, .. },
                ..
            }) => fields,
            _ => bail!("a paged operation answers with an object"),
        },
        _ => bail!("a paged operation answers with an object"),
    };
    ensure!(
        fields
            .iter()
            .any(|f| f.name == next && f.ty == TypeRef::String && f.nullable),
        "`x-byrd-pagination` names `{next}`, which is no nullable string of the answer"
    );
    let Some(TypeRef::Array { items: item }) =
        fields.iter().find(|f| f.name == items).map(|f| &f.ty)
    else {
        bail!("`x-byrd-pagination` names `{items}`, which is no array of the answer");
    };
    Ok(Some(Pagination::Cursor {
        param: param.to_owned(),
        next_field: next.to_owned(),
        items_field: items.to_owned(),
        item: (**item).clone(),
    }))
}

/// Whether `x-byrd-idempotency-key` names a required string of the body.
fn idempotency_key(
    operation: &Map<String, Value>,
    body: Option<&TypeRef>,
    types: &[TypeDef],
) -> anyhow::Result<bool> {
    let Some(declared) = operation.get("x-byrd-idempotency-key") else {
        return Ok(false);
    };
    ensure!(
        declared.get("in").and_then(Value::as_str) == Some("body"),
        "`x-byrd-idempotency-key` is only read in the body"
    );
    let key = declared
        .get("name")
        .and_then(Value::as_str)
        .context("`x-byrd-idempotency-key` lacks `name`")?;
    let found = match body {
        Some(TypeRef::Named { name }) => types.iter().any(|t| {
            &t.name == name
                && matches!(&t.shape, Shape::Struct { fields, .. }
                    if fields.iter().any(|f| f.name == key && f.required && f.ty == TypeRef::String))
        }),
        _ => false,
    };
    ensure!(
        found,
        "`x-byrd-idempotency-key` names `{key}`, which is no required string of the body"
    );
    Ok(true)
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
