//! One REST operation as the Rust templates see it: the `Client` method's
//! arguments and the expressions that build its request, its query
//! struct, and the `_stream` method of a cursor-paged operation.

use anyhow::ensure;
use serde::Serialize;

use super::names::{doc_lines, field_ident, param_type, pascal_case, rust_type, snake_case};
use super::views::token_variant;
use crate::emit::{answers, operation_doc};
use crate::model::{Operation, Pagination, Param};

#[derive(Serialize)]
pub struct OperationView {
    id: String,
    method_ident: String,
    http_method: String,
    path: String,
    doc: Vec<String>,
    /// `name: Type` for each argument, in order.
    args: Vec<String>,
    /// A `format!` of the path with its parameters percent-encoded.
    path_expr: String,
    query_expr: String,
    body_expr: String,
    tokens: Vec<String>,
    idempotent: bool,
    /// `Some(Duration::from_millis(n))` for a replayable operation, else `None`.
    replay_window: String,
    /// The statuses whose body is the answer, not an error.
    answers: Vec<u16>,
    /// The answer's Rust type, `()` for none.
    returns: String,
    stream: Option<StreamView>,
}

#[derive(Serialize)]
pub struct StreamView {
    method_ident: String,
    item: String,
    items_field: String,
    next_field: String,
    param_ident: String,
    /// Arguments besides the query, and how to pass them on.
    args: Vec<String>,
    call_args: String,
    query_struct: String,
}

#[derive(Serialize)]
pub struct QueryView {
    name: String,
    operation: String,
    fields: Vec<QueryFieldView>,
}

#[derive(Serialize)]
pub struct QueryFieldView {
    ident: String,
    wire: String,
    ty: String,
    doc: Vec<String>,
    required: bool,
}

pub fn operation_view(operation: &Operation) -> anyhow::Result<(OperationView, Option<QueryView>)> {
    let method_ident = snake_case(&operation.id);
    let mut args = Vec::new();
    let path_expr = path_expr(operation, &mut args)?;
    let query_struct = format!("{}Query", pascal_case(&method_ident));
    let query = (!operation.query_params.is_empty()).then(|| QueryView {
        name: query_struct.clone(),
        operation: operation.id.clone(),
        fields: operation.query_params.iter().map(query_field).collect(),
    });
    let query_expr = if query.is_some() {
        args.push(format!("query: &{query_struct}"));
        "query.to_pairs()".to_owned()
    } else {
        "Vec::new()".to_owned()
    };
    let body_expr = body_expr(operation, &mut args);
    let answers = answers(operation)?;
    let returns = answers
        .body
        .as_ref()
        .map(rust_type)
        .unwrap_or_else(|| "()".to_owned());
    let stream = match &operation.pagination {
        None => None,
        Some(pagination) => {
            ensure!(query.is_some(), "a paged operation without a query");
            Some(stream_view(
                operation,
                pagination,
                &method_ident,
                &args,
                &query_struct,
            ))
        }
    };
    let view = OperationView {
        id: operation.id.clone(),
        method_ident,
        http_method: operation.method.clone(),
        path: operation.path.clone(),
        doc: operation_doc(operation, "Errors ([`Error::Api`](crate::Error::Api)):"),
        args,
        path_expr,
        query_expr,
        body_expr,
        tokens: operation.tokens.iter().map(|k| token_variant(*k)).collect(),
        idempotent: operation.idempotent,
        replay_window: operation.replay_window_ms.map_or_else(
            || "None".to_owned(),
            |ms| format!("Some(Duration::from_millis({ms}))"),
        ),
        answers: answers.statuses,
        returns,
        stream,
    };
    Ok((view, query))
}

/// Pushes an argument for each path parameter; answers the expression
/// that builds the path with each of them percent-encoded.
fn path_expr(operation: &Operation, args: &mut Vec<String>) -> anyhow::Result<String> {
    let mut path_expr = operation.path.clone();
    let mut path_values = Vec::new();
    for param in &operation.path_params {
        ensure!(
            param.required,
            "path parameter `{}` is optional",
            param.name
        );
        let ident = field_ident(&param.name);
        args.push(format!("{ident}: {}", param_type(&param.ty)));
        path_expr = path_expr.replace(&format!("{{{}}}", param.name), "{}");
        path_values.push(format!("path_segment(&{ident})"));
    }
    Ok(if path_values.is_empty() {
        format!("\"{path_expr}\".to_owned()")
    } else {
        format!("format!(\"{path_expr}\", {})", path_values.join(", "))
    })
}

/// Pushes the body argument, if any; answers the expression that encodes it.
fn body_expr(operation: &Operation, args: &mut Vec<String>) -> String {
    match &operation.body {
        None => "None".to_owned(),
        Some(body) => {
            let ty = rust_type(&body.ty);
            if body.required {
                args.push(format!("body: &{ty}"));
                "Some(encode_body(body)?)".to_owned()
            } else {
                args.push(format!("body: Option<&{ty}>"));
                "body.map(encode_body).transpose()?".to_owned()
            }
        }
    }
}

/// The `_stream` method of a cursor-paged operation, which takes the
/// method's arguments but the query.
fn stream_view(
    operation: &Operation,
    pagination: &Pagination,
    method_ident: &str,
    args: &[String],
    query_struct: &str,
) -> StreamView {
    let Pagination::Cursor {
        param,
        next_field,
        items_field,
        item,
    } = pagination;
    let path_args = args.iter().filter(|a| !a.starts_with("query:")).cloned();
    let call_args = operation
        .path_params
        .iter()
        .map(|p| field_ident(&p.name))
        .chain(std::iter::once("&query".to_owned()))
        .collect::<Vec<_>>()
        .join(", ");
    StreamView {
        method_ident: format!("{method_ident}_stream"),
        item: rust_type(item),
        items_field: field_ident(items_field),
        next_field: field_ident(next_field),
        param_ident: field_ident(param),
        args: path_args.collect(),
        call_args,
        query_struct: query_struct.to_owned(),
    }
}

fn query_field(param: &Param) -> QueryFieldView {
    let ty = rust_type(&param.ty);
    QueryFieldView {
        ident: field_ident(&param.name),
        wire: param.name.clone(),
        ty: if param.required {
            ty
        } else {
            format!("Option<{ty}>")
        },
        doc: doc_lines(param.doc.as_deref()),
        required: param.required,
    }
}
