//! The model as the TypeScript templates see it: every name, type and
//! doc line decided, so the templates only lay them out.

use std::collections::BTreeMap;

use anyhow::{bail, ensure};
use serde::Serialize;

use super::names::{camel_case, format_note, string_literal, ts_type};
use crate::emit::{answers, doc_lines, operation_doc, pascal_case};
use crate::model::{CloseAction, Field, Model, Operation, Pagination, Shape, TokenKind, TypeDef};

/// Named types are imported as `T` into the operations file.
const TYPES_NS: &str = "T.";

#[derive(Serialize)]
pub struct ModuleView {
    pub protocol_version: String,
    pub types: Vec<TypeView>,
    pub queries: Vec<QueryView>,
    pub operations: Vec<OperationView>,
    pub websocket: WebSocketView,
    pub close_codes: Vec<CloseCodeView>,
}

/// One named type; `kind` says which of the other fields apply.
#[derive(Serialize, Default)]
pub struct TypeView {
    kind: &'static str,
    name: String,
    doc: Vec<String>,
    /// `interface`: its properties, the union's tag first for a variant.
    fields: Vec<FieldView>,
    /// `enum`: the known values as literals, and whether others may come.
    values: Vec<String>,
    open: bool,
    /// `enum` of error codes: each value's HTTP status.
    statuses: Vec<(String, u16)>,
    /// `union`: the variants' type names.
    variants: Vec<String>,
    /// `alias`: the type it names.
    target: String,
}

#[derive(Serialize)]
pub struct FieldView {
    name: String,
    /// `?` for a property that may be absent.
    optional: bool,
    ty: String,
    doc: Vec<String>,
}

#[derive(Serialize)]
pub struct QueryView {
    name: String,
    operation: String,
    fields: Vec<FieldView>,
}

#[derive(Serialize)]
pub struct OperationView {
    ident: String,
    doc: Vec<String>,
    /// The parameter list, `client: Client` first and `options` last.
    params: String,
    returns: String,
    /// The properties of the `OperationSpec` literal.
    spec: String,
    all: Option<PagedView>,
}

/// The async iterator over every item of a cursor-paged operation.
#[derive(Serialize)]
pub struct PagedView {
    ident: String,
    params: String,
    item: String,
    /// The arguments that call the one-page function with `cursor`.
    call: String,
    items_field: String,
    next_field: String,
}

#[derive(Serialize)]
pub struct WebSocketView {
    path: String,
    token_param: String,
    query_params: Vec<String>,
}

#[derive(Serialize)]
pub struct CloseCodeView {
    code: u16,
    name: String,
    doc: Vec<String>,
    action: &'static str,
}

impl ModuleView {
    pub fn new(model: &Model) -> anyhow::Result<ModuleView> {
        // Which union each variant struct belongs to, and its tag there.
        let mut tags = BTreeMap::new();
        for def in &model.types {
            if let Shape::Union { tag, variants, .. } = &def.shape {
                for variant in variants {
                    tags.insert(
                        variant.type_name.clone(),
                        (tag.clone(), variant.tag_value.clone()),
                    );
                }
            }
        }
        let types = model
            .types
            .iter()
            .map(|def| type_view(def, &tags))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut queries = Vec::new();
        let mut operations = Vec::new();
        for operation in &model.operations {
            let (view, query) = operation_view(operation)?;
            operations.push(view);
            queries.extend(query);
        }
        Ok(ModuleView {
            protocol_version: model.protocol_version.clone(),
            types,
            queries,
            operations,
            websocket: WebSocketView {
                path: model.websocket.path.clone(),
                token_param: model.websocket.token_param.clone(),
                query_params: model
                    .websocket
                    .query_params
                    .iter()
                    .map(|p| p.name.clone())
                    .collect(),
            },
            close_codes: model
                .close_codes
                .iter()
                .map(|code| CloseCodeView {
                    code: code.code,
                    name: string_literal(&code.name),
                    doc: doc_lines(code.doc.as_deref()),
                    action: match code.action {
                        CloseAction::Reconnect => "\"reconnect\"",
                        CloseAction::RefreshTokenThenReconnect => {
                            "\"refresh_token_then_reconnect\""
                        }
                        CloseAction::Stop => "\"stop\"",
                    },
                })
                .collect(),
        })
    }
}

fn type_view(def: &TypeDef, tags: &BTreeMap<String, (String, String)>) -> anyhow::Result<TypeView> {
    let doc = doc_lines(def.doc.as_deref());
    let name = def.name.clone();
    Ok(match &def.shape {
        Shape::Struct {
            fields, variant_of, ..
        } => {
            let mut views = Vec::new();
            if variant_of.is_some() {
                let Some((tag, value)) = tags.get(&def.name) else {
                    bail!("`{}` is a variant of no union", def.name);
                };
                views.push(FieldView {
                    name: tag.clone(),
                    optional: false,
                    ty: string_literal(value),
                    doc: Vec::new(),
                });
            }
            views.extend(fields.iter().map(|field| field_view(field, "")));
            TypeView {
                kind: "interface",
                name,
                doc,
                fields: views,
                ..TypeView::default()
            }
        }
        Shape::Enum { values, open } => TypeView {
            kind: "enum",
            name,
            doc,
            values: values.iter().map(|v| string_literal(&v.value)).collect(),
            open: *open,
            statuses: values
                .iter()
                .filter_map(|v| {
                    v.http_status
                        .map(|status| (string_literal(&v.value), status))
                })
                .collect(),
            ..TypeView::default()
        },
        Shape::Union { variants, .. } => {
            ensure!(!variants.is_empty(), "`{}` has no variants", def.name);
            TypeView {
                kind: "union",
                name,
                doc,
                variants: variants.iter().map(|v| v.type_name.clone()).collect(),
                ..TypeView::default()
            }
        }
        Shape::Alias { target } => TypeView {
            kind: "alias",
            name,
            doc,
            target: ts_type(target, ""),
            ..TypeView::default()
        },
    })
}

/// A property: `name?` when it may be absent, `| null` when it may be null.
/// One that may be absent also takes `undefined`, so that code compiled
/// with `exactOptionalPropertyTypes` may pass `{ name: undefined }`: the
/// wire cannot tell them apart, since `JSON.stringify` and the query
/// builder leave `undefined` out.
fn field_view(field: &Field, prefix: &str) -> FieldView {
    let mut ty = ts_type(&field.ty, prefix);
    if field.nullable {
        ty.push_str(" | null");
    }
    if !field.required {
        ty.push_str(" | undefined");
    }
    let mut doc = doc_lines(field.doc.as_deref());
    if let (true, Some(note)) = (doc.is_empty(), format_note(&field.ty)) {
        doc.push(note.to_owned());
    }
    if let Some(default) = &field.default {
        doc.push(format!("Absent means `{default}`."));
    }
    FieldView {
        name: field.name.clone(),
        optional: !field.required,
        ty,
        doc,
    }
}

fn operation_view(operation: &Operation) -> anyhow::Result<(OperationView, Option<QueryView>)> {
    let ident = camel_case(&operation.id);
    let mut params = vec!["client: Client".to_owned()];
    let (path_expr, path_args) = path_params(operation, &mut params)?;
    let mut spec = vec![
        format!("method: {}", string_literal(&operation.method)),
        format!("path: {path_expr}"),
    ];
    if let Some(body) = &operation.body {
        let ty = ts_type(&body.ty, TYPES_NS);
        params.push(if body.required {
            format!("body: {ty}")
        } else {
            format!("body?: {ty} | null")
        });
        spec.push("body".to_owned());
    }
    let query_name = format!("{}Query", pascal_case(&operation.id));
    let query = query_view(operation, &query_name);
    if let Some(query) = &query {
        let required = query.fields.iter().any(|f| !f.optional);
        params.push(if required {
            format!("query: {query_name}")
        } else {
            format!("query: {query_name} = {{}}")
        });
        spec.push("query".to_owned());
    }
    params.push("options?: RequestOptions".to_owned());
    let returns = push_behaviour(operation, &mut spec)?;
    let all = match &operation.pagination {
        None => None,
        Some(pagination) => {
            ensure!(query.is_some(), "a paged operation without a query");
            Some(paged_view(
                pagination,
                &ident,
                &query_name,
                &params[..=path_args.len()],
                &path_args,
            ))
        }
    };
    let view = OperationView {
        doc: operation_doc(
            operation,
            "Rejects with a `ByrdApiError` whose code is, by status:",
        ),
        ident,
        params: params.join(", "),
        returns,
        spec: spec.join(", "),
        all,
    };
    Ok((view, query))
}

/// Pushes a parameter for each path parameter; answers the path as an
/// expression (a template literal when it has parameters) and their names.
fn path_params(
    operation: &Operation,
    params: &mut Vec<String>,
) -> anyhow::Result<(String, Vec<String>)> {
    let mut path = operation.path.clone();
    let mut path_args = Vec::new();
    for param in &operation.path_params {
        ensure!(
            param.required,
            "path parameter `{}` is optional",
            param.name
        );
        let name = camel_case(&param.name);
        params.push(format!("{name}: {}", ts_type(&param.ty, TYPES_NS)));
        path = path.replace(
            &format!("{{{}}}", param.name),
            &format!("${{segment({name})}}"),
        );
        path_args.push(name);
    }
    let path_expr = if path_args.is_empty() {
        string_literal(&path)
    } else {
        format!("`{path}`")
    };
    Ok((path_expr, path_args))
}

/// The query parameters' interface, if the operation has any.
fn query_view(operation: &Operation, query_name: &str) -> Option<QueryView> {
    (!operation.query_params.is_empty()).then(|| QueryView {
        name: query_name.to_owned(),
        operation: operation.id.clone(),
        fields: operation
            .query_params
            .iter()
            .map(|p| {
                field_view(
                    &Field {
                        name: p.name.clone(),
                        doc: p.doc.clone(),
                        ty: p.ty.clone(),
                        required: p.required,
                        nullable: false,
                        default: None,
                    },
                    TYPES_NS,
                )
            })
            .collect(),
    })
}

/// Pushes the `OperationSpec` properties that steer the request (tokens,
/// retries, answers); answers the type the call resolves to.
fn push_behaviour(operation: &Operation, spec: &mut Vec<String>) -> anyhow::Result<String> {
    let tokens: Vec<&str> = operation
        .tokens
        .iter()
        .map(|k| match k {
            TokenKind::Agent => "\"agent\"",
            TokenKind::Guest => "\"guest\"",
        })
        .collect();
    spec.push(format!("tokens: [{}]", tokens.join(", ")));
    spec.push(format!("idempotent: {}", operation.idempotent));
    if let Some(ms) = operation.replay_window_ms {
        spec.push(format!("replayWindowMs: {ms}"));
    }

    let answered = answers(operation)?;
    // Statuses other than 2xx whose body is the answer (a 503 health report).
    let answers: Vec<String> = answered
        .statuses
        .iter()
        .filter(|status| !(200..300).contains(*status))
        .map(u16::to_string)
        .collect();
    if !answers.is_empty() {
        spec.push(format!("answers: [{}]", answers.join(", ")));
    }
    Ok(answered
        .body
        .as_ref()
        .map_or_else(|| "void".to_owned(), |ty| ts_type(ty, TYPES_NS)))
}

/// The `...All` iterator of a cursor-paged operation; `leading` is the
/// client and path parameters.
fn paged_view(
    pagination: &Pagination,
    ident: &str,
    query_name: &str,
    leading: &[String],
    path_args: &[String],
) -> PagedView {
    let Pagination::Cursor {
        param,
        next_field,
        items_field,
        item,
    } = pagination;
    let mut paged_params = leading.to_vec();
    paged_params.push(format!(
        "query: Omit<{query_name}, {}> = {{}}",
        string_literal(param)
    ));
    paged_params.push("options?: RequestOptions".to_owned());
    let mut call = vec!["client".to_owned()];
    call.extend(path_args.iter().cloned());
    call.push(format!(
        "cursor === undefined ? query : {{ ...query, {param}: cursor }}"
    ));
    call.push("options".to_owned());
    PagedView {
        ident: format!("{ident}All"),
        params: paged_params.join(", "),
        item: ts_type(item, TYPES_NS),
        call: call.join(", "),
        items_field: items_field.clone(),
        next_field: next_field.clone(),
    }
}
