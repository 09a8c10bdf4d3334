//! `ws.ticket.*`: single-use WebSocket tickets (spec: "Handshake";
//! `openapi.json` operations `createWsTicket` and `connectWebSocket`).
//! `POST /v1/ws/tickets` with a token answers `201 {ticket, expires_in}`;
//! `GET /v1/ws?ticket=` opens one socket with it, as its token would; a
//! spent, unknown or malformed ticket is `401 ticket_invalid`, one answer
//! for all; a ticket beside a token is `400 invalid_request`.
//!
//! Transcripts show a ticket, in the answer that made it and in the
//! handshake that spends it, only as `byrd_wst_[redacted]`.

use serde_json::{Value, json};

use crate::case::{Case, CaseResult, Failure};
use crate::checks::{self, ensure, expect_error_frame, expect_refused, str_at};
use crate::context::Ctx;
use crate::wire::ws::{Handshake, Refusal, Ws};

const SECTION: &str = "handshake";

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "ws.ticket.once",
            SECTION,
            "POST /v1/ws/tickets with a token answers 201 {ticket, expires_in ≤ 30}; the ticket opens one socket whose `hello` names the token's principal and expiry, and a second use is refused 401 ticket_invalid",
            once,
        ),
        Case::must(
            "ws.ticket.unknown",
            SECTION,
            "an unknown ticket and a malformed one are refused 401 ticket_invalid, with the same body",
            unknown,
        ),
        Case::must(
            "ws.ticket.guest-scope",
            SECTION,
            "a guest's ticket opens a socket of that guest only: a `send` naming another chat is answered with `error` forbidden",
            guest_scope,
        ),
        Case::must(
            "ws.ticket.with-token",
            SECTION,
            "a `ticket` beside a `token` is refused 400 invalid_request, and the ticket is not spent",
            with_token,
        ),
        Case::must(
            "ws.ticket.route-needs-token",
            SECTION,
            "POST /v1/ws/tickets without a token answers 401 token_missing, with a malformed one 401 token_invalid",
            route_needs_token,
        ),
    ]
}

/// A ticket made with `token`, after checking the answer's shape.
async fn make_ticket(ctx: &Ctx, token: &str) -> Result<String, Failure> {
    let reply = ctx.post("/v1/ws/tickets").bearer(token).send().await?;
    checks::expect_status(&reply, 201, "POST /v1/ws/tickets")?;
    let body = reply.json();
    let ticket = str_at(body, "/ticket", "the ticket answer")?.to_owned();
    let mut keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    keys.sort();
    ensure(
        keys == ["expires_in", "ticket"]
            && !ticket.is_empty()
            && body["expires_in"]
                .as_u64()
                .is_some_and(|seconds| (1..=30).contains(&seconds)),
        "the ticket answer",
        "exactly {ticket: a non-empty string, expires_in: 1 to 30}",
        || checks::show(body),
    )?;
    Ok(ticket)
}

/// Opens `/v1/ws?ticket=<ticket>`, and `&token=` too when `token` is given.
async fn open_with_ticket(
    ctx: &Ctx,
    who: &'static str,
    ticket: &str,
    token: Option<&str>,
) -> Result<Result<Ws, Refusal>, Failure> {
    let handshake = match token {
        Some(token) => Handshake::query(who, token).with_ticket(ticket),
        None => Handshake::ticket(who, ticket),
    };
    ctx.ws(handshake).await
}

/// The `hello` of a socket a ticket opened.
async fn hello_with_ticket(
    ctx: &Ctx,
    who: &'static str,
    ticket: &str,
) -> Result<(Ws, Value), Failure> {
    let mut ws = open_with_ticket(ctx, who, ticket, None)
        .await?
        .map_err(|refusal| {
            Failure::new(
                format!("opening a WebSocket as {who} with a fresh ticket"),
                "101 Switching Protocols",
                refusal.describe(),
            )
        })?;
    let hello = ws.expect("hello").await?;
    Ok((ws, hello))
}

async fn once(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let ticket = make_ticket(&ctx, &chat.guest_token).await?;
    let (ws, hello) = hello_with_ticket(&ctx, "guest", &ticket).await?;
    let (with_token, token_hello) = ctx.connect("guest", &chat.guest_token).await?;
    ensure(
        hello["principal"] == json!({"type": "guest", "id": chat.visitor_id})
            && hello["token_expires_at"] == token_hello["token_expires_at"],
        "the `hello` of a socket a guest's ticket opened",
        "principal {type: guest, id: the visitor} and the token's token_expires_at",
        || checks::show(&hello),
    )?;
    ws.close().await;
    with_token.close().await;
    expect_refused(
        open_with_ticket(&ctx, "guest", &ticket, None).await?,
        401,
        "ticket_invalid",
        "a handshake with a ticket already used",
    )
    .await?;
    Ok(())
}

async fn unknown(ctx: Ctx) -> CaseResult {
    let unknown = format!("byrd_wst_{}", "A".repeat(43));
    let mut bodies = Vec::new();
    for ticket in [unknown.as_str(), "not-a-ticket"] {
        match open_with_ticket(&ctx, "guest", ticket, None).await? {
            Ok(ws) => {
                ws.close().await;
                return Err(Failure::new(
                    format!("a handshake with the ticket {ticket:?}"),
                    "401 ticket_invalid",
                    "101: the socket opened",
                )
                .into());
            }
            Err(refusal) => {
                ensure(
                    refusal.status == 401 && refusal.error_code() == Some("ticket_invalid"),
                    format!("a handshake with the ticket {ticket:?}"),
                    "401 ticket_invalid",
                    || refusal.describe(),
                )?;
                bodies.push(refusal.body);
            }
        }
    }
    ensure(
        bodies[0] == bodies[1],
        "the refusals of an unknown and a malformed ticket",
        "the same body, telling nothing of which is which",
        || format!("{} and {}", bodies[0], bodies[1]),
    )?;
    Ok(())
}

async fn guest_scope(ctx: Ctx) -> CaseResult {
    let own = ctx.new_chat().await?;
    let other = ctx.other_chat().await?;
    let ticket = make_ticket(&ctx, &own.guest_token).await?;
    let (mut ws, _) = hello_with_ticket(&ctx, "guest", &ticket).await?;
    ws.send(json!({"type": "send", "chat_id": other.id, "client_msg_id": "ticket-intruder", "body": "let me in"}))
        .await?;
    let answer = ws.next_frame().await?;
    expect_error_frame(
        &answer,
        "forbidden",
        &json!("ticket-intruder"),
        "a `send` naming another chat on a socket a guest's ticket opened",
    )?;
    ws.close().await;
    Ok(())
}

async fn with_token(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let ticket = make_ticket(&ctx, &chat.guest_token).await?;
    expect_refused(
        open_with_ticket(&ctx, "guest", &ticket, Some(&chat.guest_token)).await?,
        400,
        "invalid_request",
        "a handshake with both a ticket and a token",
    )
    .await?;
    let (ws, _) = hello_with_ticket(&ctx, "guest", &ticket).await?;
    ws.close().await;
    Ok(())
}

async fn route_needs_token(ctx: Ctx) -> CaseResult {
    let missing = ctx.post("/v1/ws/tickets").send().await?;
    checks::expect_error(
        &missing,
        401,
        "token_missing",
        "POST /v1/ws/tickets without a token",
    )?;
    let bad = ctx
        .post("/v1/ws/tickets")
        .bearer("not.a.token")
        .send()
        .await?;
    checks::expect_error(
        &bad,
        401,
        "token_invalid",
        "POST /v1/ws/tickets with a malformed token",
    )?;
    Ok(())
}
