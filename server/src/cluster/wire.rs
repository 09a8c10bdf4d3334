//! Events as they cross the broker: sealed so that nobody without the
//! cluster key can say anything to the nodes.
//!
//! Anyone who can `PUBLISH` on the events channel (a shared Redis, a
//! leaked Redis password) would otherwise be believed by every node. So
//! each event is one PUBLISH of `MAC || JSON`: the 32-byte HMAC-SHA256 of
//! the JSON under the cluster key, then the [`Envelope`]. A receiving node
//! checks, cheapest first, and drops (counting the reason) an event that:
//! - is larger than [`MAX_EVENT_BYTES`] (before anything else is read);
//! - does not carry the MAC of its bytes (compared in constant time);
//! - does not parse, or names a type this node does not know;
//! - was sent outside [`WINDOW`] of this node's clock, either way;
//! - has fields that disagree ([`Event::check`]);
//! - was seen before: a replay, refused by its sender's number (see
//!   `replays`), so a recorded event is never acted on twice. (A replay
//!   would mostly be harmless anyway, messages being de-duplicated by
//!   `seq` and `chat_updated` read again from the database, but a replayed
//!   `typing` or `read` would reach clients.)
//!
//! What passes is from a node holding the key, recently, once. It is still
//! a hint where it can be checked (a far-ahead `seq`, a `chat_updated`):
//! the database says what is delivered, so even a node that goes wrong
//! cannot make the others deliver what was never stored.
//!
//! The key is, by default, derived from the token-signing secret every
//! node already shares, under a label of its own (so the tokens' key is
//! never used as is for anything else); a deployment may give one of its
//! own instead, which it needs once tokens are no longer signed with a
//! shared secret.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::event::{Envelope, Event, Mismatch};
use super::replays::Replays;

type HmacSha256 = Hmac<Sha256>;

/// Length of the MAC that opens every event.
const MAC_BYTES: usize = 32;

/// Largest event accepted, MAC included. The largest a node sends is a
/// message with a 1 KiB body whose every byte JSON escapes to six, and
/// its author: well under this.
pub const MAX_EVENT_BYTES: usize = 16 * 1024;

/// How far from this node's clock an event's sending time may be, either
/// way: room for a busy broker and some clock skew between nodes, while
/// a replay must come soon after the original, when `replays` still
/// remembers it.
pub const WINDOW: Duration = Duration::from_secs(30);

/// Smallest cluster key a deployment may give, as for an HS256 key.
pub const MIN_KEY_BYTES: usize = 32;

/// Label under which the default key is derived from the signing secret.
const DERIVATION_LABEL: &[u8] = b"byrd cluster events v1";

/// The key every node of a cluster seals and checks events with.
#[derive(Clone)]
pub struct ClusterKey(HmacSha256);

impl std::fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterKey(..)")
    }
}

/// Why a cluster key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the cluster key must be at least {MIN_KEY_BYTES} bytes (it is {0})")]
pub struct KeyTooShort(pub usize);

impl ClusterKey {
    /// The default key: HMAC-SHA256 of a fixed label under the signing
    /// secret, so nodes sharing the secret share it with nothing to set.
    pub fn derived(signing_secret: &[u8]) -> ClusterKey {
        ClusterKey(keyed(&crate::auth::keyring::derive_key(
            signing_secret,
            DERIVATION_LABEL,
        )))
    }

    /// A key of the deployment's own.
    pub fn given(key: &[u8]) -> Result<ClusterKey, KeyTooShort> {
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyTooShort(key.len()));
        }
        Ok(ClusterKey(keyed(key)))
    }
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"))
}

/// Why an event was dropped; `reason` is the metric's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    BadMac,
    /// Sent outside the window (a clock off, or an event held back).
    TooOld,
    /// Seen before inside the window: somebody published it again.
    Replayed,
    TooLarge,
    Malformed,
    Mismatch(Mismatch),
    UnknownKind,
    /// Received, but the queue towards the hub or the database check was
    /// full; the sweep finds what it announced.
    QueueFull,
}

impl Dropped {
    pub fn reason(self) -> &'static str {
        match self {
            Dropped::BadMac => "bad_mac",
            Dropped::TooOld => "too_old",
            Dropped::Replayed => "replayed",
            Dropped::TooLarge => "too_large",
            Dropped::Malformed => "malformed",
            Dropped::Mismatch(_) => "mismatch",
            Dropped::UnknownKind => "unknown_kind",
            Dropped::QueueFull => "queue_full",
        }
    }
}

/// Seals this node's events; shared by the publisher and the presence
/// rounds, which number their events from one counter.
#[derive(Debug)]
pub struct Sealer {
    key: ClusterKey,
    node: Uuid,
    sent: AtomicU64,
}

impl Sealer {
    pub fn new(key: ClusterKey, node: Uuid) -> Sealer {
        Sealer {
            key,
            node,
            sent: AtomicU64::new(0),
        }
    }

    /// `event` as one PUBLISH payload, sent at `now_ms`. One buffer: the
    /// MAC's room first, the JSON written after it, then the MAC in place.
    pub fn seal(&self, event: Event, now_ms: i64) -> Result<Vec<u8>, serde_json::Error> {
        let envelope = Envelope {
            node: self.node,
            n: self.sent.fetch_add(1, Ordering::Relaxed),
            at: now_ms,
            event,
        };
        let mut payload = Vec::with_capacity(256);
        payload.resize(MAC_BYTES, 0);
        serde_json::to_writer(&mut payload, &envelope)?;
        let mut mac = self.key.0.clone();
        mac.update(&payload[MAC_BYTES..]);
        payload[..MAC_BYTES].copy_from_slice(&mac.finalize().into_bytes());
        Ok(payload)
    }
}

/// Checks what arrives from the broker; owned by the listener.
#[derive(Debug)]
pub struct Opener {
    key: ClusterKey,
    node: Uuid,
    replays: Replays,
}

impl Opener {
    /// Checks events for `node` (whose own are passed over) with `key`.
    pub fn new(key: ClusterKey, node: Uuid) -> Opener {
        Opener {
            key,
            node,
            replays: Replays::default(),
        }
    }

    /// The event in `payload`, received at `now_ms`; `Ok(None)` for one
    /// of this node's own, which every subscriber gets back.
    pub fn open(&mut self, payload: &[u8], now_ms: i64) -> Result<Option<Envelope>, Dropped> {
        if payload.len() > MAX_EVENT_BYTES {
            return Err(Dropped::TooLarge);
        }
        let Some((tag, json)) = payload.split_at_checked(MAC_BYTES) else {
            return Err(Dropped::Malformed);
        };
        let mut mac = self.key.0.clone();
        mac.update(json);
        mac.verify_slice(tag).map_err(|_| Dropped::BadMac)?;
        let envelope: Envelope = serde_json::from_slice(json).map_err(|_| Dropped::Malformed)?;
        if envelope.node == self.node {
            return Ok(None);
        }
        if matches!(envelope.event, Event::Unknown) {
            return Err(Dropped::UnknownKind);
        }
        let window = i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX);
        if now_ms.abs_diff(envelope.at) > window.unsigned_abs() {
            return Err(Dropped::TooOld);
        }
        envelope.event.check().map_err(Dropped::Mismatch)?;
        if !self.replays.first_time(envelope.node, envelope.n, now_ms) {
            return Err(Dropped::Replayed);
        }
        Ok(Some(envelope))
    }
}

#[cfg(test)]
mod tests {
    use byrd_spec::message::{Author, Message, PartyType};

    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn key() -> ClusterKey {
        ClusterKey::derived(b"a signing secret of thirty-two bytes!")
    }

    fn revoked() -> Event {
        Event::Revoked {
            jti: Some("j".into()),
            session: None,
        }
    }

    #[test]
    fn a_sealed_event_opens_once_on_another_node_and_never_on_its_own() {
        let sender = Sealer::new(key(), Uuid::now_v7());
        let payload = sender.seal(revoked(), NOW).unwrap();
        let mut own = Opener::new(key(), sender.node);
        assert!(matches!(own.open(&payload, NOW), Ok(None)));
        let mut other = Opener::new(key(), Uuid::now_v7());
        let opened = other.open(&payload, NOW + 10).unwrap().unwrap();
        assert_eq!((opened.node, opened.n, opened.at), (sender.node, 0, NOW));
        assert_eq!(
            other.open(&payload, NOW + 20).unwrap_err(),
            Dropped::Replayed
        );
        let next = sender.seal(revoked(), NOW).unwrap();
        assert_eq!(other.open(&next, NOW).unwrap().unwrap().n, 1);
    }

    #[test]
    fn a_changed_byte_or_another_key_is_a_bad_mac() {
        let sender = Sealer::new(key(), Uuid::now_v7());
        let mut receiver = Opener::new(key(), Uuid::now_v7());
        let mut payload = sender.seal(revoked(), NOW).unwrap();
        let last = payload.len() - 2;
        payload[last] ^= 1;
        assert_eq!(receiver.open(&payload, NOW).unwrap_err(), Dropped::BadMac);
        let stranger = Sealer::new(ClusterKey::given(&[7; 32]).unwrap(), Uuid::now_v7());
        let foreign = stranger.seal(revoked(), NOW).unwrap();
        assert_eq!(receiver.open(&foreign, NOW).unwrap_err(), Dropped::BadMac);
    }

    #[test]
    fn size_time_shape_and_kind_are_each_a_reason_of_their_own() {
        let sender = Sealer::new(key(), Uuid::now_v7());
        let mut receiver = Opener::new(key(), Uuid::now_v7());
        let open = |receiver: &mut Opener, payload: &[u8], now| receiver.open(payload, now);
        let oversized = vec![b'{'; MAX_EVENT_BYTES + 1];
        assert_eq!(
            open(&mut receiver, &oversized, NOW).unwrap_err(),
            Dropped::TooLarge
        );
        assert_eq!(
            open(&mut receiver, b"short", NOW).unwrap_err(),
            Dropped::Malformed
        );
        let window = i64::try_from(WINDOW.as_millis()).unwrap();
        let old = sender.seal(revoked(), NOW - window - 1).unwrap();
        assert_eq!(open(&mut receiver, &old, NOW).unwrap_err(), Dropped::TooOld);
        let ahead = sender.seal(revoked(), NOW + window + 1).unwrap();
        assert_eq!(
            open(&mut receiver, &ahead, NOW).unwrap_err(),
            Dropped::TooOld
        );
        let unknown = sender.seal(Event::Unknown, NOW).unwrap();
        assert_eq!(
            open(&mut receiver, &unknown, NOW).unwrap_err(),
            Dropped::UnknownKind
        );
        let chat_id = Uuid::now_v7();
        let elsewhere = Event::Message {
            chat_id,
            seq: 1,
            message: Some(Message {
                id: Uuid::now_v7(),
                chat_id: Uuid::now_v7(),
                seq: 1,
                author: Author {
                    kind: PartyType::Guest,
                    id: Uuid::now_v7(),
                    name: None,
                },
                body: "hi".into(),
                client_msg_id: "c".into(),
                created_at: chrono::Utc::now(),
            }),
        };
        let mismatched = sender.seal(elsewhere, NOW).unwrap();
        assert_eq!(
            open(&mut receiver, &mismatched, NOW).unwrap_err(),
            Dropped::Mismatch(Mismatch::Message)
        );
    }

    #[test]
    fn a_given_key_must_be_long_enough_and_differs_from_the_derived_one() {
        assert_eq!(ClusterKey::given(&[1; 31]).unwrap_err(), KeyTooShort(31));
        let secret = [9; 32];
        let sealed = Sealer::new(ClusterKey::given(&secret).unwrap(), Uuid::now_v7())
            .seal(revoked(), NOW)
            .unwrap();
        let mut derived = Opener::new(ClusterKey::derived(&secret), Uuid::now_v7());
        assert_eq!(derived.open(&sealed, NOW).unwrap_err(), Dropped::BadMac);
    }
}
