//! The WebSocket side: a client that records every frame each way, checks
//! every server frame against `ws.schema.json`, bounds every wait, and
//! reports a refused handshake as its HTTP status and JSON body (checked
//! against `openapi.json` like any REST answer).
//!
//! Some server frames arrive whenever other things happen on the server
//! (`presence` when an agent comes or goes, `chat_updated` when a chat
//! starts): they are "ambient", recorded and checked but passed over by
//! [`Ws::expect`] unless a case asks for them.
//!
//! Opening a socket, and what a refused one answers, is in `handshake`;
//! this module reads and writes an open one.

mod handshake;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use self::handshake::{Handshake, Refusal, TokenPlace, percent_encode, ws_base};
use super::transcript::{Entry, Recorder};
use crate::case::Failure;
use crate::documents::Documents;

/// Frames that arrive because of things outside the case's exchange.
pub const AMBIENT: &[&str] = &["presence", "chat_updated"];

/// One thing read from the socket.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Frame(Value),
    /// A text frame that is not JSON, or a binary frame.
    Garbage(String),
    Close {
        code: Option<u16>,
        reason: String,
    },
    /// The connection ended without a close frame.
    Ended(String),
}

impl Event {
    pub fn describe(&self) -> String {
        match self {
            Event::Frame(frame) => {
                let mut frame = frame.clone();
                super::redact::value(&mut frame);
                format!("frame {frame}")
            }
            Event::Garbage(text) => format!("a frame that is not JSON text: {text:?}"),
            Event::Close { code, reason } => match code {
                Some(code) => format!("close {code} {reason:?}"),
                None => "close without a code".to_owned(),
            },
            Event::Ended(why) => format!("the connection ended without a close frame ({why})"),
        }
    }
}

/// The type tag of a frame, or `""`.
pub fn kind(frame: &Value) -> &str {
    frame
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    recorder: Recorder,
    documents: Arc<Documents>,
    /// `ws#2 (guest)`, as the transcript names it.
    pub name: String,
    timeout: Duration,
    ambient: &'static [&'static str],
    closed: bool,
    nonces: u64,
}

impl Ws {
    /// Which frame types [`Ws::expect`] passes over.
    pub fn set_ambient(&mut self, ambient: &'static [&'static str]) {
        self.ambient = ambient;
    }

    pub async fn send(&mut self, frame: Value) -> Result<(), Failure> {
        let text = frame.to_string();
        self.recorder.record(Entry::WsSent {
            connection: self.name.clone(),
            frame,
        });
        self.write(Message::text(text)).await
    }

    /// Sends text that need not be JSON.
    pub async fn send_text(&mut self, text: &str) -> Result<(), Failure> {
        self.recorder.record(Entry::WsSent {
            connection: self.name.clone(),
            frame: Value::String(format!("(text) {text}")),
        });
        self.write(Message::text(text.to_owned())).await
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), Failure> {
        self.recorder.record(Entry::WsSent {
            connection: self.name.clone(),
            frame: Value::String(format!("(binary, {} bytes)", bytes.len())),
        });
        self.write(Message::binary(bytes)).await
    }

    async fn write(&mut self, message: Message) -> Result<(), Failure> {
        match tokio::time::timeout(self.timeout, self.stream.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(Failure::new(
                format!("sending on {}", self.name),
                "the socket to take the frame",
                error.to_string(),
            )),
            Err(_) => Err(Failure::new(
                format!("sending on {}", self.name),
                format!("the frame sent within {:?}", self.timeout),
                "the write did not finish",
            )),
        }
    }

    /// The next event, waiting at most the configured timeout.
    pub async fn next_event(&mut self) -> Result<Event, Failure> {
        self.next_event_within(self.timeout).await
    }

    /// The next event within `wait`; pings and pongs are not events.
    pub async fn next_event_within(&mut self, wait: Duration) -> Result<Event, Failure> {
        if self.closed {
            return Ok(Event::Ended("already closed".to_owned()));
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next()).await;
            let event = match next {
                Err(_) => {
                    return Err(Failure::new(
                        format!("reading {}", self.name),
                        format!("a frame within {wait:?}"),
                        "nothing arrived",
                    ));
                }
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => continue,
                Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str(text.as_str()) {
                    Ok(frame) => Event::Frame(frame),
                    Err(_) => Event::Garbage(text.to_string()),
                },
                Ok(Some(Ok(Message::Binary(bytes)))) => {
                    Event::Garbage(format!("(binary, {} bytes)", bytes.len()))
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    self.closed = true;
                    match frame {
                        Some(CloseFrame { code, reason }) => Event::Close {
                            code: Some(code.into()),
                            reason: reason.to_string(),
                        },
                        None => Event::Close {
                            code: None,
                            reason: String::new(),
                        },
                    }
                }
                Ok(Some(Err(error))) => {
                    self.closed = true;
                    Event::Ended(error.to_string())
                }
                Ok(None) => {
                    self.closed = true;
                    Event::Ended("end of stream".to_owned())
                }
            };
            self.observe(&event);
            return Ok(event);
        }
    }

    /// Records an event and checks a frame against the spec.
    fn observe(&self, event: &Event) {
        let connection = self.name.clone();
        match event {
            Event::Frame(frame) => {
                self.recorder.record(Entry::WsReceived {
                    connection,
                    frame: frame.clone(),
                });
                self.recorder.violation(
                    format!("`{}` frame on {}", kind(frame), self.name),
                    self.documents.frames.check(frame),
                );
            }
            Event::Garbage(text) => {
                self.recorder.record(Entry::WsReceived {
                    connection,
                    frame: Value::String(text.clone()),
                });
                self.recorder.violation(
                    format!("frame on {}", self.name),
                    vec![format!(
                        "every server frame is one JSON text message; got {text:?}"
                    )],
                );
            }
            Event::Close { code, reason } => self.recorder.record(Entry::WsClosed {
                connection,
                code: *code,
                reason: reason.clone(),
            }),
            Event::Ended(why) => self.recorder.record(Entry::WsClosed {
                connection,
                code: None,
                reason: format!("(no close frame: {why})"),
            }),
        }
    }

    /// The next frame that is not ambient; anything else (a close, a frame
    /// that is not JSON) is returned as a failure.
    pub async fn next_frame(&mut self) -> Result<Value, Failure> {
        loop {
            match self.next_event().await? {
                Event::Frame(frame) if self.ambient.contains(&kind(&frame)) => continue,
                Event::Frame(frame) => return Ok(frame),
                other => {
                    return Err(Failure::new(
                        format!("reading {}", self.name),
                        "a JSON frame",
                        other.describe(),
                    ));
                }
            }
        }
    }

    /// The next non-ambient frame, which must be of type `expected`.
    pub async fn expect(&mut self, expected: &str) -> Result<Value, Failure> {
        let frame = self.next_frame().await.map_err(|mut failure| {
            failure.expected = format!("a `{expected}` frame");
            failure
        })?;
        if kind(&frame) == expected {
            Ok(frame)
        } else {
            Err(Failure::new(
                format!("reading {}", self.name),
                format!("a `{expected}` frame"),
                Event::Frame(frame).describe(),
            ))
        }
    }

    /// Reads up to the close frame, passing over ambient frames; returns
    /// the close's code and reason. Any other frame is a failure.
    pub async fn expect_close(&mut self) -> Result<(Option<u16>, String), Failure> {
        loop {
            match self.next_event().await? {
                Event::Frame(frame) if self.ambient.contains(&kind(&frame)) => continue,
                Event::Close { code, reason } => return Ok((code, reason)),
                other => {
                    return Err(Failure::new(
                        format!("reading {}", self.name),
                        "a close frame",
                        other.describe(),
                    ));
                }
            }
        }
    }

    /// Sends `ping` and reads up to its `pong`: every frame the server
    /// queued before it has then been read. Returns those frames, ambient
    /// ones left out.
    pub async fn barrier(&mut self) -> Result<Vec<Value>, Failure> {
        self.nonces += 1;
        let nonce = format!("barrier-{}", self.nonces);
        self.send(json!({"type": "ping", "nonce": nonce})).await?;
        let mut before = Vec::new();
        loop {
            let frame = self.next_frame().await.map_err(|mut failure| {
                failure.expected = format!("`pong` {{nonce: {nonce:?}}} (the connection alive)");
                failure
            })?;
            if kind(&frame) == "pong" && frame["nonce"] == nonce.as_str() {
                return Ok(before);
            }
            before.push(frame);
        }
    }

    /// A barrier that nothing may precede: the server sent nothing else.
    pub async fn expect_quiet(&mut self, why: &str) -> Result<(), Failure> {
        let frames = self.barrier().await?;
        if frames.is_empty() {
            return Ok(());
        }
        let mut shown: Vec<Value> = frames;
        shown.iter_mut().for_each(super::redact::value);
        Err(Failure::new(
            format!("{} ({why})", self.name),
            "no frame",
            format!("{} frame(s): {}", shown.len(), Value::Array(shown)),
        ))
    }

    /// Sends a close frame with `code` and `reason`; the server's answer
    /// is read with [`expect_close`](Self::expect_close).
    pub async fn send_close(&mut self, code: u16, reason: &str) -> Result<(), Failure> {
        self.recorder.record(Entry::WsSent {
            connection: self.name.clone(),
            frame: Value::String(format!("(close {code} {reason:?})")),
        });
        self.write(Message::Close(Some(CloseFrame {
            code: code.into(),
            reason: reason.into(),
        })))
        .await
    }

    /// Closes the socket politely (best effort).
    pub async fn close(mut self) {
        if !self.closed {
            let _ = tokio::time::timeout(Duration::from_secs(2), self.stream.close(None)).await;
        }
    }
}
