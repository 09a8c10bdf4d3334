//! `ws.frames.*`: refused frames and `ping` (spec: "Frames", "Errors"
//! of the WebSocket chapter). A refused frame is answered with
//! `error {code, message, ref}` and the connection stays open.

use serde_json::{Value, json};

use crate::case::{Case, CaseResult, Failure};
use crate::checks::{self, ensure, expect_error_frame};
use crate::context::Ctx;
use crate::wire::ws::Ws;

use super::ws_steps::{history, send_frame};

const SECTION: &str = "errors-1";

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "ws.frames.error-ref",
            "frames",
            "an `error` echoes the refused frame's `ref`, else its `client_msg_id`, else carries ref null; it has a code and a message",
            error_ref,
        ),
        Case::must(
            "ws.frames.invalid-json",
            SECTION,
            "a text frame that is not JSON, and a binary frame, are answered with `error` invalid_json",
            invalid_json,
        ),
        Case::must(
            "ws.frames.invalid-frame",
            SECTION,
            "not an object with a string `type`, a missing field or one of the wrong type is answered with `error` invalid_frame",
            invalid_frame,
        ),
        Case::must(
            "ws.frames.unknown-type",
            SECTION,
            "a frame whose `type` the protocol does not define is answered with `error` unknown_frame_type",
            unknown_type,
        ),
        Case::must(
            "ws.frames.unknown-fields",
            "frames",
            "unknown fields in client frames are ignored",
            unknown_fields,
        ),
        Case::must(
            "ws.frames.ping",
            "frames",
            "`ping` is answered by `pong` with the same nonce, or nonce null without one",
            ping,
        ),
        Case::must(
            "ws.frames.bad-client-msg-id",
            SECTION,
            "a `send` whose client_msg_id is empty, has a space or is over 64 characters is answered with `error` validation_failed, and nothing is stored",
            bad_client_msg_id,
        ),
        Case::must(
            "ws.frames.body-too-long",
            SECTION,
            "a `send` whose body is blank or over the limit is answered with `error` body_too_long, and nothing is stored",
            body_too_long,
        ),
    ]
}

/// Sends `text` as-is and reads the `error` it must get.
async fn refused(ws: &mut Ws, text: &str) -> Result<Value, Failure> {
    ws.send_text(text).await?;
    ws.next_frame().await
}

/// Each `(text, code, ref)` gets its error; then the socket still answers.
async fn expect_errors(ws: &mut Ws, cases: &[(String, &str, Value)]) -> Result<(), Failure> {
    for (text, code, reference) in cases {
        let answer = refused(ws, text).await?;
        expect_error_frame(&answer, code, reference, &format!("the answer to {text}"))?;
    }
    ws.barrier().await.map(|_| ())
}

async fn error_ref(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    let answer = refused(&mut ws, r#"{"type": "shout", "ref": "r-1"}"#).await?;
    expect_error_frame(
        &answer,
        "unknown_frame_type",
        &json!("r-1"),
        "a frame with a ref",
    )?;
    let message = answer["message"].as_str().unwrap_or_default();
    ensure(
        !message.is_empty(),
        "the `error` frame",
        "a message for people",
        || checks::show(&answer),
    )?;
    let no_ref = json!({"type": "send", "chat_id": chat.id, "client_msg_id": "c-1"}).to_string();
    let answer = refused(&mut ws, &no_ref).await?;
    expect_error_frame(
        &answer,
        "invalid_frame",
        &json!("c-1"),
        "a refused `send` without ref",
    )?;
    let answer = refused(&mut ws, r#"{"type": "shout"}"#).await?;
    expect_error_frame(
        &answer,
        "unknown_frame_type",
        &Value::Null,
        "a frame with neither ref nor client_msg_id",
    )?;
    ws.barrier().await?;
    ws.close().await;
    Ok(())
}

async fn invalid_json(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    expect_errors(
        &mut ws,
        &[
            (r#"{"type": "ping""#.to_owned(), "invalid_json", Value::Null),
            ("not json at all".to_owned(), "invalid_json", Value::Null),
        ],
    )
    .await?;
    ws.send_binary(br#"{"type": "ping", "nonce": "binary"}"#.to_vec())
        .await?;
    let answer = ws.next_frame().await?;
    expect_error_frame(&answer, "invalid_json", &Value::Null, "a binary frame")?;
    ws.barrier().await?;
    ws.close().await;
    Ok(())
}

async fn invalid_frame(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    let id = &chat.id;
    expect_errors(
        &mut ws,
        &[
            ("[1, 2]".to_owned(), "invalid_frame", Value::Null),
            (r#""ping""#.to_owned(), "invalid_frame", Value::Null),
            (
                r#"{"ref": "r-2"}"#.to_owned(),
                "invalid_frame",
                json!("r-2"),
            ),
            (
                r#"{"type": 7, "ref": "r-3"}"#.to_owned(),
                "invalid_frame",
                json!("r-3"),
            ),
            (
                json!({"type": "subscribe", "chat_id": "not-a-uuid", "ref": "r-4"}).to_string(),
                "invalid_frame",
                json!("r-4"),
            ),
            (
                json!({"type": "typing", "chat_id": id, "ref": "r-5"}).to_string(),
                "invalid_frame",
                json!("r-5"),
            ),
            (
                json!({"type": "read", "chat_id": id, "seq": -1, "ref": "r-6"}).to_string(),
                "invalid_frame",
                json!("r-6"),
            ),
            (
                json!({"type": "send", "chat_id": id, "client_msg_id": "c-2", "body": 5})
                    .to_string(),
                "invalid_frame",
                json!("c-2"),
            ),
        ],
    )
    .await?;
    ws.close().await;
    Ok(())
}

async fn unknown_type(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    expect_errors(
        &mut ws,
        &[
            (
                r#"{"type": "shout", "ref": "r-1"}"#.to_owned(),
                "unknown_frame_type",
                json!("r-1"),
            ),
            (
                r#"{"type": "PING", "ref": "r-2"}"#.to_owned(),
                "unknown_frame_type",
                json!("r-2"),
            ),
            (
                r#"{"type": "hello", "ref": "r-3"}"#.to_owned(),
                "unknown_frame_type",
                json!("r-3"),
            ),
        ],
    )
    .await?;
    ws.close().await;
    Ok(())
}

async fn unknown_fields(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    ws.send(json!({"type": "ping", "nonce": "n-extra", "colour": "blue", "ref": "r"}))
        .await?;
    let pong = ws.expect("pong").await?;
    ensure(
        pong["nonce"] == "n-extra",
        "the answer to a ping with an unknown field",
        "`pong` {nonce: \"n-extra\"}",
        || checks::show(&pong),
    )?;
    ws.close().await;
    Ok(())
}

async fn ping(ctx: Ctx) -> CaseResult {
    let chat = ctx.shared_chat().await?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    ws.send(json!({"type": "ping", "nonce": "n-1"})).await?;
    let pong = ws.expect("pong").await?;
    ensure(
        pong["nonce"] == "n-1",
        "the answer to `ping` {nonce: \"n-1\"}",
        "`pong` {nonce: \"n-1\"}",
        || checks::show(&pong),
    )?;
    ws.send(json!({"type": "ping"})).await?;
    let pong = ws.expect("pong").await?;
    ensure(
        pong.get("nonce") == Some(&Value::Null),
        "the answer to `ping` without a nonce",
        "`pong` {nonce: null}",
        || checks::show(&pong),
    )?;
    ws.close().await;
    Ok(())
}

async fn nothing_stored(ctx: &Ctx, chat: &str) -> Result<(), Failure> {
    let stored = history(ctx, chat).await?;
    ensure(
        stored.is_empty(),
        "the chat's history after refused sends",
        "no message",
        || checks::show(&Value::Array(stored.clone())),
    )
}

async fn bad_client_msg_id(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    let long = "k".repeat(65);
    for client_msg_id in ["has space", long.as_str(), "tab\there"] {
        ws.send(send_frame(&chat.id, client_msg_id, "hi")).await?;
        let answer = ws.next_frame().await?;
        // The echo is cut to its first 64 characters.
        let echoed: String = client_msg_id.chars().take(64).collect();
        expect_error_frame(
            &answer,
            "validation_failed",
            &json!(echoed),
            &format!("a `send` with client_msg_id {client_msg_id:?}"),
        )?;
    }
    ws.send(json!({"type": "send", "chat_id": chat.id, "client_msg_id": "", "body": "hi", "ref": "r-empty"}))
        .await?;
    let answer = ws.next_frame().await?;
    expect_error_frame(
        &answer,
        "validation_failed",
        &json!("r-empty"),
        "a `send` with an empty client_msg_id",
    )?;
    ws.barrier().await?;
    ws.close().await;
    nothing_stored(&ctx, &chat.id).await?;
    Ok(())
}

async fn body_too_long(ctx: Ctx) -> CaseResult {
    let chat = ctx.new_chat().await?;
    let (mut ws, _) = ctx.connect("guest", &chat.guest_token).await?;
    let long = "x".repeat(ctx.config().limits.max_message_chars + 1);
    for (client_msg_id, body) in [("blank", "  \n\t "), ("empty", ""), ("long", long.as_str())] {
        ws.send(send_frame(&chat.id, client_msg_id, body)).await?;
        let answer = ws.next_frame().await?;
        expect_error_frame(
            &answer,
            "body_too_long",
            &json!(client_msg_id),
            &format!("a `send` with a {client_msg_id} body"),
        )?;
    }
    ws.barrier().await?;
    ws.close().await;
    nothing_stored(&ctx, &chat.id).await?;
    Ok(())
}
