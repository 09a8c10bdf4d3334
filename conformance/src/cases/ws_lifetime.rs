//! `ws.lifetime.*`: a connection bound to its token (spec: "Token
//! lifetime on a connection", "Close codes", "Who may do what").

use std::time::Duration;

use serde_json::{Value, json};

use crate::case::{Capability, Case, CaseResult, Failure};
use crate::checks::{self, ensure, expect_error_frame, expect_status, str_at};
use crate::context::Ctx;
use crate::jwt;
use crate::wire::ws::{Event, Ws};

const SECTION: &str = "token-lifetime-on-a-connection";

/// How long a minted short-lived token lives.
const SHORT_LIFE_SECS: i64 = 3;

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "ws.lifetime.refresh-token",
            SECTION,
            "`refresh_token` with a fresh token of the same principal (guest: a renewed token; agent: a refreshed access token) answers `token_refreshed` with the new expiry",
            refresh_token,
        ),
        Case::must(
            "ws.lifetime.refresh-other-principal",
            "who-may-do-what",
            "`refresh_token` with a valid token of another chat or another kind is answered `error` forbidden, echoing `ref`; the socket lives",
            refresh_other_principal,
        ),
        Case::must(
            "ws.lifetime.expiry-4001",
            "close-codes",
            "a connection whose token runs out gets `token_expiring {expires_at}` first, then close 4001 token_expired at expiry plus the clock leeway",
            expiry,
        )
        .needs(Capability::JwtSecret),
        Case::must(
            "ws.lifetime.expiry-after-refresh",
            "close-codes",
            "a connection whose `refresh_token` brought a token about to run out gets `token_expiring` for the new token's exp, then close 4001 token_expired at that exp plus the clock leeway",
            expiry_after_refresh,
        )
        .needs(Capability::JwtSecret),
        Case::must(
            "ws.lifetime.refresh-keeps-alive",
            SECTION,
            "after `token_refreshed`, the connection outlives the old token's expiry",
            refresh_keeps_alive,
        )
        .needs(Capability::JwtSecret),
        Case::must(
            "ws.lifetime.client-close-answered",
            "close-codes",
            "a client's close frame (1000) is answered with a close frame echoing its code (RFC 6455, section 5.5.1), not with the connection dropped",
            client_close_answered,
        ),
        Case::must(
            "ws.lifetime.logout-4002",
            "close-codes",
            "logout closes every socket of that access token and of its session with 4002 token_revoked; another agent's socket stays",
            logout,
        ),
        Case::must(
            "ws.lifetime.refresh-reuse-4002",
            "close-codes",
            "reusing a spent refresh token revokes the whole session: its sockets close with 4002 token_revoked",
            refresh_reuse,
        ),
    ]
}

fn timestamp(frame: &Value, pointer: &str, context: &str) -> Result<i64, Failure> {
    let text = str_at(frame, pointer, context)?;
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| at.timestamp())
        .map_err(|_| Failure::new(context, format!("an RFC 3339 time at {pointer}"), text))
}

async fn expect_refreshed(ws: &mut Ws, token: &str, who: &str) -> Result<(), Failure> {
    let context = format!("`refresh_token` with a fresh {who} token");
    ws.send(json!({"type": "refresh_token", "token": token, "ref": "r-refresh"}))
        .await?;
    let answer = ws.expect("token_refreshed").await?;
    let exp = jwt::claims_of(token).and_then(|claims| claims["exp"].as_i64());
    let at = timestamp(&answer, "/token_expires_at", &context)?;
    ensure(
        Some(at) == exp,
        context,
        "`token_refreshed` with token_expires_at at the new token's exp",
        || checks::show(&answer),
    )
}

async fn refresh_token(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let (mut guest, _) = ctx.connect("guest", &chat.guest_token).await?;
    let renewed = ctx
        .post(format!("/v1/chats/{}/token", chat.id))
        .bearer(&chat.guest_token)
        .send()
        .await?;
    expect_status(&renewed, 200, "renewing the guest token")?;
    let fresh = str_at(renewed.json(), "/guest_token", "the renewal")?.to_owned();
    expect_refreshed(&mut guest, &fresh, "guest").await?;
    guest.barrier().await?;
    guest.close().await;

    let session = ctx.admin_login().await?;
    let (mut agent, _) = ctx.connect("agent", &session.access_token).await?;
    let refreshed = ctx
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": session.refresh_token}))
        .send()
        .await?;
    expect_status(&refreshed, 200, "refreshing the agent's session")?;
    let access = str_at(refreshed.json(), "/access_token", "the refresh")?.to_owned();
    expect_refreshed(&mut agent, &access, "agent").await?;
    agent.close().await;
    Ok(())
}

async fn refresh_other_principal(ctx: Ctx) -> CaseResult {
    let own = ctx.shared_chat().await?;
    let other = ctx.other_chat().await?;
    let agent = ctx.agent().await?;
    let (mut guest, _) = ctx.connect("guest", &own.guest_token).await?;
    for (what, token) in [
        ("another chat's guest token", &other.guest_token),
        ("an agent token", &agent.access_token),
    ] {
        guest
            .send(json!({"type": "refresh_token", "token": token, "ref": "r-other"}))
            .await?;
        let answer = guest.next_frame().await?;
        expect_error_frame(
            &answer,
            "forbidden",
            &json!("r-other"),
            &format!("`refresh_token` on a guest socket with {what}"),
        )?;
    }
    guest.barrier().await?;
    guest.close().await;
    Ok(())
}

/// A guest token of `chat` that expires in `SHORT_LIFE_SECS`.
fn short_token(ctx: &Ctx, chat: &crate::context::Chat) -> Result<String, crate::case::CaseError> {
    let minter = ctx.minter()?;
    let claims = jwt::with(
        minter.guest_claims(chat),
        "exp",
        json!(jwt::now() + SHORT_LIFE_SECS),
    );
    Ok(minter.sign(&claims))
}

async fn expiry(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let token = short_token(&ctx, &chat)?;
    let (mut ws, hello) = ctx.connect("guest", &token).await?;
    // The warning is due a minute before expiry, which is already past.
    let expiring = ws.expect("token_expiring").await?;
    ensure(
        expiring["expires_at"] == hello["token_expires_at"],
        "`token_expiring`",
        format!(
            "expires_at {} (hello's token_expires_at)",
            hello["token_expires_at"]
        ),
        || checks::show(&expiring),
    )?;
    expect_expiry_close(&ctx, &mut ws).await
}

/// Reads up to the end of a connection whose token expires within
/// [`SHORT_LIFE_SECS`]: it must be close 4001 token_expired.
async fn expect_expiry_close(ctx: &Ctx, ws: &mut Ws) -> CaseResult {
    // The socket lives until `exp` plus the clock leeway, as the handshake
    // would still admit its token until then.
    let wait = Duration::from_secs(u64::try_from(SHORT_LIFE_SECS).unwrap_or(3))
        + ctx.config().jwt.leeway
        + ctx.config().timeout;
    let close = loop {
        match ws.next_event_within(wait).await? {
            Event::Frame(frame)
                if crate::wire::ws::AMBIENT.contains(&crate::wire::ws::kind(&frame)) => {}
            other => break other,
        }
    };
    ensure(
        close
            == Event::Close {
                code: Some(4001),
                reason: "token_expired".to_owned(),
            },
        "the end of a connection whose token expired",
        "close 4001 \"token_expired\"",
        || close.describe(),
    )?;
    Ok(())
}

async fn expiry_after_refresh(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let short = short_token(&ctx, &chat)?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    ws.send(json!({"type": "refresh_token", "token": short, "ref": "r-short"}))
        .await?;
    // The warning is due at once, so it may come before the answer.
    let mut expiring = None;
    let refreshed = loop {
        let frame = ws.next_frame().await?;
        match crate::wire::ws::kind(&frame) {
            "token_expiring" if expiring.is_none() => expiring = Some(frame),
            "token_refreshed" => break frame,
            _ => {
                return Err(Failure::new(
                    "the answer to `refresh_token` with a token about to expire",
                    "`token_refreshed`",
                    checks::show(&frame),
                )
                .into());
            }
        }
    };
    let expiring = match expiring {
        Some(frame) => frame,
        None => ws.expect("token_expiring").await?,
    };
    let exp = jwt::claims_of(&short).and_then(|claims| claims["exp"].as_i64());
    for (frame, pointer) in [
        (&refreshed, "/token_expires_at"),
        (&expiring, "/expires_at"),
    ] {
        let at = timestamp(frame, pointer, "the new token's expiry")?;
        ensure(
            Some(at) == exp,
            format!("`{}` after the refresh", crate::wire::ws::kind(frame)),
            format!("{} at the new token's exp", &pointer[1..]),
            || checks::show(frame),
        )?;
    }
    expect_expiry_close(&ctx, &mut ws).await
}

async fn refresh_keeps_alive(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let token = short_token(&ctx, &chat)?;
    let (mut ws, _) = ctx.connect("guest", &token).await?;
    ws.expect("token_expiring").await?;
    expect_refreshed(&mut ws, &chat.guest_token, "guest").await?;
    tokio::time::sleep(Duration::from_secs(
        u64::try_from(SHORT_LIFE_SECS).unwrap_or(3) + 1,
    ))
    .await;
    ws.barrier().await.map_err(|mut failure| {
        failure.context = "the connection past the old token's expiry".to_owned();
        failure
    })?;
    ws.close().await;
    Ok(())
}

async fn expect_revoked(ws: &mut Ws, what: &str) -> Result<(), Failure> {
    let (code, reason) = ws.expect_close().await?;
    ensure(
        code == Some(4002) && reason == "token_revoked",
        what,
        "close 4002 \"token_revoked\"",
        || format!("close {code:?} {reason:?}"),
    )?;
    Ok(())
}

async fn logout(ctx: Ctx) -> CaseResult {
    let bystander = ctx.agent().await?;
    let (mut other, _) = ctx.connect("agent", &bystander.access_token).await?;
    let session = ctx.admin_login().await?;
    let refreshed = ctx
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": session.refresh_token}))
        .send()
        .await?;
    expect_status(&refreshed, 200, "refreshing the session")?;
    let second_access = str_at(refreshed.json(), "/access_token", "the refresh")?.to_owned();
    let (mut first, _) = ctx.connect("agent", &session.access_token).await?;
    let (mut same_session, _) = ctx.connect("agent", &second_access).await?;
    let logout = ctx
        .post("/v1/auth/logout")
        .bearer(&session.access_token)
        .send()
        .await?;
    expect_status(&logout, 204, "logging out")?;
    expect_revoked(&mut first, "the socket of the logged-out token").await?;
    expect_revoked(
        &mut same_session,
        "a socket of another access token of the same session",
    )
    .await?;
    other.barrier().await.map_err(|mut failure| {
        failure.context = "another agent's socket after the logout".to_owned();
        failure
    })?;
    other.close().await;
    Ok(())
}

/// "Reuse detection" revokes the whole session, and the close-code table
/// gives 4002 to a socket whose login session was revoked. (The same
/// paragraph of the spec also says access tokens already issued stay
/// valid until they expire; that sentence contradicts the two above, and
/// this case follows them.)
async fn refresh_reuse(ctx: Ctx) -> CaseResult {
    let session = ctx.admin_login().await?;
    let (mut ws, _) = ctx.connect("agent", &session.access_token).await?;
    let first = ctx
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": session.refresh_token}))
        .send()
        .await?;
    expect_status(&first, 200, "the first refresh")?;
    // Spend the successor too, so that presenting the first token again is
    // a reuse and not a lost answer.
    let successor = str_at(first.json(), "/refresh_token", "the first refresh")?.to_owned();
    let second = ctx
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": successor}))
        .send()
        .await?;
    expect_status(&second, 200, "the second refresh")?;
    let reused = ctx
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": session.refresh_token}))
        .send()
        .await?;
    checks::expect_error(
        &reused,
        401,
        "token_revoked",
        "reusing the spent refresh token",
    )?;
    expect_revoked(&mut ws, "the session's socket after the reuse").await?;
    Ok(())
}

async fn client_close_answered(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let (mut guest, _) = ctx.connect("guest", &chat.guest_token).await?;
    guest.barrier().await?;
    guest.send_close(1000, "done").await?;
    let (code, reason) = guest.expect_close().await?;
    ensure(
        code == Some(1000),
        "answering the client's close 1000",
        "close 1000",
        || format!("close {code:?} {reason:?}"),
    )?;
    Ok(())
}
