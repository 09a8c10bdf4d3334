//! The model as the Rust templates see it: every name, type and attribute
//! decided, so the templates only lay them out.

use anyhow::ensure;
use serde::Serialize;

use super::names::{
    doc_lines, field_ident, is_rust_default, param_type, pascal_case, rust_type, snake_case,
};
use crate::emit::{answers, operation_doc};
use crate::model::{
    CloseAction, Model, Operation, Pagination, Param, Shape, TokenKind, TypeDef, TypeRef,
};

#[derive(Serialize)]
pub struct ModuleView {
    pub protocol_version: String,
    pub structs: Vec<StructView>,
    pub enums: Vec<EnumView>,
    pub unions: Vec<UnionView>,
    pub aliases: Vec<AliasView>,
    pub operations: Vec<OperationView>,
    pub queries: Vec<QueryView>,
    pub websocket: WebSocketView,
    pub close_codes: Vec<CloseCodeView>,
}

#[derive(Serialize)]
pub struct StructView {
    name: String,
    doc: Vec<String>,
    derives: String,
    closed: bool,
    fields: Vec<FieldView>,
}

#[derive(Serialize)]
pub struct FieldView {
    ident: String,
    ty: String,
    doc: Vec<String>,
    /// The contents of `#[serde(...)]`, empty for none.
    serde: String,
}

#[derive(Serialize)]
pub struct EnumView {
    name: String,
    doc: Vec<String>,
    open: bool,
    values: Vec<EnumValueView>,
    /// Some value has an HTTP status (`x-byrd-http-status`).
    has_status: bool,
}

#[derive(Serialize)]
pub struct EnumValueView {
    ident: String,
    wire: String,
    doc: Vec<String>,
    http_status: Option<u16>,
}

#[derive(Serialize)]
pub struct UnionView {
    name: String,
    doc: Vec<String>,
    open: bool,
    tag: String,
    variants: Vec<VariantView>,
}

#[derive(Serialize)]
pub struct VariantView {
    ident: String,
    tag_value: String,
    type_name: String,
    doc: Vec<String>,
}

#[derive(Serialize)]
pub struct AliasView {
    name: String,
    doc: Vec<String>,
    target: String,
}

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

#[derive(Serialize)]
pub struct WebSocketView {
    path: String,
    token_param: String,
    query_params: Vec<String>,
    tokens: Vec<String>,
}

#[derive(Serialize)]
pub struct CloseCodeView {
    ident: String,
    code: u16,
    reason: String,
    doc: Vec<String>,
    action: String,
}

impl ModuleView {
    pub fn new(model: &Model) -> anyhow::Result<ModuleView> {
        let mut view = ModuleView {
            protocol_version: model.protocol_version.clone(),
            structs: Vec::new(),
            enums: Vec::new(),
            unions: Vec::new(),
            aliases: Vec::new(),
            operations: Vec::new(),
            queries: Vec::new(),
            websocket: WebSocketView {
                path: model.websocket.path.clone(),
                token_param: model.websocket.token_param.clone(),
                query_params: model
                    .websocket
                    .query_params
                    .iter()
                    .map(|p| p.name.clone())
                    .collect(),
                tokens: model
                    .websocket
                    .tokens
                    .iter()
                    .map(|k| token_variant(*k))
                    .collect(),
            },
            close_codes: model
                .close_codes
                .iter()
                .map(|code| CloseCodeView {
                    ident: pascal_case(&code.name),
                    code: code.code,
                    reason: code.name.clone(),
                    doc: doc_lines(code.doc.as_deref()),
                    action: match code.action {
                        CloseAction::Reconnect => "Reconnect",
                        CloseAction::RefreshTokenThenReconnect => "RefreshTokenThenReconnect",
                        CloseAction::Stop => "Stop",
                    }
                    .to_owned(),
                })
                .collect(),
        };
        for def in &model.types {
            view.add_type(def)?;
        }
        for operation in &model.operations {
            let (operation, query) = operation_view(operation)?;
            view.operations.push(operation);
            view.queries.extend(query);
        }
        Ok(view)
    }

    fn add_type(&mut self, def: &TypeDef) -> anyhow::Result<()> {
        let mut doc = doc_lines(def.doc.as_deref());
        if doc.is_empty() {
            doc.push(fallback_doc(def));
        }
        match &def.shape {
            Shape::Struct { fields, closed, .. } => {
                let fields = fields
                    .iter()
                    .map(|field| field_view(&def.name, field))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                // Default only when every field may be left out, so that
                // `..Default::default()` never invents a required value.
                let defaultable = fields.iter().all(|f| f.serde.contains("default"));
                let derives = if defaultable {
                    "Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize"
                } else {
                    "Debug, Clone, PartialEq, Eq, Serialize, Deserialize"
                };
                self.structs.push(StructView {
                    name: def.name.clone(),
                    doc,
                    derives: derives.to_owned(),
                    closed: *closed,
                    fields,
                });
            }
            Shape::Enum { values, open } => {
                let values: Vec<EnumValueView> = values
                    .iter()
                    .map(|value| EnumValueView {
                        ident: pascal_case(&value.value),
                        wire: value.value.clone(),
                        doc: match value.doc.as_deref() {
                            Some(doc) => doc_lines(Some(doc)),
                            None => vec![format!("`{}` on the wire.", value.value)],
                        },
                        http_status: value.http_status,
                    })
                    .collect();
                self.enums.push(EnumView {
                    name: def.name.clone(),
                    doc,
                    open: *open,
                    has_status: values.iter().any(|v| v.http_status.is_some()),
                    values,
                });
            }
            Shape::Union {
                tag,
                variants,
                open,
            } => self.unions.push(UnionView {
                name: def.name.clone(),
                doc,
                open: *open,
                tag: tag.clone(),
                variants: variants
                    .iter()
                    .map(|variant| VariantView {
                        ident: pascal_case(&variant.tag_value),
                        tag_value: variant.tag_value.clone(),
                        type_name: variant.type_name.clone(),
                        doc: vec![format!("`{tag}: \"{}\"`.", variant.tag_value)],
                    })
                    .collect(),
            }),
            Shape::Alias { target } => self.aliases.push(AliasView {
                name: def.name.clone(),
                doc,
                target: rust_type(target),
            }),
        }
        Ok(())
    }
}

/// A struct field: required ones are always written (`Option` when they
/// may be `null`); optional ones are left out when absent, or take the
/// type's default when the schema gives that default.
fn field_view(owner: &str, field: &crate::model::Field) -> anyhow::Result<FieldView> {
    let ident = field_ident(&field.name);
    let base = rust_type(&field.ty);
    let mut serde = Vec::new();
    if ident != field.name && ident != format!("r#{}", field.name) {
        serde.push(format!("rename = \"{}\"", field.name));
    }
    let ty = if field.required {
        if field.nullable {
            format!("Option<{base}>")
        } else {
            base
        }
    } else if let Some(default) = &field.default {
        ensure!(
            !field.nullable && is_rust_default(&field.ty, default),
            "`{owner}.{}`: only the type's own default is supported, not {default}",
            field.name
        );
        serde.push("default".into());
        base
    } else {
        serde.push("default, skip_serializing_if = \"Option::is_none\"".into());
        format!("Option<{base}>")
    };
    // Every public item has rustdoc: a field the spec leaves undescribed
    // at least says its wire name and what it holds.
    let doc = match field.doc.as_deref() {
        Some(doc) => doc_lines(Some(doc)),
        None => vec![format!(
            "`{}`: {}{}.",
            field.name,
            describe(&field.ty),
            if field.nullable { ", or `null`" } else { "" }
        )],
    };
    Ok(FieldView {
        ident,
        ty,
        doc,
        serde: serde.join(", "),
    })
}

fn operation_view(operation: &Operation) -> anyhow::Result<(OperationView, Option<QueryView>)> {
    let method_ident = snake_case(&operation.id);
    let mut args = Vec::new();
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
    let path_expr = if path_values.is_empty() {
        format!("\"{path_expr}\".to_owned()")
    } else {
        format!("format!(\"{path_expr}\", {})", path_values.join(", "))
    };
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
    let body_expr = match &operation.body {
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
    };
    let answers = answers(operation)?;
    let returns = answers
        .body
        .as_ref()
        .map(rust_type)
        .unwrap_or_else(|| "()".to_owned());
    let stream = match &operation.pagination {
        None => None,
        Some(Pagination::Cursor {
            param,
            next_field,
            items_field,
            item,
        }) => {
            ensure!(query.is_some(), "a paged operation without a query");
            let path_args: Vec<&String> =
                args.iter().filter(|a| !a.starts_with("query:")).collect();
            let call_args = operation
                .path_params
                .iter()
                .map(|p| field_ident(&p.name))
                .chain(std::iter::once("&query".to_owned()))
                .collect::<Vec<_>>()
                .join(", ");
            Some(StreamView {
                method_ident: format!("{method_ident}_stream"),
                item: rust_type(item),
                items_field: field_ident(items_field),
                next_field: field_ident(next_field),
                param_ident: field_ident(param),
                args: path_args.into_iter().cloned().collect(),
                call_args,
                query_struct: query_struct.clone(),
            })
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

/// A line for a type the spec leaves undescribed.
fn fallback_doc(def: &TypeDef) -> String {
    match &def.shape {
        Shape::Struct {
            variant_of: Some(union),
            ..
        } => format!("A variant of [`{union}`]."),
        Shape::Enum { values, .. } => {
            let values: Vec<String> = values.iter().map(|v| format!("`{}`", v.value)).collect();
            format!("One of {}.", values.join(", "))
        }
        _ => format!("`{}` of the protocol.", def.name),
    }
}

/// What a value of `ty` is, in words.
fn describe(ty: &TypeRef) -> String {
    match ty {
        TypeRef::String => "a string".into(),
        TypeRef::Uuid => "a UUID".into(),
        TypeRef::DateTime => "an RFC 3339 time".into(),
        TypeRef::Boolean => "true or false".into(),
        TypeRef::Integer { .. } => "an integer".into(),
        TypeRef::Array { items } => format!("a list of {}", plural(items)),
        TypeRef::Named { name } => format!("a [`{name}`]"),
    }
}

fn plural(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named { name } => format!("[`{name}`]s"),
        other => describe(other),
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

fn token_variant(kind: TokenKind) -> String {
    match kind {
        TokenKind::Agent => "TokenKind::Agent",
        TokenKind::Guest => "TokenKind::Guest",
    }
    .to_owned()
}
