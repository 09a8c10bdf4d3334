//! `issuer.agent.*`: agent tokens a trusted issuer's backend mints with
//! its own key (spec: "Minting agent tokens from your own backend"; README,
//! "Trusted issuers"). Such a token naming an agent that exists works
//! over REST and the WebSocket as that agent, with the role and name the
//! server holds, not the ones the token claims; one naming no agent, or
//! signed with a key the issuer does not hold, is `401 token_invalid`.

use serde_json::json;

use crate::case::{Capability, Case, CaseResult, Failure};
use crate::checks::{self, ensure};
use crate::context::{Ctx, Session};
use crate::issuer::TestIssuer;
use crate::wire::ws::Handshake;

const SECTION: &str = "minting-agent-tokens-from-your-own-backend";

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "issuer.agent.rest",
            SECTION,
            "a backend-minted agent token naming an existing agent answers GET /v1/me 200 as that agent, with the server's role and name, not the token's",
            rest,
        )
        .needs(Capability::AgentIssuer),
        Case::must(
            "issuer.agent.ws",
            SECTION,
            "a backend-minted agent token naming an existing agent opens a WebSocket whose `hello` names that agent",
            ws,
        )
        .needs(Capability::AgentIssuer),
        Case::must(
            "issuer.agent.unknown-agent",
            SECTION,
            "a backend-minted agent token naming no agent of the server is refused 401 token_invalid, over REST and in the handshake",
            unknown_agent,
        )
        .needs(Capability::AgentIssuer),
        Case::must(
            "issuer.agent.other-key",
            SECTION,
            "an agent token in the issuer's name signed with a key the issuer does not hold is refused 401 token_invalid, over REST and in the handshake",
            other_key,
        )
        .needs(Capability::AgentIssuer),
    ]
}

/// The test issuer, and how long its agent tokens may live here: five
/// minutes, or less when the server's agent token lifetime is shorter.
fn issuer(ctx: &Ctx) -> Result<(&TestIssuer, i64), crate::case::CaseError> {
    let ttl = ctx
        .config()
        .jwt
        .agent_token_ttl_secs
        .unwrap_or(300)
        .min(300);
    Ok((ctx.test_issuer()?, i64::try_from(ttl).unwrap_or(300)))
}

async fn rest(ctx: Ctx) -> CaseResult {
    let (issuer, lifetime) = issuer(&ctx)?;
    let agent: Session = ctx.agent().await?;
    let token = issuer.sign(&issuer.agent_claims(&agent.agent_id, lifetime));
    let me = ctx.get("/v1/me").bearer(&token).send().await?;
    checks::expect_status(&me, 200, "GET /v1/me with a backend-minted agent token")?;
    let body = me.json();
    ensure(
        body["id"] == agent.agent_id.as_str()
            && body["role"] == agent.role.as_str()
            && body["name"] == agent.name.as_str(),
        "GET /v1/me with a backend-minted token claiming role admin and name \"Claimed\"",
        format!(
            "the agent as the server holds it: id {}, role {}, name {:?}",
            agent.agent_id, agent.role, agent.name
        ),
        || checks::show(body),
    )?;
    Ok(())
}

async fn ws(ctx: Ctx) -> CaseResult {
    let (issuer, lifetime) = issuer(&ctx)?;
    let agent = ctx.agent().await?;
    let token = issuer.sign(&issuer.agent_claims(&agent.agent_id, lifetime));
    let (socket, hello) = ctx.connect_with(Handshake::header("agent", &token)).await?;
    socket.close().await;
    ensure(
        hello["principal"] == json!({"type": "agent", "id": agent.agent_id}),
        "the `hello` of a socket a backend-minted agent token opened",
        "principal {type: agent, id: the agent}",
        || checks::show(&hello),
    )?;
    Ok(())
}

/// `token` is refused `401 token_invalid` by `GET /v1/me` and the handshake.
async fn expect_refused_everywhere(ctx: &Ctx, token: &str, what: &str) -> Result<(), Failure> {
    let me = ctx.get("/v1/me").bearer(token).send().await?;
    checks::expect_error(
        &me,
        401,
        "token_invalid",
        &format!("GET /v1/me with {what}"),
    )?;
    checks::expect_refused(
        ctx.ws(Handshake::header("agent", token)).await?,
        401,
        "token_invalid",
        &format!("a handshake with {what}"),
    )
    .await
}

async fn unknown_agent(ctx: Ctx) -> CaseResult {
    let (issuer, lifetime) = issuer(&ctx)?;
    let nobody = uuid::Uuid::new_v4().to_string();
    let token = issuer.sign(&issuer.agent_claims(&nobody, lifetime));
    expect_refused_everywhere(&ctx, &token, "a backend-minted token for no agent").await?;
    Ok(())
}

async fn other_key(ctx: Ctx) -> CaseResult {
    let (issuer, lifetime) = issuer(&ctx)?;
    let agent = ctx.agent().await?;
    let claims = issuer.agent_claims(&agent.agent_id, lifetime);
    let genuine = ctx
        .get("/v1/me")
        .bearer(&issuer.sign(&claims))
        .send()
        .await?;
    checks::expect_status(
        &genuine,
        200,
        "GET /v1/me with a genuine backend-minted token",
    )?;
    let forged = issuer.key.stranger().sign(&issuer.header(), &claims);
    expect_refused_everywhere(&ctx, &forged, "a token signed by a stranger's key").await?;
    Ok(())
}
