//! TypeScript names and types for the model's wire names.

use crate::model::TypeRef;

/// `chat_id` → `chatId`, `listChats` → `listChats`.
pub fn camel_case(wire: &str) -> String {
    let pascal = super::super::pascal_case(wire);
    let mut chars = pascal.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The TypeScript type of a use of a model type; named types get `prefix`
/// (`T.` where the types are imported as a namespace).
pub fn ts_type(ty: &TypeRef, prefix: &str) -> String {
    match ty {
        // Ids and times stay strings on the wire and in the types; the
        // field's doc says which format.
        TypeRef::String | TypeRef::Uuid | TypeRef::DateTime => "string".into(),
        TypeRef::Boolean => "boolean".into(),
        TypeRef::Integer { .. } => "number".into(),
        TypeRef::Array { items } => match items.as_ref() {
            TypeRef::Array { .. } => format!("Array<{}>", ts_type(items, prefix)),
            _ => format!("{}[]", ts_type(items, prefix)),
        },
        TypeRef::Named { name } => format!("{prefix}{name}"),
    }
}

/// What format a string field holds, for its doc, when it has one.
pub fn format_note(ty: &TypeRef) -> Option<&'static str> {
    match ty {
        TypeRef::Uuid => Some("A UUID."),
        TypeRef::DateTime => Some("An RFC 3339 time."),
        _ => None,
    }
}

/// A JSON string literal, which is also a TypeScript one.
pub fn string_literal(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

/// A JSDoc comment for `lines`, ending with a line break and `indent`
/// spaces so that the item it documents follows at the same indent; empty
/// for no lines.
pub fn jsdoc(lines: &[String], indent: usize) -> String {
    let pad = " ".repeat(indent);
    // `*/` inside a doc would end the comment early.
    let lines: Vec<String> = lines.iter().map(|l| l.replace("*/", "*\\/")).collect();
    match lines.as_slice() {
        [] => String::new(),
        [line] => format!("/** {line} */\n{pad}"),
        lines => {
            let mut out = String::from("/**\n");
            for line in lines {
                if line.is_empty() {
                    out.push_str(&format!("{pad} *\n"));
                } else {
                    out.push_str(&format!("{pad} * {line}\n"));
                }
            }
            out.push_str(&format!("{pad} */\n{pad}"));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IntegerFormat;

    #[test]
    fn names_and_types_follow_typescript_conventions() {
        assert_eq!(camel_case("chat_id"), "chatId");
        assert_eq!(camel_case("listChats"), "listChats");
        let chats = TypeRef::Array {
            items: Box::new(TypeRef::Named {
                name: "Chat".into(),
            }),
        };
        assert_eq!(ts_type(&chats, "T."), "T.Chat[]");
        assert_eq!(
            ts_type(
                &TypeRef::Integer {
                    format: IntegerFormat::Int64
                },
                ""
            ),
            "number"
        );
        assert_eq!(string_literal("say \"hi\""), "\"say \\\"hi\\\"\"");
    }

    #[test]
    fn docs_become_jsdoc_that_cannot_end_early() {
        assert_eq!(jsdoc(&[], 2), "");
        assert_eq!(jsdoc(&["One line.".into()], 2), "/** One line. */\n  ");
        assert_eq!(
            jsdoc(&["A".into(), String::new(), "b */ c".into()], 0),
            "/**\n * A\n *\n * b *\\/ c\n */\n"
        );
    }
}
