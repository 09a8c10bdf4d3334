//! `GET /docs/`: the interactive API reference (Swagger UI), served by Byrd
//! itself so that it works offline.
//!
//! It shares its origin with the agents' console, whose tokens live in
//! that origin's storage, so it is locked down like the console: a
//! Content-Security-Policy allowing only the scripts and stylesheets served
//! under `/docs/`, requests to this server's own API ("Try it out") and
//! nothing inline, and no framing by other pages.

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Swagger UI's own files (`swagger-ui-bundle.js`, `swagger-ui.css`,
/// `swagger-initializer.js`...), its requests to `/openapi.json` and to the
/// API, and the `data:` images its stylesheet embeds.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The docs page, its assets, and their hardening headers.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    // The UI reads the served /openapi.json, which is the committed
    // document. No validator badge: Swagger UI would otherwise fetch one
    // from a third-party site, and the docs must work offline.
    let docs = SwaggerUi::new("/docs").config(Config::new(["/openapi.json"]).validator_url("none"));
    Router::from(docs)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
}
