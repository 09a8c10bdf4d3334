//! [`Client`]: the HTTP connection pool, the base URL, the retry policy
//! and, once a session exists, its credential.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};

use super::{Answer, Request};
use crate::auth::Credential;
use crate::error::{ApiError, AuthErrorKind, Error};
use crate::generated::client_behaviour::{
    CONNECT_TIMEOUT, Failed, REFRESH_MARGIN, REST_BACKOFF, REST_MAX_RETRIES, REST_MAX_RETRY_AFTER,
    RetriedOperations, RetryWait, rest_rule,
};
use crate::realtime::Backoff;
use crate::tls::TlsRoots;
use crate::types::{ErrorBody, ErrorCode};

/// A client of one Byrd server; cheap to clone (clones share the
/// connection pool and the session).
///
/// A client made by [`Client::new`] has no session: it may call the
/// public operations (`start_chat`, `login`, `get_health`). Sessions come
/// from [`Client::login_agent`], [`Client::start_guest`],
/// [`Client::resume_guest`] and [`Client::with_token_provider`], which
/// answer a new `Client` holding the credential.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Shared>,
    pub(crate) credential: Option<Credential>,
}

/// What every clone and session of one client shares.
pub(crate) struct Shared {
    pub http: reqwest::Client,
    /// The server's base URL, ending in `/`.
    pub base: Url,
    pub retry: RetryPolicy,
    /// The longest a REST call's attempt may take.
    pub timeout: Duration,
    /// How long before its expiry a token counts as stale.
    pub refresh_margin: Duration,
    /// The longest opening a connection may take.
    pub connect_timeout: Duration,
    /// The TLS configuration the WebSocket shares with `http`.
    pub tls: Arc<rustls::ClientConfig>,
}

/// How REST calls are retried; the defaults are the spec's client
/// behaviour table, and which failures are retried is not an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 turns retries off.
    pub max_retries: u32,
    /// The first backoff's ceiling; each retry doubles it, with full jitter.
    pub base_delay: Duration,
    /// The highest backoff ceiling.
    pub max_delay: Duration,
    /// The longest `Retry-After` waited for; past it the error is returned.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: REST_MAX_RETRIES,
            base_delay: REST_BACKOFF.base,
            max_delay: REST_BACKOFF.cap,
            max_retry_after: REST_MAX_RETRY_AFTER,
        }
    }
}

impl RetryPolicy {
    /// A random wait in `[0, min(max_delay, base × factor^(retry-1))]`,
    /// at least the table's floor.
    fn backoff(&self, retry: u32) -> Duration {
        Backoff {
            base: self.base_delay,
            cap: self.max_delay,
            floor: REST_BACKOFF.floor.min(self.base_delay),
            factor: REST_BACKOFF.factor,
            ..Backoff::default()
        }
        .delay(retry)
    }
}

/// Options for a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    retry: RetryPolicy,
    timeout: Duration,
    connect_timeout: Duration,
    refresh_margin: Duration,
    tls: TlsRoots,
}

impl ClientBuilder {
    /// Retries (default: the spec's client behaviour table: 2, from 250 ms,
    /// at most 5 s, `Retry-After` up to 60 s).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The longest a REST call may take, all of it (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest opening a connection may take; also the realtime
    /// client's limit from opening the socket to its `hello` (default: the
    /// spec's client behaviour table, 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long before expiry a token is refreshed (default 60 s, and never
    /// more than half the token's lifetime).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Trusts the certificates in `pem` (one or more, PEM-encoded) as
    /// roots for `https://` and `wss://`, beside the built-in ones: for a
    /// server whose certificate a private CA signed. Checked by
    /// [`build`](Self::build).
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.extra_pem.push(pem.into());
        self
    }

    /// Whether Mozilla's root certificates, compiled into the SDK, are
    /// trusted (default: yes). Turn them off to trust only the roots
    /// added with [`add_root_certificate_pem`](Self::add_root_certificate_pem).
    pub fn built_in_root_certificates(mut self, trusted: bool) -> Self {
        self.tls.built_in = trusted;
        self
    }

    /// The client; fails on a base URL that is not `http(s)` and on root
    /// certificates that do not parse.
    pub fn build(self) -> Result<Client, Error> {
        let mut base = Url::parse(&self.base_url)
            .map_err(|error| Error::Config(format!("base URL {:?}: {error}", self.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "base URL {:?} is not an http(s) URL",
                self.base_url
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let tls = self.tls.client_config()?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(rustls::ClientConfig::clone(&tls))
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("byrd-sdk-rust/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| Error::transport("cannot build the HTTP client", error))?;
        Ok(Client {
            inner: Arc::new(Shared {
                http,
                base,
                retry: self.retry,
                timeout: self.timeout,
                refresh_margin: self.refresh_margin,
                connect_timeout: self.connect_timeout,
                tls,
            }),
            credential: None,
        })
    }
}

impl Client {
    /// A client of the server at `base_url` (`http://127.0.0.1:8080`), with
    /// default options.
    pub fn new(base_url: &str) -> Result<Client, Error> {
        Client::builder(base_url).build()
    }

    /// Options for a client of the server at `base_url`.
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.to_owned(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            connect_timeout: CONNECT_TIMEOUT,
            refresh_margin: REFRESH_MARGIN,
            tls: TlsRoots::default(),
        }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// This client with `credential` (or none) instead of its own.
    pub(crate) fn with_credential(&self, credential: Option<Credential>) -> Client {
        Client {
            inner: self.inner.clone(),
            credential,
        }
    }

    /// Sends `request`, retrying as the module documentation says.
    pub(crate) async fn send(&self, request: Request) -> Result<Answer, Error> {
        let credential = match (&self.credential, request.tokens) {
            (_, []) => None,
            (None, _) => return Err(Error::auth(AuthErrorKind::NoCredential, None)),
            (Some(credential), accepted) => {
                if let Some(kind) = credential.kind()
                    && !accepted.contains(&kind)
                {
                    return Err(Error::auth(AuthErrorKind::WrongTokenKind, None));
                }
                Some(credential)
            }
        };
        let policy = &self.inner.retry;
        let started = std::time::Instant::now();
        let mut retries = 0;
        let mut refreshed = false;
        loop {
            let token = match credential {
                Some(credential) => Some(credential.token(self).await?),
                None => None,
            };
            // A replayable call's attempts stay inside its window: an
            // answer later than that could not be asked for again.
            let limit = request
                .replay_window
                .map(|window| window.saturating_sub(started.elapsed()));
            let outcome = self.attempt(&request, token.as_deref(), limit).await;
            let (failed, error, retry_after) = match &outcome {
                Ok(_) => return outcome.map_err(Attempt::into_error),
                Err(Attempt::Failed(_)) => return outcome.map_err(Attempt::into_error),
                Err(Attempt::Transport(_)) => (Failed::Transport, None, None),
                Err(Attempt::Refused(api)) => (
                    Failed::Refused {
                        code: &api.code,
                        status: api.status.unwrap_or(0),
                    },
                    Some(api),
                    api.retry_after,
                ),
            };
            let safe = request.idempotent
                || request
                    .replay_window
                    .is_some_and(|window| started.elapsed() < window);
            let wait = match rest_rule(failed) {
                Some((_, RetryWait::TokenRefresh)) => match (credential, &token, refreshed) {
                    (Some(credential), Some(token), false) => {
                        refreshed = true;
                        credential.refresh_after(self, token).await?;
                        continue;
                    }
                    _ => None,
                },
                Some((RetriedOperations::Safe, _)) if !safe => None,
                _ if retries >= policy.max_retries => None,
                Some((_, RetryWait::RetryAfter)) => match retry_after {
                    Some(wait) if wait > policy.max_retry_after => None,
                    Some(wait) => Some(wait),
                    None => Some(policy.backoff(retries + 1)),
                },
                Some((_, RetryWait::Backoff)) => Some(policy.backoff(retries + 1)),
                None => None,
            };
            let Some(wait) = wait else {
                return match error {
                    Some(api) => Err(Error::Api(api.clone())),
                    None => outcome.map_err(Attempt::into_error),
                };
            };
            tracing::debug!(operation = request.operation, ?wait, "retrying");
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }

    async fn attempt(
        &self,
        request: &Request,
        token: Option<&str>,
        limit: Option<Duration>,
    ) -> Result<Answer, Attempt> {
        let url = self
            .inner
            .base
            .join(request.path.trim_start_matches('/'))
            .map_err(|error| Attempt::Failed(Error::Config(format!("path: {error}"))))?;
        let mut builder = self.inner.http.request(request.method.clone(), url);
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if let Some(limit) = limit {
            let limit = limit.min(self.inner.timeout).max(Duration::from_millis(1));
            builder = builder.timeout(limit);
        }
        if let Some(token) = token {
            builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = builder.send().await.map_err(|error| {
            Attempt::Transport(Error::transport(
                format!("{} failed", request.operation),
                error,
            ))
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let request_id = header_text(&headers, "x-request-id");
        let body = response.bytes().await.map_err(|error| {
            Attempt::Transport(Error::transport(
                format!("{} answer cut off", request.operation),
                error,
            ))
        })?;
        if request.answers.contains(&status.as_u16()) {
            return Ok(Answer {
                status: status.as_u16(),
                request_id,
                body: body.to_vec(),
            });
        }
        Err(refusal(status, &headers, request_id, &body))
    }
}

/// Why one attempt did not give an answer.
enum Attempt {
    /// The request may not have reached the server.
    Transport(Error),
    /// The server refused it with an error body.
    Refused(ApiError),
    /// Anything else; not retried.
    Failed(Error),
}

impl Attempt {
    fn into_error(self) -> Error {
        match self {
            Attempt::Transport(error) | Attempt::Failed(error) => error,
            Attempt::Refused(api) => Error::Api(api),
        }
    }
}

/// An error answer: the spec's error body, or a decode error for a body
/// that is not one (a proxy's HTML page, say).
fn refusal(
    status: StatusCode,
    headers: &HeaderMap,
    request_id: Option<String>,
    body: &[u8],
) -> Attempt {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => Attempt::Refused(ApiError {
            status: Some(status.as_u16()),
            code: error.code,
            message: error.message,
            request_id,
            retry_after: header_text(headers, RETRY_AFTER.as_str())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
        }),
        Err(error) => {
            let api = ApiError {
                status: Some(status.as_u16()),
                code: ErrorCode::Unknown(String::new()),
                message: format!("a {status} answer without an error body"),
                request_id: request_id.clone(),
                retry_after: None,
            };
            // A 503 or 429 without the spec's body is still worth a retry.
            if matches!(status.as_u16(), 429 | 503) {
                Attempt::Refused(api)
            } else {
                Attempt::Failed(Error::Decode {
                    status: Some(status.as_u16()),
                    request_id,
                    message: format!("a {status} answer without the error body: {error}"),
                })
            }
        }
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("session", &self.credential.as_ref().map(|c| c.kind()))
            .finish()
    }
}
