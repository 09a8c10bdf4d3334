//! `identity.prop.refused`: a property over generated identity tokens
//! (spec: "Guests: the chat-start token", step 5). Whatever is wrong with
//! an otherwise genuine identity token (its signature, its issuer, its
//! audience or its lifetime) the chat start is refused: `401
//! identity_expired` when it is past its `exp`, `401 identity_invalid`
//! otherwise, and never a chat or a 5xx.

use proptest::prelude::*;
use serde_json::json;

use super::identity::start_with;
use super::properties::check_property;
use crate::case::{Capability, Case, CaseResult};
use crate::checks::ensure;
use crate::context::Ctx;
use crate::issuer::TestIssuer;
use crate::jwt::{self, Parts};

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "identity.prop.refused",
            "guests-the-chat-start-token",
            "no identity token with a wrong signature, issuer, audience or lifetime starts a chat: each is refused 401 identity_invalid (identity_expired when past its exp)",
            refused,
        )
        .needs(Capability::IdentityIssuer),
    ]
}

/// One thing wrong with an identity token; offsets are in seconds beyond
/// the leeway, so no input sits on a boundary.
#[derive(Debug, Clone)]
enum Flaw {
    /// One bit of the signature flipped.
    FlippedBit { bit: usize },
    /// Signed by a key no issuer holds.
    StrangerKey,
    /// `iss` that names no trusted issuer: the issuer's own with a suffix.
    Issuer { suffix: String },
    /// `aud` other than the issuer's audience.
    Audience { suffix: String },
    /// `exp` this long past.
    Expired { ago: i64 },
    /// `exp - iat` this much over 10 minutes.
    TooLong { over: i64 },
    /// `iat` this far in the future.
    IssuedLater { ahead: i64 },
}

fn flaw() -> impl Strategy<Value = Flaw> {
    prop_oneof![
        (0usize..512).prop_map(|bit| Flaw::FlippedBit { bit }),
        Just(Flaw::StrangerKey),
        "[a-z0-9./-]{1,12}".prop_map(|suffix| Flaw::Issuer { suffix }),
        "[a-z0-9./-]{1,12}".prop_map(|suffix| Flaw::Audience { suffix }),
        (1i64..86_400).prop_map(|ago| Flaw::Expired { ago }),
        (1i64..86_400).prop_map(|over| Flaw::TooLong { over }),
        (1i64..86_400).prop_map(|ahead| Flaw::IssuedLater { ahead }),
    ]
}

/// The token `flaw` makes of a genuine one, and the code it must get.
fn forge(issuer: &TestIssuer, leeway: i64, flaw: &Flaw) -> (String, &'static str) {
    let sub = format!("conformance-{}", uuid::Uuid::new_v4());
    let claims = issuer.identity_claims(&sub);
    let now = jwt::now();
    let signed = |claims| (issuer.sign(&claims), "identity_invalid");
    match flaw {
        Flaw::FlippedBit { bit } => {
            let token = issuer.sign(&claims);
            let Some(mut parts) = Parts::of(&token) else {
                return (token, "identity_invalid");
            };
            let byte = (bit / 8) % parts.signature.len().max(1);
            if let Some(target) = parts.signature.get_mut(byte) {
                *target ^= 1 << (bit % 8);
            }
            (parts.join(), "identity_invalid")
        }
        Flaw::StrangerKey => (
            issuer.key.stranger().sign(&issuer.header(), &claims),
            "identity_invalid",
        ),
        Flaw::Issuer { suffix } => signed(jwt::with(
            claims,
            "iss",
            json!(format!("{}{suffix}", issuer.iss)),
        )),
        Flaw::Audience { suffix } => signed(jwt::with(
            claims,
            "aud",
            json!(format!("{}{suffix}", issuer.audience)),
        )),
        Flaw::Expired { ago } => {
            let exp = now - leeway - ago;
            let claims = jwt::with(jwt::with(claims, "exp", json!(exp)), "iat", json!(exp - 60));
            (issuer.sign(&claims), "identity_expired")
        }
        Flaw::TooLong { over } => signed(jwt::with(claims, "exp", json!(now + 600 + over))),
        Flaw::IssuedLater { ahead } => {
            let iat = now + leeway + ahead;
            signed(jwt::with(
                jwt::with(claims, "iat", json!(iat)),
                "exp",
                json!(iat + 60),
            ))
        }
    }
}

async fn refused(ctx: Ctx) -> CaseResult {
    let issuer = ctx.test_issuer()?;
    let leeway = i64::try_from(ctx.config().jwt.leeway.as_secs()).unwrap_or(i64::MAX / 4);
    // The margin keeps each input clear of the leeway's edge however long
    // the request takes.
    let leeway = leeway + 5;
    check_property(
        &ctx,
        "chat starts with flawed identity tokens",
        flaw(),
        |flaw| {
            let ctx = &ctx;
            async move {
                let (token, code) = forge(issuer, leeway, &flaw);
                let reply = start_with(ctx, &token).await?;
                ensure(
                    reply.status == 401 && reply.error_code() == Some(code),
                    format!("a chat start with an identity token flawed by {flaw:?}"),
                    format!("401 {code}"),
                    || reply.describe(),
                )
            }
        },
    )
}
