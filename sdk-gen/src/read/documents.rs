//! The three documents, loaded, and the `$ref`s between them.

use std::path::Path;

use anyhow::{Context, bail};
use serde_json::Value;

/// Which document a schema comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    OpenApi,
    Ws,
    Claims,
}

impl Doc {
    pub fn file_name(self) -> &'static str {
        match self {
            Doc::OpenApi => "openapi.json",
            Doc::Ws => "ws.schema.json",
            Doc::Claims => "claims.schema.json",
        }
    }
}

/// The parsed documents of one protocol version.
pub struct Documents {
    pub openapi: Value,
    pub ws: Value,
    pub claims: Value,
}

impl Documents {
    /// Reads `openapi.json`, `ws.schema.json` and `claims.schema.json` from
    /// `dir` (`spec/v1`).
    pub fn load(dir: &Path) -> anyhow::Result<Documents> {
        let load = |doc: Doc| -> anyhow::Result<Value> {
            let path = dir.join(doc.file_name());
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
        };
        Ok(Documents {
            openapi: load(Doc::OpenApi)?,
            ws: load(Doc::Ws)?,
            claims: load(Doc::Claims)?,
        })
    }

    pub fn get(&self, doc: Doc) -> &Value {
        match doc {
            Doc::OpenApi => &self.openapi,
            Doc::Ws => &self.ws,
            Doc::Claims => &self.claims,
        }
    }

    /// Follows `reference`, written in `from`, to the document and the name
    /// of the schema it points at. Only references to named schemas
    /// (`#/components/schemas/X`, `#/$defs/X`, `other.json#/$defs/X`) are
    /// part of the protocol's documents; anything else is refused.
    pub fn resolve(&self, from: Doc, reference: &str) -> anyhow::Result<(Doc, String)> {
        let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let doc = match file {
            "" => from,
            "openapi.json" => Doc::OpenApi,
            "ws.schema.json" => Doc::Ws,
            "claims.schema.json" => Doc::Claims,
            other => bail!("`$ref` {reference:?} names an unknown document {other:?}"),
        };
        let name = pointer
            .strip_prefix("/components/schemas/")
            .or_else(|| pointer.strip_prefix("/$defs/"))
            .filter(|name| !name.contains('/'))
            .with_context(|| format!("`$ref` {reference:?} does not name a schema"))?;
        if self.schema(doc, name).is_none() {
            bail!("`$ref` {reference:?} points at nothing");
        }
        Ok((doc, name.to_owned()))
    }

    /// The named schema `name` of `doc`.
    pub fn schema(&self, doc: Doc, name: &str) -> Option<&Value> {
        match doc {
            Doc::OpenApi => self.openapi.pointer(&format!("/components/schemas/{name}")),
            Doc::Ws | Doc::Claims => self.get(doc).get("$defs")?.get(name),
        }
    }
}
