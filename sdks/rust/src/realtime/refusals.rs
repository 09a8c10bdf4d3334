//! Refused frames: what an `error` frame naming one of the client's
//! frames does, as the spec's client behaviour table says
//! (`frame_action` of `client_behaviour.rs`).
//!
//! Every frame the client writes carries a `ref` naming it (a send is
//! named by its `client_msg_id`, which the server echoes). A refusal that
//! stored nothing (`rate_limited`, `unavailable`) keeps the frame and
//! sends it again after the frame backoff, longer with each refusal; a
//! `rate_limited` naming no frame (refused unread, or a guest's replay)
//! writes again, after the backoff and on the same connection, every
//! `subscribe` not yet answered and every send not yet acked, since which
//! frame it was is unknown and a new connection would be refused the
//! same way; any other refusal settles the send it names or becomes an
//! `error` event.

use std::time::Instant;

use uuid::Uuid;

use super::Event;
use super::backoff::Backoff;
use super::connection::Ended;
use super::driver::Driver;
use crate::error::{ApiError, Error};
use crate::generated::client_behaviour::{FrameAction, frame_action};
use crate::types::{ErrorCode, ServerError};

/// `ref` of the client's `subscribe` frames: `subscribe:<chat id>`.
pub(crate) const SUBSCRIBE_REF: &str = "subscribe:";
/// `ref` of the client's `refresh_token` frames.
pub(crate) const REFRESH_REF: &str = "refresh_token";
/// `ref` of the client's `unsubscribe` frames: `unsubscribe:<chat id>`.
pub(crate) const UNSUBSCRIBE_REF: &str = "unsubscribe:";
/// `ref` of the client's `typing` frames: `typing:<chat id>`.
pub(crate) const TYPING_REF: &str = "typing:";
/// `ref` of the client's `read` frames: `read:<chat id>`.
pub(crate) const READ_REF: &str = "read:";
/// `ref` of the client's `ping` frames.
pub(crate) const PING_REF: &str = "ping";

/// Frames other than sends waiting to go again on this connection.
#[derive(Default)]
pub(crate) struct Deferred {
    pub subscribes: Vec<Uuid>,
    /// The connection's token is to be sent again.
    pub refresh: bool,
    /// Every unanswered `subscribe` and unacked send is to go again.
    pub unanswered: bool,
    /// When they go.
    pub at: Option<Instant>,
    /// Refusals so far on this connection; each wait is longer.
    refusals: u32,
}

impl Deferred {
    fn schedule(&mut self) {
        self.refusals += 1;
        let at = Instant::now() + Backoff::for_frames().delay(self.refusals);
        self.at = Some(self.at.map_or(at, |current| current.min(at)));
    }
}

impl Driver {
    /// An `error` frame, read through the table.
    pub(super) async fn on_error(
        &mut self,
        frame: ServerError,
        deferred: &mut Deferred,
    ) -> Result<(), Ended> {
        let reference = frame.reference.clone();
        let is_send = reference.as_deref().is_some_and(|r| {
            self.shared
                .outbox
                .lock()
                .is_ok_and(|outbox| outbox.contains(r))
        });
        let subscribed_chat = reference
            .as_deref()
            .and_then(|r| r.strip_prefix(SUBSCRIBE_REF))
            .and_then(|id| id.parse::<Uuid>().ok());
        let tag = match reference.as_deref() {
            None => None,
            Some(_) if is_send => Some("send"),
            Some(_) if subscribed_chat.is_some() => Some("subscribe"),
            Some(REFRESH_REF) => Some("refresh_token"),
            Some(other) => Some(reported_frame(other)),
        };
        match frame_action(tag, &frame.code) {
            Some(FrameAction::ResendUnanswered) => {
                deferred.unanswered = true;
                deferred.schedule();
                return Ok(());
            }
            Some(FrameAction::SendAgain) => {
                match (tag, &reference, subscribed_chat) {
                    (Some("send"), Some(reference), _) => {
                        if let Ok(mut outbox) = self.shared.outbox.lock() {
                            outbox.defer(reference, Instant::now());
                        }
                    }
                    (_, _, Some(chat_id)) => {
                        self.unanswered.remove(&chat_id);
                        deferred.subscribes.push(chat_id);
                        deferred.schedule();
                    }
                    _ => {
                        deferred.refresh = true;
                        deferred.schedule();
                    }
                }
                return Ok(());
            }
            None => {}
        }
        let error = ApiError {
            status: frame.code.http_status(),
            code: frame.code,
            message: frame.message,
            request_id: None,
            retry_after: None,
        };
        if let Some(reference) = &reference {
            if is_send {
                if let Ok(mut outbox) = self.shared.outbox.lock() {
                    outbox.reject(reference, Error::Api(error));
                }
                return Ok(());
            }
            if let Some(chat_id) = subscribed_chat {
                // The chat cannot be followed (gone, or not this guest's).
                self.unanswered.remove(&chat_id);
                self.follows.unfollow(chat_id);
            }
        }
        if error.code == ErrorCode::TokenRevoked {
            tracing::debug!("the server refused the fresh token as revoked");
        }
        self.emit(Event::Error { error, reference }).await;
        Ok(())
    }
}

/// The `type` of a frame the client only reports refusals of, by its
/// `ref`; `other` for a `ref` the client did not write.
fn reported_frame(reference: &str) -> &'static str {
    [
        (UNSUBSCRIBE_REF, "unsubscribe"),
        (TYPING_REF, "typing"),
        (READ_REF, "read"),
    ]
    .into_iter()
    .find_map(|(prefix, tag)| reference.starts_with(prefix).then_some(tag))
    .unwrap_or(if reference == PING_REF {
        "ping"
    } else {
        "other"
    })
}
