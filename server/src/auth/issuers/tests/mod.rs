//! Unit tests of the trusted issuers: the file's every refusal, token
//! verification against key-file issuers, and properties of identity
//! tokens. JWKS fetching is tested over real https in the API tests.

mod config;
mod fixtures;
mod identity;
mod verify;
