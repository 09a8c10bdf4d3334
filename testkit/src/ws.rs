//! A JSON WebSocket client for tests: JSON in, JSON out, every wait
//! bounded, no application frame skipped without a trace. Pings and pongs
//! are answered by tungstenite while it reads and are never returned.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single wait for a server frame may take before the test
/// fails; generous for a loaded 2-core machine, short enough to fail fast.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// How a handshake is made: the token's place, more of the query string
/// (`after_seq=12`, say) and an optional `Origin`.
#[derive(Debug, Clone, Default)]
pub struct Handshake<'a> {
    pub query_token: Option<&'a str>,
    /// Appended to the query string after the token, as written.
    pub query: Option<&'a str>,
    pub bearer_token: Option<&'a str>,
    pub origin: Option<&'a str>,
}

impl Handshake<'_> {
    /// The URL of `/v1/ws` on `address`: the query token first, then the
    /// rest of the query.
    pub fn url(&self, address: &str) -> String {
        let token = self.query_token.map(|token| format!("token={token}"));
        let query: Vec<String> = [token, self.query.map(str::to_owned)]
            .into_iter()
            .flatten()
            .collect();
        ws_url(address, &query.join("&"))
    }
}

/// A refused handshake: the HTTP status and the JSON body.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub body: Value,
}

/// Why [`WsClient::open`] has no socket to give.
#[derive(Debug)]
pub enum ConnectError {
    /// The server answered the upgrade with an HTTP error and a JSON body.
    Refused(Refusal),
    /// No handshake within [`FRAME_TIMEOUT`].
    TimedOut,
    /// Anything else: no server on the port, a reset, a body not JSON.
    Failed(String),
}

/// What the server sent next.
#[derive(Debug)]
pub enum Received {
    Json(Value),
    /// A close frame: its code (1005 when it had none) and reason.
    Close(u16, String),
    /// A binary frame, or a text frame that is not JSON.
    Other(Message),
    /// The socket ended without a close frame.
    Ended,
}

impl Received {
    /// What the stream's next item means to a test; `None` for a ping or
    /// pong, which tungstenite has answered already.
    fn from_stream(next: Option<Result<Message, WsError>>) -> Option<Received> {
        Some(match next {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => return None,
            Some(Ok(Message::Text(text))) => match serde_json::from_str(text.as_str()) {
                Ok(value) => Received::Json(value),
                Err(_) => Received::Other(Message::Text(text)),
            },
            Some(Ok(Message::Close(frame))) => match frame {
                Some(CloseFrame { code, reason }) => {
                    Received::Close(code.into(), reason.to_string())
                }
                None => Received::Close(1005, String::new()),
            },
            Some(Ok(other)) => Received::Other(other),
            Some(Err(_)) | None => Received::Ended,
        })
    }
}

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// The `ws://` URL of `/v1/ws` on `host:port`, with `query` (if any).
pub fn ws_url(address: &str, query: &str) -> String {
    if query.is_empty() {
        format!("ws://{address}/v1/ws")
    } else {
        format!("ws://{address}/v1/ws?{query}")
    }
}

impl WsClient {
    /// Opens `/v1/ws` on `address` (`host:port`) with `token` in the
    /// query string and returns the client and its `hello` frame.
    pub async fn connect(address: &str, token: &str) -> (WsClient, Value) {
        let handshake = Handshake {
            query_token: Some(token),
            ..Handshake::default()
        };
        let mut client = WsClient::try_connect(address, handshake)
            .await
            .unwrap_or_else(|refusal| panic!("the handshake was refused: {refusal:?}"));
        let hello = client.expect_type("hello").await;
        (client, hello)
    }

    /// Opens `/v1/ws` on `address` as `handshake` says; a refusal before
    /// the upgrade comes back as its status and JSON body, and any other
    /// failure fails the test.
    pub async fn try_connect(address: &str, handshake: Handshake<'_>) -> Result<WsClient, Refusal> {
        match WsClient::open(address, handshake).await {
            Ok(client) => Ok(client),
            Err(ConnectError::Refused(refusal)) => Err(refusal),
            Err(ConnectError::TimedOut) => panic!("the handshake timed out"),
            Err(ConnectError::Failed(error)) => panic!("the handshake failed: {error}"),
        }
    }

    /// Opens `/v1/ws` on `address` as `handshake` says, and says why not
    /// rather than failing the test: for a client that expects its server
    /// to go away (a node killed on purpose) and tries the next one.
    pub async fn open(address: &str, handshake: Handshake<'_>) -> Result<WsClient, ConnectError> {
        let mut request = handshake
            .url(address)
            .into_client_request()
            .map_err(|error| ConnectError::Failed(error.to_string()))?;
        if let Some(token) = handshake.bearer_token {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
            request.headers_mut().insert("authorization", value);
        }
        if let Some(origin) = handshake.origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(origin).unwrap());
        }
        match tokio::time::timeout(FRAME_TIMEOUT, tokio_tungstenite::connect_async(request)).await {
            Err(_) => Err(ConnectError::TimedOut),
            Ok(Ok((stream, _))) => Ok(WsClient { stream }),
            Ok(Err(WsError::Http(response))) => {
                let status = response.status().as_u16();
                let body = response.body().as_deref().unwrap_or_default();
                match serde_json::from_slice(body) {
                    Ok(body) => Err(ConnectError::Refused(Refusal { status, body })),
                    Err(_) => Err(ConnectError::Failed(format!(
                        "a refused handshake ({status}) has a JSON body, got {:?}",
                        String::from_utf8_lossy(body)
                    ))),
                }
            }
            Ok(Err(error)) => Err(ConnectError::Failed(error.to_string())),
        }
    }

    /// Opens `url` over `tcp`, a connection the caller made (to fix its
    /// buffer sizes, say), and returns the client and its `hello` frame.
    pub async fn connect_over(tcp: TcpStream, url: &str) -> (WsClient, Value) {
        let (stream, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
            .await
            .expect("the handshake succeeds");
        let mut client = WsClient { stream };
        let hello = client.expect_type("hello").await;
        (client, hello)
    }

    pub async fn send_json(&mut self, frame: Value) {
        self.send_raw(Message::text(frame.to_string())).await;
    }

    /// Sends `frames` in one write, so that the server finds them all
    /// received at once.
    pub async fn send_json_together(&mut self, frames: &[Value]) {
        let together = async {
            for frame in frames {
                self.stream.feed(Message::text(frame.to_string())).await?;
            }
            self.stream.flush().await
        };
        tokio::time::timeout(FRAME_TIMEOUT, together)
            .await
            .expect("the send timed out")
            .expect("the socket accepts the frames");
    }

    /// Sends any WebSocket message, for frames the JSON helper cannot make.
    pub async fn send_raw(&mut self, message: Message) {
        tokio::time::timeout(FRAME_TIMEOUT, self.stream.send(message))
            .await
            .expect("the send timed out")
            .expect("the socket accepts the frame");
    }

    /// Like [`WsClient::send_raw`], but a socket the server has closed is
    /// `false` rather than a failed test.
    pub async fn try_send_raw(&mut self, message: Message) -> bool {
        let sent = self.stream.send(message);
        matches!(tokio::time::timeout(FRAME_TIMEOUT, sent).await, Ok(Ok(())))
    }

    /// Like [`WsClient::send_json`], but a socket the server has closed is
    /// `false` rather than a failed test.
    pub async fn try_send_json(&mut self, frame: Value) -> bool {
        self.try_send_raw(Message::text(frame.to_string())).await
    }

    /// What the server sends next, or `None` if nothing comes `within`.
    pub async fn receive(&mut self, within: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            if let Some(received) = Received::from_stream(next) {
                return Some(received);
            }
        }
    }

    /// What the server sends next, however long that takes: for a reader
    /// that runs until the test stops it, or until the socket ends.
    pub async fn receive_unbounded(&mut self) -> Received {
        loop {
            if let Some(received) = Received::from_stream(self.stream.next().await) {
                return received;
            }
        }
    }

    /// The next thing the server sends; fails the test after
    /// [`FRAME_TIMEOUT`].
    async fn next_received(&mut self) -> Received {
        self.receive(FRAME_TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("no frame within {FRAME_TIMEOUT:?}"))
    }

    /// The next server frame as JSON. Anything but a JSON text frame (a
    /// close, a binary frame, the socket ending) fails the test.
    pub async fn next_json(&mut self) -> Value {
        match self.next_received().await {
            Received::Json(frame) => frame,
            other => panic!("expected a JSON text frame, got {other:?}"),
        }
    }

    /// The next frame, which must have `type` `kind`.
    pub async fn expect_type(&mut self, kind: &str) -> Value {
        let frame = self.next_json().await;
        assert_eq!(
            frame["type"], kind,
            "expected a {kind:?} frame, got {frame}"
        );
        frame
    }

    /// The close frame, which must come next: its code and reason.
    pub async fn expect_close(&mut self) -> (u16, String) {
        let (frames, code, reason) = self.drain_until_close().await;
        assert!(frames.is_empty(), "frames before the close: {frames:?}");
        (code, reason)
    }

    /// Reads up to the close frame, returning the JSON frames read before it
    /// and the close's code and reason. The socket ending without a close
    /// frame fails the test.
    pub async fn drain_until_close(&mut self) -> (Vec<Value>, u16, String) {
        let mut frames = Vec::new();
        loop {
            match self.next_received().await {
                Received::Json(frame) => frames.push(frame),
                Received::Close(code, reason) => return (frames, code, reason),
                other => panic!(
                    "expected a close frame, got {other:?} after {} frames",
                    frames.len()
                ),
            }
        }
    }

    /// Sends `ping` and waits for its `pong`: the connection still answers,
    /// and every frame it queued before the ping has been read.
    pub async fn assert_alive(&mut self, nonce: &str) {
        self.send_json(serde_json::json!({"type": "ping", "nonce": nonce}))
            .await;
        let pong = self.expect_type("pong").await;
        assert_eq!(pong, serde_json::json!({"type": "pong", "nonce": nonce}));
    }
}

/// The `type` of a frame, for messages about it.
pub fn kind(frame: &Value) -> &str {
    frame["type"].as_str().unwrap_or("<no type>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_holds_the_token_then_the_rest() {
        let both = Handshake {
            query_token: Some("t"),
            query: Some("after_seq=3"),
            ..Handshake::default()
        };
        assert_eq!(both.url("h:1"), "ws://h:1/v1/ws?token=t&after_seq=3");
        let rest = Handshake {
            query: Some("after_seq=3"),
            ..Handshake::default()
        };
        assert_eq!(rest.url("h:1"), "ws://h:1/v1/ws?after_seq=3");
        assert_eq!(Handshake::default().url("h:1"), "ws://h:1/v1/ws");
    }

    #[tokio::test]
    async fn opening_a_port_nobody_listens_on_is_an_error_not_a_failed_test() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        drop(listener);
        let opened = WsClient::open(&address, Handshake::default()).await;
        assert!(
            matches!(opened, Err(ConnectError::Failed(_))),
            "{:?}",
            opened.err()
        );
    }
}
