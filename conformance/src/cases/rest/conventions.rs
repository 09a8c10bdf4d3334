//! `rest.health`, `rest.readiness`, `rest.errors.*` and
//! `rest.conventions.*`: what every
//! answer shares, its headers and its error body (spec: "Conventions",
//! "Errors", "Endpoints").

use reqwest::Method;
use serde_json::{Value, json};

use crate::case::{Case, CaseResult, Failure};
use crate::checks::{self, ensure, expect_error, expect_status};
use crate::context::Ctx;
use crate::wire::http::Reply;

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "rest.health",
            "endpoints",
            "`GET /healthz` answers 200 {\"status\": \"ok\"}",
            health,
        ),
        Case::must(
            "rest.readiness",
            "endpoints",
            "`GET /readyz` without a token answers a healthy server 200 {\"status\": \"ok\", \"failing\": []}, a `Readiness` of openapi.json",
            readiness,
        ),
        Case::must(
            "rest.errors.not-found",
            "endpoints",
            "an unknown path answers 404 not_found with the error body",
            not_found,
        ),
        Case::must(
            "rest.errors.method-not-allowed",
            "endpoints",
            "a known path with another method answers 405 method_not_allowed",
            method_not_allowed,
        ),
        Case::must(
            "rest.errors.payload-too-large",
            "conventions",
            "a request body over 64 KiB answers 413 payload_too_large",
            payload_too_large,
        ),
        Case::must(
            "rest.errors.invalid-json",
            "errors",
            "a body that is not JSON, or sent with another content type, answers 400 invalid_request",
            invalid_json,
        ),
        Case::must(
            "rest.errors.validation-failed",
            "endpoints",
            "well-formed JSON breaking a field rule (an email without `@`, a blank name, a short password) answers 422 validation_failed",
            validation_failed,
        ),
        Case::must(
            "rest.conventions.headers",
            "conventions",
            "responses carry Referrer-Policy: no-referrer, X-Content-Type-Options: nosniff and Cache-Control: no-store; a 401 carries WWW-Authenticate: Bearer",
            headers,
        ),
    ]
}

async fn health(ctx: Ctx) -> CaseResult {
    let reply = ctx.get("/healthz").send().await?;
    expect_status(&reply, 200, "GET /healthz")?;
    checks::same("GET /healthz", &json!({"status": "ok"}), reply.json())?;
    Ok(())
}

/// A server the runner can talk to is a healthy one, so ready; the shape
/// is checked against the `Readiness` schema as every answer is, and the
/// exact body besides, so that no check can be missing from `failing`.
async fn readiness(ctx: Ctx) -> CaseResult {
    let reply = ctx.get("/readyz").send().await?;
    expect_status(&reply, 200, "GET /readyz without a token")?;
    checks::same(
        "GET /readyz",
        &json!({"status": "ok", "failing": []}),
        reply.json(),
    )?;
    Ok(())
}

async fn not_found(ctx: Ctx) -> CaseResult {
    let reply = ctx.get("/v1/no-such-thing").send().await?;
    expect_error(&reply, 404, "not_found", "GET /v1/no-such-thing")?;
    error_body_shape(&reply, "GET /v1/no-such-thing")?;
    Ok(())
}

/// `{"error": {"code", "message"}}` with a non-empty message.
fn error_body_shape(reply: &Reply, context: &str) -> Result<(), Failure> {
    let message = reply
        .json()
        .pointer("/error/message")
        .and_then(Value::as_str);
    ensure(
        message.is_some_and(|message| !message.is_empty()),
        context,
        "an error body {\"error\": {\"code\", \"message\"}} with a message",
        || reply.describe(),
    )
}

async fn method_not_allowed(ctx: Ctx) -> CaseResult {
    let reply = ctx.request(Method::DELETE, "/v1/me").send().await?;
    expect_error(&reply, 405, "method_not_allowed", "DELETE /v1/me")?;
    Ok(())
}

async fn payload_too_large(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    let body = json!({"email": "big@example.com", "name": "x".repeat(70 * 1024), "role": "agent", "password": "a long enough password"});
    let reply = ctx
        .post("/v1/agents")
        .bearer(&admin.access_token)
        .json(body)
        .send()
        .await?;
    expect_error(
        &reply,
        413,
        "payload_too_large",
        "POST /v1/agents with a 70 KiB body",
    )?;
    Ok(())
}

async fn invalid_json(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    let broken = ctx
        .post("/v1/agents")
        .bearer(&admin.access_token)
        .raw(Some("application/json"), b"{\"email\": ".to_vec())
        .send()
        .await?;
    expect_error(
        &broken,
        400,
        "invalid_request",
        "POST /v1/agents with broken JSON",
    )?;
    let text = ctx
        .post("/v1/agents")
        .bearer(&admin.access_token)
        .raw(
            Some("text/plain"),
            b"{\"email\": \"x@example.com\"}".to_vec(),
        )
        .send()
        .await?;
    expect_error(
        &text,
        400,
        "invalid_request",
        "POST /v1/agents as text/plain",
    )?;
    Ok(())
}

async fn validation_failed(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    let good = json!({"email": format!("v-{}@example.com", uuid::Uuid::new_v4()), "name": "Valid", "role": "agent", "password": "a long enough password"});
    for (field, value) in [
        ("email", json!("no-at-sign.example.com")),
        ("name", json!("   ")),
        ("password", json!("short")),
    ] {
        let mut body = good.clone();
        body[field] = value.clone();
        let reply = ctx
            .post("/v1/agents")
            .bearer(&admin.access_token)
            .json(body)
            .send()
            .await?;
        expect_error(
            &reply,
            422,
            "validation_failed",
            &format!("POST /v1/agents with {field} {value}"),
        )?;
    }
    Ok(())
}

fn has_header(reply: &Reply, name: &str, expected: &str) -> bool {
    reply
        .header(name)
        .is_some_and(|value| value.eq_ignore_ascii_case(expected))
}

async fn headers(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let replies = [
        ("GET /healthz", ctx.get("/healthz").send().await?),
        (
            "GET /v1/me",
            ctx.get("/v1/me").bearer(&chat.guest_token).send().await?,
        ),
        (
            "GET /v1/me without a token",
            ctx.get("/v1/me").send().await?,
        ),
        (
            "GET /v1/no-such-thing",
            ctx.get("/v1/no-such-thing").send().await?,
        ),
    ];
    for (what, reply) in &replies {
        ensure(
            has_header(reply, "referrer-policy", "no-referrer")
                && has_header(reply, "x-content-type-options", "nosniff")
                && has_header(reply, "cache-control", "no-store"),
            format!("the headers of {what}"),
            "Referrer-Policy: no-referrer, X-Content-Type-Options: nosniff, Cache-Control: no-store",
            || {
                format!(
                    "Referrer-Policy: {:?}, X-Content-Type-Options: {:?}, Cache-Control: {:?}",
                    reply.header("referrer-policy"),
                    reply.header("x-content-type-options"),
                    reply.header("cache-control")
                )
            },
        )?;
    }
    let unauthorized = &replies[2].1;
    ensure(
        unauthorized
            .header("www-authenticate")
            .is_some_and(|value| value.to_ascii_lowercase().starts_with("bearer")),
        "the 401 of GET /v1/me without a token",
        "WWW-Authenticate: Bearer",
        || format!("{:?}", unauthorized.header("www-authenticate")),
    )?;
    Ok(())
}
