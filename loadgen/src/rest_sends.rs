//! The REST-sends scenario: `POST /v1/chats/{id}/messages`, open loop.
//!
//! Every request carries a bearer token that the server verifies before
//! anything else, so with cheap storage this is the path where the cost of
//! verifying a signature shows: Ed25519 against HS256 is the same load
//! with `BYRD_JWT_ALGORITHM` changed. Each send has a fresh
//! `client_msg_id`, so each stores a message.
//!
//! Requests go over a keep-alive pool of at most `--connections`
//! connections, as a fleet of backends or browsers would hold, and a send
//! due while all are busy waits for one (its wait counts in its latency,
//! which runs from the scheduled moment). A connection per send in flight
//! was tried first: once the server fell behind for a moment, thousands of
//! new connections a second piled up, and at 5,000 sends a second 33,000
//! were in flight, the median took 7.6 s and the server used half a core:
//! the run measured connection set-up rather than sends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use tokio::sync::Semaphore;

use crate::RestSendsArgs;
use crate::callers::{self, Caller};
use crate::open_loop::{self, Outcome, Run};
use crate::target::Target;
use crate::ws::string_field;

/// What every request of a run shares.
struct Sends {
    client: reqwest::Client,
    /// One permit per connection: a send holds one until it is answered.
    connections: Semaphore,
    /// Each caller's `POST` URL and `Authorization` value.
    callers: Vec<(String, String)>,
    body: String,
    /// Unique per run, so that no send repeats an earlier run's key.
    run: String,
    /// The next `client_msg_id`'s number, over every step.
    next_id: AtomicU64,
}

pub async fn run(target: &Target, args: &RestSendsArgs) -> anyhow::Result<()> {
    let callers = callers::set_up(target, args.chats, args.agents).await?;
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(usize::from(args.connections))
        .timeout(Duration::from_secs(30))
        .build()?;
    let sends = Arc::new(Sends {
        client,
        connections: Semaphore::new(usize::from(args.connections)),
        callers: callers
            .iter()
            .map(|Caller { token, chat_id }| {
                (
                    format!("{}/v1/chats/{chat_id}/messages", target.base),
                    format!("Bearer {token}"),
                )
            })
            .collect(),
        body: "x".repeat(args.body_chars.max(1)),
        run: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
        next_id: AtomicU64::new(0),
    });
    let setting = format!(
        "POST /v1/chats/{{id}}/messages by {} guests and {} agents over {} chats, on at most {} keep-alive connections",
        args.chats, args.agents, args.chats, args.connections
    );
    let run = Run {
        calls: "sends",
        setting,
        rates: &args.rates,
        steps: &args.steps,
        server_pid: target.pid,
    };
    open_loop::run(&run, move |n| {
        let sends = sends.clone();
        async move { sends.send(n).await }
    })
    .await;
    Ok(())
}

impl Sends {
    /// Message `n`, sent by caller `n % callers`.
    async fn send(&self, n: u64) -> Outcome {
        let Ok(_connection) = self.connections.acquire().await else {
            return Outcome::Failed("no connection".into());
        };
        let (url, authorization) = &self.callers[(n % self.callers.len() as u64) as usize];
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = format!(
            r#"{{"client_msg_id":"{}.{id}","body":"{}"}}"#,
            self.run, self.body
        );
        let sent = self
            .client
            .post(url)
            .header(AUTHORIZATION, authorization)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => return Outcome::Failed(transport_failure(&error)),
        };
        let status = response.status();
        // Read to the end, so the connection goes back to the pool.
        let answer = response.bytes().await;
        match (status, answer) {
            (StatusCode::CREATED, Ok(_)) => Outcome::Done,
            (_, Err(error)) => Outcome::Failed(transport_failure(&error)),
            (status, Ok(answer)) => Outcome::Failed(status_failure(status, &answer)),
        }
    }
}

/// `"429 rate_limited"`: the status and the error's code, if it has one.
/// A `200` is a send the server had already stored: not a new message.
pub fn status_failure(status: StatusCode, answer: &[u8]) -> String {
    let code = std::str::from_utf8(answer)
        .ok()
        .and_then(|text| string_field(text, "code"))
        .unwrap_or(if status == StatusCode::OK {
            "already stored"
        } else {
            "no code"
        });
    format!("{} {code}", status.as_u16())
}

/// A failure that is not an answer, by kind (never its text, which names
/// addresses and would make every failure a kind of its own).
fn transport_failure(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connect failed"
    } else if error.is_body() || error.is_decode() {
        "answer cut"
    } else {
        "request failed"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_its_status_and_code() {
        let answer = br#"{"error":{"code":"rate_limited","message":"slow down"}}"#;
        assert_eq!(
            status_failure(StatusCode::TOO_MANY_REQUESTS, answer),
            "429 rate_limited"
        );
        assert_eq!(
            status_failure(StatusCode::BAD_GATEWAY, b"<html>"),
            "502 no code"
        );
        assert_eq!(status_failure(StatusCode::OK, b"{}"), "200 already stored");
    }
}
