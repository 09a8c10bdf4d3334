//! `ws.limits.*`: the WebSocket's limits (spec: "Limits", "Close codes",
//! "Errors" of the WebSocket chapter).

use std::time::Duration;

use serde_json::{Value, json};

use crate::case::{Case, CaseResult};
use crate::checks::{self, ensure};
use crate::context::Ctx;
use crate::wire::ws::{Event, kind};

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "ws.limits.frame-too-large",
            "close-codes",
            "a frame over the size limit closes the connection with 1009 frame_too_large; one just under it is served",
            frame_too_large,
        ),
        Case::must(
            "ws.limits.frame-rate",
            "limits",
            "frames past the per-connection rate (bursts of twice the rate) are answered `error` rate_limited with `ref` null (refused before parsing), unprocessed; the socket lives and is served again once the rate recovers",
            frame_rate,
        ),
    ]
}

async fn frame_too_large(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let limit = ctx.config().limits.ws_max_frame_bytes;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    let frame = |length: usize| json!({"type": "ping", "nonce": "n".repeat(length)});
    let overhead = frame(0).to_string().len();
    let fits = frame(limit.saturating_sub(overhead + 16));
    ws.send(fits).await?;
    ws.expect("pong").await?;
    // A write may fail once the server has closed: the close is the point.
    let _ = ws.send(frame(limit + 1024)).await;
    let end = loop {
        match ws.next_event().await? {
            Event::Frame(frame) if crate::wire::ws::AMBIENT.contains(&kind(&frame)) => {}
            other => break other,
        }
    };
    ensure(
        matches!(&end, Event::Close { code: Some(1009), reason } if reason == "frame_too_large"),
        format!(
            "sending a frame of {} bytes (limit {limit})",
            limit + 1024 + overhead
        ),
        "close 1009 \"frame_too_large\"",
        || end.describe(),
    )?;
    Ok(())
}

async fn frame_rate(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let rate = ctx.config().limits.ws_frames_per_second as usize;
    let burst = 2 * rate;
    let sent = burst + 10;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    for n in 0..sent {
        ws.send(json!({"type": "ping", "nonce": format!("n-{n}"), "ref": format!("r-{n}")}))
            .await?;
    }
    let mut served = 0;
    let mut limited = Vec::new();
    for _ in 0..sent {
        let frame = ws.next_frame().await?;
        match kind(&frame) {
            "pong" => served += 1,
            "error" if frame["code"] == "rate_limited" => limited.push(frame["ref"].clone()),
            _ => {
                return Err(crate::case::Failure::new(
                    format!("answers to {sent} pings sent at once"),
                    "`pong` or `error` rate_limited",
                    checks::show(&frame),
                )
                .into());
            }
        }
    }
    // A frame past the rate is refused before it is parsed, so its `ref`
    // is not known.
    let unparsed = limited.iter().all(Value::is_null);
    ensure(
        served >= burst && !limited.is_empty() && unparsed,
        format!("{sent} pings sent at once (rate {rate}/s, bursts of {burst})"),
        format!("at least {burst} pongs, the rest `error` rate_limited with ref null"),
        || {
            format!(
                "{served} pongs, {} rate_limited with refs {limited:?}",
                limited.len()
            )
        },
    )?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ws.barrier().await.map_err(|mut failure| {
        failure.context = "the socket a second after the burst".to_owned();
        failure
    })?;
    ws.close().await;
    Ok(())
}
