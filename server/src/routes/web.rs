//! `GET /widget.js` (the visitor's chat widget) and `GET /console/` (the
//! agents' console): the browser front ends, built from `web/` into
//! `server/assets/web/` and compiled into the binary, so running Byrd needs
//! no Node.js and the front ends always match the server that serves them.
//!
//! Each file is answered with a strong `ETag` (a hash of its bytes) and
//! honours `If-None-Match`, so browsers revalidate for a `304` instead of
//! downloading again. The widget runs on other sites: it may be cached for
//! a few minutes and loaded cross-origin. The console is Byrd's own page:
//! always revalidated, and locked down by a Content-Security-Policy that
//! allows only its own script, stylesheet and API.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

/// The console's policy: its own script and stylesheet, its own API and
/// WebSocket (`'self'` covers `ws:`/`wss:` to the same host), nothing
/// inline, no frames around it, no forms posted anywhere.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// One embedded file and how it is served.
struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    cache_control: &'static str,
    /// `"<first 128 bits of the SHA-256, hex>"`, computed on first use.
    etag: LazyLock<HeaderValue>,
}

macro_rules! asset {
    ($file:literal, $content_type:literal, $cache_control:literal) => {
        Asset {
            bytes: include_bytes!(concat!("../../assets/web/", $file)),
            content_type: $content_type,
            cache_control: $cache_control,
            etag: LazyLock::new(|| etag_of(include_bytes!(concat!("../../assets/web/", $file)))),
        }
    };
}

/// Visitors' browsers may keep the widget five minutes before asking again,
/// so a busy site does not revalidate it on every page view.
static WIDGET: Asset = asset!(
    "widget.js",
    "text/javascript; charset=utf-8",
    "public, max-age=300"
);

/// The console changes only with the binary, and an agent must never run
/// a console older than its server: always revalidated.
static CONSOLE_HTML: Asset = asset!("console.html", "text/html; charset=utf-8", "no-cache");
static CONSOLE_JS: Asset = asset!("console.js", "text/javascript; charset=utf-8", "no-cache");
static CONSOLE_CSS: Asset = asset!("console.css", "text/css; charset=utf-8", "no-cache");

/// Routes serving the widget and the console.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/widget.js",
            get(|headers: HeaderMap| async move {
                let mut response = serve(&WIDGET, &headers);
                // Sites that isolate themselves (COEP) may still load it.
                response.headers_mut().insert(
                    "cross-origin-resource-policy",
                    HeaderValue::from_static("cross-origin"),
                );
                response
            }),
        )
        // The page's relative links (`console.js`) resolve under `/console/`.
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route(
            "/console/",
            get(|headers: HeaderMap| async move {
                let mut response = serve(&CONSOLE_HTML, &headers);
                let policy = response.headers_mut();
                policy.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CONSOLE_CSP),
                );
                policy.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
                response
            }),
        )
        .route(
            "/console/console.js",
            get(|headers: HeaderMap| async move { serve(&CONSOLE_JS, &headers) }),
        )
        .route(
            "/console/console.css",
            get(|headers: HeaderMap| async move { serve(&CONSOLE_CSS, &headers) }),
        )
}

/// The asset, or `304 Not Modified` when the browser already holds it.
fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let etag = asset.etag.clone();
    let cache = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(asset.cache_control),
        ),
    ];
    if matches_etag(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        cache,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )],
        asset.bytes,
    )
        .into_response()
}

/// Whether `If-None-Match` names this ETag (or `*`). Weak validators
/// (`W/"..."`) match too, as RFC 9110 asks for `If-None-Match`.
fn matches_etag(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(etag) = etag.to_str().ok() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

fn etag_of(bytes: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex in quotes is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_matches_strong_weak_listed_and_any() {
        let etag = etag_of(b"widget");
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
            matches_etag(&headers, &etag)
        };
        let tag = etag.to_str().unwrap().to_owned();
        assert!(with(&tag));
        assert!(with(&format!("W/{tag}")));
        assert!(with(&format!("\"other\", {tag}")));
        assert!(with("*"));
        assert!(!with("\"other\""));
        assert!(!matches_etag(&HeaderMap::new(), &etag));
    }
}
