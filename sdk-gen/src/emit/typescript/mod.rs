//! The TypeScript emitter: `sdks/typescript/src/generated/`.
//!
//! Each file is a template (`templates/typescript/*.ts.jinja`) rendered
//! from a view: the model with every TypeScript decision already taken
//! here (names, types, doc lines), so templates hold only the shape of the
//! code. The templates lay the code out as it is committed, so the output
//! needs no formatter and is the same on every machine.
//!
//! What the files hold:
//! - `types.ts`: every type; tagged unions as unions of interfaces that
//!   each carry their `type` literal (so `switch (frame.type)` narrows),
//!   open enums as their known literals plus `(string & {})`, nullable
//!   fields as `T | null`, optional ones as `name?`;
//! - `operations.ts`: one function per REST operation, named by its
//!   `operationId`, taking the `Client` first (so bundlers keep only the
//!   ones an application calls), a query interface per operation with
//!   query parameters, and an `...All` async iterator per cursor-paged one;
//! - `protocol.ts`: the protocol version, the WebSocket endpoint and the
//!   close-code table with each code's action;
//! - `client.ts`: the client behaviour table of `client.json` (retries,
//!   backoffs, pacing, fallback limits).

mod client;
mod names;
mod views;

use super::{environment, render};
use crate::emit::client_table::ClientView;
use crate::model::Model;
use crate::output::GeneratedFile;

/// Where the TypeScript SDK's generated files go.
pub const OUTPUT_DIR: &str = "sdks/typescript/src/generated";

const TEMPLATES: &[(&str, &str)] = &[
    (
        "types.ts",
        include_str!("../../../templates/typescript/types.ts.jinja"),
    ),
    (
        "operations.ts",
        include_str!("../../../templates/typescript/operations.ts.jinja"),
    ),
    (
        "protocol.ts",
        include_str!("../../../templates/typescript/protocol.ts.jinja"),
    ),
];

const CLIENT_TEMPLATE: &[(&str, &str)] = &[(
    "client.ts",
    include_str!("../../../templates/typescript/client.ts.jinja"),
)];

/// Renders every file of the TypeScript SDK's generated folder.
pub fn emit(model: &Model) -> anyhow::Result<Vec<GeneratedFile>> {
    let view = views::ModuleView::new(model)?;
    let mut env = environment();
    env.add_filter("doc", |lines: Vec<String>, indent: Option<usize>| {
        names::jsdoc(&lines, indent.unwrap_or(0))
    });
    // The templates lay the code out as committed: nothing to format.
    let mut files = render(&mut env, TEMPLATES, &view, OUTPUT_DIR, |text| {
        Ok(text.to_owned())
    })?;
    let client = ClientView::new::<client::TypeScript>(&model.client);
    files.extend(render(
        &mut env,
        CLIENT_TEMPLATE,
        &client,
        OUTPUT_DIR,
        |text| Ok(text.to_owned()),
    )?);
    Ok(files)
}
