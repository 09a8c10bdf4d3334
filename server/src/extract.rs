//! Request extractors whose rejections speak the spec's error format.
//!
//! axum's own extractors answer bad input with plain-text bodies; these
//! wrap them so a malformed body, path or query gets `{"error": ...}` with a
//! stable code like every other failure.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use byrd_spec::error::ErrorCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// JSON body; see the module doc.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Path parameters; a malformed id is `400 invalid_request`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Query parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::from_code(ErrorCode::PayloadTooLarge),
            StatusCode::UNPROCESSABLE_ENTITY => {
                ApiError::new(ErrorCode::ValidationFailed, rejection.body_text())
            }
            _ => ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::new(ErrorCode::InvalidRequest, rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(ErrorCode::InvalidRequest, rejection.body_text())
    }
}

/// A JSON body that may be left out: no body, or the JSON `null` (which
/// the spec allows for an optional body and SDKs send for "no details"),
/// means `T::default()`. Any other body must be valid JSON of `T`.
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let has_body = req.headers().contains_key(axum::http::header::CONTENT_TYPE)
            || req
                .headers()
                .get(axum::http::header::CONTENT_LENGTH)
                .is_some_and(|len| len != "0");
        if !has_body {
            return Ok(OptionalJson(T::default()));
        }
        let ApiJson(value) = ApiJson::<Option<T>>::from_request(req, state).await?;
        Ok(OptionalJson(value.unwrap_or_default()))
    }
}

/// The address a request came from: the TCP peer, or, when the server is
/// told it sits behind proxies, the `X-Forwarded-For` entry written by the
/// outermost of them (`forwarded_for_hops` from the right). When that
/// entry is missing or does not parse, the peer: never an entry further
/// left, which the client itself may have written.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.settings.trust_forwarded_for
            && let Some(forwarded) = forwarded_client(
                &parts.headers,
                usize::from(state.settings.forwarded_for_hops.get()),
            )
        {
            return Ok(ClientAddr(forwarded));
        }
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!(
                    "the server was started without connect info"
                ))
            })?;
        Ok(ClientAddr(peer.ip()))
    }
}

/// The entry `hops` from the right of all `X-Forwarded-For` headers
/// together, if it is there and is an address.
fn forwarded_client(headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|value| value.to_str().unwrap_or(""))
        .flat_map(|value| value.split(','))
        .collect();
    let index = entries.len().checked_sub(hops.max(1))?;
    entries[index].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn the_client_is_the_entry_the_outermost_proxy_wrote() {
        let one = |values: &[&str]| forwarded_client(&headers(values), 1);
        assert_eq!(one(&["1.1.1.1, 2.2.2.2"]), Some([2, 2, 2, 2].into()));
        assert_eq!(one(&["1.1.1.1", "2.2.2.2"]), Some([2, 2, 2, 2].into()));
        // A spoofed entry to the left is never used, even when the right
        // one does not parse.
        assert_eq!(one(&["1.1.1.1, garbage"]), None);
        assert_eq!(one(&[]), None);
        let two = forwarded_client(&headers(&["6.6.6.6, 1.1.1.1, 2.2.2.2"]), 2);
        assert_eq!(two, Some([1, 1, 1, 1].into()));
        assert_eq!(forwarded_client(&headers(&["2.2.2.2"]), 2), None);
    }
}
