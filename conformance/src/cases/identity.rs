//! `identity.*`: verified visitors (spec: "Guests: the chat-start token",
//! step 5; README, "Returning and verified visitors"). A chat start whose
//! `identity` a trusted issuer signed is for the visitor that issuer
//! names, on every chat, shown as `visitor.verified` and answered with no
//! `visitor_token`; that visitor's guest token lists and reopens its own
//! chats. An identity token that is forged, from another issuer, for
//! another audience, too long-lived or not yet valid is `401
//! identity_invalid`; an expired one `401 identity_expired`.
//!
//! Every case but the anonymous one needs the config's test issuer, which
//! mints the tokens; each uses a subject of its own, so runs against the
//! same server never meet.

use serde_json::{Value, json};

use crate::case::{Capability, Case, CaseResult, Failure};
use crate::checks::{self, ensure, str_at};
use crate::context::{Ctx, chat_of};
use crate::issuer::TestIssuer;
use crate::jwt;
use crate::wire::http::Reply;

const SECTION: &str = "guests-the-chat-start-token";

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        identity(
            "identity.verified-visitor",
            "a chat start with a valid identity token answers 201 with visitor {id, name and email from the token, verified: true, issuer, external_id: its sub, attributes as [{name, value}]} and visitor_token null",
            verified_visitor,
        ),
        identity(
            "identity.same-subject",
            "two chat starts with identity tokens for the same subject are two chats of one visitor (the same visitor.id, hence the same guest token sub)",
            same_subject,
        ),
        identity(
            "identity.expired",
            "a chat start with an identity token past its exp (beyond the leeway) is refused 401 identity_expired",
            expired,
        ),
        identity(
            "identity.visitor-chats",
            "a verified visitor's guest token lists that visitor's chats, newest first (GET /v1/visitor/chats), gets a guest token that opens another of them (POST /v1/visitor/chats/{id}/token), and gets 404 chat_not_found for another visitor's chat",
            visitor_chats,
        ),
    ];
    for refusal in REFUSALS {
        cases.push(identity(refusal.id, refusal.expectation, move |ctx| {
            refused(ctx, refusal)
        }));
    }
    cases.push(Case::must(
        "identity.visitor-chats.anonymous",
        SECTION,
        "an anonymous visitor's guest token gets 403 forbidden from GET /v1/visitor/chats and POST /v1/visitor/chats/{id}/token",
        anonymous,
    ));
    cases
}

/// A MUST case that needs the test issuer trusted for identities.
fn identity<F, Fut>(id: &str, expectation: &str, body: F) -> Case
where
    F: Fn(Ctx) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = CaseResult> + Send + 'static,
{
    Case::must(id, SECTION, expectation, body).needs(Capability::IdentityIssuer)
}

/// A subject no other case or run uses.
fn subject() -> String {
    format!("conformance-{}", uuid::Uuid::new_v4())
}

/// `POST /v1/chats` with `identity`, and a typed name the token's must win over.
pub async fn start_with(ctx: &Ctx, identity: &str) -> Result<Reply, Failure> {
    ctx.post("/v1/chats")
        .json(json!({"identity": identity, "visitor": {"name": "Typed Name"}}))
        .send()
        .await
}

/// A chat started for the verified user `sub`.
async fn start_verified(ctx: &Ctx, issuer: &TestIssuer, sub: &str) -> Result<Reply, Failure> {
    let reply = start_with(ctx, &issuer.sign(&issuer.identity_claims(sub))).await?;
    checks::expect_status(&reply, 201, "a chat start with a valid identity token")?;
    Ok(reply)
}

async fn verified_visitor(ctx: Ctx) -> CaseResult {
    let issuer = ctx.test_issuer()?;
    let sub = subject();
    let reply = start_verified(&ctx, issuer, &sub).await?;
    let body = reply.json();
    let visitor = &body["chat"]["visitor"];
    let expected = json!({
        "id": visitor["id"], "name": "Conformance Shopper", "email": "shopper@conformance.example",
        "verified": true, "issuer": issuer.iss, "external_id": sub,
        "attributes": [{"name": "plan", "value": "conformance"}],
    });
    ensure(
        visitor["id"].is_string() && *visitor == expected,
        "the visitor of a chat started with an identity token",
        checks::show(&expected),
        || checks::show(visitor),
    )?;
    ensure(
        body.get("visitor_token") == Some(&Value::Null),
        "the visitor_token of a verified chat start",
        "null (the identity, not a token, recognises the visitor)",
        || checks::show(body),
    )?;
    let claims = jwt::claims_of(body["guest_token"].as_str().unwrap_or_default());
    ensure(
        claims
            .as_ref()
            .is_some_and(|claims| claims["sub"] == visitor["id"]),
        "the guest token of a verified chat start",
        "sub equal to chat.visitor.id",
        || format!("{claims:?}"),
    )?;
    Ok(())
}

async fn same_subject(ctx: Ctx) -> CaseResult {
    let issuer = ctx.test_issuer()?;
    let sub = subject();
    let first = chat_of(&start_verified(&ctx, issuer, &sub).await?)?;
    let second = chat_of(&start_verified(&ctx, issuer, &sub).await?)?;
    let stranger = chat_of(&start_verified(&ctx, issuer, &subject()).await?)?;
    ensure(
        first.visitor_id == second.visitor_id && first.id != second.id,
        "two chat starts with identity tokens for one subject",
        "two chats with the same visitor.id",
        || format!("visitor ids {} and {}", first.visitor_id, second.visitor_id),
    )?;
    ensure(
        stranger.visitor_id != first.visitor_id,
        "a chat start with another subject's identity token",
        "another visitor",
        || format!("the same visitor {}", first.visitor_id),
    )?;
    Ok(())
}

async fn expired(ctx: Ctx) -> CaseResult {
    let issuer = ctx.test_issuer()?;
    let leeway = i64::try_from(ctx.config().jwt.leeway.as_secs()).unwrap_or(i64::MAX / 4);
    let exp = jwt::now() - leeway - 60;
    let claims = jwt::with(issuer.identity_claims(&subject()), "exp", json!(exp));
    let claims = jwt::with(claims, "iat", json!(exp - 300));
    let reply = start_with(&ctx, &issuer.sign(&claims)).await?;
    checks::expect_error(
        &reply,
        401,
        "identity_expired",
        "a chat start with an expired identity token",
    )?;
    Ok(())
}

/// One way to make an identity token the server must refuse.
#[derive(Clone, Copy)]
struct Refusal {
    id: &'static str,
    expectation: &'static str,
    forge: fn(&TestIssuer, Value) -> Vec<(&'static str, String)>,
}

const REFUSALS: [Refusal; 8] = [
    Refusal {
        id: "identity.refused.wrong-key",
        expectation: "an identity token in the issuer's name signed by a key the issuer does not hold is refused 401 identity_invalid",
        forge: |issuer, claims| {
            vec![(
                "a stranger's key",
                issuer.key.stranger().sign(&issuer.header(), &claims),
            )]
        },
    },
    Refusal {
        id: "identity.refused.wrong-issuer",
        expectation: "an identity token whose iss is no trusted issuer, signed with the test issuer's key, is refused 401 identity_invalid",
        forge: |issuer, claims| {
            let claims = jwt::with(
                claims,
                "iss",
                json!("https://untrusted.conformance.invalid"),
            );
            vec![("an untrusted iss", issuer.sign(&claims))]
        },
    },
    Refusal {
        id: "identity.refused.wrong-audience",
        expectation: "an identity token for another audience is refused 401 identity_invalid",
        forge: |issuer, claims| {
            let aud = format!("{}-elsewhere", issuer.audience);
            vec![(
                "another aud",
                issuer.sign(&jwt::with(claims, "aud", json!(aud))),
            )]
        },
    },
    Refusal {
        id: "identity.refused.too-long",
        expectation: "an identity token meant to live longer than 10 minutes is refused 401 identity_invalid",
        forge: |issuer, claims| {
            let exp = jwt::now() + 3600;
            vec![(
                "an hour's lifetime",
                issuer.sign(&jwt::with(claims, "exp", json!(exp))),
            )]
        },
    },
    Refusal {
        id: "identity.refused.not-yet-valid",
        expectation: "an identity token issued an hour in the future (iat, or nbf) is refused 401 identity_invalid",
        forge: |issuer, claims| {
            let later = jwt::now() + 3600;
            let iat = jwt::with(
                jwt::with(claims.clone(), "iat", json!(later)),
                "exp",
                json!(later + 300),
            );
            vec![
                ("iat in an hour", issuer.sign(&iat)),
                (
                    "nbf in an hour",
                    issuer.sign(&jwt::with(claims, "nbf", json!(later))),
                ),
            ]
        },
    },
    Refusal {
        id: "identity.refused.alg-none",
        expectation: "an unsigned identity token (alg none, empty signature) is refused 401 identity_invalid",
        forge: |_, claims| {
            let header = json!({"alg": "none", "typ": "JWT"});
            vec![("alg none", jwt::with_signature(&header, &claims, ""))]
        },
    },
    Refusal {
        id: "identity.refused.key-headers",
        expectation: "an identity token with a jku, x5u, jwk, x5c or crit header is refused 401 identity_invalid, even signed with the issuer's key",
        forge: |issuer, claims| {
            let headers = [
                (
                    "jku",
                    json!("https://attacker.conformance.invalid/jwks.json"),
                ),
                ("x5u", json!("https://attacker.conformance.invalid/key.pem")),
                ("jwk", issuer.key.public_jwk()),
                (
                    "x5c",
                    json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
                ),
                ("crit", json!(["exp"])),
            ];
            headers
                .into_iter()
                .map(|(name, value)| {
                    (
                        name,
                        issuer
                            .key
                            .sign(&jwt::with(issuer.header(), name, value), &claims),
                    )
                })
                .collect()
        },
    },
    Refusal {
        id: "identity.refused.hmac-public-key",
        expectation: "an identity token signed HS256 with the issuer's public key (PEM text or raw bytes) as the secret is refused 401 identity_invalid",
        forge: |issuer, claims| {
            let header = jwt::with(issuer.header(), "alg", json!("HS256"));
            let hs256 = |key: &[u8]| jwt::sign(&header, &claims, &jwt::Hmac::Sha256, key);
            vec![
                (
                    "the public key's PEM",
                    hs256(issuer.key.public_pem().as_bytes()),
                ),
                ("the public key's bytes", hs256(issuer.key.public_raw())),
            ]
        },
    },
];

async fn refused(ctx: Ctx, refusal: Refusal) -> CaseResult {
    let issuer = ctx.test_issuer()?;
    let claims = issuer.identity_claims(&subject());
    // The genuine token first: a refusal then owes nothing to the claims.
    start_verified(&ctx, issuer, claims["sub"].as_str().unwrap_or_default()).await?;
    for (label, token) in (refusal.forge)(issuer, claims) {
        let reply = start_with(&ctx, &token).await?;
        checks::expect_error(
            &reply,
            401,
            "identity_invalid",
            &format!("a chat start with an identity token: {label}"),
        )?;
    }
    Ok(())
}

async fn visitor_chats(ctx: Ctx) -> CaseResult {
    let issuer = ctx.test_issuer()?;
    let sub = subject();
    let older = chat_of(&start_verified(&ctx, issuer, &sub).await?)?;
    let newer = chat_of(&start_verified(&ctx, issuer, &sub).await?)?;
    let theirs = chat_of(&start_verified(&ctx, issuer, &subject()).await?)?;

    let page = ctx
        .get("/v1/visitor/chats")
        .bearer(&newer.guest_token)
        .send()
        .await?;
    checks::expect_status(&page, 200, "GET /v1/visitor/chats as a verified visitor")?;
    let ids: Vec<&str> = page.json()["chats"]
        .as_array()
        .map(|chats| {
            chats
                .iter()
                .filter_map(|chat| chat["id"].as_str())
                .collect()
        })
        .unwrap_or_default();
    ensure(
        ids == [newer.id.as_str(), older.id.as_str()],
        "GET /v1/visitor/chats as a verified visitor with two chats",
        format!("exactly [{}, {}], newest first", newer.id, older.id),
        || format!("{ids:?}"),
    )?;

    let path = format!("/v1/visitor/chats/{}/token", older.id);
    let issued = ctx.post(&path).bearer(&newer.guest_token).send().await?;
    checks::expect_status(&issued, 200, &format!("POST {path}"))?;
    let token = str_at(issued.json(), "/guest_token", "the issued guest token")?;
    let opened = ctx
        .get(format!("/v1/chats/{}", older.id))
        .bearer(token)
        .send()
        .await?;
    checks::expect_status(
        &opened,
        200,
        "GET /v1/chats/{id} with the issued guest token",
    )?;
    ensure(
        opened.json()["id"] == older.id.as_str(),
        "the chat the issued guest token opens",
        format!("chat {}", older.id),
        || opened.describe(),
    )?;

    let path = format!("/v1/visitor/chats/{}/token", theirs.id);
    let other = ctx.post(&path).bearer(&newer.guest_token).send().await?;
    checks::expect_error(
        &other,
        404,
        "chat_not_found",
        "POST /v1/visitor/chats/{id}/token for another verified visitor's chat",
    )?;
    Ok(())
}

async fn anonymous(ctx: Ctx) -> CaseResult {
    let own = ctx.new_chat().await?;
    let list = ctx
        .get("/v1/visitor/chats")
        .bearer(&own.guest_token)
        .send()
        .await?;
    checks::expect_error(
        &list,
        403,
        "forbidden",
        "GET /v1/visitor/chats with an anonymous visitor's guest token",
    )?;
    let path = format!("/v1/visitor/chats/{}/token", own.id);
    let token = ctx.post(&path).bearer(&own.guest_token).send().await?;
    checks::expect_error(
        &token,
        403,
        "forbidden",
        "POST /v1/visitor/chats/{id}/token with an anonymous visitor's guest token",
    )?;
    Ok(())
}
