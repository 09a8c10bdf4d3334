//! `rate.*`: per-address rate limits (spec: "Rate limits"). Past the
//! allowance the answer is `429 rate_limited` with `Retry-After`, the
//! whole seconds after which one more request passes.
//!
//! These cases use the allowance up, so they run last. They send at most
//! the configured allowance plus one request: whatever earlier cases left
//! of the allowance, a 429 must come by then.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::case::{Case, CaseResult, Failure};
use crate::checks::{self, ensure, expect_error};
use crate::context::Ctx;
use crate::wire::http::{Reply, Request};

const SECTION: &str = "rate-limits";

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "rate.chat-start",
            SECTION,
            "chat starts past the per-address allowance answer 429 rate_limited with Retry-After; after that many seconds one more passes",
            chat_start,
        ),
        Case::must(
            "rate.login-refresh",
            SECTION,
            "logins and refreshes share one allowance: past it both answer 429 rate_limited with Retry-After; after that many seconds one more passes",
            login_refresh,
        ),
    ]
}

/// `Retry-After` of a 429: whole seconds, at least 1.
fn retry_after(reply: &Reply, context: &str) -> Result<u64, Failure> {
    let value = reply.header("retry-after");
    value
        .and_then(|value| value.trim().parse::<u64>().ok())
        .filter(|seconds| (1..=3600).contains(seconds))
        .ok_or_else(|| {
            Failure::new(
                context,
                "a Retry-After header of whole seconds (at least 1)",
                format!("{value:?}"),
            )
        })
}

/// Sends `make()` until the first 429. The allowance refills evenly while
/// the requests go out, so a conforming server must refuse one by the
/// allowance, plus one, plus what refilled meanwhile.
async fn exhaust<'a>(
    allowance: u32,
    what: &str,
    make: impl Fn() -> Request<'a>,
) -> Result<Reply, Failure> {
    exhaust_with(allowance, what, || make().keep_rate_limits().send()).await
}

/// [`exhaust`] with requests sent by `send`, which may do more with
/// each answer.
async fn exhaust_with<Sent>(
    allowance: u32,
    what: &str,
    send: impl Fn() -> Sent,
) -> Result<Reply, Failure>
where
    Sent: Future<Output = Result<Reply, Failure>>,
{
    let started = Instant::now();
    let mut sent: u64 = 0;
    loop {
        let refilled = started.elapsed().as_secs_f64() * f64::from(allowance) / 60.0;
        let bound = u64::from(allowance) + 1 + refilled.ceil() as u64;
        if sent >= bound {
            return Err(Failure::new(
                format!(
                    "{sent} {what} in {:.1} s (allowance {allowance} a minute)",
                    started.elapsed().as_secs_f64()
                ),
                "429 rate_limited by the last of them",
                "none was refused",
            ));
        }
        let reply = send().await?;
        sent += 1;
        if reply.status == 429 {
            return Ok(reply);
        }
        if reply.status >= 500 {
            return Err(Failure::new(what, "no 5xx", reply.describe()));
        }
    }
}

async fn chat_start(ctx: Ctx) -> CaseResult {
    let allowance = ctx.config().limits.chat_starts_per_minute;
    let start = || ctx.post("/v1/chats").json(json!({"subject": "Rate limit"}));
    // Each chat is closed as soon as it started, so that a server's bound
    // on open chats per address (below the allowance) refuses none.
    let start_and_close = || async {
        let reply = start().keep_rate_limits().send().await?;
        if let Some(id) = reply.json().pointer("/chat/id").and_then(|id| id.as_str()) {
            ctx.close_as_admin(id).await?;
        }
        Ok(reply)
    };
    let limited = exhaust_with(allowance, "chat starts", start_and_close).await?;
    let context = "the answer past the chat-start allowance";
    expect_error(&limited, 429, "rate_limited", context)?;
    let seconds = retry_after(&limited, context)?;
    ctx.note(format!("waiting {seconds} s, as Retry-After says"));
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let after = start().keep_rate_limits().send().await?;
    checks::expect_status(
        &after,
        201,
        &format!("a chat start {seconds} s (Retry-After) later"),
    )?;
    Ok(())
}

async fn login_refresh(ctx: Ctx) -> CaseResult {
    let allowance = ctx.config().limits.logins_per_minute;
    let refresh = || {
        ctx.post("/v1/auth/refresh")
            .json(json!({"refresh_token": format!("byrd_rt_{}", "A".repeat(43))}))
    };
    let login = || {
        ctx.post("/v1/auth/login")
            .json(json!({"email": ctx.config().admin.email, "password": "not the password at all"}))
    };
    // The allowance refills steadily, so one request may slip in between
    // the refused refresh and the login; three misses are no accident.
    let mut attempts = 0;
    let limited_login = loop {
        attempts += 1;
        let limited = exhaust(allowance, "refreshes", refresh).await?;
        let context = "the answer past the login-and-refresh allowance";
        expect_error(&limited, 429, "rate_limited", context)?;
        retry_after(&limited, context)?;
        let reply = login().keep_rate_limits().send().await?;
        if reply.status == 429 || attempts == 3 {
            break reply;
        }
    };
    let context = "a login right after refreshes used the allowance up";
    expect_error(&limited_login, 429, "rate_limited", context)?;
    let seconds = retry_after(&limited_login, context)?;
    ctx.note(format!("waiting {seconds} s, as Retry-After says"));
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let after = login().keep_rate_limits().send().await?;
    ensure(
        after.status == 401 && after.error_code() == Some("invalid_credentials"),
        format!("a login {seconds} s (Retry-After) later"),
        "served again: 401 invalid_credentials for the wrong password",
        || after.describe(),
    )?;
    Ok(())
}
