//! `visitor-identity.schema.json`: the claims of a visitor identity token,
//! which a site's backend signs with a trusted issuer's key.
//!
//! One closed object, `VisitorIdentityClaims`, with the bounds of each
//! claim; its own document because it is no Byrd token (it has no `type`)
//! and the SDKs neither read nor make one: the site's backend does.

use byrd_spec::claims::VisitorIdentityClaims;
use serde_json::{Value, json};

use super::GENERATED_NOTICE;
use super::schemas::{Definitions, Direction};

pub const FILE: &str = "visitor-identity.schema.json";

/// The document.
pub fn identity_schema() -> anyhow::Result<Value> {
    let mut defs = Definitions::default();
    let root = defs.add::<VisitorIdentityClaims>(Direction::ToServer)?;
    let mut defs = defs.into_map();
    let claims = defs.remove(&root).unwrap_or_default();
    let mut document = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://byrd.chat/spec/v1/{FILE}"),
        "$comment": GENERATED_NOTICE,
        "title": root,
    });
    if let (Some(document), Some(claims)) = (document.as_object_mut(), claims.as_object()) {
        document.extend(claims.clone());
        if !defs.is_empty() {
            document.insert("$defs".into(), Value::Object(defs));
        }
    }
    Ok(document)
}
