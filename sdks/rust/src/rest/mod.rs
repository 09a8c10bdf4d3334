//! The REST transport under the generated operations.
//!
//! Every generated method builds a [`Request`] (the operation's method,
//! path, query, body, the token kinds it accepts, whether it is idempotent
//! and which statuses answer it) and hands it to [`Client::send`], which
//! adds the token, retries what is safe and maps error answers to
//! [`Error::Api`]. What may be retried, and how, is the spec's client
//! behaviour table (`rest.rules` of `client.json`, generated into
//! `client_behaviour.rs`), the same for every SDK: in short,
//! - any request refused with `401 token_expired`, once, after a token
//!   refresh: the server did nothing with it;
//! - any request refused with `rate_limited` or `unavailable`, which say
//!   nothing was done, after `Retry-After`;
//! - safe requests (idempotent, such as `GET`, or keyed by the client,
//!   such as `send_message`'s `client_msg_id`, or replayable for a while,
//!   such as `refreshSession` within the server's refresh grace) after a
//!   connection failure or another `429` or `503`;
//!
//! up to [`RetryPolicy::max_retries`] times, waiting `Retry-After` when
//! the server says, else an exponential backoff with full jitter.

mod client;
mod encoding;
mod paging;

pub use client::{Client, ClientBuilder, RetryPolicy};
pub(crate) use encoding::{encode_body, path_segment};
pub(crate) use paging::cursor_stream;

use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::Error;
use crate::operations::TokenKind;

/// One REST call, as a generated method describes it.
pub(crate) struct Request {
    /// The `operationId`, for errors and logs.
    pub operation: &'static str,
    pub method: Method,
    /// The path with its parameters filled in and encoded.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    /// The JSON body, already encoded so a retry can send it again.
    pub body: Option<Vec<u8>>,
    /// Token kinds that may call it; empty for a public operation.
    pub tokens: &'static [TokenKind],
    pub idempotent: bool,
    /// Safe to repeat this long after the first attempt although not
    /// idempotent (`client.json`'s `rest.replayable`).
    pub replay_window: Option<std::time::Duration>,
    /// Statuses whose body is the answer rather than an error.
    pub answers: &'static [u16],
}

/// An answer with one of the request's answer statuses.
pub(crate) struct Answer {
    pub status: u16,
    pub request_id: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as `T`.
    pub fn decode<T: DeserializeOwned>(self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|error| Error::Decode {
            status: Some(self.status),
            request_id: self.request_id,
            message: error.to_string(),
        })
    }
}
