//! Reading the committed documents into the [`Model`].
//!
//! `ws.schema.json` is read first: it defines the types the REST API shares
//! with the WebSocket, and `openapi.json` refers to them. Then
//! `claims.schema.json`, whose root is the `Claims` union, then the
//! OpenAPI components (unions before the rest, so a component that is a
//! union's variant is read as that variant), then the operations, and
//! last `client.json`, the client behaviour table, whose replayable
//! operations must be operations of `openapi.json`.

mod client;
mod documents;
mod operations;
mod schemas;

use std::path::Path;

use anyhow::{Context, bail};
use serde_json::{Map, Value};

use self::documents::{Doc, Documents};
use self::schemas::{SchemaReader, TypeTable, as_object, doc};
use crate::model::{CloseAction, CloseCode, Model};

/// The name of the close-code table in `ws.schema.json`; read into
/// [`Model::close_codes`], not into a type.
const CLOSE_CODE_TABLE: &str = "CloseCode";

/// Reads the documents in `dir` (`spec/v1`) into a model.
pub fn read(dir: &Path) -> anyhow::Result<Model> {
    let docs = Documents::load(dir)?;
    let mut table = TypeTable::default();

    let ws_defs = defs(&docs.ws, Doc::Ws)?;
    read_named_schemas(
        &docs,
        Doc::Ws,
        &mut table,
        ws_defs.iter().filter(|(name, _)| *name != CLOSE_CODE_TABLE),
    )?;
    let close_codes = read_close_codes(
        ws_defs
            .get(CLOSE_CODE_TABLE)
            .context("ws.schema.json has no `CloseCode`")?,
    )?;

    let claims_defs = defs(&docs.claims, Doc::Claims)?;
    read_named_schemas(&docs, Doc::Claims, &mut table, claims_defs.iter())?;
    let claims_name = docs
        .claims
        .get("title")
        .and_then(Value::as_str)
        .context("claims.schema.json has no title")?;
    SchemaReader {
        docs: &docs,
        doc: Doc::Claims,
    }
    .read_named(&mut table, claims_name, &docs.claims)?;

    let components = docs
        .openapi
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .context("openapi.json has no component schemas")?;
    read_named_schemas(&docs, Doc::OpenApi, &mut table, components.iter())?;

    let types = table.into_sorted();
    let (mut operations, websocket) = operations::read_operations(&docs, &types)?;
    let client = client::read_client(dir, &mut operations)?;
    let protocol_version = docs
        .openapi
        .pointer("/info/version")
        .and_then(Value::as_str)
        .context("openapi.json has no info.version")?
        .to_owned();
    Ok(Model {
        protocol_version,
        types,
        operations,
        websocket,
        close_codes,
        client,
    })
}

fn defs(document: &Value, doc: Doc) -> anyhow::Result<&Map<String, Value>> {
    document
        .get("$defs")
        .and_then(Value::as_object)
        .with_context(|| format!("{} has no `$defs`", doc.file_name()))
}

/// Reads named schemas, unions first.
fn read_named_schemas<'a>(
    docs: &Documents,
    doc: Doc,
    table: &mut TypeTable,
    schemas: impl Iterator<Item = (&'a String, &'a Value)> + Clone,
) -> anyhow::Result<()> {
    let reader = SchemaReader { docs, doc };
    let is_union = |schema: &Value| {
        schema
            .get("oneOf")
            .and_then(Value::as_array)
            .is_some_and(|branches| branches.iter().any(|b| b.get("const").is_none()))
    };
    for (name, schema) in schemas.clone().filter(|(_, s)| is_union(s)) {
        reader.read_named(table, name, schema)?;
    }
    for (name, schema) in schemas.filter(|(_, s)| !is_union(s)) {
        reader.read_named(table, name, schema)?;
    }
    Ok(())
}

/// The `oneOf` of `CloseCode`: one `const` code per branch, its title (the
/// reason text) and its `x-byrd-client-action`.
fn read_close_codes(schema: &Value) -> anyhow::Result<Vec<CloseCode>> {
    let branches = schema
        .get("oneOf")
        .and_then(Value::as_array)
        .context("`CloseCode` is a `oneOf`")?;
    branches
        .iter()
        .map(|branch| {
            let branch = as_object(branch)?;
            let code = branch
                .get("const")
                .and_then(Value::as_u64)
                .and_then(|code| u16::try_from(code).ok())
                .context("a close code is a number")?;
            let action = match branch.get("x-byrd-client-action").and_then(Value::as_str) {
                Some("reconnect") => CloseAction::Reconnect,
                Some("refresh_token_then_reconnect") => CloseAction::RefreshTokenThenReconnect,
                Some("stop") => CloseAction::Stop,
                other => bail!("close code {code} has `x-byrd-client-action` {other:?}"),
            };
            Ok(CloseCode {
                code,
                name: branch
                    .get("title")
                    .and_then(Value::as_str)
                    .with_context(|| format!("close code {code} has no title"))?
                    .to_owned(),
                doc: doc(branch),
                action,
            })
        })
        .collect()
}
