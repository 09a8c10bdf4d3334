//! The WebSocket side of the protocol: `GET /v1/ws`.
//!
//! `handshake` authenticates before upgrading; `connection` runs one task
//! per socket that reads client frames, drains the hub's outbound queue,
//! sends heartbeats and enforces token expiry; `commands` holds one file per
//! client frame type, dispatched like mini-redis dispatches commands;
//! `replay` writes stored messages a page at a time.

mod commands;
mod connection;
pub mod handshake;
mod replay;
