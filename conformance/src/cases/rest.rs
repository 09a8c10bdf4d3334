//! `rest.*`: conventions, errors, agents, chats, pagination and the REST
//! side of messages (spec: "Conventions", "Errors", "Endpoints",
//! "Pagination", "REST for messages").

use reqwest::Method;
use serde_json::{Value, json};

use crate::case::{Case, CaseResult, Failure};
use crate::checks::{self, array_at, ensure, expect_error, expect_status, seqs, str_at};
use crate::context::{Chat, Ctx};
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
        Case::must(
            "rest.agents.create",
            "endpoints",
            "an admin creates an agent (unknown body fields ignored) and lists it; the same email in other case answers 409 email_taken",
            create_agent,
        ),
        Case::must(
            "rest.chats.bad-id",
            "endpoints",
            "a chat id that is not a UUID answers 400 invalid_request; an unknown one 404 chat_not_found",
            bad_chat_id,
        ),
        Case::must(
            "rest.chats.assign-and-close",
            "endpoints",
            "assign answers the chat `assigned` to the caller (an unknown agent_id: 404 agent_not_found); close answers it `closed`; closing or assigning again answers 409 chat_closed",
            assign_and_close,
        ),
        Case::must(
            "rest.chats.null-body",
            "endpoints",
            "an optional body sent as JSON `null` means no body: `POST /v1/chats` starts an anonymous chat (201), assign gives the chat to the caller (200)",
            null_body,
        ),
        Case::must(
            "rest.chats.pagination",
            "pagination",
            "`GET /v1/chats` pages newest first with an opaque cursor; pages do not overlap; a bad cursor, limit or status answers 400 invalid_request",
            pagination,
        ),
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

async fn health(ctx: Ctx) -> CaseResult {
    let reply = ctx.get("/healthz").send().await?;
    expect_status(&reply, 200, "GET /healthz")?;
    checks::same("GET /healthz", &json!({"status": "ok"}), reply.json())?;
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

async fn create_agent(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    let email = format!("new-{}@example.com", uuid::Uuid::new_v4());
    let created = ctx
        .post("/v1/agents")
        .bearer(&admin.access_token)
        .json(json!({"email": email, "name": "Grace", "role": "agent", "password": "a long enough password", "favourite_colour": "blue"}))
        .send()
        .await?;
    expect_status(&created, 201, "POST /v1/agents with an extra field")?;
    let agent = created.json();
    ensure(
        agent["email"] == email.as_str() && agent["name"] == "Grace" && agent["role"] == "agent",
        "the created agent",
        format!("email {email:?}, name \"Grace\", role \"agent\""),
        || checks::show(agent),
    )?;
    let id = str_at(agent, "/id", "the created agent")?.to_owned();
    let listed = ctx
        .get("/v1/agents")
        .bearer(&admin.access_token)
        .send()
        .await?;
    expect_status(&listed, 200, "GET /v1/agents")?;
    let agents = array_at(listed.json(), "/agents", "GET /v1/agents")?;
    ensure(
        agents.iter().any(|agent| agent["id"] == id.as_str()),
        "GET /v1/agents",
        format!("the new agent {id} listed"),
        || checks::show(listed.json()),
    )?;
    let again = ctx
        .post("/v1/agents")
        .bearer(&admin.access_token)
        .json(json!({"email": email.to_ascii_uppercase(), "name": "Grace", "role": "agent", "password": "a long enough password"}))
        .send()
        .await?;
    expect_error(
        &again,
        409,
        "email_taken",
        "creating an agent with the same email in upper case",
    )?;
    Ok(())
}

async fn bad_chat_id(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    let reply = ctx
        .get("/v1/chats/not-a-uuid")
        .bearer(&admin.access_token)
        .send()
        .await?;
    expect_error(&reply, 400, "invalid_request", "GET /v1/chats/not-a-uuid")?;
    let path = format!("/v1/chats/{}", uuid::Uuid::new_v4());
    let reply = ctx.get(&path).bearer(&admin.access_token).send().await?;
    expect_error(
        &reply,
        404,
        "chat_not_found",
        &format!("GET {path} (no such chat)"),
    )?;
    Ok(())
}

async fn assign_and_close(ctx: Ctx) -> CaseResult {
    let agent = ctx.agent().await?;
    let chat = ctx.new_chat().await?;
    let assign = format!("/v1/chats/{}/assign", chat.id);
    let close = format!("/v1/chats/{}/close", chat.id);
    let unknown = ctx
        .post(&assign)
        .bearer(&agent.access_token)
        .json(json!({"agent_id": uuid::Uuid::new_v4().to_string()}))
        .send()
        .await?;
    expect_error(
        &unknown,
        404,
        "agent_not_found",
        "assigning the chat to an unknown agent",
    )?;
    let assigned = ctx.post(&assign).bearer(&agent.access_token).send().await?;
    expect_status(&assigned, 200, &format!("POST {assign} without a body"))?;
    ensure(
        assigned.json()["status"] == "assigned"
            && assigned.json()["assigned_agent_id"] == agent.agent_id.as_str(),
        "the assigned chat",
        format!(
            "status \"assigned\", assigned_agent_id {:?} (the caller)",
            agent.agent_id
        ),
        || checks::show(assigned.json()),
    )?;
    let closed = ctx.post(&close).bearer(&agent.access_token).send().await?;
    expect_status(&closed, 200, &format!("POST {close}"))?;
    ensure(
        closed.json()["status"] == "closed",
        "the closed chat",
        "status \"closed\"",
        || checks::show(closed.json()),
    )?;
    let again = ctx.post(&close).bearer(&agent.access_token).send().await?;
    expect_error(&again, 409, "chat_closed", "closing the chat again")?;
    let reassign = ctx.post(&assign).bearer(&agent.access_token).send().await?;
    expect_error(&reassign, 409, "chat_closed", "assigning a closed chat")?;
    Ok(())
}

async fn null_body(ctx: Ctx) -> CaseResult {
    let started = ctx.post("/v1/chats").json(Value::Null).send().await?;
    expect_status(&started, 201, "POST /v1/chats with the body `null`")?;
    let chat = str_at(started.json(), "/chat/id", "the started chat")?.to_owned();
    ensure(
        started.json()["chat"]["visitor"]["name"].is_null()
            && started.json()["guest_token"].is_string(),
        "the chat started with the body `null`",
        "an anonymous visitor and a guest token",
        || checks::show(started.json()),
    )?;
    let agent = ctx.agent().await?;
    let assign = format!("/v1/chats/{chat}/assign");
    let assigned = ctx
        .post(&assign)
        .bearer(&agent.access_token)
        .json(Value::Null)
        .send()
        .await?;
    expect_status(
        &assigned,
        200,
        &format!("POST {assign} with the body `null`"),
    )?;
    ensure(
        assigned.json()["assigned_agent_id"] == agent.agent_id.as_str(),
        "the chat assigned with the body `null`",
        format!("assigned_agent_id {:?} (the caller)", agent.agent_id),
        || checks::show(assigned.json()),
    )?;
    Ok(())
}

async fn page(ctx: &Ctx, token: &str, query: &str) -> Result<Reply, Failure> {
    ctx.get(format!("/v1/chats?{query}"))
        .bearer(token)
        .send()
        .await
}

async fn pagination(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    // Three chats of our own, so there are at least three pages of one.
    let mut started = Vec::new();
    for _ in 0..3 {
        started.push(ctx.new_chat().await?.id);
    }
    let first = page(&ctx, &admin.access_token, "limit=1&status=open").await?;
    expect_status(&first, 200, "GET /v1/chats?limit=1&status=open")?;
    let mut seen: Vec<Value> = array_at(first.json(), "/chats", "the first page")?.clone();
    let mut cursor = first.json()["next_cursor"].clone();
    for n in 2..=3 {
        let Some(next) = cursor.as_str() else {
            return Err(Failure::new(
                format!("page {n} of GET /v1/chats?limit=1&status=open"),
                "a next_cursor (at least three open chats exist)",
                "null",
            )
            .into());
        };
        let query = format!(
            "limit=1&status=open&cursor={}",
            crate::wire::ws::percent_encode(next)
        );
        let reply = page(&ctx, &admin.access_token, &query).await?;
        expect_status(&reply, 200, &format!("page {n} of GET /v1/chats"))?;
        let chats = array_at(reply.json(), "/chats", "a page")?;
        ensure(
            chats.len() == 1,
            format!("page {n}"),
            "one chat (limit=1)",
            || checks::show(reply.json()),
        )?;
        seen.extend(chats.iter().cloned());
        cursor = reply.json()["next_cursor"].clone();
    }
    let ids: Vec<&str> = seen.iter().filter_map(|chat| chat["id"].as_str()).collect();
    let times: Vec<&str> = seen
        .iter()
        .filter_map(|chat| chat["created_at"].as_str())
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    let newest_first = times.windows(2).all(|pair| {
        let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
        at(pair[0]) >= at(pair[1])
    });
    ensure(
        unique.len() == 3 && newest_first && seen.iter().all(|chat| chat["status"] == "open"),
        "three pages of one open chat",
        "three different open chats, newest first",
        || checks::show(&Value::Array(seen.clone())),
    )?;
    ensure(
        ids.first().copied() == started.last().map(String::as_str),
        "the first page",
        format!("the newest chat, {:?}", started.last()),
        || format!("{:?}", ids.first()),
    )?;
    for query in [
        "cursor=not-a-cursor",
        "limit=0",
        "limit=101",
        "status=pending",
    ] {
        let reply = page(&ctx, &admin.access_token, query).await?;
        expect_error(
            &reply,
            400,
            "invalid_request",
            &format!("GET /v1/chats?{query}"),
        )?;
    }
    Ok(())
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
