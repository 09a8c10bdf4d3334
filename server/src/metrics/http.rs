//! HTTP requests by route template, method and status, with durations.
//!
//! The route is the template the router matched (`/v1/chats/{chat_id}`),
//! never the raw path, whose ids would make a series per chat; a request
//! no route matched is `unmatched`. A method outside the standard ones is
//! `other`: the label set stays small whatever clients send.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics::{counter, histogram};

use super::{HTTP_REQUEST_DURATION_SECONDS, HTTP_REQUESTS};

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Middleware: counts and times every request.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    histogram!(HTTP_REQUEST_DURATION_SECONDS, "route" => route.clone(), "method" => method)
        .record(started.elapsed().as_secs_f64());
    counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status).increment(1);
    response
}

fn method_label(method: &Method) -> &'static str {
    const STANDARD: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    const LABELS: [&str; 9] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    STANDARD
        .iter()
        .position(|standard| standard == method)
        .map_or("other", |index| LABELS[index])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_labelled_from_a_fixed_set() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(
            method_label(&Method::from_bytes(b"SHOUT").unwrap()),
            "other"
        );
    }
}
