//! `prop.*`: properties checked over generated inputs (proptest, with the
//! config's seed, so a run is reproducible and a failure shrinks to a
//! small input).
//!
//! - Mutated tokens (bit flips, header and claim edits without
//!   re-signing, re-encodings, truncations) are never accepted and never
//!   answered with a 5xx.
//! - Random sequences of client frames from a guest never bring it
//!   anything of another chat and never end its connection.

use std::future::Future;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::{Value, json};

use crate::case::{Case, CaseError, CaseResult, Failure};
use crate::checks;
use crate::context::{Chat, Ctx};
use crate::jwt::Parts;
use crate::wire::ws::Handshake;

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "prop.jwt.mutations",
            "token-format",
            "no mutation of a valid token (bit flips, header or claim edits without re-signing, re-encodings, truncation) is accepted, and none causes a 5xx",
            token_mutations,
        ),
        Case::must(
            "prop.ws.guest-isolation",
            "who-may-do-what",
            "no sequence of client frames from a guest brings it anything of another chat, and none ends its connection",
            guest_isolation,
        ),
    ]
}

/// Runs `property` over `strategy`'s inputs; a counterexample becomes the
/// case's failure, its minimal input shown.
pub(crate) fn check_property<S, F, Fut>(
    ctx: &Ctx,
    what: &str,
    strategy: S,
    property: F,
) -> CaseResult
where
    S: Strategy,
    S::Value: std::fmt::Debug,
    F: Fn(S::Value) -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let properties = ctx.config().properties;
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_mut(8) {
        chunk.copy_from_slice(&properties.seed.to_le_bytes());
    }
    let config = Config {
        cases: properties.cases,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let handle = tokio::runtime::Handle::current();
    // proptest drives a synchronous closure; each input runs on this
    // worker thread, which tokio is told may block.
    let outcome = tokio::task::block_in_place(|| {
        runner.run(&strategy, |input| {
            handle
                .block_on(property(input))
                .map_err(|failure| TestCaseError::fail(failure.to_string()))
        })
    });
    match outcome {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, input)) => Err(CaseError::Failed(Failure::new(
            format!(
                "{what}, over {} generated inputs (property_seed {})",
                properties.cases, properties.seed
            ),
            "the property to hold for every input",
            format!("{reason}; smallest failing input: {input:?}"),
        ))),
        Err(TestError::Abort(reason)) => Err(CaseError::Failed(Failure::new(
            what,
            "the property to run",
            format!("it aborted: {reason}"),
        ))),
    }
}

/// One way to damage a token.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit { part: usize, bit: usize },
    SetHeader { key: &'static str, value: Value },
    SetClaim { key: &'static str, value: Value },
    DropClaim { key: &'static str },
    Truncate { keep: usize },
    StandardBase64,
    Padding,
    Whitespace { at: usize, space: char },
    AppendSegment,
    SwapClaimsAndSignature,
}

fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9_-]{0,12}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let header_key = prop_oneof![
        Just("alg"),
        Just("kid"),
        Just("typ"),
        Just("crit"),
        Just("jku")
    ];
    let claim_key = prop_oneof![
        Just("type"),
        Just("iss"),
        Just("aud"),
        Just("sub"),
        Just("role"),
        Just("chat"),
        Just("exp"),
        Just("iat"),
        Just("jti"),
        Just("sid"),
    ];
    prop_oneof![
        4 => (0..3usize, any::<usize>()).prop_map(|(part, bit)| Mutation::FlipBit { part, bit }),
        2 => (header_key, json_value()).prop_map(|(key, value)| Mutation::SetHeader { key, value }),
        3 => (claim_key.clone(), json_value()).prop_map(|(key, value)| Mutation::SetClaim { key, value }),
        1 => claim_key.prop_map(|key| Mutation::DropClaim { key }),
        1 => any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        1 => Just(Mutation::StandardBase64),
        1 => Just(Mutation::Padding),
        1 => (any::<usize>(), prop_oneof![Just(' '), Just('\t')])
            .prop_map(|(at, space)| Mutation::Whitespace { at, space }),
        1 => Just(Mutation::AppendSegment),
        1 => Just(Mutation::SwapClaimsAndSignature),
    ]
}

fn apply(token: &str, mutation: &Mutation) -> String {
    let Some(parts) = Parts::of(token) else {
        return token.to_owned();
    };
    let edit_json = |bytes: &[u8], edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut value: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
        if let Some(map) = value.as_object_mut() {
            edit(map);
        }
        value.to_string().into_bytes()
    };
    match mutation {
        Mutation::FlipBit { part, bit } => {
            let mut parts = parts;
            let bytes = match part {
                0 => &mut parts.header,
                1 => &mut parts.claims,
                _ => &mut parts.signature,
            };
            if !bytes.is_empty() {
                let bit = bit % (bytes.len() * 8);
                bytes[bit / 8] ^= 0x80 >> (bit % 8);
            }
            parts.join()
        }
        Mutation::SetHeader { key, value } => Parts {
            header: edit_json(&parts.header, &|map| {
                map.insert((*key).to_owned(), value.clone());
            }),
            ..parts
        }
        .join(),
        Mutation::SetClaim { key, value } => Parts {
            claims: edit_json(&parts.claims, &|map| {
                map.insert((*key).to_owned(), value.clone());
            }),
            ..parts
        }
        .join(),
        Mutation::DropClaim { key } => Parts {
            claims: edit_json(&parts.claims, &|map| {
                map.remove(*key);
            }),
            ..parts
        }
        .join(),
        // At least one character: an empty token is a missing one.
        Mutation::Truncate { keep } => token[..1 + keep % (token.len() - 1)].to_owned(),
        Mutation::StandardBase64 => [&parts.header, &parts.claims, &parts.signature]
            .map(|bytes| STANDARD.encode(bytes))
            .join("."),
        Mutation::Padding => token
            .split('.')
            .map(|part| format!("{part}=="))
            .collect::<Vec<_>>()
            .join("."),
        Mutation::Whitespace { at, space } => {
            let at = at % (token.len() + 1);
            format!("{}{space}{}", &token[..at], &token[at..])
        }
        Mutation::AppendSegment => format!("{token}.{}", URL_SAFE_NO_PAD.encode(b"{}")),
        Mutation::SwapClaimsAndSignature => Parts {
            claims: parts.signature.clone(),
            signature: parts.claims.clone(),
            ..parts
        }
        .join(),
    }
}

/// The bytes a lenient decoder would read from `token`: padding dropped,
/// either base64 alphabet, surrounding whitespace ignored. Two tokens
/// with the same lenient bytes are the same token, differently spelled.
fn lenient_bytes(token: &str) -> Option<Vec<Vec<u8>>> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    if parts.len() != 3 {
        return None;
    }
    parts
        .iter()
        .map(|part| {
            let canonical: String = part
                .trim_end_matches('=')
                .chars()
                .map(|c| match c {
                    '+' => '-',
                    '/' => '_',
                    c => c,
                })
                .collect();
            URL_SAFE_NO_PAD.decode(canonical).ok()
        })
        .collect()
}

async fn token_mutations(ctx: Ctx) -> CaseResult {
    let agent = ctx.agent().await?;
    let chat = ctx.shared_chat().await?;
    let bases = [agent.access_token.clone(), chat.guest_token.clone()];
    let strategy = (0..2usize, mutation(), any::<bool>());
    check_property(
        &ctx,
        "presenting mutated tokens",
        strategy,
        |(base, mutation, over_ws)| {
            let ctx = ctx.clone();
            let original = bases[base].clone();
            async move {
                let token = apply(&original, &mutation);
                let same_token = lenient_bytes(&token) == lenient_bytes(&original);
                let (status, code) = if over_ws {
                    match ctx.ws(Handshake::query("mutant", &token)).await? {
                        Err(refusal) => (refusal.status, refusal.error_code().map(str::to_owned)),
                        Ok(ws) => {
                            ws.close().await;
                            (101, None)
                        }
                    }
                } else {
                    let reply = ctx.get("/v1/me").bearer(&token).send().await?;
                    (reply.status, reply.error_code().map(str::to_owned))
                };
                let place = if over_ws {
                    "at the handshake"
                } else {
                    "on GET /v1/me"
                };
                if status >= 500 {
                    return Err(Failure::new(
                        format!("a mutated token {place}"),
                        "no 5xx",
                        format!("{status} {code:?}"),
                    ));
                }
                if !same_token && (status != 401 || code.as_deref() != Some("token_invalid")) {
                    return Err(Failure::new(
                        format!("a mutated token {place}"),
                        "401 token_invalid",
                        format!("{status} {code:?}"),
                    ));
                }
                Ok(())
            }
        },
    )
}

/// One client frame a hostile guest might send.
fn guest_frame(own: String, other: String) -> impl Strategy<Value = Value> {
    let chat = prop_oneof![
        3 => Just(Value::String(own)),
        3 => Just(Value::String(other)),
        1 => Just(json!(uuid::Uuid::nil().to_string())),
        1 => Just(json!("not-a-uuid")),
        1 => Just(Value::Null),
    ];
    let seq = prop_oneof![Just(-1i64), Just(0), Just(1), Just(5), Just(i64::MAX)];
    let client_msg_id = prop_oneof![
        4 => "[a-z0-9-]{1,12}".prop_map(Value::from),
        1 => Just(json!("")),
        1 => Just(json!("has space")),
    ];
    let body = prop_oneof![
        4 => "[a-zA-Z ]{1,20}".prop_map(Value::from),
        1 => Just(json!("   ")),
        1 => Just(json!(7)),
    ];
    prop_oneof![
        4 => (chat.clone(), client_msg_id, body).prop_map(|(chat, id, body)| {
            json!({"type": "send", "chat_id": chat, "client_msg_id": id, "body": body})
        }),
        3 => (chat.clone(), seq.clone()).prop_map(|(chat, after)| {
            json!({"type": "subscribe", "chat_id": chat, "after_seq": after, "ref": "p-sub"})
        }),
        1 => chat.clone().prop_map(|chat| json!({"type": "unsubscribe", "chat_id": chat})),
        2 => (chat.clone(), any::<bool>()).prop_map(|(chat, active)| {
            json!({"type": "typing", "chat_id": chat, "active": active})
        }),
        2 => (chat, seq).prop_map(|(chat, seq)| json!({"type": "read", "chat_id": chat, "seq": seq})),
        1 => "[a-z]{0,8}".prop_map(|nonce| json!({"type": "ping", "nonce": nonce})),
        1 => "[a-z_]{1,10}".prop_map(|kind| json!({"type": kind, "ref": "p-odd"})),
        1 => Just(json!("not a frame")),
    ]
}

/// Whether a frame the intruder received carries anything of `other`:
/// its messages, its events, a subscription to it. `unsubscribed` and
/// `error` only echo what the guest itself named.
pub(super) fn leaks(frame: &Value, other: &Chat, secret: &str) -> bool {
    let echo = matches!(
        frame["type"].as_str(),
        Some("unsubscribed" | "error" | "pong")
    );
    frame.to_string().contains(secret)
        || (!echo
            && (frame["chat_id"] == other.id.as_str()
                || frame["message"]["chat_id"] == other.id.as_str()
                || frame["chat"]["id"] == other.id.as_str()))
}

async fn guest_isolation(ctx: Ctx) -> CaseResult {
    let own = ctx.new_chat().await?;
    let other = ctx.other_chat().await?;
    let strategy = proptest::collection::vec(guest_frame(own.id.clone(), other.id.clone()), 1..12);
    check_property(
        &ctx,
        "a guest sending random frames while its neighbour's chat is busy",
        strategy,
        |frames| {
            let ctx = ctx.clone();
            let own = own.clone();
            let other = other.clone();
            async move {
                let (mut ws, _) = ctx.connect("guest", &own.guest_token).await?;
                for frame in frames {
                    match frame {
                        Value::String(text) => ws.send_text(&text).await?,
                        frame => ws.send(frame).await?,
                    }
                }
                // The other chat speaks; none of it may reach this guest.
                let secret = format!("secret of the other chat {}", uuid::Uuid::new_v4());
                let posted = ctx
                    .post(format!("/v1/chats/{}/messages", other.id))
                    .bearer(&other.guest_token)
                    .json(json!({"client_msg_id": format!("p-{}", uuid::Uuid::new_v4()), "body": secret}))
                    .send()
                    .await?;
                checks::expect_status(&posted, 201, "the other chat's guest posting")?;
                let received = ws.barrier().await.map_err(|mut failure| {
                    failure.context = "the guest's connection after its frames".to_owned();
                    failure
                })?;
                if let Some(leaked) = received.iter().find(|frame| leaks(frame, &other, &secret)) {
                    return Err(Failure::new(
                        "what the guest received",
                        "nothing of the other chat",
                        checks::show(leaked),
                    ));
                }
                ws.close().await;
                Ok(())
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_encodings_read_the_same_leniently_and_edits_do_not() {
        let token = crate::jwt::sign(
            &crate::jwt::byrd_header("byrd-1"),
            &json!({"sub": "x", "n": 1}),
            &crate::jwt::Hmac::Sha256,
            b"key",
        );
        let same = lenient_bytes(&token);
        assert!(same.is_some());
        assert_eq!(lenient_bytes(&apply(&token, &Mutation::Padding)), same);
        assert_eq!(
            lenient_bytes(&apply(&token, &Mutation::StandardBase64)),
            same
        );
        let flipped = apply(&token, &Mutation::FlipBit { part: 2, bit: 3 });
        assert_ne!(lenient_bytes(&flipped), same);
        let edited = apply(
            &token,
            &Mutation::SetClaim {
                key: "sub",
                value: json!("y"),
            },
        );
        assert_ne!(lenient_bytes(&edited), same);
    }
}
