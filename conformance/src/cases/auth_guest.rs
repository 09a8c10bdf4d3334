//! `auth.guest.*`: the chat-start token and its renewal (spec: "Guests:
//! the chat-start token").

use serde_json::{Value, json};

use crate::case::{Capability, Case, CaseResult, Failure};
use crate::checks::{self, ensure, expect_error, expect_expires_in, expect_status, i64_at, str_at};
use crate::context::{Chat, Ctx, chat_of};
use crate::jwt;

const SECTION: &str = "guests-the-chat-start-token";

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "auth.guest.start",
            SECTION,
            "`POST /v1/chats` needs no token and answers 201 with the open chat and a guest token for it (sub = visitor id, chat claim = the chat) living 86400 s, expires_in its exp - iat",
            start,
        ),
        Case::must(
            "auth.guest.start-empty-body",
            SECTION,
            "`POST /v1/chats` with no body at all starts an anonymous chat",
            start_empty_body,
        ),
        Case::must(
            "auth.guest.me",
            "endpoints",
            "`GET /v1/me` with a guest token describes it: type guest, the visitor id, chat_id, token_expires_at",
            me_guest,
        ),
        Case::must(
            "auth.guest.own-chat",
            SECTION,
            "a guest token reads its own chat with `GET /v1/chats/{chat_id}`",
            own_chat,
        ),
        Case::must(
            "auth.guest.renew",
            SECTION,
            "renewal answers a fresh 24-hour token for the same chat and visitor with a new jti; the old token stays valid",
            renew,
        ),
        Case::must(
            "auth.guest.renew-closed-chat",
            SECTION,
            "a closed chat gets no new token: 409 chat_closed",
            renew_closed,
        ),
        Case::must(
            "auth.guest.renew-expired",
            SECTION,
            "an expired guest token cannot be renewed: 401 token_expired",
            renew_expired,
        )
        .needs(Capability::JwtSecret),
    ]
}

/// The guest token's claims, checked against `claims.schema.json` and
/// against the chat they must name.
fn check_guest_token(ctx: &Ctx, token: &str, chat: &Chat, context: &str) -> Result<Value, Failure> {
    let claims = jwt::claims_of(token).ok_or_else(|| {
        Failure::new(
            context,
            "a guest token in compact JWS form",
            "something else",
        )
    })?;
    let problems = ctx.target.documents.claims_problems(&claims);
    ensure(
        problems.is_empty(),
        format!("{context}: the guest token's claims against claims.schema.json"),
        "valid guest claims",
        || problems.join("; "),
    )?;
    let created = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
    let same_created_at = claims["chat"]["created_at"]
        .as_str()
        .and_then(created)
        .is_some_and(|at| Some(at) == created(&chat.created_at));
    let lifetime = i64_at(&claims, "/exp", context)? - i64_at(&claims, "/iat", context)?;
    ensure(
        claims["type"] == "guest"
            && claims["sub"] == chat.visitor_id.as_str()
            && claims["chat"]["id"] == chat.id.as_str()
            && same_created_at
            && lifetime == 86_400,
        format!("{context}: the guest token's claims"),
        format!(
            "type \"guest\", sub {:?} (chat.visitor.id), chat {{id: {:?}, created_at: chat.created_at}}, exp - iat = 86400",
            chat.visitor_id, chat.id
        ),
        || checks::show(&claims),
    )?;
    Ok(claims)
}

async fn start(ctx: Ctx) -> CaseResult {
    let reply = ctx
        .post("/v1/chats")
        .json(json!({"visitor": {"name": "Sam", "email": "sam@example.com"}, "subject": "Billing question"}))
        .send()
        .await?;
    expect_status(&reply, 201, "POST /v1/chats")?;
    let body = reply.json();
    let chat = chat_of(&reply)?;
    ensure(
        body["chat"]["status"] == "open"
            && body["chat"]["visitor"]["name"] == "Sam"
            && body["chat"]["visitor"]["email"] == "sam@example.com"
            && body["chat"]["subject"] == "Billing question",
        "the started chat",
        "status \"open\", the visitor and subject as sent",
        || checks::show(body),
    )?;
    check_guest_token(&ctx, &chat.guest_token, &chat, "POST /v1/chats")?;
    expect_expires_in(body, &chat.guest_token, "the started chat")?;
    Ok(())
}

async fn start_empty_body(ctx: Ctx) -> CaseResult {
    let reply = ctx.post("/v1/chats").send().await?;
    expect_status(&reply, 201, "POST /v1/chats without a body")?;
    let chat = chat_of(&reply)?;
    check_guest_token(
        &ctx,
        &chat.guest_token,
        &chat,
        "POST /v1/chats without a body",
    )?;
    Ok(())
}

async fn me_guest(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let me = ctx.get("/v1/me").bearer(&chat.guest_token).send().await?;
    expect_status(&me, 200, "GET /v1/me with a guest token")?;
    let body = me.json();
    let exp = jwt::claims_of(&chat.guest_token).and_then(|claims| claims["exp"].as_i64());
    let expires_at = str_at(body, "/token_expires_at", "GET /v1/me")?;
    let same_instant = chrono::DateTime::parse_from_rfc3339(expires_at)
        .is_ok_and(|at| Some(at.timestamp()) == exp);
    ensure(
        body["type"] == "guest"
            && body["id"] == chat.visitor_id.as_str()
            && body["chat_id"] == chat.id.as_str()
            && same_instant,
        "GET /v1/me with a guest token",
        format!(
            "type \"guest\", id {:?} (the visitor), chat_id {:?}, token_expires_at at the token's exp",
            chat.visitor_id, chat.id
        ),
        || checks::show(body),
    )?;
    Ok(())
}

async fn own_chat(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let reply = ctx
        .get(format!("/v1/chats/{}", chat.id))
        .bearer(&chat.guest_token)
        .send()
        .await?;
    expect_status(&reply, 200, "GET /v1/chats/{own} with its guest token")?;
    checks::same(
        "the chat read by its guest",
        &json!(chat.id),
        &reply.json()["id"],
    )?;
    Ok(())
}

async fn renew(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let path = format!("/v1/chats/{}/token", chat.id);
    let reply = ctx.post(&path).bearer(&chat.guest_token).send().await?;
    expect_status(&reply, 200, &format!("POST {path}"))?;
    let renewed = str_at(reply.json(), "/guest_token", "the renewal answer")?.to_owned();
    let new_claims = check_guest_token(&ctx, &renewed, &chat, "the renewed token")?;
    expect_expires_in(reply.json(), &renewed, "the renewal answer")?;
    let old_claims = jwt::claims_of(&chat.guest_token).unwrap_or(Value::Null);
    ensure(
        new_claims["jti"] != old_claims["jti"],
        "the renewed token",
        "a new jti",
        || format!("the old one, {}", old_claims["jti"]),
    )?;
    for (which, token) in [("renewed", &renewed), ("old", &chat.guest_token)] {
        let read = ctx
            .get(format!("/v1/chats/{}", chat.id))
            .bearer(token)
            .send()
            .await?;
        expect_status(
            &read,
            200,
            &format!("reading the chat with the {which} token"),
        )?;
    }
    Ok(())
}

async fn renew_closed(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    ctx.close_chat(&chat).await?;
    let reply = ctx
        .post(format!("/v1/chats/{}/token", chat.id))
        .bearer(&chat.guest_token)
        .send()
        .await?;
    expect_error(
        &reply,
        409,
        "chat_closed",
        "renewing the token of a closed chat",
    )?;
    Ok(())
}

async fn renew_expired(ctx: Ctx) -> CaseResult {
    let minter = ctx.minter()?;
    let chat = ctx.shared_chat().await?;
    let claims = minter.guest_claims(&chat);
    let claims = jwt::with(
        jwt::with(claims, "iat", json!(jwt::now() - 7200)),
        "exp",
        json!(jwt::now() - 3600),
    );
    let reply = ctx
        .post(format!("/v1/chats/{}/token", chat.id))
        .bearer(&minter.sign(&claims))
        .send()
        .await?;
    expect_error(
        &reply,
        401,
        "token_expired",
        "renewing with an expired guest token",
    )?;
    Ok(())
}
