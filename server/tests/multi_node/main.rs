//! Several nodes as separate processes: three release `byrd` binaries on
//! free ports sharing one PostgreSQL database and one Redis, both started
//! by `scripts/services`. Outside it (no `BYRD_TEST_POSTGRES_URL` and
//! `BYRD_TEST_REDIS_URL`) each test says so and does nothing.

// Helpers outside `#[test]` functions unwrap as freely as tests: a failed
// unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cluster;
mod delivery;
mod observer;
mod revocation;
