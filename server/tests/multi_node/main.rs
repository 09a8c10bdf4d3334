//! Several nodes as separate processes: release `byrd` binaries on free
//! ports sharing one PostgreSQL database and one Redis, both started by
//! `scripts/services` and both reached over TLS (a test that stops Redis
//! starts its own, on the same certificate). Outside it
//! (no `BYRD_TEST_POSTGRES_URL` and `BYRD_TEST_REDIS_URL`) each test says
//! so and does nothing. The tests run one at a time (see
//! `cluster::serial`).

// Helpers outside `#[test]` functions unwrap as freely as tests: a failed
// unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cluster;
mod delivery;
mod hub_events;
mod keyring;
mod observer;
mod readiness;
mod redis_late;
mod redis_restart;
mod revocation;
#[path = "../api/sdk_chat.rs"]
mod sdk_chat;
mod socket;
mod tickets;
mod tls;
mod untrusted_redis;
