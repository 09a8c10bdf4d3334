//! How many guests' handshakes run at once.
//!
//! When a node restarts, its clients all come back within a second. Let in
//! all at once, every handshake's steps (verifying, reading, greeting)
//! queue behind every other's on the runtime, and the connections already
//! back wait in that queue too. In a storm of 18,000 sockets, agents back
//! at once still took until the storm was over to resubscribe to their
//! chats, and the messages in those chats waited for them: 2 to 3 s at the
//! median. So guests' handshakes take turns, a few at a time; the others
//! wait parked, costing the runtime nothing, and a connection already
//! through (an agent resubscribing) runs as soon as it has work.
//!
//! Agents skip the line: a handful of them hold up the messages of
//! thousands of chats, a guest only its own. The line is chosen by the
//! token's `type` claim read before its signature is checked: a forged one
//! gains a place in the line and nothing else (the token is then verified
//! like any other), and skipping the line is what every handshake did
//! before there was one. A ticket, whose principal only the store knows,
//! takes the line.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_spec::message::PartyType;
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Guest handshakes in progress at once: enough to keep both the CPU and
/// the database's batched reads busy, few enough that the runtime's queue
/// stays short. Measured in a storm of 18,000 sockets on 2 cores, 16
/// resumed everyone as fast as no gate at all.
const GUESTS_AT_ONCE: usize = 16;

/// Tokens longer than this are not looked into; verification refuses them.
const MAX_PEEK_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone)]
pub struct HandshakeGate(Arc<Semaphore>);

/// A guest's turn, held until its handshake has answered.
pub struct Turn(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

impl Default for HandshakeGate {
    fn default() -> Self {
        HandshakeGate(Arc::new(Semaphore::new(GUESTS_AT_ONCE)))
    }
}

impl HandshakeGate {
    /// Waits for a turn, unless `token` says it is an agent's.
    pub async fn enter(&self, token: Option<&str>) -> Turn {
        if token.is_some_and(claims_to_be_an_agent) {
            return Turn(None);
        }
        // The semaphore is never closed.
        Turn(self.0.clone().acquire_owned().await.ok())
    }
}

/// Whose WebSocket handshake the start of an HTTP request is, by the
/// `type` claim of its `token=` (`GET <path>?...token=<JWT>... HTTP/1.1`),
/// unverified: for the [listener](crate::accept) to take agents' first and
/// guests' a few at a time. `None` for anything else, a ticket included.
pub fn claimed_handshake(head: &[u8]) -> Option<PartyType> {
    let line = head.split(|byte| *byte == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (Some("GET"), Some(target)) = (parts.next(), parts.next()) else {
        return None;
    };
    let (_, query) = target.split_once('?')?;
    // A JWT is base64url and dots: nothing in it is percent-encoded.
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .and_then(claimed_party)
}

/// Whether a JWT's payload says `"type": "agent"`, unverified.
fn claims_to_be_an_agent(token: &str) -> bool {
    claimed_party(token) == Some(PartyType::Agent)
}

/// The party a JWT's payload names in its `type` claim, unverified.
fn claimed_party(token: &str) -> Option<PartyType> {
    #[derive(Deserialize)]
    struct Unverified<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<&'a str>,
    }
    if token.len() > MAX_PEEK_BYTES {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice::<Unverified<'_>>(&json).ok()?.kind? {
        "agent" => Some(PartyType::Agent),
        "guest" => Some(PartyType::Guest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(payload: &str) -> String {
        format!("e30.{}.c2ln", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn only_a_token_whose_payload_says_agent_skips_the_line() {
        assert!(claims_to_be_an_agent(&token(
            r#"{"type":"agent","sub":"x"}"#
        )));
        assert!(!claims_to_be_an_agent(&token(r#"{"type":"guest"}"#)));
        assert!(!claims_to_be_an_agent(&token(r#"{"sub":"x"}"#)));
        assert!(!claims_to_be_an_agent(&token("not json")));
        assert!(!claims_to_be_an_agent("no-dots-at-all"));
        assert!(!claims_to_be_an_agent("a.%%%.c"));
    }

    #[test]
    fn a_handshake_is_told_apart_by_its_first_bytes() {
        let agent = token(r#"{"type":"agent"}"#);
        let guest = token(r#"{"type":"guest"}"#);
        let request = |target: &str| format!("GET {target} HTTP/1.1\r\nHost: byrd\r\n\r\n");
        let claimed = |head: String| claimed_handshake(head.as_bytes());
        assert_eq!(
            claimed(request(&format!("/v1/ws?token={agent}"))),
            Some(PartyType::Agent)
        );
        assert_eq!(
            claimed(request(&format!("/v1/ws?after_seq=1&token={guest}&x=y"))),
            Some(PartyType::Guest)
        );
        // Cut before the line ends: the token may be whole all the same.
        assert_eq!(
            claimed(format!("GET /v1/ws?token={agent} HT")),
            Some(PartyType::Agent)
        );
        for other in [
            request(&format!("/v1/ws?token={}", token(r#"{"type":"admin"}"#))),
            request("/v1/ws?ticket=byrd_wst_abc"),
            request("/v1/chats"),
            format!("POST /v1/ws?token={agent} HTTP/1.1\r\n"),
            format!("GET /v1/ws?token={}", &agent[..agent.len() / 2]),
            String::new(),
        ] {
            assert_eq!(claimed(other.clone()), None, "{other}");
        }
        assert_eq!(claimed_handshake(&[0xff, 0xfe, b' ', b'?']), None);
    }

    #[tokio::test]
    async fn guests_wait_for_a_turn_and_agents_do_not() {
        let gate = HandshakeGate::default();
        let guest = token(r#"{"type":"guest"}"#);
        let mut turns = Vec::new();
        for _ in 0..GUESTS_AT_ONCE {
            turns.push(gate.enter(Some(&guest)).await);
        }
        let waiting = gate.enter(Some(&guest));
        tokio::pin!(waiting);
        assert!(futures_util::FutureExt::now_or_never(waiting.as_mut()).is_none());
        let agent = token(r#"{"type":"agent"}"#);
        let _agent = gate.enter(Some(&agent)).await;
        drop(turns.pop());
        let _next = waiting.await;
    }
}
