//! `claims.schema.json`: the claims of agent and guest tokens.
//!
//! `Claims` is a `oneOf` of two whole, titled objects (`AgentClaims`,
//! `GuestClaims`) tagged by `type`, each closed to unknown claims.

use byrd_spec::claims::Claims;
use serde_json::{Value, json};

use super::GENERATED_NOTICE;
use super::schemas::{Definitions, Direction, pascal};

/// The document.
pub fn claims_schema() -> anyhow::Result<Value> {
    let mut defs = Definitions::default();
    let root = defs.add::<Claims>(Direction::ToServer)?;
    defs.complete_tagged_union(&root, |tag| format!("{}Claims", pascal(tag)))?;
    let mut defs = defs.into_map();
    let claims = defs.remove(&root).unwrap_or_default();
    let mut document = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://byrd.chat/spec/v1/claims.schema.json",
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
