//! REST over the wire: a request builder that records every exchange in
//! the case's transcript and checks every response against `openapi.json`.
//!
//! A `429 rate_limited` answer is waited out (its `Retry-After`) and the
//! request sent again, so the cases run against a server with its default
//! limits; only the cases about rate limits turn that off.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::transcript::{Entry, Recorder};
use crate::case::Failure;
use crate::documents::Documents;

/// Response headers worth keeping in a transcript: those the spec
/// mentions. Others (dates, lengths) only add noise.
const RECORDED_RESPONSE_HEADERS: [&str; 8] = [
    "content-type",
    "etag",
    "www-authenticate",
    "retry-after",
    "cache-control",
    "referrer-policy",
    "x-content-type-options",
    "location",
];
const RECORDED_REQUEST_HEADERS: [&str; 4] =
    ["authorization", "content-type", "if-none-match", "origin"];

/// The longest a request waits out rate limits, in total, before giving
/// the 429 to the case.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(180);

/// The shared HTTP side of a run.
pub struct Http {
    client: reqwest::Client,
    /// The base URL without a trailing slash; spec paths are appended.
    base: String,
    documents: Arc<Documents>,
}

impl Http {
    /// `tls` is whom an `https://` server must be certified by; `None`
    /// trusts the public roots.
    pub fn new(
        base: &str,
        documents: Arc<Documents>,
        timeout: Duration,
        tls: Option<&rustls::ClientConfig>,
    ) -> reqwest::Result<Http> {
        let mut client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(tls) = tls {
            client = client.use_preconfigured_tls(tls.clone());
        }
        Ok(Http {
            client: client.build()?,
            base: base.trim_end_matches('/').to_owned(),
            documents,
        })
    }

    /// One bare `GET` of `path`, recorded nowhere: the transport's own
    /// error, for the preflight to tell an untrusted certificate from an
    /// unreachable server.
    pub async fn probe(&self, path: &str) -> Result<u16, reqwest::Error> {
        let url = format!("{}{path}", self.base);
        let response = self.client.get(url).send().await?;
        Ok(response.status().as_u16())
    }

    pub fn request<'a>(
        &'a self,
        recorder: &Recorder,
        method: Method,
        path: impl Into<String>,
    ) -> Request<'a> {
        Request {
            http: self,
            recorder: recorder.clone(),
            method,
            path: path.into(),
            headers: Vec::new(),
            body: None,
            wait_out_rate_limits: true,
        }
    }
}

enum Body {
    Json(Value),
    Raw {
        content_type: Option<String>,
        bytes: Vec<u8>,
    },
}

/// One request being built; [`Request::send`] sends it.
pub struct Request<'a> {
    http: &'a Http,
    recorder: Recorder,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Body>,
    wait_out_rate_limits: bool,
}

impl Request<'_> {
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(Body::Json(body));
        self
    }

    /// A body sent exactly as given, for bodies JSON cannot express.
    pub fn raw(mut self, content_type: Option<&str>, bytes: Vec<u8>) -> Self {
        self.body = Some(Body::Raw {
            content_type: content_type.map(str::to_owned),
            bytes,
        });
        self
    }

    /// Hands a `429` to the caller instead of waiting it out.
    pub fn keep_rate_limits(mut self) -> Self {
        self.wait_out_rate_limits = false;
        self
    }

    /// Sends the request (again after each `429`, unless told not to).
    pub async fn send(self) -> Result<Reply, Failure> {
        let mut waited = Duration::ZERO;
        loop {
            let reply = self.send_once().await?;
            if reply.status != 429 || !self.wait_out_rate_limits || waited >= MAX_RATE_LIMIT_WAIT {
                return Ok(reply);
            }
            let seconds = reply
                .header("retry-after")
                .and_then(|value| value.trim().parse::<u64>().ok())
                .unwrap_or(1)
                .clamp(1, 120);
            self.recorder.note(format!(
                "rate limited: waiting {seconds} s (Retry-After) and sending again"
            ));
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            waited += Duration::from_secs(seconds);
        }
    }

    fn describe(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The request to send, recorded (the headers worth reading and the
    /// body) as it goes out.
    fn prepare(&self) -> reqwest::RequestBuilder {
        let url = format!("{}{}", self.http.base, self.path);
        let mut request = self.http.client.request(self.method.clone(), &url);
        let mut recorded_headers = BTreeMap::new();
        for (name, value) in &self.headers {
            request = request.header(name, value);
            if RECORDED_REQUEST_HEADERS.contains(&name.as_str()) {
                recorded_headers.insert(name.clone(), value.clone());
            }
        }
        let recorded_body = match &self.body {
            None => None,
            Some(Body::Json(body)) => {
                request = request.json(body);
                recorded_headers.insert("content-type".into(), "application/json".into());
                Some(body.clone())
            }
            Some(Body::Raw {
                content_type,
                bytes,
            }) => {
                if let Some(content_type) = content_type {
                    request = request.header("content-type", content_type);
                    recorded_headers.insert("content-type".into(), content_type.clone());
                }
                request = request.body(bytes.clone());
                Some(Value::String(String::from_utf8_lossy(bytes).into_owned()))
            }
        };
        self.recorder.record(Entry::Request {
            method: self.method.to_string(),
            path: self.path.clone(),
            headers: recorded_headers,
            body: recorded_body,
        });
        request
    }

    async fn send_once(&self) -> Result<Reply, Failure> {
        let response = self.prepare().send().await.map_err(|error| {
            Failure::new(
                self.describe(),
                "an HTTP response",
                format!("the request failed: {}", super::tls::with_causes(&error)),
            )
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|error| {
            Failure::new(
                self.describe(),
                "a complete response body",
                format!("reading it failed: {error}"),
            )
        })?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if bytes.is_empty() {
            None
        } else {
            serde_json::from_slice::<Value>(&bytes).ok()
        };
        let reply = Reply {
            status,
            headers,
            body,
            text,
        };
        self.recorder.record(Entry::Response {
            status,
            headers: RECORDED_RESPONSE_HEADERS
                .iter()
                .filter_map(|name| {
                    reply
                        .header(name)
                        .map(|v| ((*name).to_owned(), v.to_owned()))
                })
                .collect(),
            body: reply.recorded_body(),
        });
        self.check_documents(&reply, bytes.len());
        self.note_started_chat(&reply);
        Ok(reply)
    }

    /// Every chat a case starts passes here, whichever way the case sent
    /// the request, so the runner can close them all when the case ends.
    fn note_started_chat(&self, reply: &Reply) {
        let path = self.path.split('?').next().unwrap_or_default();
        if self.method != Method::POST || path != "/v1/chats" || reply.status != 201 {
            return;
        }
        if let Some(id) = reply.json().pointer("/chat/id").and_then(Value::as_str) {
            self.recorder.chat_started(id.to_owned());
        }
    }

    fn check_documents(&self, reply: &Reply, raw_len: usize) {
        let path = self.path.split('?').next().unwrap_or_default();
        let mut problems = self.http.documents.openapi.check(
            self.method.as_str(),
            path,
            reply.status,
            reply.header("content-type"),
            reply.body.as_ref(),
            raw_len,
        );
        // The prose grants `413 payload_too_large` to any endpoint that
        // takes a body, whether or not the operation lists it.
        if reply.status == 413 && self.body.is_some() {
            problems.retain(|problem| !problem.contains("is not documented"));
        }
        self.recorder
            .violation(format!("{} {}", self.describe(), reply.status), problems);
    }
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON, when it is JSON.
    pub body: Option<Value>,
    /// The body as text, whatever it is.
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The body, or `null` when there is none (so pointers read `None`).
    pub fn json(&self) -> &Value {
        self.body.as_ref().unwrap_or(&Value::Null)
    }

    /// `error.code` of an error body.
    pub fn error_code(&self) -> Option<&str> {
        self.json().pointer("/error/code").and_then(Value::as_str)
    }

    fn recorded_body(&self) -> Option<Value> {
        match (&self.body, self.text.is_empty()) {
            (Some(body), _) => Some(body.clone()),
            (None, true) => None,
            (None, false) => Some(Value::String(self.text.clone())),
        }
    }

    /// `401 {"error":...}`, short enough for one line of a report.
    pub fn describe(&self) -> String {
        let mut body = match &self.body {
            Some(body) => {
                let mut body = body.clone();
                super::redact::value(&mut body);
                body.to_string()
            }
            None if self.text.is_empty() => "(no body)".to_owned(),
            None => format!("{:?}", super::redact::text_value(&self.text)),
        };
        if body.chars().count() > 300 {
            body = body.chars().take(300).collect::<String>() + "...";
        }
        format!("{} {body}", self.status)
    }
}
