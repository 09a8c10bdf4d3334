//! WebSocket frames of `GET /v1/ws`.
//!
//! Every frame is one JSON text message tagged by `type`. Clients may add
//! a `ref` string to any frame; an `error` answering that frame echoes it
//! (or the frame's `client_msg_id`).
//!
//! Both frame unions are open: v1 may gain frame types. Decoding a frame
//! whose `type` this crate does not know gives the `Unknown` variant
//! instead of an error, so a client built against an older `byrd-spec`
//! keeps working and can ignore what it does not understand.

mod client;
mod close;
mod server;

pub use client::{
    ClientFrame, PingFrame, ReadFrame, RefreshTokenFrame, SendFrame, SubscribeFrame,
    SubscribeQueueFrame, TypingFrame, UnsubscribeFrame, UnsubscribeQueueFrame,
};
pub use close::{CloseAction, CloseCode};
pub use server::{ConnectionLimits, PresenceStatus, Principal, ServerFrame};
