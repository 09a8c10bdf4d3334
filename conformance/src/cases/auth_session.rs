//! `auth.session.*`: agent login, refresh rotation, reuse detection and
//! logout (spec: "Agents: login, refresh, logout", "Token format").

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::case::{Capability, Case, CaseResult, Failure};
use crate::checks::{self, ensure, expect_error, expect_expires_in, expect_status, str_at};
use crate::context::{Ctx, Session, session_of};
use crate::jwt::{self, Parts};
use crate::wire::http::Reply;

const SECTION: &str = "agents-login-refresh-logout";

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "auth.session.login",
            SECTION,
            "login answers 200 with a Bearer agent token, expires_in its exp - iat (which is `agent_token_ttl_secs` when configured), a `byrd_rt_` refresh token and the agent; the token's claims match claims.schema.json",
            login,
        ),
        Case::must(
            "auth.session.invalid-credentials",
            SECTION,
            "a wrong password and an unknown email get the same 401 invalid_credentials",
            invalid_credentials,
        ),
        Case::should(
            "auth.session.uniform-login-timing",
            SECTION,
            "a wrong password and an unknown email are answered in about the same time (medians within 3x or 50 ms), so timing does not tell which emails are agents'",
            uniform_login_timing,
        ),
        Case::must(
            "auth.session.me-agent",
            "endpoints",
            "`GET /v1/me` with an agent token describes it: type, id, name, role, token_expires_at",
            me_agent,
        ),
        Case::must(
            "auth.session.refresh-rotation",
            SECTION,
            "refresh answers a new access token and a new refresh token; both work, and the newest refresh token refreshes again",
            refresh_rotation,
        ),
        Case::must(
            "auth.session.refresh-reuse",
            SECTION,
            "presenting a spent refresh token after its successor was used answers 401 token_revoked and revokes the session: its newest refresh token is token_revoked too",
            refresh_reuse,
        ),
        Case::must(
            "auth.session.refresh-lost-answer",
            SECTION,
            "a spent refresh token presented again within 30 s, its successor unused, answers 200 with that same successor",
            refresh_lost_answer,
        ),
        Case::must(
            "auth.session.unknown-refresh-token",
            SECTION,
            "a refresh token the server never issued answers 401 token_invalid",
            unknown_refresh_token,
        ),
        Case::must(
            "auth.session.logout",
            SECTION,
            "logout answers 204 with no body; the access token then answers 401 token_revoked, and so does the session's refresh token",
            logout,
        ),
        Case::must(
            "auth.session.logout-minted-token",
            SECTION,
            "logout with a backend-minted agent token (no session) revokes that token and no other",
            logout_minted,
        )
        .needs(Capability::JwtSecret),
    ]
}

async fn refresh(ctx: &Ctx, refresh_token: &str) -> Result<Reply, Failure> {
    ctx.post("/v1/auth/refresh")
        .json(json!({"refresh_token": refresh_token}))
        .send()
        .await
}

/// Checks a token response and its access token.
fn check_token_response(ctx: &Ctx, reply: &Reply, context: &str) -> Result<Session, Failure> {
    expect_status(reply, 200, context)?;
    let body = reply.json();
    ensure(
        body["token_type"] == "Bearer",
        context,
        "token_type \"Bearer\"",
        || checks::show(body),
    )?;
    let refresh_token = str_at(body, "/refresh_token", context)?;
    ensure(
        refresh_token.starts_with("byrd_rt_") && refresh_token.len() > "byrd_rt_".len(),
        context,
        "a refresh_token starting `byrd_rt_`",
        || "another shape".to_owned(),
    )?;
    let session = session_of(reply)?;
    let parts = Parts::of(&session.access_token).ok_or_else(|| {
        Failure::new(
            context,
            "an access_token in compact JWS form (three base64url parts)",
            "something else",
        )
    })?;
    let header = parts.header_json().unwrap_or(Value::Null);
    let expected_header = json!({"alg": "HS256", "kid": ctx.config().jwt.kid});
    ensure(
        header["alg"] == expected_header["alg"] && header["kid"] == expected_header["kid"],
        format!("{context}: the access token's header"),
        checks::show(&expected_header),
        || checks::show(&header),
    )?;
    let claims = parts.claims_json().unwrap_or(Value::Null);
    let problems = ctx.target.documents.claims_problems(&claims);
    ensure(
        problems.is_empty(),
        format!("{context}: the access token's claims against claims.schema.json"),
        "valid agent claims",
        || problems.join("; "),
    )?;
    let lifetime = expect_expires_in(body, &session.access_token, context)?;
    let configured = ctx.config().jwt.agent_token_ttl_secs;
    ensure(
        claims["type"] == "agent"
            && claims["sub"] == session.agent_id.as_str()
            && lifetime > 0
            && configured.is_none_or(|ttl| i64::try_from(ttl) == Ok(lifetime)),
        format!("{context}: the access token's claims"),
        format!(
            "type \"agent\", sub {:?} (agent.id), exp - iat {}",
            session.agent_id,
            configured.map_or("above 0".to_owned(), |ttl| format!(
                "= {ttl} (agent_token_ttl_secs)"
            ))
        ),
        || checks::show(&claims),
    )?;
    Ok(session)
}

async fn login(ctx: Ctx) -> CaseResult {
    let config = ctx.config();
    let reply = ctx
        .post("/v1/auth/login")
        .json(
            json!({"email": config.admin.email, "password": config.admin.password.expose_secret()}),
        )
        .send()
        .await?;
    let session = check_token_response(&ctx, &reply, "POST /v1/auth/login as the admin")?;
    let agent = &reply.json()["agent"];
    ensure(
        agent["email"].as_str().map(str::to_ascii_lowercase)
            == Some(config.admin.email.to_ascii_lowercase())
            && agent["role"] == "admin",
        "the agent of the login answer",
        format!("email {:?}, role \"admin\"", config.admin.email),
        || checks::show(agent),
    )?;
    let me = ctx
        .get("/v1/me")
        .bearer(&session.access_token)
        .send()
        .await?;
    expect_status(&me, 200, "GET /v1/me with the new access token")?;
    Ok(())
}

async fn invalid_credentials(ctx: Ctx) -> CaseResult {
    let config = ctx.config();
    let wrong_password = ctx
        .post("/v1/auth/login")
        .json(json!({"email": config.admin.email, "password": "not the password at all"}))
        .send()
        .await?;
    expect_error(
        &wrong_password,
        401,
        "invalid_credentials",
        "login with a wrong password",
    )?;
    let unknown = ctx
        .post("/v1/auth/login")
        .json(json!({"email": format!("nobody-{}@example.com", uuid::Uuid::new_v4()), "password": "not the password at all"}))
        .send()
        .await?;
    expect_error(
        &unknown,
        401,
        "invalid_credentials",
        "login with an unknown email",
    )?;
    checks::same(
        "the answers to a wrong password and an unknown email",
        wrong_password.json(),
        unknown.json(),
    )?;
    Ok(())
}

async fn uniform_login_timing(ctx: Ctx) -> CaseResult {
    const SAMPLES: usize = 4;
    let known = ctx.config().admin.email.clone();
    let mut wrong_password = Vec::new();
    let mut unknown_email = Vec::new();
    for _ in 0..SAMPLES {
        for (email, samples) in [
            (known.clone(), &mut wrong_password),
            (
                format!("nobody-{}@example.com", uuid::Uuid::new_v4()),
                &mut unknown_email,
            ),
        ] {
            let started = std::time::Instant::now();
            let reply = ctx
                .post("/v1/auth/login")
                .json(json!({"email": email, "password": "not the password at all"}))
                .send()
                .await?;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
            expect_error(&reply, 401, "invalid_credentials", "a failed login")?;
        }
    }
    let median = |samples: &mut Vec<f64>| {
        samples.sort_by(f64::total_cmp);
        (samples[SAMPLES / 2 - 1] + samples[SAMPLES / 2]) / 2.0
    };
    let (known, unknown) = (median(&mut wrong_password), median(&mut unknown_email));
    let (fast, slow) = (known.min(unknown), known.max(unknown));
    ensure(
        slow <= 3.0 * fast || slow - fast <= 50.0,
        format!("{SAMPLES} failed logins of each kind"),
        "median times within 3x of each other, or 50 ms",
        || format!("wrong password {known:.1} ms, unknown email {unknown:.1} ms"),
    )?;
    Ok(())
}

async fn me_agent(ctx: Ctx) -> CaseResult {
    let agent = ctx.agent().await?;
    let me = ctx.get("/v1/me").bearer(&agent.access_token).send().await?;
    expect_status(&me, 200, "GET /v1/me with an agent token")?;
    let body = me.json();
    let claims = jwt::claims_of(&agent.access_token).unwrap_or(Value::Null);
    let expires_at = str_at(body, "/token_expires_at", "GET /v1/me")?;
    let same_instant = chrono::DateTime::parse_from_rfc3339(expires_at)
        .is_ok_and(|at| Some(at.timestamp()) == claims["exp"].as_i64());
    ensure(
        body["type"] == "agent"
            && body["id"] == agent.agent_id.as_str()
            && body["name"] == agent.name.as_str()
            && body["role"] == agent.role.as_str()
            && same_instant,
        "GET /v1/me with an agent token",
        format!(
            "type \"agent\", id {:?}, name {:?}, role {:?}, token_expires_at at the token's exp",
            agent.agent_id, agent.name, agent.role
        ),
        || checks::show(body),
    )?;
    Ok(())
}

async fn refresh_rotation(ctx: Ctx) -> CaseResult {
    let first = ctx.admin_login().await?;
    let reply = refresh(&ctx, &first.refresh_token).await?;
    let second = check_token_response(&ctx, &reply, "POST /v1/auth/refresh")?;
    ensure(
        second.refresh_token != first.refresh_token && second.access_token != first.access_token,
        "the refresh answer",
        "a new access token and a new refresh token",
        || "one of them was the old one".to_owned(),
    )?;
    let me = ctx
        .get("/v1/me")
        .bearer(&second.access_token)
        .send()
        .await?;
    expect_status(&me, 200, "GET /v1/me with the refreshed access token")?;
    let third = refresh(&ctx, &second.refresh_token).await?;
    check_token_response(
        &ctx,
        &third,
        "refreshing again with the newest refresh token",
    )?;
    Ok(())
}

async fn refresh_reuse(ctx: Ctx) -> CaseResult {
    let first = ctx.admin_login().await?;
    let second = refresh(&ctx, &first.refresh_token).await?;
    let second = check_token_response(&ctx, &second, "the first refresh")?;
    // Using the successor ends the grace for lost answers: presenting the
    // first token now can only be a copy.
    let rotated = refresh(&ctx, &second.refresh_token).await?;
    let rotated = check_token_response(&ctx, &rotated, "the second refresh")?;
    let replayed = refresh(&ctx, &first.refresh_token).await?;
    expect_error(
        &replayed,
        401,
        "token_revoked",
        "presenting the spent refresh token again",
    )?;
    let newest = refresh(&ctx, &rotated.refresh_token).await?;
    expect_error(
        &newest,
        401,
        "token_revoked",
        "the session's newest refresh token after the reuse",
    )?;
    Ok(())
}

async fn refresh_lost_answer(ctx: Ctx) -> CaseResult {
    let first = ctx.admin_login().await?;
    let rotated = refresh(&ctx, &first.refresh_token).await?;
    let rotated = check_token_response(&ctx, &rotated, "the first refresh")?;
    let again = refresh(&ctx, &first.refresh_token).await?;
    let again = check_token_response(&ctx, &again, "the same refresh token presented again")?;
    ensure(
        again.refresh_token == rotated.refresh_token,
        "the answer to a spent refresh token presented again at once",
        "the same successor refresh token as the first answer",
        || "a different refresh token".to_owned(),
    )?;
    let newest = refresh(&ctx, &rotated.refresh_token).await?;
    check_token_response(&ctx, &newest, "using the successor afterwards")?;
    Ok(())
}

async fn unknown_refresh_token(ctx: Ctx) -> CaseResult {
    let reply = refresh(&ctx, &format!("byrd_rt_{}", "A".repeat(43))).await?;
    expect_error(
        &reply,
        401,
        "token_invalid",
        "refreshing with a refresh token the server never issued",
    )?;
    Ok(())
}

async fn logout(ctx: Ctx) -> CaseResult {
    let session = ctx.admin_login().await?;
    let reply = ctx
        .post("/v1/auth/logout")
        .bearer(&session.access_token)
        .send()
        .await?;
    expect_status(&reply, 204, "POST /v1/auth/logout")?;
    ensure(
        reply.text.is_empty(),
        "the logout answer",
        "no body",
        || reply.describe(),
    )?;
    let me = ctx
        .get("/v1/me")
        .bearer(&session.access_token)
        .send()
        .await?;
    expect_error(
        &me,
        401,
        "token_revoked",
        "GET /v1/me with the logged-out access token",
    )?;
    let refreshed = refresh(&ctx, &session.refresh_token).await?;
    expect_error(
        &refreshed,
        401,
        "token_revoked",
        "refreshing the logged-out session",
    )?;
    Ok(())
}

async fn logout_minted(ctx: Ctx) -> CaseResult {
    let minter = ctx.minter()?;
    let agent = ctx.agent().await?;
    let token = minter.sign(&minter.agent_claims(&agent));
    let other = minter.sign(&minter.agent_claims(&agent));
    let reply = ctx.post("/v1/auth/logout").bearer(&token).send().await?;
    expect_status(
        &reply,
        204,
        "POST /v1/auth/logout with a minted agent token",
    )?;
    let me = ctx.get("/v1/me").bearer(&token).send().await?;
    expect_error(
        &me,
        401,
        "token_revoked",
        "GET /v1/me with the logged-out minted token",
    )?;
    let me = ctx.get("/v1/me").bearer(&other).send().await?;
    expect_status(
        &me,
        200,
        "GET /v1/me with another minted token of the same agent",
    )?;
    let me = ctx.get("/v1/me").bearer(&agent.access_token).send().await?;
    expect_status(&me, 200, "GET /v1/me with the agent's own login token")?;
    Ok(())
}
