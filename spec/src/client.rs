//! What a client does when things go wrong: the behaviour every Byrd SDK
//! shares, as data (`client.json`).
//!
//! The server's documents say what the server does; this table says what
//! a well-behaved client does about it: which refusals and failures it
//! retries (per REST operation and per WebSocket frame) and how, its
//! reconnect backoff and the rule that starts the count over, how far
//! below the announced frame allowance it paces itself, and the limits it
//! assumes before a server announced any. `byrd-sdk-gen` writes it into
//! each SDK, whose hand-written realtime and REST code read only the
//! generated copy, so the SDKs cannot drift apart. What the close codes
//! mean for a client stays with them (`CloseCode` in `ws.schema.json`).
//! How a client opens its WebSocket (a single-use ticket by default, and
//! what a failed ticket does to the attempt) is here too, for the same
//! reason.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

/// 2^31 - 1: the longest delay a browser's timer keeps, and the ceiling of
/// every `hello` value.
const TIMER_CEILING: u64 = (1 << 31) - 1;

/// The whole table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientBehaviour {
    pub reconnect: Reconnect,
    pub rest: RestRetries,
    /// Refusals of a client frame (`error` frames) the client does not
    /// pass on, in the order they are tried; any other refusal settles
    /// the frame's call with the error, or is an `error` event.
    pub frames: Vec<FrameRetry>,
    /// Waits before a refused frame goes again.
    pub frame_backoff: Backoff,
    pub pacing: Pacing,
    pub sessions: Sessions,
    /// What subscribing again to a chat already followed does.
    pub subscribe_again: SubscribeAgain,
    /// Most sends waiting for their `ack` at once, by default.
    pub send_queue: u32,
    /// The largest page of a gap fill (`listMessages` `limit`).
    pub gap_page: u32,
    pub socket_auth: SocketAuth,
}

/// Exponential backoff with full jitter: before retry `n` (1, 2, ...), a
/// random wait in `[0, min(cap, base × factor^(n-1))]`, never under `floor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backoff {
    pub base_ms: u64,
    pub factor: u32,
    pub floor_ms: u64,
    pub cap_ms: u64,
}

/// Reconnecting the WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconnect {
    pub backoff: Backoff,
    /// A connection that got its `hello` and then stayed up this long
    /// starts the retry count over. Short, so that a link dropping every
    /// few seconds reconnects at once each time instead of climbing to the
    /// cap; long enough that a server closing right after `hello` is not
    /// hammered.
    pub reset_after_connected_ms: u64,
    /// From starting to open the socket (TCP, TLS, the upgrade) until its
    /// `hello`: an attempt without `hello` by then is lost, and the next
    /// one waits the backoff. The server says `hello` as soon as the
    /// upgrade is done, so a healthy attempt takes a few round trips; ten
    /// seconds is many of them on a slow mobile link, and short enough
    /// that an attempt a proxy holds open without passing anything costs
    /// less than the backoff's cap.
    pub connect_timeout_ms: u64,
}

/// REST retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestRetries {
    /// Retries after the first attempt, by default.
    pub max_retries: u32,
    pub backoff: Backoff,
    /// The longest `Retry-After` waited for; past it the error is returned.
    pub max_retry_after_ms: u64,
    /// The first rule that matches a failed attempt decides; a failure no
    /// rule matches is returned at once.
    pub rules: Vec<RestRule>,
    /// Operations that are safe to repeat for a while although neither
    /// idempotent nor keyed by the client.
    pub replayable: Vec<Replayable>,
}

/// One REST retry rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestRule {
    pub on: Failure,
    pub operations: Operations,
    pub wait: Wait,
    pub why: String,
}

/// A failed attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// An error answer with this code.
    Code(ErrorCode),
    /// An error answer with this status (whatever its code, or without
    /// the spec's error body).
    Status(u16),
    /// No answer: the connection failed or the answer was cut off, so the
    /// server may or may not have done the work.
    Transport,
}

/// Which operations a rule retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operations {
    /// Every operation: the failure says nothing was done.
    Every,
    /// Safe ones only: idempotent methods, operations keyed by the client
    /// (`x-byrd-idempotency-key`), and the [`RestRetries::replayable`]
    /// ones within their window.
    Safe,
}

/// What a retry waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    /// A fresh token (single flight), once per call; not counted as a retry.
    TokenRefresh,
    /// `Retry-After` when the answer has one, else the backoff.
    RetryAfter,
    /// The backoff.
    Backoff,
}

/// An operation the server lets a client repeat for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replayable {
    /// Its `operationId`.
    pub operation: String,
    /// How long after the first attempt a retry is still safe.
    pub within_ms: u64,
    pub why: String,
}

/// A refused client frame the client sends again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameRetry {
    /// The refused frame's `type`; `None` for a refusal that names no
    /// frame (no `ref`).
    pub frame: Option<String>,
    pub code: ErrorCode,
    pub action: FrameAction,
    pub why: String,
}

/// What the client does about a refused frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameAction {
    /// Keep it and send it again after the frame backoff (growing with
    /// each refusal of the same frame), unchanged.
    SendAgain,
    /// The refused frame is unknown (no `ref`: refused unread, or the
    /// replay a guest's URL asked for): after the frame backoff the client
    /// writes again, on the same connection, every `subscribe` not yet
    /// answered by `subscribed` (a guest's own chat included) and every
    /// `send` not yet acked. A refusal never drops the connection: a new
    /// one would be refused the same way.
    ResendUnanswered,
}

/// Pacing the client's frames.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pacing {
    /// The share of `hello.limits`' allowance the client uses.
    pub margin: f64,
    /// What the client assumes before (or without) a `hello.limits`.
    pub fallback_frames_per_second: u32,
    pub fallback_frame_burst: u32,
    pub fallback_max_frame_bytes: u32,
    /// Frames that may wait for the pace at once; past them a frame is
    /// refused with `queue_full` instead of growing a queue without end.
    /// Room for what a reconnect writes at the protocol's defaults (a
    /// `subscribe` for each of the 1,000 chats a socket may follow, the
    /// send queue) twice over.
    pub paced_frames: u32,
    /// The range each value of `hello` is held to, whatever a server
    /// sends.
    pub hello_bounds: HelloBounds,
}

/// The range of each `hello` value a client runs with. The floors keep a
/// zero from spinning (a zero heartbeat pings without pause, a zero pace
/// never refills) or from refusing everything (a frame limit an empty
/// `send` fits in); every ceiling is 2^31 - 1, the longest delay a
/// browser's timer keeps (a longer one fires at once, over and over), so
/// no value is infinite and no arithmetic on it overflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloBounds {
    pub heartbeat_interval_ms: Bound,
    pub frames_per_second: Bound,
    pub frame_burst: Bound,
    pub max_frame_bytes: Bound,
}

/// An inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bound {
    pub min: u64,
    pub max: u64,
}

/// Keeping tokens fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sessions {
    /// A token is refreshed when less than this is left of its life (or
    /// less than half of its life, for short-lived tokens).
    pub refresh_margin_ms: u64,
    /// A token refreshed for any reason (a REST call, `token_expiring`)
    /// goes to the live socket in a `refresh_token` frame.
    pub send_refreshed_token_on_socket: bool,
}

/// Subscribing again to a chat already followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscribeAgain {
    /// Nothing changes: the chat stays where it is, so no message is
    /// delivered twice or skipped. To move it, unsubscribe first.
    KeepPosition,
}

/// How a client opens its WebSocket, and what a ticket that fails does to
/// the attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketAuth {
    /// What opens a socket unless the application chooses the other.
    pub default: SocketCredential,
    /// When a ticket is fetched.
    pub fetch: TicketFetch,
    pub why: String,
    /// A ticket request (`createWsTicket`) that failed after its own REST
    /// retries: the first rule that matches decides.
    pub ticket_failures: Vec<TicketRule>,
    /// What any other failed ticket request does.
    pub otherwise: TicketOtherwise,
    /// A handshake refused with `ticket_invalid`.
    pub ticket_invalid: TicketInvalid,
}

/// What a handshake presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketCredential {
    /// A single-use ticket from `POST /v1/ws/tickets`, as `ticket=`.
    Ticket,
    /// The token: as `token=`, or in an `Authorization` header where the
    /// client can set one.
    Token,
}

/// When a ticket is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketFetch {
    /// Right before every connect and reconnect; never kept for later.
    BeforeEveryConnect,
}

/// A failed ticket request and what it does to the attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketRule {
    pub on: Failure,
    pub action: TicketAction,
    pub why: String,
}

/// What a failed ticket request does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketOtherwise {
    pub action: TicketAction,
    pub why: String,
}

/// What a client does when it could not get a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketAction {
    /// The server has no tickets: the token opens this socket and every
    /// later one of this client.
    UseToken,
    /// What a handshake that refused the token gets: an expired token is
    /// refreshed once and the attempt goes on with a new ticket; a token
    /// refused otherwise ends the client with an authentication error.
    TokenRefused,
    /// The connect attempt fails, and the next one waits the reconnect
    /// backoff; the token is not sent instead.
    FailAttempt,
}

/// A handshake refused with `ticket_invalid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketInvalid {
    /// How many times in a row a fresh ticket is fetched and the
    /// handshake made again at once, within the same attempt; past them
    /// the attempt fails and the next waits the backoff.
    pub fresh_tickets_at_once: u32,
    pub why: String,
}

const RETRY_AFTER: &str = "nothing was done; the server says when to come back";

/// The table every SDK follows.
pub fn behaviour() -> ClientBehaviour {
    let rule = |on, operations, wait, why: &str| RestRule {
        on,
        operations,
        wait,
        why: why.to_owned(),
    };
    let frame = |frame: Option<&str>, code, action, why: &str| FrameRetry {
        frame: frame.map(str::to_owned),
        code,
        action,
        why: why.to_owned(),
    };
    ClientBehaviour {
        reconnect: Reconnect {
            backoff: Backoff {
                base_ms: 500,
                factor: 2,
                floor_ms: 100,
                cap_ms: 30_000,
            },
            reset_after_connected_ms: 2_000,
            connect_timeout_ms: 10_000,
        },
        rest: RestRetries {
            max_retries: 2,
            backoff: Backoff {
                base_ms: 250,
                factor: 2,
                floor_ms: 50,
                cap_ms: 5_000,
            },
            max_retry_after_ms: 60_000,
            rules: vec![
                rule(
                    Failure::Code(ErrorCode::TokenExpired),
                    Operations::Every,
                    Wait::TokenRefresh,
                    "the token ran out on the way; a fresh one is all it takes",
                ),
                rule(
                    Failure::Code(ErrorCode::RateLimited),
                    Operations::Every,
                    Wait::RetryAfter,
                    RETRY_AFTER,
                ),
                rule(
                    Failure::Code(ErrorCode::Unavailable),
                    Operations::Every,
                    Wait::RetryAfter,
                    RETRY_AFTER,
                ),
                rule(
                    Failure::Status(429),
                    Operations::Safe,
                    Wait::RetryAfter,
                    "a refusal the client cannot read (a proxy's, say) may come after the work",
                ),
                rule(
                    Failure::Status(503),
                    Operations::Safe,
                    Wait::RetryAfter,
                    "a refusal the client cannot read (a proxy's, say) may come after the work",
                ),
                rule(
                    Failure::Transport,
                    Operations::Safe,
                    Wait::Backoff,
                    "the work may have been done; only a safe operation may be repeated",
                ),
            ],
            replayable: vec![Replayable {
                operation: "refreshSession".into(),
                within_ms: 20_000,
                why: "the server answers the same refresh token again, with the same successor, for 30 seconds after its first use (the refresh grace); a lost answer retried later would count as reuse and revoke the session".into(),
            }],
        },
        frames: vec![
            frame(
                Some("send"),
                ErrorCode::RateLimited,
                FrameAction::SendAgain,
                "the per-principal send allowance: nothing was stored",
            ),
            frame(
                Some("send"),
                ErrorCode::Unavailable,
                FrameAction::SendAgain,
                "the server could not store it now: nothing was stored",
            ),
            frame(
                Some("subscribe"),
                ErrorCode::RateLimited,
                FrameAction::SendAgain,
                "nothing changed; the chat is still to be resumed",
            ),
            frame(
                Some("refresh_token"),
                ErrorCode::RateLimited,
                FrameAction::SendAgain,
                "the connection keeps its old token until a refresh gets through",
            ),
            frame(
                Some("refresh_token"),
                ErrorCode::Unavailable,
                FrameAction::SendAgain,
                "the connection keeps its old token until a refresh gets through",
            ),
            frame(
                None,
                ErrorCode::RateLimited,
                FrameAction::ResendUnanswered,
                "a frame was refused unread and which one is unknown; resubscribing and resending are idempotent",
            ),
        ],
        frame_backoff: Backoff {
            base_ms: 2_000,
            factor: 2,
            floor_ms: 1_000,
            cap_ms: 30_000,
        },
        pacing: Pacing {
            margin: 0.9,
            fallback_frames_per_second: 20,
            fallback_frame_burst: 40,
            fallback_max_frame_bytes: 65_536,
            paced_frames: 2_200,
            hello_bounds: HelloBounds {
                heartbeat_interval_ms: Bound {
                    min: 100,
                    max: TIMER_CEILING,
                },
                frames_per_second: Bound {
                    min: 1,
                    max: TIMER_CEILING,
                },
                frame_burst: Bound {
                    min: 1,
                    max: TIMER_CEILING,
                },
                max_frame_bytes: Bound {
                    min: 128,
                    max: TIMER_CEILING,
                },
            },
        },
        sessions: Sessions {
            refresh_margin_ms: 60_000,
            send_refreshed_token_on_socket: true,
        },
        subscribe_again: SubscribeAgain::KeepPosition,
        send_queue: 100,
        gap_page: 200,
        socket_auth: socket_auth(),
    }
}

/// Tickets by default, fetched before every connect.
fn socket_auth() -> SocketAuth {
    SocketAuth {
        default: SocketCredential::Ticket,
        fetch: TicketFetch::BeforeEveryConnect,
        why: "a URL is what reverse proxies and browser consoles record, and a token there stays good for its whole life; a ticket there is spent by the handshake or dead within 30 seconds. Being single-use and short-lived, a ticket is fetched right before each connect and reconnect, never kept for the next".into(),
        ticket_failures: vec![
            TicketRule {
                on: Failure::Status(404),
                action: TicketAction::UseToken,
                why: "a server from before tickets: the token opens the socket as it always did, rather than no socket at all".into(),
            },
            TicketRule {
                on: Failure::Status(401),
                action: TicketAction::TokenRefused,
                why: "the ticket was refused for its token, which the handshake would refuse too: the token's own path (refresh an expired one, end on any other)".into(),
            },
        ],
        otherwise: TicketOtherwise {
            action: TicketAction::FailAttempt,
            why: "the server could not make a ticket now (no answer, busy, too many unspent tickets): the attempt fails like a handshake that got no answer and the reconnect backoff spaces the next; sending the token instead would put it in the URL whenever the ticket route has a bad moment".into(),
        },
        ticket_invalid: TicketInvalid {
            fresh_tickets_at_once: 1,
            why: "a ticket fetched a moment ago is refused only for something that befell that one ticket (spent by a proxy that replayed the upgrade, or dead with a token about to expire): one fresh ticket at once mends that without a wait; a server refusing two fresh tickets in a row has a cause another ticket will not mend, so the attempt fails into the backoff and the client never loops".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_that_retries_everything_names_a_refusal_that_changed_nothing() {
        for rule in behaviour().rest.rules {
            if rule.operations == Operations::Every {
                assert!(matches!(rule.on, Failure::Code(_)), "{rule:?}");
            }
            if rule.on == Failure::Transport {
                assert_eq!(rule.operations, Operations::Safe);
            }
        }
    }

    #[test]
    fn backoffs_climb_from_floor_to_cap() {
        let table = behaviour();
        for backoff in [
            table.reconnect.backoff,
            table.rest.backoff,
            table.frame_backoff,
        ] {
            assert!(backoff.floor_ms <= backoff.base_ms, "{backoff:?}");
            assert!(backoff.base_ms <= backoff.cap_ms, "{backoff:?}");
            assert!(backoff.factor >= 2, "{backoff:?}");
        }
        assert!(table.reconnect.reset_after_connected_ms < table.reconnect.backoff.cap_ms);
    }

    #[test]
    fn no_refusal_drops_the_connection() {
        // Every frame the SDKs write carries a `ref`, and a refusal without
        // one is answered on the same connection: a reconnect would be
        // refused again.
        for frame in behaviour().frames {
            if frame.frame.is_none() {
                assert_eq!(frame.action, FrameAction::ResendUnanswered, "{frame:?}");
            } else {
                assert_eq!(frame.action, FrameAction::SendAgain, "{frame:?}");
            }
        }
    }

    #[test]
    fn a_silent_connection_attempt_costs_less_than_the_longest_backoff() {
        let reconnect = behaviour().reconnect;
        assert!(reconnect.connect_timeout_ms > 0, "{reconnect:?}");
        assert!(
            reconnect.connect_timeout_ms < reconnect.backoff.cap_ms,
            "{reconnect:?}"
        );
    }

    #[test]
    fn a_failed_ticket_never_loops_and_a_token_refusal_is_the_tokens_path() {
        let auth = behaviour().socket_auth;
        assert_eq!(auth.default, SocketCredential::Ticket);
        // No rule falls back to the token unless the server has no
        // tickets at all.
        for rule in &auth.ticket_failures {
            if rule.action == TicketAction::UseToken {
                assert_eq!(rule.on, Failure::Status(404), "{rule:?}");
            }
            if rule.on == Failure::Status(401) {
                assert_eq!(rule.action, TicketAction::TokenRefused, "{rule:?}");
            }
        }
        assert_eq!(auth.otherwise.action, TicketAction::FailAttempt);
        assert!(auth.ticket_invalid.fresh_tickets_at_once <= 1);
    }

    #[test]
    fn a_refresh_is_replayed_only_within_the_servers_grace() {
        // The server's default refresh grace is 30 seconds.
        for replayable in behaviour().rest.replayable {
            assert!(replayable.within_ms < 30_000, "{replayable:?}");
        }
    }
}
