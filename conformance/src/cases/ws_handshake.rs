//! `ws.handshake.*`: opening `/v1/ws` (spec: "Handshake", "Frames":
//! `hello`, "Close codes" for a revoked token before the upgrade).

use serde_json::Value;

use crate::case::{Capability, Case, CaseResult, Failure};
use crate::checks::{self, ensure, expect_refused, expect_status, str_at};
use crate::context::Ctx;
use crate::jwt;
use crate::wire::ws::{Handshake, TokenPlace};

const SECTION: &str = "handshake";

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "ws.handshake.hello-guest",
            "frames",
            "a guest's first frame is `hello` with connection_id, principal {type: guest, id: the visitor}, heartbeat_interval_ms and token_expires_at = the token's exp",
            hello_guest,
        ),
        Case::must(
            "ws.handshake.hello-agent",
            "frames",
            "an agent's first frame is `hello` with principal {type: agent, id: the agent}",
            hello_agent,
        ),
        Case::must(
            "ws.handshake.bearer-header",
            SECTION,
            "a token in `Authorization: Bearer` opens the socket like one in the query string",
            bearer_header,
        ),
        Case::must(
            "ws.handshake.not-an-upgrade",
            SECTION,
            "a plain GET of /v1/ws with a valid token answers 400 invalid_request",
            not_an_upgrade,
        ),
        Case::must(
            "ws.handshake.bad-after-seq",
            SECTION,
            "an `after_seq` that is not an integer answers 400 invalid_request, before the token is even looked at",
            bad_after_seq,
        ),
        Case::must(
            "ws.handshake.revoked-token",
            SECTION,
            "a token revoked by logout is refused before the upgrade with 401 token_revoked",
            revoked_token,
        ),
        Case::must(
            "ws.handshake.origin",
            SECTION,
            "an `Origin` off the allow-list answers 403 forbidden; one on it (in any case) or none opens the socket",
            origin,
        )
        .needs(Capability::AllowedOrigins),
    ]
}

fn check_hello(
    hello: &Value,
    principal_type: &str,
    principal_id: &str,
    token: &str,
) -> Result<(), Failure> {
    let context = "the `hello` frame";
    let connection = str_at(hello, "/connection_id", context)?;
    let exp = jwt::claims_of(token).and_then(|claims| claims["exp"].as_i64());
    let expires_at = str_at(hello, "/token_expires_at", context)?;
    let same_instant = chrono::DateTime::parse_from_rfc3339(expires_at)
        .is_ok_and(|at| Some(at.timestamp()) == exp);
    ensure(
        uuid::Uuid::parse_str(connection).is_ok()
            && hello["principal"]["type"] == principal_type
            && hello["principal"]["id"] == principal_id
            && hello["heartbeat_interval_ms"]
                .as_u64()
                .is_some_and(|ms| ms > 0)
            && same_instant,
        context,
        format!(
            "a UUID connection_id, principal {{type: {principal_type:?}, id: {principal_id:?}}}, a positive heartbeat_interval_ms, token_expires_at at the token's exp"
        ),
        || checks::show(hello),
    )
}

async fn hello_guest(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let (ws, hello) = ctx.connect("guest", &chat.guest_token).await?;
    check_hello(&hello, "guest", &chat.visitor_id, &chat.guest_token)?;
    ws.close().await;
    Ok(())
}

async fn hello_agent(ctx: Ctx) -> CaseResult {
    let agent = ctx.agent().await?;
    let (first, hello) = ctx.connect("agent", &agent.access_token).await?;
    check_hello(&hello, "agent", &agent.agent_id, &agent.access_token)?;
    let (second, again) = ctx.connect("agent", &agent.access_token).await?;
    ensure(
        again["connection_id"] != hello["connection_id"],
        "two connections of one agent",
        "different connection_ids",
        || format!("both {}", hello["connection_id"]),
    )?;
    first.close().await;
    second.close().await;
    Ok(())
}

async fn bearer_header(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let (mut ws, hello) = ctx
        .connect_with(Handshake::header("guest", &chat.guest_token))
        .await?;
    check_hello(&hello, "guest", &chat.visitor_id, &chat.guest_token)?;
    ws.barrier().await?;
    ws.close().await;
    Ok(())
}

async fn not_an_upgrade(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let reply = ctx
        .get(format!("/v1/ws?token={}", chat.guest_token))
        .send()
        .await?;
    checks::expect_error(&reply, 400, "invalid_request", "a plain GET /v1/ws")?;
    Ok(())
}

async fn bad_after_seq(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    for token in [
        TokenPlace::Query(chat.guest_token.clone()),
        TokenPlace::None,
    ] {
        let without = matches!(token, TokenPlace::None);
        let handshake = Handshake {
            who: "guest",
            token,
            ticket: None,
            after_seq: Some("two".to_owned()),
            origin: None,
        };
        expect_refused(
            ctx.ws(handshake).await?,
            400,
            "invalid_request",
            if without {
                "a handshake with after_seq=two and no token"
            } else {
                "a handshake with after_seq=two"
            },
        )
        .await?;
    }
    Ok(())
}

async fn revoked_token(ctx: Ctx) -> CaseResult {
    let session = ctx.admin_login().await?;
    let logout = ctx
        .post("/v1/auth/logout")
        .bearer(&session.access_token)
        .send()
        .await?;
    expect_status(&logout, 204, "logging out")?;
    expect_refused(
        ctx.ws(Handshake::query("agent", &session.access_token))
            .await?,
        401,
        "token_revoked",
        "a handshake with a logged-out token",
    )
    .await?;
    Ok(())
}

async fn origin(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let allowed = ctx.config().ws_allowed_origins.clone().unwrap_or_default();
    let Some(first) = allowed.first() else {
        return Ok(());
    };
    expect_refused(
        ctx.ws(Handshake::query("guest", &chat.guest_token).origin("https://not-allowed.invalid"))
            .await?,
        403,
        "forbidden",
        "a handshake from an Origin off the allow-list",
    )
    .await?;
    for origin in [Some(first.to_ascii_uppercase()), None] {
        let mut handshake = Handshake::query("guest", &chat.guest_token);
        handshake.origin = origin;
        let (ws, _) = ctx.connect_with(handshake).await?;
        ws.close().await;
    }
    Ok(())
}
