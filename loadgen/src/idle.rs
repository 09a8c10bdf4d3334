//! The idle-socket scenario: what one authenticated, idle WebSocket costs
//! the server in resident memory.
//!
//! Every socket is a real guest of a real chat started over REST. The
//! server's memory is read after the chats exist and before any socket
//! opens, then again with all sockets open and settled, so the difference
//! is the sockets' alone. The sockets open 100 at a time over several
//! loopback source addresses (`sources`), and how many the server
//! authenticated a second while they opened is its accept rate.

use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt, stream};

use crate::IdleArgs;
use crate::proc_stats;
use crate::rest::Rest;
use crate::sources::Sources;
use crate::target::Target;
use crate::ws::{self, Socket};

/// Sockets opening at once.
const OPENING: usize = 100;

pub async fn run(target: &Target, args: &IdleArgs) -> anyhow::Result<()> {
    let rest = Rest::new(target);
    let started = Instant::now();
    let tokens: Vec<String> = stream::iter(0..args.sockets)
        .map(|_| async { rest.start_chat().await.map(|chat| chat.guest_token) })
        .buffer_unordered(32)
        .try_collect()
        .await?;
    eprintln!(
        "started {} chats in {:.1} s",
        tokens.len(),
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = target.pid.and_then(|pid| proc_stats::sample(Some(pid)));

    let sources = Sources::resolve(&target.ws_base, args.sources).await?;
    let sources = &sources;
    let opening = Instant::now();
    let ws_base = target.ws_base.as_str();
    let sockets: Vec<Socket> = stream::iter(tokens.iter().enumerate())
        .map(|(n, token)| async move {
            let stream = sources.connect(n as u64).await?;
            let mut socket = ws::upgrade(stream, &format!("{ws_base}/v1/ws?token={token}")).await?;
            ws::expect_hello(&mut socket).await?;
            anyhow::Ok(socket)
        })
        .buffer_unordered(OPENING)
        .try_collect()
        .await?;
    let open_time = opening.elapsed();
    // Let allocations settle (buffers shrink, tasks park).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = target.pid.and_then(|pid| proc_stats::sample(Some(pid)));

    println!(
        "{} idle authenticated guest WebSockets opened in {:.1} s from {} source addresses, {OPENING} at a time: {:.0} accepted a second",
        sockets.len(),
        open_time.as_secs_f64(),
        sources.count(),
        sockets.len() as f64 / open_time.as_secs_f64().max(1e-9)
    );
    match (before, after) {
        (Some(before), Some(after)) => {
            let grown = after.rss_kib.saturating_sub(before.rss_kib);
            println!(
                "server RSS {:.1} MiB before, {:.1} MiB with them open: {:.1} MiB for all, {:.2} KiB ({} bytes) per socket",
                before.rss_kib as f64 / 1024.0,
                after.rss_kib as f64 / 1024.0,
                grown as f64 / 1024.0,
                grown as f64 / sockets.len().max(1) as f64,
                grown * 1024 / sockets.len().max(1) as u64
            );
        }
        _ => println!("server memory not measured: give --server-pid for a running server"),
    }
    drop(sockets);
    Ok(())
}
