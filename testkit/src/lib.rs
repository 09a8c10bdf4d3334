//! What Byrd's test suites share, so that each starts, signs and talks to
//! a server the same way:
//!
//! - [`server`]: the `byrd` binary as its own process on a free loopback
//!   port, with a fresh data folder, the known admin and signing key below
//!   and the [`limits::LIFTED`] limits, ready once it prints its
//!   `{"event":"listening",...}` line;
//! - [`limits`]: the one set of limits every suite raises, for a server
//!   started here or built in process;
//! - [`token`]: tokens signed like the server's, and the raw signer the
//!   tests that forge tokens need;
//! - [`ws`]: a JSON WebSocket client with bounded waits.
//!
//! The load generator starts the server it measures with [`server`] too,
//! on top of its own limits.
//!
//! It knows Byrd only over the wire (no dependency on `byrd-server` or
//! `byrd-spec`), as a client would. The conformance runner keeps its own
//! wire code all the same: it is a tool QA points at any server, and a
//! shipped tool does not depend on a crate kept for tests.

// Helpers of tests unwrap as freely as tests: a failed unwrap is a failed
// test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod limits;
pub mod server;
pub mod token;
pub mod ws;

/// The first admin of every test server.
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin password for tests";
/// The HS256 key every test server signs with (several nodes of one
/// cluster share it, as a deployment's must).
pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long!";
/// The key id, issuer and audience Byrd puts in its tokens.
pub const JWT_KID: &str = "byrd-1";
pub const ISSUER: &str = "byrd";
pub const AUDIENCE: &str = "byrd";
