//! `X-Request-Id`: one id per request, in the response and in the logs.
//!
//! A client quoting the id of a failed request lets an operator find its
//! log lines. The server always makes its own id (a random UUID) and
//! replaces any the client sent, so nobody can choose what the logs say.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::HeaderName;
use axum::middleware::Next;
use axum::response::Response;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Middleware: sets the id on the request (for the request's log span) and
/// on the response.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("unknown"));
    request
        .headers_mut()
        .insert(X_REQUEST_ID.clone(), value.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    response
}
