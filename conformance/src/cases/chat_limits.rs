//! `chats.*`: what a server does about chats nobody takes and addresses
//! that start too many (spec: "Idle chats", "Rate limits").
//!
//! Both bounds are the server's settings, which the runner only knows from
//! its config: the idle case runs when `chat_idle_close_secs` is short
//! enough to wait for, and the per-address case when the server trusts
//! `X-Forwarded-For` (`trust_x_forwarded_for`), so the runner can speak for
//! addresses of its own choosing, with a bound small enough to fill.
//! Every chat a case starts is closed before it ends, so the bound it
//! fills is empty again for the next run.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::case::{Case, CaseError, CaseResult, Failure};
use crate::checks::{ensure, expect_error, expect_status};
use crate::context::{Chat, Ctx, chat_of};
use crate::wire::http::Reply;
use crate::wire::ws::{Event, kind};

const IDLE: &str = "idle-chats";
const LIMITS: &str = "rate-limits";

/// The longest idle time the runner waits out.
const MAX_WAITED_IDLE_SECS: u64 = 10;
/// The largest per-address bound the runner fills.
const MAX_FILLED_BOUND: u32 = 20;

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "chats.close-reason",
            IDLE,
            "a chat says close_reason null while open and agent once an agent closed it",
            close_reason,
        ),
        Case::must(
            "chats.idle-close",
            IDLE,
            "an open chat nobody took or wrote in closes after the idle time: chat_updated to its guest with status closed and close_reason idle, not before the idle time",
            idle_close,
        ),
        Case::must(
            "chats.open-per-address",
            LIMITS,
            "an address holds at most the configured open chats: past them 429 too_many_open_chats with Retry-After; addresses of one IPv6 /64 count together, another /64 apart; a close frees a place",
            open_per_address,
        ),
    ]
}

async fn chat_json(ctx: &Ctx, chat: &Chat) -> Result<Value, Failure> {
    let reply = ctx
        .get(format!("/v1/chats/{}", chat.id))
        .bearer(&chat.guest_token)
        .send()
        .await?;
    expect_status(&reply, 200, "reading the chat as its guest")?;
    Ok(reply.json().clone())
}

async fn close_reason(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let open = chat_json(&ctx, &chat).await?;
    ensure(
        open.get("close_reason") == Some(&Value::Null),
        "an open chat's close_reason",
        "present and null",
        || open.to_string(),
    )?;
    ctx.close_chat(&chat).await?;
    let closed = chat_json(&ctx, &chat).await?;
    ensure(
        closed["status"] == "closed" && closed["close_reason"] == "agent",
        "a chat the admin closed",
        "status closed, close_reason agent",
        || closed.to_string(),
    )?;
    Ok(())
}

async fn idle_close(ctx: Ctx) -> CaseResult {
    let Some(idle) = ctx.config().chat_idle_close_secs.filter(|secs| *secs > 0) else {
        return Err(CaseError::Skipped(
            "needs `chat_idle_close_secs` in the config (the server's BYRD_CHAT_IDLE_CLOSE_SECS)"
                .into(),
        ));
    };
    if idle > MAX_WAITED_IDLE_SECS {
        return Err(CaseError::Skipped(format!(
            "the server's idle time ({idle} s) is longer than the runner waits ({MAX_WAITED_IDLE_SECS} s)"
        )));
    }
    let chat = ctx.new_chat().await?;
    let started = Instant::now();
    let (mut guest, _) = ctx.connect("guest", &chat.guest_token).await?;
    // The idle close comes within the idle time and a sweep; twice the
    // idle time and the usual timeout is plenty.
    let deadline = started + Duration::from_secs(2 * idle) + ctx.config().timeout;
    let closed = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = match guest.next_event_within(left).await? {
            Event::Frame(frame) => frame,
            other => {
                return Err(Failure::new(
                    "waiting on the guest's socket for the idle close",
                    "a chat_updated with status closed",
                    other.describe(),
                )
                .into());
            }
        };
        if kind(&frame) == "chat_updated"
            && frame["chat"]["id"] == chat.id.as_str()
            && frame["chat"]["status"] == "closed"
        {
            break frame["chat"].clone();
        }
    };
    let waited = started.elapsed();
    ensure(
        waited + Duration::from_millis(100) >= Duration::from_secs(idle),
        "when the chat closed",
        format!("not before the idle time ({idle} s)"),
        || format!("after {waited:?}"),
    )?;
    ensure(
        closed["close_reason"] == "idle",
        "the idle close's chat_updated",
        "close_reason idle",
        || closed.to_string(),
    )?;
    let stored = chat_json(&ctx, &chat).await?;
    ensure(
        stored["close_reason"] == "idle",
        "the chat read back after its idle close",
        "close_reason idle",
        || stored.to_string(),
    )?;
    Ok(())
}

/// Addresses no earlier run used: from the benchmarking ranges, which no
/// real client has (IPv4 198.18.0.0/15, IPv6 2001:db8::/32).
fn fresh_addresses() -> (String, String, String) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let (a, b) = ((nanos >> 8) & 0xff, nanos & 0xff);
    (
        format!("198.18.{a}.{b}"),
        format!("2001:db8:{a:x}:{b:x}::1"),
        format!("2001:db8:{a:x}:{b:x}:ffff::2"),
    )
}

async fn start_from(ctx: &Ctx, address: &str) -> Result<Reply, Failure> {
    ctx.post("/v1/chats")
        .header("x-forwarded-for", address)
        .json(json!({"subject": "Open chats per address"}))
        .keep_rate_limits()
        .send()
        .await
}

async fn open_per_address(ctx: Ctx) -> CaseResult {
    let config = ctx.config();
    if !config.trust_x_forwarded_for {
        return Err(CaseError::Skipped(
            "needs `trust_x_forwarded_for = true` in the config (and on the server): the case starts chats from addresses of its own".into(),
        ));
    }
    let bound = config.open_chats_per_address;
    if bound == 0 || bound > MAX_FILLED_BOUND || bound > config.limits.chat_starts_per_minute {
        return Err(CaseError::Skipped(format!(
            "needs `open_chats_per_address` between 1 and {MAX_FILLED_BOUND}, and no more than `chat_starts_per_minute` (it is {bound})"
        )));
    }
    let (v4, v6, same_64) = fresh_addresses();
    let mut started = Vec::new();
    let outcome = fill_and_refuse(&ctx, bound, &v4, &v6, &same_64, &mut started).await;
    for chat in &started {
        close_if_open(&ctx, chat).await?;
    }
    outcome?;
    let again = start_from(&ctx, &same_64).await?;
    expect_status(&again, 201, "a start from the /64 once its chats closed")?;
    close_if_open(&ctx, &chat_of(&again)?).await?;
    Ok(())
}

/// Closes `chat` as the admin unless the server closed it already (for
/// idleness, on a server with a short idle time).
async fn close_if_open(ctx: &Ctx, chat: &Chat) -> Result<(), Failure> {
    let admin = ctx.admin()?;
    let closed = ctx
        .post(format!("/v1/chats/{}/close", chat.id))
        .bearer(&admin.access_token)
        .send()
        .await?;
    if closed.error_code() == Some("chat_closed") {
        return Ok(());
    }
    expect_status(&closed, 200, "closing the chat as the admin")
}

/// Fills the bound from an IPv4 address and from an IPv6 /64, checking
/// the refusal past each; every chat started is pushed to `started`.
async fn fill_and_refuse(
    ctx: &Ctx,
    bound: u32,
    v4: &str,
    v6: &str,
    same_64: &str,
    started: &mut Vec<Chat>,
) -> Result<(), Failure> {
    for address in [v4, v6] {
        for n in 1..=bound {
            let reply = start_from(ctx, address).await?;
            expect_status(&reply, 201, &format!("chat {n} of {bound} from {address}"))?;
            started.push(chat_of(&reply)?);
        }
    }
    for (address, what) in [
        (v4, "the same IPv4 address"),
        (same_64, "another address of the same /64"),
    ] {
        let refused = start_from(ctx, address).await?;
        let context = format!("one chat more than the bound from {what}");
        expect_error(&refused, 429, "too_many_open_chats", &context)?;
        ensure(
            refused.header("retry-after").is_some(),
            context,
            "a Retry-After header, as on every 429",
            || refused.describe(),
        )?;
    }
    Ok(())
}
