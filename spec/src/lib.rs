//! The Byrd protocol, version 1, as Rust types.
//!
//! This crate is the contract between a Byrd server and its clients. Every
//! type here derives `serde` (the wire format), `schemars` (the JSON Schema
//! documents under `spec/v1/`) and `utoipa` (the OpenAPI document), so the
//! committed documents are generated from exactly what the server speaks.
//!
//! Inside v1 only additive changes are allowed: new optional fields, new
//! endpoints, new error codes, new frame types. Anything else is v2.

pub mod agent;
pub mod auth;
pub mod chat;
pub mod claims;
pub mod error;
pub mod health;
pub mod me;
pub mod message;
pub mod ws;

/// The protocol version this crate describes; the prefix of every REST path.
pub const PROTOCOL_VERSION: &str = "v1";
