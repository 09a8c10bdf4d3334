//! The WebSocket side of the protocol: `GET /v1/ws`.
//!
//! `handshake` authenticates before upgrading; `connection` runs one task
//! per socket, a loop that waits on the client, the store's answers, the
//! hub's queue, the heartbeat and the token's clock. What the loop does
//! lives beside it: `parse` reads client frames, `limits` bounds their
//! rate, `commands` holds one file per client frame type (dispatched like
//! mini-redis dispatches commands), `pending` answers sends in order,
//! `delivery` writes what the hub queued in `seq` order and `replay`
//! writes stored messages a page at a time, `token` keeps the token's
//! clock; `session` is what commands act on, `socket` what they write
//! through, and `exit` how a step ends. `ticket` makes and spends the
//! single-use tickets that may open a socket instead of a token.

mod commands;
mod connection;
mod delivery;
mod exit;
pub mod gate;
pub mod handshake;
mod limits;
mod parse;
mod pending;
mod read_ahead;
mod replay;
mod session;
mod socket;
pub mod ticket;
mod token;
