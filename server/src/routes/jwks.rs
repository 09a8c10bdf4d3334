//! `GET /.well-known/jwks.json`: the public keys that verify Byrd's tokens
//! (RFC 7517), for anyone who must check a Byrd token without being able
//! to forge one.
//!
//! Published, signing and still-verifying keys are listed; never a private
//! part, never an HMAC key (an `hs256` deployment answers an empty set).
//! Caches may keep the answer for one keyring refresh interval: a rotated
//! key is published two intervals before it signs, so a cache that keeps
//! the set no longer than that has it before any token carries it.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The JWKS route, for the server's router.
pub fn router() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

/// The public keys that verify tokens now, with caching headers; a
/// matching `If-None-Match` gets `304 Not Modified`.
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
