//! `rest.messages.*`: the REST side of messages, sending and history
//! (spec: "REST for messages").

use serde_json::json;

use crate::case::{Case, CaseResult, Failure};
use crate::checks::{self, array_at, ensure, expect_error, expect_status, seqs};
use crate::context::{Chat, Ctx};
use crate::wire::http::Reply;

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "rest.messages.send",
            "rest-for-messages",
            "`POST /v1/chats/{chat_id}/messages` answers 201 with the stored message, and 200 with the same message when the client_msg_id is sent again",
            send_message,
        ),
        Case::must(
            "rest.messages.history",
            "rest-for-messages",
            "history pages in ascending seq with after_seq, before_seq, limit and has_more; a bad limit or a negative seq answers 400 invalid_request",
            history,
        ),
        Case::must(
            "rest.messages.validation",
            "rest-for-messages",
            "a bad client_msg_id answers 422 validation_failed; a blank or overlong body 422 body_too_long; nothing is stored",
            message_validation,
        ),
        Case::must(
            "rest.messages.closed-chat",
            "rest-for-messages",
            "sending to a closed chat answers 409 chat_closed",
            closed_chat_message,
        ),
    ]
}

async fn post_message(
    ctx: &Ctx,
    chat: &Chat,
    client_msg_id: &str,
    body: &str,
) -> Result<Reply, Failure> {
    ctx.post(format!("/v1/chats/{}/messages", chat.id))
        .bearer(&chat.guest_token)
        .json(json!({"client_msg_id": client_msg_id, "body": body}))
        .send()
        .await
}

async fn send_message(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let first = post_message(&ctx, &chat, "m-1", "Hello!").await?;
    expect_status(&first, 201, "the first POST of client_msg_id m-1")?;
    let message = first.json();
    ensure(
        message["seq"] == 1
            && message["chat_id"] == chat.id.as_str()
            && message["body"] == "Hello!"
            && message["client_msg_id"] == "m-1"
            && message["author"]["type"] == "guest"
            && message["author"]["id"] == chat.visitor_id.as_str(),
        "the stored message",
        "seq 1 in the chat, the body and client_msg_id as sent, authored by the guest (its visitor id)",
        || checks::show(message),
    )?;
    let again = post_message(&ctx, &chat, "m-1", "Hello!").await?;
    expect_status(&again, 200, "sending client_msg_id m-1 again")?;
    checks::same("the message answered to the retry", message, again.json())?;
    let stored = ctx
        .get(format!("/v1/chats/{}/messages", chat.id))
        .bearer(&chat.guest_token)
        .send()
        .await?;
    expect_status(&stored, 200, "reading the history")?;
    checks::same(
        "the history after a retry",
        &json!([message]),
        &stored.json()["messages"],
    )?;
    Ok(())
}

async fn history(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    for n in 1..=5 {
        let reply = post_message(&ctx, &chat, &format!("h-{n}"), &format!("message {n}")).await?;
        expect_status(&reply, 201, &format!("posting message {n}"))?;
    }
    let base = format!("/v1/chats/{}/messages", chat.id);
    for (query, expected, more) in [
        ("", vec![1, 2, 3, 4, 5], false),
        ("?after_seq=2&limit=2", vec![3, 4], true),
        ("?after_seq=3", vec![4, 5], false),
        ("?before_seq=5&limit=2", vec![3, 4], true),
        ("?before_seq=3", vec![1, 2], false),
    ] {
        let reply = ctx
            .get(format!("{base}{query}"))
            .bearer(&chat.guest_token)
            .send()
            .await?;
        expect_status(&reply, 200, &format!("GET {base}{query}"))?;
        let messages = array_at(reply.json(), "/messages", "a history page")?;
        ensure(
            seqs(messages) == expected && reply.json()["has_more"] == more,
            format!("GET messages{query}"),
            format!("seqs {expected:?}, has_more {more}"),
            || {
                format!(
                    "seqs {:?}, has_more {}",
                    seqs(messages),
                    reply.json()["has_more"]
                )
            },
        )?;
    }
    for query in [
        "?limit=0",
        "?limit=201",
        "?limit=ten",
        "?after_seq=-1",
        "?before_seq=-1",
    ] {
        let reply = ctx
            .get(format!("{base}{query}"))
            .bearer(&chat.guest_token)
            .send()
            .await?;
        expect_error(
            &reply,
            400,
            "invalid_request",
            &format!("GET messages{query}"),
        )?;
    }
    Ok(())
}

async fn message_validation(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let limit = ctx.config().limits.max_message_chars;
    let too_long = "x".repeat(limit + 1);
    let cases: [(&str, &str, &str); 5] = [
        ("has space", "hi", "validation_failed"),
        ("", "hi", "validation_failed"),
        (&"k".repeat(65), "hi", "validation_failed"),
        ("blank", "   ", "body_too_long"),
        ("long", &too_long, "body_too_long"),
    ];
    for (client_msg_id, body, code) in cases {
        let reply = post_message(&ctx, &chat, client_msg_id, body).await?;
        expect_error(
            &reply,
            422,
            code,
            &format!(
                "a message with client_msg_id {client_msg_id:?} and a {}-character body",
                body.chars().count()
            ),
        )?;
    }
    let stored = ctx
        .get(format!("/v1/chats/{}/messages", chat.id))
        .bearer(&chat.guest_token)
        .send()
        .await?;
    expect_status(&stored, 200, "reading the history")?;
    checks::same(
        "the history after refused messages",
        &json!([]),
        &stored.json()["messages"],
    )?;
    Ok(())
}

async fn closed_chat_message(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    ctx.close_chat(&chat).await?;
    let reply = post_message(&ctx, &chat, "late", "anyone?").await?;
    expect_error(&reply, 409, "chat_closed", "sending to a closed chat")?;
    Ok(())
}
