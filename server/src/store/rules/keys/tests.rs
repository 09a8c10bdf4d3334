//! The keyring's rules, without a database: single cases, then the
//! property that no order of rotations and retirements invalidates a token
//! before it expires, unless its own key was retired by hand.

use chrono::TimeDelta;
use proptest::prelude::*;

use super::*;

const DELAY: Duration = Duration::from_secs(120);
const WINDOW: Duration = Duration::from_secs(900);

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn key(kid: &str, at: DateTime<Utc>) -> SigningKeyRow {
    SigningKeyRow {
        kid: kid.to_owned(),
        alg: KeyAlgorithm::EdDsa,
        public_jwk: Some("{}".to_owned()),
        sealed_private: Some("sealed".to_owned()),
        created_at: at,
        activates_at: at,
        verify_until: None,
        retired_at: None,
    }
}

fn legacy(now: DateTime<Utc>) -> SigningKeyRow {
    SigningKeyRow {
        alg: KeyAlgorithm::Hs256,
        public_jwk: None,
        sealed_private: None,
        verify_until: Some(now + WINDOW),
        ..key("byrd-1", now)
    }
}

fn ring_with_first(now: DateTime<Utc>) -> Vec<SigningKeyRow> {
    let mut keys = Vec::new();
    let (created, changes) = first_key(&keys, key("a", now), None, now);
    assert!(created);
    apply(&mut keys, changes);
    keys
}

#[test]
fn the_first_key_signs_at_once_and_a_second_first_key_is_not_made() {
    let now = t0();
    let keys = ring_with_first(now);
    assert_eq!(signer(&keys, now), Some(0));
    let (created, changes) = first_key(&keys, key("b", now), None, now);
    assert!(!created);
    assert!(changes.is_empty());
}

#[test]
fn the_shared_secret_verifies_for_its_window_but_never_signs_nor_is_published() {
    let now = t0();
    let mut keys = Vec::new();
    let (_, changes) = first_key(&keys, key("a", now), Some(legacy(now)), now);
    apply(&mut keys, changes);
    let secret = keys.iter().position(|k| k.kid == "byrd-1").unwrap();
    assert_eq!(signer(&keys, now), Some(1 - secret));
    assert!(verifies(&keys[secret], now + WINDOW));
    assert!(!published(&keys[secret], now));
    assert!(!verifies(
        &keys[secret],
        now + WINDOW + TimeDelta::seconds(1)
    ));
    let later = now + WINDOW + TimeDelta::seconds(1);
    assert_eq!(
        due(&keys, later),
        vec![KeyChange::Retire {
            kid: "byrd-1".into(),
            at: later
        }]
    );
}

#[test]
fn a_rotated_key_is_published_at_once_and_signs_after_the_delay() {
    let now = t0();
    let mut keys = ring_with_first(now);
    let (activates, changes) = rotate(&keys, key("b", now), now, DELAY, WINDOW);
    apply(&mut keys, changes);
    assert_eq!(activates, now + DELAY);
    assert_eq!(state(&keys, 1, now), KeyState::Published);
    assert!(published(&keys[1], now));
    assert_eq!(signer(&keys, now), Some(0));
    assert_eq!(signer(&keys, activates), Some(1));
    assert_eq!(state(&keys, 0, activates), KeyState::Verifying);
    assert!(verifies(&keys[0], activates + WINDOW));
    assert!(!verifies(
        &keys[0],
        activates + WINDOW + TimeDelta::seconds(1)
    ));
}

#[test]
fn the_signing_key_is_retired_only_when_another_is_ready() {
    let now = t0();
    let mut keys = ring_with_first(now);
    assert_eq!(retire(&keys, "a", now).0, Retired::OnlySigner);
    let (_, changes) = rotate(&keys, key("b", now), now, DELAY, WINDOW);
    apply(&mut keys, changes);
    let (retired, changes) = retire(&keys, "a", now);
    assert_eq!(
        retired,
        Retired::Retired {
            successor: Some("b".into())
        }
    );
    apply(&mut keys, changes);
    assert!(!verifies(&keys[0], now));
    assert_eq!(signer(&keys, now), Some(1));
    assert_eq!(retire(&keys, "a", now).0, Retired::AlreadyRetired);
    assert_eq!(retire(&keys, "zz", now).0, Retired::NotFound);
}

#[test]
fn a_waiting_key_withdrawn_leaves_the_signing_key_verifying_for_good() {
    let now = t0();
    let mut keys = ring_with_first(now);
    let (_, changes) = rotate(&keys, key("b", now), now, DELAY, WINDOW);
    apply(&mut keys, changes);
    let (_, changes) = retire(&keys, "b", now);
    apply(&mut keys, changes);
    assert_eq!(keys[0].verify_until, None);
    let much_later = now + WINDOW * 10;
    assert_eq!(signer(&keys, much_later), Some(0));
}

#[test]
fn a_key_superseded_before_it_signed_never_signs_after_the_newest() {
    let now = t0();
    let mut keys = ring_with_first(now);
    let (_, changes) = rotate(&keys, key("b", now), now, DELAY, WINDOW);
    apply(&mut keys, changes);
    let soon = now + TimeDelta::seconds(10);
    let (_, changes) = rotate(&keys, key("c", soon), soon, DELAY, WINDOW);
    apply(&mut keys, changes);
    // `a` is retired by hand: `c`, the newest, signs at once, and `b`
    // never does.
    let (retired, changes) = retire(&keys, "a", soon);
    assert_eq!(
        retired,
        Retired::Retired {
            successor: Some("c".into())
        }
    );
    apply(&mut keys, changes);
    for later in [soon, now + DELAY, now + DELAY * 3] {
        assert_eq!(keys[signer(&keys, later).unwrap()].kid, "c");
    }
}

#[derive(Debug, Clone)]
enum Step {
    Wait(u32),
    Rotate,
    Retire(usize),
    Sweep,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            (1u32..2_000).prop_map(Step::Wait),
            Just(Step::Rotate),
            (0usize..8).prop_map(Step::Retire),
            Just(Step::Sweep),
        ],
        1..40,
    )
}

proptest! {
    /// Any order of rotations, retirements and sweeps keeps every token
    /// that has not expired, signed by a key that was not retired by hand,
    /// verifying; and a signer exists at every moment.
    #[test]
    fn no_order_of_rotations_invalidates_an_unexpired_token(steps in steps()) {
        let lifetime = WINDOW;
        let mut now = t0();
        let mut keys = ring_with_first(now);
        let mut retired_by_hand: Vec<String> = Vec::new();
        // (kid, expiry) of tokens signed along the way.
        let mut tokens: Vec<(String, DateTime<Utc>)> = Vec::new();
        for (n, step) in steps.into_iter().enumerate() {
            match step {
                Step::Wait(seconds) => now += TimeDelta::seconds(i64::from(seconds)),
                Step::Rotate => {
                    let (_, changes) = rotate(&keys, key(&format!("k{n}"), now), now, DELAY, WINDOW);
                    apply(&mut keys, changes);
                }
                Step::Retire(pick) => {
                    let kid = keys[pick % keys.len()].kid.clone();
                    let (retired, changes) = retire(&keys, &kid, now);
                    if matches!(retired, Retired::Retired { .. }) {
                        retired_by_hand.push(kid);
                    }
                    apply(&mut keys, changes);
                }
                Step::Sweep => {
                    let changes = due(&keys, now);
                    apply(&mut keys, changes);
                }
            }
            let signing = signer(&keys, now);
            prop_assert!(signing.is_some(), "no key signs at {now}: {keys:?}");
            let signing = &keys[signing.unwrap()];
            tokens.push((signing.kid.clone(), now + lifetime));
            for (kid, expires) in &tokens {
                if *expires < now || retired_by_hand.contains(kid) {
                    continue;
                }
                let key = keys.iter().find(|key| &key.kid == kid).unwrap();
                prop_assert!(verifies(key, now), "{kid} no longer verifies at {now}: {keys:?}");
                prop_assert!(published(key, now));
            }
        }
    }
}
