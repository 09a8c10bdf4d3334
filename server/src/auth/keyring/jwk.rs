//! Public keys as JWKs (RFC 7517), as the JWKS endpoint publishes them and
//! the keyring stores them: the protocol's types (`byrd_spec::keys`), so
//! the published set and its documented schema are one thing.

pub use byrd_spec::keys::{Jwk, JwkSet};
