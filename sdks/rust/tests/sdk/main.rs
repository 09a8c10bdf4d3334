//! The SDK against the real server: started in-process on port 0 with a
//! fresh SQLite database per test, as the server's own tests do; and the
//! shared realtime scenarios against a scripted one.

// Helpers outside `#[test]` functions unwrap as freely as tests: a failed
// unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod fault_injection;
mod handshake;
mod helpers;
mod proxy;
mod queue;
mod readme;
mod realtime;
mod refusals;
mod rest;
mod retries;
mod scenarios;
mod sessions;
mod spec_oracle;
mod tls;
