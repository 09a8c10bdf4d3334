//! Everything that talks to the server: REST, the WebSocket, TLS for
//! both, and the record each case keeps of what it sent and received.

pub mod http;
pub mod normalise;
pub mod redact;
pub mod tls;
pub mod transcript;
pub mod ws;
