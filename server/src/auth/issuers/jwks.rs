//! A trusted issuer's JWKS, fetched over https and cached.
//!
//! Tokens are verified against the cached keys; the URL is fetched:
//! - when a token names a key the cache lacks (a rotation at the issuer),
//!   at most once per `min_refresh` however many such tokens arrive: one
//!   fetch at a time (a lock held across it), and a fetch attempted less
//!   than `min_refresh` ago is not repeated, so a flood of made-up `kid`s
//!   costs the issuer one request per interval;
//! - in the background, by the first token verified after the keys grew
//!   older than the response's `Cache-Control: max-age` (bounded to
//!   `min_refresh` .. one day): an idle server fetches nothing, and no
//!   token waits for a refresh while the cached keys still verify it.
//!
//! A failed fetch (unreachable, an error status, a body over 64 KiB or
//! without a usable key) keeps the keys already cached: tokens signed by
//! them keep working while the URL is down. Each fetch is counted in
//! `byrd_jwks_fetches_total{issuer, outcome}`, and a failure is logged at
//! warn.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderMap};

use super::config::JwksSource;
use super::keys::{self, KeySet, VerifyingKey};

/// The largest JWKS read; real ones hold a few keys in a few KiB.
const MAX_JWKS_BYTES: usize = 64 * 1024;
/// The most keys kept from one JWKS, which bounds the keys a token without
/// `kid` may be tried against.
const MAX_KEYS: usize = 32;
/// How long keys stay fresh when the response says nothing.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(10 * 60);
/// The longest keys stay fresh, whatever the response says.
const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// `byrd_jwks_fetches_total`: JWKS fetches, by `issuer` and `outcome`.
pub const JWKS_FETCHES: &str = "byrd_jwks_fetches_total";

/// One issuer's keys from its JWKS URL.
pub struct JwksCache {
    issuer: String,
    source: JwksSource,
    /// The algorithms the issuer lists; keys for others are skipped.
    algorithms: Vec<Algorithm>,
    /// The keys last fetched and until when they are fresh; read on every
    /// verification, written after each fetch.
    cached: RwLock<Cached>,
    /// Held across a fetch, so only one is in flight; it holds when the
    /// last fetch was attempted.
    fetching: Arc<tokio::sync::Mutex<Option<Instant>>>,
}

struct Cached {
    keys: Arc<KeySet>,
    fresh_until: Instant,
}

/// How a fetch ended: the metric's `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Unreachable,
    BadStatus,
    TooLarge,
    Invalid,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Unreachable => "unreachable",
            Outcome::BadStatus => "bad_status",
            Outcome::TooLarge => "too_large",
            Outcome::Invalid => "invalid",
        }
    }
}

impl JwksCache {
    pub fn new(issuer: String, source: JwksSource, algorithms: Vec<Algorithm>) -> Self {
        JwksCache {
            issuer,
            source,
            algorithms,
            cached: RwLock::new(Cached {
                keys: Arc::new(KeySet::default()),
                fresh_until: Instant::now(),
            }),
            fetching: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    fn snapshot(&self) -> (Arc<KeySet>, bool) {
        let cached = self
            .cached
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        (cached.keys.clone(), cached.fresh_until <= Instant::now())
    }

    /// The keys that may have signed a token with this `kid` and `alg`,
    /// fetching the JWKS first when none is cached and a fetch is due.
    pub async fn candidates(
        self: &Arc<Self>,
        kid: Option<&str>,
        algorithm: Algorithm,
    ) -> Vec<Arc<VerifyingKey>> {
        let (keys, stale) = self.snapshot();
        let found = keys.candidates(kid, algorithm);
        if !found.is_empty() {
            if stale {
                self.refresh_in_background();
            }
            return found;
        }
        self.refresh_if_due().await;
        self.snapshot().0.candidates(kid, algorithm)
    }

    /// Fetches unless a fetch was attempted less than `min_refresh` ago;
    /// waits for a fetch already in flight instead of starting another.
    pub async fn refresh_if_due(&self) {
        let mut last = self.fetching.lock().await;
        self.fetch_if_due(&mut last).await;
    }

    fn refresh_in_background(self: &Arc<Self>) {
        // A fetch in flight will bring fresh keys; no need to queue.
        let Ok(mut last) = self.fetching.clone().try_lock_owned() else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move { this.fetch_if_due(&mut last).await });
    }

    async fn fetch_if_due(&self, last: &mut Option<Instant>) {
        if last.is_some_and(|at| at.elapsed() < self.source.min_refresh) {
            return;
        }
        *last = Some(Instant::now());
        let outcome = match self.fetch().await {
            Ok((keys, max_age)) => {
                let fresh_for = max_age.clamp(self.source.min_refresh, MAX_MAX_AGE);
                self.store(Arc::new(keys), fresh_for);
                Outcome::Ok
            }
            Err(outcome) => {
                // Keep serving what is cached; try again after the interval.
                self.store(self.snapshot().0, self.source.min_refresh);
                tracing::warn!(
                    issuer = %self.issuer,
                    outcome = outcome.label(),
                    "cannot fetch the trusted issuer's JWKS; its cached keys stay in use"
                );
                outcome
            }
        };
        metrics::counter!(JWKS_FETCHES, "issuer" => self.issuer.clone(), "outcome" => outcome.label())
            .increment(1);
    }

    fn store(&self, keys: Arc<KeySet>, fresh_for: Duration) {
        let mut cached = self
            .cached
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        *cached = Cached {
            keys,
            fresh_until: Instant::now() + fresh_for,
        };
    }

    async fn fetch(&self) -> Result<(KeySet, Duration), Outcome> {
        let mut response = self
            .source
            .client
            .get(self.source.url.clone())
            .header(ACCEPT, "application/jwk-set+json, application/json")
            .send()
            .await
            .map_err(|_| Outcome::Unreachable)?;
        if !response.status().is_success() {
            return Err(Outcome::BadStatus);
        }
        let max_age = max_age(response.headers()).unwrap_or(DEFAULT_MAX_AGE);
        if response
            .content_length()
            .is_some_and(|length| length > MAX_JWKS_BYTES as u64)
        {
            return Err(Outcome::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|_| Outcome::Unreachable)? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(Outcome::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let keys = self.parse(&body).ok_or(Outcome::Invalid)?;
        Ok((keys, max_age))
    }

    /// The usable keys of a JWKS; `None` when it has none. A key this
    /// server cannot use (another algorithm, a private or shared one) is
    /// skipped, not fatal: a JWKS may serve other consumers too.
    fn parse(&self, body: &[u8]) -> Option<KeySet> {
        let document: serde_json::Value = serde_json::from_slice(body).ok()?;
        document.get("keys")?.as_array()?;
        let mut usable = Vec::new();
        for member in keys::jwks_members(&document) {
            match keys::from_jwk(&member, &self.algorithms) {
                Ok(key) if usable.len() < MAX_KEYS => usable.push(key),
                Ok(_) => {}
                Err(error) => {
                    tracing::debug!(issuer = %self.issuer, %error, "JWKS key skipped");
                }
            }
        }
        (!usable.is_empty()).then(|| KeySet::new(usable))
    }
}

/// `Cache-Control: max-age=N`, if the response says it.
fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(CACHE_CONTROL)?.to_str().ok()?;
    value.split(',').find_map(|directive| {
        let (name, seconds) = directive.trim().split_once('=')?;
        if !name.eq_ignore_ascii_case("max-age") {
            return None;
        }
        seconds.trim().parse::<u64>().ok().map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn max_age_is_read_from_cache_control_among_other_directives() {
        let mut headers = HeaderMap::new();
        assert_eq!(max_age(&headers), None);
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, Max-Age=300, must-revalidate"),
        );
        assert_eq!(max_age(&headers), Some(Duration::from_secs(300)));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        assert_eq!(max_age(&headers), None);
    }
}
