//! Opening a socket: the upgrade request a [`Handshake`] describes (the
//! token in the query, in a header, or nowhere; a ticket; `after_seq`;
//! `Origin`),
//! and a handshake the server refuses, recorded and checked against
//! `openapi.json` like any REST answer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::{AMBIENT, Ws};
use crate::case::Failure;
use crate::documents::Documents;
use crate::wire::redact;
use crate::wire::transcript::{Entry, Recorder};

/// Where a handshake puts its token.
#[derive(Debug, Clone)]
pub enum TokenPlace {
    /// `?token=<jwt>`, as browsers must.
    Query(String),
    /// `Authorization: Bearer <jwt>`.
    Header(String),
    /// An `Authorization` header exactly as given.
    RawHeader(String),
    None,
}

/// How to open a socket.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// Who connects, for the transcript (`guest`, `agent`).
    pub who: &'static str,
    pub token: TokenPlace,
    /// A socket ticket for `?ticket=`, beside whatever `token` says.
    pub ticket: Option<String>,
    /// The raw `after_seq` query value, when any.
    pub after_seq: Option<String>,
    pub origin: Option<String>,
}

impl Handshake {
    pub fn query(who: &'static str, token: &str) -> Handshake {
        Handshake {
            who,
            token: TokenPlace::Query(token.to_owned()),
            ticket: None,
            after_seq: None,
            origin: None,
        }
    }

    /// `?ticket=<ticket>` and no token.
    pub fn ticket(who: &'static str, ticket: &str) -> Handshake {
        Handshake {
            token: TokenPlace::None,
            ..Handshake::query(who, "")
        }
        .with_ticket(ticket)
    }

    /// This handshake with `?ticket=<ticket>` too.
    pub fn with_ticket(mut self, ticket: &str) -> Handshake {
        self.ticket = Some(ticket.to_owned());
        self
    }

    pub fn header(who: &'static str, token: &str) -> Handshake {
        Handshake {
            token: TokenPlace::Header(token.to_owned()),
            ..Handshake::query(who, "")
        }
    }

    pub fn after_seq(mut self, after_seq: impl ToString) -> Handshake {
        self.after_seq = Some(after_seq.to_string());
        self
    }

    pub fn origin(mut self, origin: &str) -> Handshake {
        self.origin = Some(origin.to_owned());
        self
    }
}

/// A handshake the server refused before the upgrade.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: u16,
    pub body: Value,
}

impl Refusal {
    pub fn error_code(&self) -> Option<&str> {
        self.body.pointer("/error/code").and_then(Value::as_str)
    }

    pub fn describe(&self) -> String {
        let mut body = self.body.clone();
        redact::value(&mut body);
        format!("handshake refused: {} {body}", self.status)
    }
}

/// Percent-encodes a query value: everything but RFC 3986's unreserved
/// characters, so a hostile token arrives exactly as made.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `ws://` form of an `http://` base URL, `wss://` of `https://`.
pub fn ws_base(http_base: &str) -> String {
    if let Some(rest) = http_base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = http_base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        http_base.to_owned()
    }
}

impl Ws {
    /// Opens `/v1/ws` (`wss://` for an `https://` base, certified by
    /// `tls`, or by the public roots when it is `None`). The outer error
    /// is a transport failure; the inner one a refusal with an HTTP
    /// answer.
    pub async fn connect(
        base: &str,
        documents: Arc<Documents>,
        recorder: &Recorder,
        timeout: Duration,
        tls: Option<Arc<rustls::ClientConfig>>,
        handshake: Handshake,
    ) -> Result<Result<Ws, Refusal>, Failure> {
        let name = recorder.next_connection(handshake.who);
        let path = handshake.path();
        let context = format!("opening {name} at {}", redact::url(&path));
        let (request, headers) = handshake.request(base, &path, &context)?;
        recorder.record(Entry::WsConnect {
            connection: name.clone(),
            path,
            headers,
        });
        let connected = tokio::time::timeout(
            timeout,
            // Nagle's algorithm would hold small frames back for tens of
            // milliseconds per exchange.
            tokio_tungstenite::connect_async_tls_with_config(
                request,
                None,
                true,
                tls.map(Connector::Rustls),
            ),
        )
        .await;
        match connected {
            Err(_) => Err(Failure::new(
                context,
                format!("an answer to the handshake within {timeout:?}"),
                "nothing",
            )),
            Ok(Ok((stream, _))) => Ok(Ok(Ws {
                stream,
                recorder: recorder.clone(),
                documents,
                name,
                timeout,
                ambient: AMBIENT,
                closed: false,
                nonces: 0,
            })),
            Ok(Err(WsError::Http(response))) => {
                Ok(Err(refused(&response, &name, recorder, &documents)))
            }
            Ok(Err(error)) => Err(Failure::new(
                context,
                "a WebSocket upgrade or an HTTP refusal",
                format!(
                    "the handshake failed: {}",
                    crate::wire::tls::with_causes(&error)
                ),
            )),
        }
    }
}

impl Handshake {
    /// `/v1/ws` with the query this handshake carries, if any.
    fn path(&self) -> String {
        let mut query = Vec::new();
        if let Some(ticket) = &self.ticket {
            query.push(format!("ticket={}", percent_encode(ticket)));
        }
        if let TokenPlace::Query(token) = &self.token {
            query.push(format!("token={}", percent_encode(token)));
        }
        if let Some(after_seq) = &self.after_seq {
            query.push(format!("after_seq={}", percent_encode(after_seq)));
        }
        let mut path = "/v1/ws".to_owned();
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        path
    }

    /// The upgrade request for `path` on `base`, and the headers it adds
    /// (`Authorization`, `Origin`) as the transcript records them.
    fn request(
        &self,
        base: &str,
        path: &str,
        context: &str,
    ) -> Result<(Request, BTreeMap<String, String>), Failure> {
        let mut request = format!("{}{path}", ws_base(base.trim_end_matches('/')))
            .into_client_request()
            .map_err(|error| Failure::new(context, "a valid WebSocket URL", error.to_string()))?;
        let mut headers = BTreeMap::new();
        let authorization = match &self.token {
            TokenPlace::Header(token) => Some(format!("Bearer {token}")),
            TokenPlace::RawHeader(value) => Some(value.clone()),
            TokenPlace::Query(_) | TokenPlace::None => None,
        };
        let extra = authorization
            .map(|value| ("authorization", value))
            .into_iter()
            .chain(self.origin.clone().map(|origin| ("origin", origin)));
        for (name, value) in extra {
            let header = HeaderValue::from_str(&value).map_err(|error| {
                Failure::new(
                    context,
                    "a header value that can be sent",
                    error.to_string(),
                )
            })?;
            request.headers_mut().insert(name, header);
            headers.insert(name.to_owned(), value);
        }
        Ok((request, headers))
    }
}

/// A handshake refused with an HTTP answer: recorded, and checked against
/// what `openapi.json` documents for `GET /v1/ws`.
fn refused(response: &Response, name: &str, recorder: &Recorder, documents: &Documents) -> Refusal {
    let status = response.status().as_u16();
    let bytes = response.body().as_deref().unwrap_or_default();
    let body = serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()));
    recorder.record(Entry::WsRefused {
        connection: name.to_owned(),
        status,
        body: body.clone(),
    });
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok());
    let json = (!body.is_string()).then_some(&body);
    recorder.violation(
        format!("GET /v1/ws {status}"),
        documents
            .openapi
            .check("GET", "/v1/ws", status, content_type, json, bytes.len()),
    );
    Refusal { status, body }
}
