//! `ws.resume.*`: recovery after reconnect (spec: "Recovery after
//! reconnect", "Handshake" for a guest's `after_seq` in the URL).
//!
//! `recovered: false` is reached two ways: past the cap the config names
//! (`ws.resume.replay-cap`, which also checks the edge), and past the cap
//! the server announces in `hello` (`ws.resume.announced-cap`), which
//! needs no config and so runs against any server with a cap up to the
//! default.

use serde_json::{Value, json};

use crate::case::{Capability, Case, CaseError, CaseResult, Failure};
use crate::checks::{self, ensure, expect_error_frame, expect_status, seqs};
use crate::context::{Chat, Ctx};
use crate::wire::ws::Handshake;

use super::ws_steps::{post_as_guest, replay_until_subscribed, subscribe};

const SECTION: &str = "recovery-after-reconnect";

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "ws.resume.after-seq",
            SECTION,
            "`subscribe` with after_seq replays every stored message with a greater seq in order, then `subscribed {recovered: true, last_seq}`, then live messages from last_seq + 1, nothing twice",
            after_seq,
        ),
        Case::must(
            "ws.resume.beyond-last-seq",
            "frames",
            "an after_seq beyond the chat's last seq counts as that seq: no replay, `subscribed` with the chat's last_seq",
            beyond_last_seq,
        ),
        Case::must(
            "ws.resume.guest-url",
            "handshake",
            "a guest connecting with ?after_seq=n gets its chat's messages after n right after `hello`, then `subscribed`",
            guest_url,
        ),
        Case::must(
            "ws.resume.negative-after-seq",
            "handshake",
            "a negative after_seq, in the URL or a `subscribe`, is answered with `error` invalid_frame",
            negative_after_seq,
        ),
        Case::must(
            "ws.resume.replay-cap",
            SECTION,
            "past the replay cap nothing is replayed and `subscribed` says recovered: false with the chat's last_seq; at the cap exactly, all is replayed",
            replay_cap,
        )
        .needs(Capability::SmallReplayCap),
        Case::must(
            "ws.resume.announced-cap",
            SECTION,
            "with more messages missing than the replay_cap `hello` announces, `subscribe` replays nothing and says recovered: false with the chat's last_seq; live messages follow",
            announced_cap,
        ),
    ]
}

/// The largest announced replay cap `ws.resume.announced-cap` fills up
/// (the default): past it the case is skipped.
const MAX_FILLED_CAP: usize = 1000;

/// Messages each sender posts to fill a chat: under the default sending
/// allowance of a principal (120 a minute), so no post waits out a 429.
const PER_SENDER: usize = 100;

/// A new chat with `count` messages posted over REST.
async fn chat_with(ctx: &Ctx, count: usize) -> Result<(Chat, Vec<Value>), Failure> {
    let chat = ctx.new_chat().await?;
    let mut stored = Vec::with_capacity(count);
    for n in 1..=count {
        stored.push(post_as_guest(ctx, &chat, &format!("m-{n}")).await?);
    }
    Ok((chat, stored))
}

fn check_subscribed(
    subscribed: &Value,
    chat: &str,
    recovered: bool,
    last_seq: i64,
    context: &str,
) -> Result<(), Failure> {
    checks::same(
        context,
        &json!({"type": "subscribed", "chat_id": chat, "recovered": recovered, "last_seq": last_seq}),
        subscribed,
    )
}

async fn after_seq(ctx: Ctx) -> CaseResult {
    let (chat, stored) = chat_with(&ctx, 5).await?;
    let admin = ctx.admin()?;
    let (mut ws, _) = ctx.connect("agent", &admin.access_token).await?;
    let (replayed, subscribed) = subscribe(&mut ws, &chat.id, 2).await?;
    ensure(
        replayed.as_slice() == &stored[2..],
        "the replay of `subscribe {after_seq: 2}`",
        format!(
            "the stored messages with seq 3, 4, 5, in order: {}",
            checks::show(&Value::Array(stored[2..].to_vec()))
        ),
        || {
            format!(
                "seq {:?}: {}",
                seqs(&replayed),
                checks::show(&Value::Array(replayed.clone()))
            )
        },
    )?;
    check_subscribed(
        &subscribed,
        &chat.id,
        true,
        5,
        "the `subscribed` after the replay",
    )?;
    let live = post_as_guest(&ctx, &chat, "m-6").await?;
    let heard = ws.expect("message").await?;
    checks::same("the next live message", &live, &heard["message"])?;
    ws.expect_quiet("nothing twice").await?;
    ws.close().await;
    Ok(())
}

async fn beyond_last_seq(ctx: Ctx) -> CaseResult {
    let (chat, _) = chat_with(&ctx, 2).await?;
    let admin = ctx.admin()?;
    let (mut ws, _) = ctx.connect("agent", &admin.access_token).await?;
    let (replayed, subscribed) = subscribe(&mut ws, &chat.id, 50).await?;
    ensure(
        replayed.is_empty(),
        "the replay of `subscribe {after_seq: 50}` in a chat of 2 messages",
        "nothing",
        || format!("seq {:?}", seqs(&replayed)),
    )?;
    check_subscribed(&subscribed, &chat.id, true, 2, "the `subscribed`")?;
    let live = post_as_guest(&ctx, &chat, "m-3").await?;
    let heard = ws.expect("message").await?;
    checks::same("the next live message", &live, &heard["message"])?;
    ws.close().await;
    Ok(())
}

async fn guest_url(ctx: Ctx) -> CaseResult {
    let (chat, stored) = chat_with(&ctx, 5).await?;
    let (mut ws, _) = ctx
        .connect_with(Handshake::query("guest", &chat.guest_token).after_seq(3))
        .await?;
    let (replayed, subscribed) = replay_until_subscribed(&mut ws).await?;
    ensure(
        replayed.as_slice() == &stored[3..],
        "the replay of ?after_seq=3",
        "the stored messages with seq 4 and 5, in order",
        || format!("seq {:?}", seqs(&replayed)),
    )?;
    check_subscribed(
        &subscribed,
        &chat.id,
        true,
        5,
        "the `subscribed` after the replay",
    )?;
    let live = post_as_guest(&ctx, &chat, "m-6").await?;
    let heard = ws.expect("message").await?;
    checks::same("the next live message", &live, &heard["message"])?;
    ws.close().await;
    Ok(())
}

async fn negative_after_seq(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let (mut guest, _) = ctx
        .connect_with(Handshake::query("guest", &chat.guest_token).after_seq(-1))
        .await?;
    let answer = guest.next_frame().await?;
    expect_error_frame(
        &answer,
        "invalid_frame",
        &Value::Null,
        "the answer to a guest's ?after_seq=-1",
    )?;
    guest.barrier().await?;
    guest.close().await;
    let admin = ctx.admin()?;
    let (mut agent, _) = ctx.connect("agent", &admin.access_token).await?;
    agent
        .send(json!({"type": "subscribe", "chat_id": chat.id, "after_seq": -1, "ref": "r-neg"}))
        .await?;
    let answer = agent.next_frame().await?;
    expect_error_frame(
        &answer,
        "invalid_frame",
        &json!("r-neg"),
        "`subscribe {after_seq: -1}`",
    )?;
    agent.close().await;
    Ok(())
}

async fn replay_cap(ctx: Ctx) -> CaseResult {
    let cap = i64::from(ctx.config().limits.ws_replay_cap);
    let total = cap + 2;
    let (chat, _) = chat_with(&ctx, usize::try_from(total).unwrap_or(0)).await?;
    let admin = ctx.admin()?;
    let (mut ws, _) = ctx.connect("agent", &admin.access_token).await?;
    let (replayed, subscribed) = subscribe(&mut ws, &chat.id, 0).await?;
    ensure(
        replayed.is_empty(),
        format!("`subscribe {{after_seq: 0}}` with {total} messages missing (cap {cap})"),
        "no replay",
        || format!("{} messages", replayed.len()),
    )?;
    check_subscribed(
        &subscribed,
        &chat.id,
        false,
        total,
        "the `subscribed` past the cap",
    )?;
    let (replayed, subscribed) = subscribe(&mut ws, &chat.id, 2).await?;
    let expected: Vec<i64> = (3..=total).collect();
    ensure(
        seqs(&replayed) == expected,
        format!("`subscribe {{after_seq: 2}}`: exactly the cap ({cap}) missing"),
        format!("seq {expected:?}"),
        || format!("seq {:?}", seqs(&replayed)),
    )?;
    check_subscribed(
        &subscribed,
        &chat.id,
        true,
        total,
        "the `subscribed` at the cap",
    )?;
    ws.close().await;
    Ok(())
}

async fn announced_cap(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    let (mut ws, hello) = ctx.connect("agent", &admin.access_token).await?;
    let cap = checks::i64_at(&hello, "/limits/replay_cap", "the `hello`")?;
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    if cap > MAX_FILLED_CAP {
        return Err(CaseError::Skipped(format!(
            "the server announces replay_cap {cap}; the case stores at most {MAX_FILLED_CAP} + 1 messages"
        )));
    }
    let chat = ctx.new_chat().await?;
    let total = cap + 1;
    fill(&ctx, &chat, total).await?;
    let (replayed, subscribed) = subscribe(&mut ws, &chat.id, 0).await?;
    ensure(
        replayed.is_empty(),
        format!("`subscribe {{after_seq: 0}}` with {total} messages missing (announced cap {cap})"),
        "no replay",
        || format!("{} messages", replayed.len()),
    )?;
    check_subscribed(
        &subscribed,
        &chat.id,
        false,
        i64::try_from(total).unwrap_or(i64::MAX),
        "the `subscribed` past the announced cap",
    )?;
    let live = post_as_guest(&ctx, &chat, "live").await?;
    let heard = ws.expect("message").await?;
    checks::same("the next live message", &live, &heard["message"])?;
    ws.close().await;
    Ok(())
}

/// Posts `total` messages to `chat` over REST, [`PER_SENDER`] each from
/// its guest and from as many new agents as it takes, the senders at
/// once. The shared admin and agent send none: their allowance is for the
/// cases that follow.
async fn fill(ctx: &Ctx, chat: &Chat, total: usize) -> Result<(), Failure> {
    let mut tokens = vec![chat.guest_token.clone()];
    while tokens.len() < total.div_ceil(PER_SENDER) {
        tokens.push(ctx.create_agent().await?.access_token);
    }
    let mut senders = Vec::with_capacity(tokens.len());
    for (n, token) in tokens.into_iter().enumerate() {
        let first = n * PER_SENDER;
        let count = PER_SENDER.min(total - first);
        let ctx = ctx.clone();
        let path = format!("/v1/chats/{}/messages", chat.id);
        senders.push(tokio::spawn(async move {
            for m in first..first + count {
                let reply = ctx
                    .post(path.as_str())
                    .bearer(&token)
                    .json(json!({"client_msg_id": format!("fill-{m}"), "body": "filling the chat"}))
                    .send()
                    .await?;
                expect_status(&reply, 201, &format!("posting fill-{m} over REST"))?;
            }
            Ok::<(), Failure>(())
        }));
    }
    for sender in senders {
        sender.await.map_err(|error| {
            Failure::new(
                "filling the chat",
                "every post to finish",
                error.to_string(),
            )
        })??;
    }
    Ok(())
}
