//! The Byrd protocol, version 1, as Rust types.
//!
//! This crate is the contract between a Byrd server and its clients. Every
//! type here derives `serde` (the wire format) and `schemars` (every schema
//! of the documents under `spec/v1/`, OpenAPI included), so the committed
//! documents are generated from exactly what the server speaks. REST bodies
//! also derive `utoipa::ToSchema`, which only names them in the server's
//! operation annotations.
//!
//! Inside v1 only additive changes are allowed: new optional fields, new
//! endpoints, new error codes, new frame types. Anything else is v2.

pub mod agent;
pub mod auth;
pub mod chat;
pub mod claims;
pub mod client;
pub mod error;
pub mod health;
pub mod keys;
pub mod me;
pub mod message;
pub mod read;
pub mod ticket;
pub mod ws;

/// The protocol version this crate describes, as every document and the
/// WebSocket `hello` state it. The major number is the `v1` of every path;
/// the minor grows with additive changes once v1 is released.
pub const PROTOCOL_VERSION: &str = "1.0.0";
