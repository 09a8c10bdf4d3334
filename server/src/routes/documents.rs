//! `GET /openapi.json`, `/ws.schema.json`, `/asyncapi.yaml` and
//! `/claims.schema.json`: the protocol documents, byte for byte as
//! committed under `spec/v1/`, rendered once at start-up.
//!
//! They are served side by side because they refer to each other by
//! relative `$ref` (`openapi.json` to the types in `ws.schema.json`), which
//! the docs UI and other readers resolve against the URL they fetched.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::spec_docs::SpecDocument;

/// Routes serving each document at `/<file name>`.
pub fn router<S: Clone + Send + Sync + 'static>(documents: Vec<SpecDocument>) -> Router<S> {
    documents
        .into_iter()
        .fold(Router::new(), |router, document| {
            let path = format!("/{}", document.file);
            let content_type = HeaderValue::from_static(document.content_type);
            let body: Arc<str> = Arc::from(document.contents);
            router.route(
                &path,
                get(move || {
                    let body = body.clone();
                    let content_type = content_type.clone();
                    async move {
                        (
                            [
                                (header::CONTENT_TYPE, content_type),
                                // The documents change only with the binary.
                                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                            ],
                            body.to_string(),
                        )
                            .into_response()
                    }
                }),
            )
        })
}
