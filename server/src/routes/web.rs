//! `GET /widget.js` (the visitor's chat widget) and `GET /console/` (the
//! agents' console): the browser front ends, built from `web/` into
//! `server/assets/web/` and compiled into the binary, so running Byrd needs
//! no Node.js and the front ends always match the server that serves them.
//!
//! Each file is answered with a strong `ETag` (a hash of its bytes) and
//! honours `If-None-Match`, so browsers revalidate for a `304` instead of
//! downloading again. Browsers that accept brotli or gzip get the file
//! compressed (to about a third of its size), compressed once as the
//! server starts rather than on every answer; each encoding is its own representation,
//! with its own `ETag`, and every answer says `Vary: Accept-Encoding`.
//!
//! The widget runs on other sites: it may be cached for a few minutes and
//! loaded cross-origin. The console is Byrd's own page: always
//! revalidated, and locked down by a Content-Security-Policy that allows
//! only its own script, stylesheet and API.

use std::io::Write;
use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use flate2::write::GzEncoder;
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
    /// `"<first 128 bits of the SHA-256, hex>"`, computed at start (or first use).
    etag: LazyLock<HeaderValue>,
    /// The brotli and gzip forms, each with its ETag, made at start (or first use).
    compressed: LazyLock<Compressed>,
}

macro_rules! asset {
    ($file:literal, $content_type:literal, $cache_control:literal) => {
        Asset {
            bytes: include_bytes!(concat!("../../assets/web/", $file)),
            content_type: $content_type,
            cache_control: $cache_control,
            etag: LazyLock::new(|| etag_of(include_bytes!(concat!("../../assets/web/", $file)))),
            compressed: LazyLock::new(|| {
                Compressed::of(include_bytes!(concat!("../../assets/web/", $file)))
            }),
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

/// Hashes and compresses every file on a blocking thread as the server
/// starts: brotli at its best quality takes tens of milliseconds a file,
/// which neither the first visitor nor a runtime thread should spend.
/// A request that comes first waits for the same work, done once.
pub fn prepare_in_background() {
    tokio::task::spawn_blocking(|| {
        for asset in [&WIDGET, &CONSOLE_HTML, &CONSOLE_JS, &CONSOLE_CSS] {
            LazyLock::force(&asset.etag);
            LazyLock::force(&asset.compressed);
        }
    });
}

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

/// The asset in the best encoding the browser accepts, or `304 Not
/// Modified` when the browser already holds that representation.
fn serve(asset: &'static Asset, headers: &HeaderMap) -> Response {
    let (bytes, etag, encoding) = match Coding::preferred(headers) {
        Coding::Brotli => (
            &asset.compressed.brotli[..],
            &asset.compressed.brotli_etag,
            Some("br"),
        ),
        Coding::Gzip => (
            &asset.compressed.gzip[..],
            &asset.compressed.gzip_etag,
            Some("gzip"),
        ),
        Coding::Identity => (asset.bytes, &*asset.etag, None),
    };
    let cache = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(asset.cache_control),
        ),
        // Caches between Byrd and the browser keep one copy per encoding.
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if matches_etag(headers, etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let mut response = (
        cache,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )],
        bytes,
    )
        .into_response();
    if let Some(encoding) = encoding {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

/// The content codings Byrd compresses its front ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    /// The coding `Accept-Encoding` weighs highest, brotli before gzip
    /// before identity on a tie; identity when it accepts neither
    /// compression, or is missing or unreadable (RFC 9110, 12.5.3).
    fn preferred(headers: &HeaderMap) -> Coding {
        let (mut brotli, mut gzip, mut identity, mut any) = (None, None, None, None);
        let entries = headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','));
        for entry in entries {
            let mut parts = entry.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let weight = match parts.find_map(|p| p.trim().strip_prefix("q=")) {
                Some(text) => match weight(text) {
                    Some(weight) => weight,
                    None => continue,
                },
                None => 1000,
            };
            let slot = match name {
                _ if name.eq_ignore_ascii_case("br") => &mut brotli,
                _ if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") => {
                    &mut gzip
                }
                _ if name.eq_ignore_ascii_case("identity") => &mut identity,
                "*" => &mut any,
                _ => continue,
            };
            *slot = Some(weight);
        }
        [
            (brotli.or(any), Coding::Brotli),
            (gzip.or(any), Coding::Gzip),
            (identity, Coding::Identity),
        ]
        .into_iter()
        .filter_map(|(weight, coding)| Some((weight.filter(|w| *w > 0)?, coding)))
        // `max_by_key` keeps the last of equals: reversed, the first wins.
        .rev()
        .max_by_key(|(weight, _)| *weight)
        .map_or(Coding::Identity, |(_, coding)| coding)
    }
}

/// A `q=` weight in thousandths (`0` to `1`, three decimals at most);
/// `None` for anything else, which leaves its entry out.
fn weight(text: &str) -> Option<u16> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !matches!(whole, "0" | "1")
        || fraction.len() > 3
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |n, digit| n * 10 + u16::from(digit - b'0'));
    let weight = if whole == "1" { 1000 } else { 0 } + thousandths;
    (weight <= 1000).then_some(weight)
}

/// An asset's compressed forms, made once: brotli at its best (slow to
/// make, quick to unpack) and gzip for browsers without brotli.
struct Compressed {
    brotli: Vec<u8>,
    brotli_etag: HeaderValue,
    gzip: Vec<u8>,
    gzip_etag: HeaderValue,
}

impl Compressed {
    fn of(bytes: &[u8]) -> Compressed {
        let mut brotli = Vec::new();
        // A window no larger than the file compresses it as well as the
        // default 4 MiB one, and keeps the encoder's tables (sized by the
        // window) from growing the server's memory for good.
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: window_bits(bytes.len()),
            size_hint: bytes.len(),
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut brotli, &params)
            .expect("compressing into memory cannot fail");
        let mut gzip = GzEncoder::new(Vec::new(), flate2::Compression::best());
        let gzip = gzip
            .write_all(bytes)
            .and_then(|()| gzip.finish())
            .expect("compressing into memory cannot fail");
        Compressed {
            brotli,
            brotli_etag: etag_with_suffix(bytes, ".br"),
            gzip,
            gzip_etag: etag_with_suffix(bytes, ".gz"),
        }
    }
}

/// Brotli's window, in bits: the smallest that holds `len` bytes, within
/// what the format allows (10 to 24).
fn window_bits(len: usize) -> i32 {
    let bits = usize::BITS - len.max(1).saturating_sub(1).leading_zeros();
    bits.clamp(10, 24) as i32
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
    etag_with_suffix(bytes, "")
}

/// The ETag of `bytes` (the identity form) sent in the encoding `suffix`
/// names: a representation of its own, so it gets a tag of its own.
fn etag_with_suffix(bytes: &[u8], suffix: &str) -> HeaderValue {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}{suffix}\""))
        .expect("hex and a token in quotes is a valid header value")
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

    #[test]
    fn the_coding_is_the_one_accept_encoding_weighs_highest() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
            Coding::preferred(&headers)
        };
        assert_eq!(Coding::preferred(&HeaderMap::new()), Coding::Identity);
        assert_eq!(with("gzip, deflate, br, zstd"), Coding::Brotli);
        assert_eq!(with("gzip"), Coding::Gzip);
        assert_eq!(with("X-GZIP"), Coding::Gzip);
        assert_eq!(with("br;q=0, gzip"), Coding::Gzip);
        assert_eq!(with("br;q=0.5, gzip;q=0.8"), Coding::Gzip);
        assert_eq!(with("gzip;q=0.5, identity"), Coding::Identity);
        assert_eq!(with("*"), Coding::Brotli);
        assert_eq!(with("*;q=0.2, br;q=0.1"), Coding::Gzip);
        assert_eq!(with("deflate, zstd"), Coding::Identity);
        assert_eq!(with("gzip;q=0, br;q=0"), Coding::Identity);
        // A weight that is no weight leaves its entry out.
        for odd in [
            "gzip;q=2",
            "gzip;q=0.0001",
            "gzip;q=-1",
            "gzip;q=nan",
            "gzip;q=",
        ] {
            assert_eq!(with(odd), Coding::Identity, "{odd}");
        }
        assert_eq!(with("gzip;q=1.000"), Coding::Gzip);
    }

    #[test]
    fn weights_are_read_in_thousandths() {
        assert_eq!(weight("1"), Some(1000));
        assert_eq!(weight("0.5"), Some(500));
        assert_eq!(weight("0.125"), Some(125));
        assert_eq!(weight("0"), Some(0));
        assert_eq!(weight("1.5"), None);
        assert_eq!(weight(" 0.25 "), Some(250));
    }

    #[test]
    fn the_brotli_window_is_the_smallest_that_holds_the_file() {
        assert_eq!(window_bits(0), 10);
        assert_eq!(window_bits(1024), 10);
        assert_eq!(window_bits(1025), 11);
        assert_eq!(window_bits(38_000), 16);
        assert_eq!(window_bits(1 << 20), 20);
        assert_eq!(window_bits((1 << 20) + 1), 21);
        assert_eq!(window_bits(usize::MAX), 24);
    }

    #[test]
    fn compressed_forms_unpack_to_the_file() {
        let file: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let compressed = Compressed::of(&file);
        let mut unpacked = Vec::new();
        brotli::BrotliDecompress(&mut &compressed.brotli[..], &mut unpacked).unwrap();
        assert_eq!(unpacked, file);
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&compressed.gzip[..]),
            &mut unzipped,
        )
        .unwrap();
        assert_eq!(unzipped, file);
    }
}
