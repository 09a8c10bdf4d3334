//! Tests of the runner itself, from outside: the binary against a
//! server with planted faults (`self_test`), over TLS through a proxy
//! (`https`), against a server that bounds open chats (`cleanup`), against
//! a server trusting a test issuer (`issuers`), and the transcripts
//! of representative exchanges with the real server (started by
//! `byrd-testkit`), as snapshots (`snapshots`). One test binary, one module per concern.

// Helpers outside `#[test]` functions unwrap as freely as tests: a failed
// unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod cleanup;
mod fake_server;
mod https;
mod issuers;
mod self_test;
mod snapshots;
