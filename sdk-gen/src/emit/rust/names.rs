//! Rust names and types for the model's wire names.

pub use crate::emit::{doc_lines, pascal_case};
use crate::model::{IntegerFormat, TypeRef};

/// Keywords a field may be named on the wire, and the Rust name used
/// instead (serde renames it back).
const FIELD_RENAMES: &[(&str, &str)] = &[("type", "kind"), ("ref", "reference")];

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "yield", "gen", "try",
];

/// A field or parameter name: the wire name, or a stand-in for a keyword.
pub fn field_ident(wire: &str) -> String {
    if let Some((_, rename)) = FIELD_RENAMES.iter().find(|(name, _)| *name == wire) {
        return (*rename).to_owned();
    }
    if KEYWORDS.contains(&wire) {
        return format!("r#{wire}");
    }
    wire.to_owned()
}

/// `listChats` → `list_chats`.
pub fn snake_case(camel: &str) -> String {
    let mut out = String::new();
    for (index, c) in camel.chars().enumerate() {
        if c.is_uppercase() {
            if index > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The Rust type of a use of a model type.
pub fn rust_type(ty: &TypeRef) -> String {
    match ty {
        TypeRef::String => "String".into(),
        TypeRef::Uuid => "Uuid".into(),
        TypeRef::DateTime => "DateTime<Utc>".into(),
        TypeRef::Boolean => "bool".into(),
        TypeRef::Integer { format } => match format {
            IntegerFormat::Int32 => "i32".into(),
            IntegerFormat::Int64 => "i64".into(),
            IntegerFormat::Unsigned => "u64".into(),
        },
        TypeRef::Array { items } => format!("Vec<{}>", rust_type(items)),
        TypeRef::Named { name } => name.clone(),
    }
}

/// The Rust type of a parameter passed by the caller: strings by reference.
pub fn param_type(ty: &TypeRef) -> String {
    match ty {
        TypeRef::String => "&str".into(),
        other => rust_type(other),
    }
}

/// Whether `value` is what `Default::default()` gives for `ty`, so that
/// `#[serde(default)]` stands for the schema's `default`.
pub fn is_rust_default(ty: &TypeRef, value: &serde_json::Value) -> bool {
    match ty {
        TypeRef::Integer { .. } => value.as_i64() == Some(0),
        TypeRef::Boolean => value.as_bool() == Some(false),
        TypeRef::String => value.as_str() == Some(""),
        TypeRef::Array { .. } => value.as_array().is_some_and(Vec::is_empty),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rust_conventions() {
        assert_eq!(pascal_case("invalid_request"), "InvalidRequest");
        assert_eq!(pascal_case("Bearer"), "Bearer");
        assert_eq!(snake_case("listChats"), "list_chats");
        assert_eq!(snake_case("getMe"), "get_me");
        assert_eq!(field_ident("type"), "kind");
        assert_eq!(field_ident("ref"), "reference");
        assert_eq!(field_ident("match"), "r#match");
        assert_eq!(field_ident("chat_id"), "chat_id");
    }
}
