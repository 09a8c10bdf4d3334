//! `byrd-conformance`: a black-box conformance runner for the Byrd
//! protocol, version 1.
//!
//! It talks to a server only over the wire (REST and the WebSocket) and
//! checks it against `spec/v1`: each case asserts what one section of
//! `spec/v1/README.md` requires, and every response and frame it sees is
//! also validated against the committed generated documents
//! (`openapi.json`, `ws.schema.json`, `claims.schema.json`), embedded at
//! build time. Nothing here links the server's or the spec crate's types:
//! JSON is read by exact key, so a renamed field cannot slip through.

pub mod case;
pub mod cases;
pub mod checks;
pub mod cli;
pub mod config;
pub mod context;
pub mod documents;
pub mod issuer;
pub mod jwt;
pub mod report;
pub mod runner;
pub mod selection;
pub mod wire;

pub use case::{Case, CaseError, CaseResult, Failure, Level};
