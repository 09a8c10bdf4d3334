//! Integration tests: the real server on port 0, a fresh SQLite file per
//! test, real HTTP and WebSocket clients. One binary, one module per area.

mod helpers;
