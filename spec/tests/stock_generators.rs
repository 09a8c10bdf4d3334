//! The committed documents read right in typify, the stock Rust generator
//! for JSON Schema (what `cargo typify` runs).
//!
//! spec/v1/README.md, "Documents": frame unions and token claims come out
//! as `type`-tagged enums whose variants carry their own fields, not as
//! `#[serde(untagged)]` enums with a `type_: String` that would decode an
//! `ack` as a `message`.

use std::path::Path;

/// The Rust typify generates for `spec/v1/<file>`, whitespace removed so
/// that tokens can be searched for whatever the formatting.
fn typify(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("v1").join(file);
    let text = std::fs::read_to_string(&path).expect("the document is committed");
    let schema: schemars08::schema::RootSchema =
        serde_json::from_str(&text).expect("typify reads the document");
    let mut space = typify::TypeSpace::new(&typify::TypeSpaceSettings::default());
    space
        .add_root_schema(schema)
        .unwrap_or_else(|e| panic!("typify refuses {file}: {e}"));
    space
        .to_stream()
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The body of `pub enum name { ... }` in `code`, after checking that the
/// attribute right before it tags it by `type`.
fn tagged_enum<'a>(code: &'a str, name: &str) -> &'a str {
    let head = format!("pubenum{name}{{");
    let start = code
        .find(&head)
        .unwrap_or_else(|| panic!("typify emits no enum {name}"));
    let attributes = &code[..start];
    let last_attribute = attributes.rsplit("#[").next().unwrap_or_default();
    assert!(
        last_attribute.starts_with("serde(tag=\"type\""),
        "{name} is not tagged by `type`: #[{last_attribute}"
    );
    let body = &code[start + head.len()..];
    let mut depth = 1;
    let end = body
        .char_indices()
        .find_map(|(i, c)| {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i)
        })
        .expect("the enum closes");
    &body[..end]
}

#[test]
fn frame_unions_become_type_tagged_enums_with_their_fields() {
    let code = typify("ws.schema.json");
    let client = tagged_enum(&code, "ClientFrame");
    for (tag, fields) in [
        ("send", &["chat_id:", "client_msg_id:", "body:"][..]),
        ("subscribe", &["chat_id:", "after_seq:"][..]),
        ("typing", &["chat_id:", "active:"][..]),
        ("read", &["chat_id:", "seq:"][..]),
        ("refresh_token", &["token:"][..]),
    ] {
        let variant = format!("#[serde(rename=\"{tag}\")]");
        let at = client
            .find(&variant)
            .unwrap_or_else(|| panic!("ClientFrame has no `{tag}` variant"));
        let rest = &client[at..];
        let fields_end = rest.find('}').unwrap_or(rest.len());
        for field in fields {
            assert!(
                rest[..fields_end].contains(field),
                "ClientFrame `{tag}` lacks {field}"
            );
        }
    }
    let server = tagged_enum(&code, "ServerFrame");
    for tag in ["hello", "message", "ack", "error", "token_expiring", "pong"] {
        assert!(
            server.contains(&format!("#[serde(rename=\"{tag}\")]")),
            "ServerFrame has no `{tag}` variant"
        );
    }
}

#[test]
fn token_claims_become_a_type_tagged_enum() {
    let code = typify("claims.schema.json");
    let claims = tagged_enum(&code, "Claims");
    for tag in ["agent", "guest"] {
        assert!(claims.contains(&format!("#[serde(rename=\"{tag}\")]")));
    }
}
