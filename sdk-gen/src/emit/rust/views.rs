//! The model as the Rust templates see it: every name, type and attribute
//! decided, so the templates only lay them out.

use anyhow::ensure;
use serde::Serialize;

use super::names::{doc_lines, field_ident, is_rust_default, pascal_case, rust_type};
use super::operation_view::{OperationView, QueryView, operation_view};
use crate::model::{CloseAction, Model, Shape, TokenKind, TypeDef, TypeRef};

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

pub(super) fn token_variant(kind: TokenKind) -> String {
    match kind {
        TokenKind::Agent => "TokenKind::Agent",
        TokenKind::Guest => "TokenKind::Guest",
    }
    .to_owned()
}
