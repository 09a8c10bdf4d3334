//! `GET /.well-known/jwks.json`: the public keys that verify Byrd's tokens
//! (RFC 7517), for anyone who must check a Byrd token without being able
//! to forge one.
//!
//! Published, signing and still-verifying keys are listed; never a private
//! part, never an HMAC key (an `hs256` deployment answers an empty set).
//! Caches may keep the answer for one keyring refresh interval: a rotated
//! key is published two intervals before it signs, so a cache that keeps
//! the set no longer than that has it before any token carries it.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use byrd_spec::keys::JwkSet;
use sha2::{Digest, Sha256};

use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "getJwks",
    errors: &[],
    behaviour: None,
};

/// The public keys that verify Byrd's tokens.
///
/// For anyone who must check a Byrd token without being able to forge one
/// (a backend verifying an agent's token, say): needs no token. Lists the
/// key that signs now, a rotated key from shortly before it signs, and
/// older keys until every token they signed has expired; never a private
/// key, and no key at all on a server that signs with HS256. Cache it for
/// `Cache-Control`'s `max-age` (the keyring's refresh interval); send its
/// `ETag` back as `If-None-Match` to get `304` while it is unchanged, and
/// fetch it again when a token names a `kid` it does not hold.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = OPERATION.id,
    tag = "meta",
    responses(
        (status = 200, description = "The public keys, with `Cache-Control` and `ETag`.", body = JwkSet),
        (status = 304, description = "The set whose `ETag` came as `If-None-Match` is still current."),
    )
)]
pub async fn jwks(State(state): State<AppState>, request: HeaderMap) -> Response {
    let set = state.tokens.jwks();
    let body = serde_json::to_vec(&set).unwrap_or_default();
    let digest = Sha256::digest(&body);
    let etag = format!("\"{}\"", hex(&digest[..16]));
    let max_age = state.settings.jwt.keyring_refresh.get().as_secs().max(1);
    let mut headers = HeaderMap::new();
    let cache = format!("public, max-age={max_age}");
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&cache).unwrap_or(HeaderValue::from_static("no-cache")),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, Json(set)).into_response()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
