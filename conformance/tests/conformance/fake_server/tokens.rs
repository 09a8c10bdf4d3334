//! The fake's tokens: signed like Byrd's, and checked in the spec's order
//! unless a fault is planted (`alg: none` skips the signature, `aud` is
//! never looked at).

use axum::extract::FromRequestParts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_conformance::jwt::{self, Hmac};
use serde_json::Value;

use super::{Fake, Fault, KID, LEEWAY_SECS, SECRET, Shared, error};

pub(super) fn sign(claims: &Value) -> String {
    jwt::sign(
        &jwt::byrd_header(KID),
        claims,
        &Hmac::Sha256,
        SECRET.as_bytes(),
    )
}

/// Token checks in the spec's order, but for the faults planted.
pub(super) fn verify(fake: &Fake, token: &str) -> Result<Value, &'static str> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err("token_invalid");
    }
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| "token_invalid");
    let header: Value = serde_json::from_slice(&decode(parts[0])?).map_err(|_| "token_invalid")?;
    let claims: Value = serde_json::from_slice(&decode(parts[1])?).map_err(|_| "token_invalid")?;
    let alg = header["alg"].as_str().unwrap_or_default();
    // Planted: `alg: none` skips the signature.
    if !(fake.planted(Fault::AlgNone) && alg.eq_ignore_ascii_case("none")) {
        if alg != "HS256" || header["kid"] != KID || parts.len() != 3 {
            return Err("token_invalid");
        }
        let input = format!("{}.{}", parts[0], parts[1]);
        let expected = Hmac::Sha256.mac(SECRET.as_bytes(), input.as_bytes());
        if decode(parts[2])? != expected {
            return Err("token_invalid");
        }
    }
    let now = chrono::Utc::now().timestamp();
    match claims["exp"].as_i64() {
        None => return Err("token_invalid"),
        Some(exp) if exp < now - LEEWAY_SECS => return Err("token_expired"),
        Some(_) => {}
    }
    if claims["iss"] != "byrd" {
        return Err("token_invalid");
    }
    // Planted: `aud` is never looked at.
    if !fake.planted(Fault::IgnoredAudience) && claims["aud"] != "byrd" {
        return Err("token_invalid");
    }
    let shaped = match claims["type"].as_str() {
        Some("agent") => claims["role"].is_string() && claims["name"].is_string(),
        Some("guest") => claims["chat"]["id"].is_string(),
        _ => false,
    };
    if !shaped || !claims["sub"].is_string() || claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err("token_invalid");
    }
    Ok(claims)
}

/// The verified claims of a request's bearer token.
pub(super) struct Claims(pub(super) Value);

impl FromRequestParts<Shared> for Claims {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        fake: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(error(StatusCode::UNAUTHORIZED, "token_missing"));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| error(StatusCode::UNAUTHORIZED, "token_invalid"))?;
        verify(fake, token.trim())
            .map(Claims)
            .map_err(|code| error(StatusCode::UNAUTHORIZED, code))
    }
}
