//! The Rust emitter: `sdks/rust/src/generated/`.
//!
//! Each file is a template (`templates/rust/*.rs.jinja`) rendered from a
//! view: the model with every Rust decision already taken here (names,
//! types, serde attributes, doc lines), so templates hold only the shape
//! of the code. The output goes through `rustfmt`.
//!
//! What the files hold:
//! - `types.rs`: every type; open enums and unions keep what they do not
//!   know (`Unknown(String)`, `Unknown(UnknownVariant)`) instead of failing;
//! - `operations.rs`: one `Client` method per REST operation, a query
//!   struct per operation with query parameters, a `_stream` method per
//!   cursor-paged operation;
//! - `close_codes.rs`: the close-code table and each code's action;
//! - `client_behaviour.rs`: the client behaviour table of `client.json`
//!   (retries, backoffs, pacing, fallback limits);
//! - `mod.rs`: the protocol version and the WebSocket endpoint.

mod client;
mod names;
mod operation_view;
mod views;

use super::{environment, render};
use crate::emit::client_table::ClientView;
use crate::model::Model;
use crate::output::{GeneratedFile, rustfmt};

/// Where the Rust SDK's generated files go.
pub const OUTPUT_DIR: &str = "sdks/rust/src/generated";

const TEMPLATES: &[(&str, &str)] = &[
    (
        "mod.rs",
        include_str!("../../../templates/rust/mod.rs.jinja"),
    ),
    (
        "types.rs",
        include_str!("../../../templates/rust/types.rs.jinja"),
    ),
    (
        "operations.rs",
        include_str!("../../../templates/rust/operations.rs.jinja"),
    ),
    (
        "close_codes.rs",
        include_str!("../../../templates/rust/close_codes.rs.jinja"),
    ),
];

const CLIENT_TEMPLATE: &[(&str, &str)] = &[(
    "client_behaviour.rs",
    include_str!("../../../templates/rust/client_behaviour.rs.jinja"),
)];

/// Renders every file of the Rust SDK's generated module.
pub fn emit(model: &Model) -> anyhow::Result<Vec<GeneratedFile>> {
    let view = views::ModuleView::new(model)?;
    let mut env = environment();
    env.add_filter("doc", doc_comment);
    let mut files = render(&mut env, TEMPLATES, &view, OUTPUT_DIR, rustfmt)?;
    let client = ClientView::new::<client::Rust>(&model.client);
    files.extend(render(
        &mut env,
        CLIENT_TEMPLATE,
        &client,
        OUTPUT_DIR,
        rustfmt,
    )?);
    Ok(files)
}

/// `["a", "", "b"]` → `/// a\n///\n/// b\n`: doc-comment lines, each
/// ending its line (the template puts the item right after).
fn doc_comment(lines: Vec<String>) -> String {
    lines
        .iter()
        .map(|line| {
            if line.is_empty() {
                "///\n".to_owned()
            } else {
                format!("/// {line}\n")
            }
        })
        .collect()
}
