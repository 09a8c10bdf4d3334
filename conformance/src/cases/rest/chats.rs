//! `rest.chats.*`: reading, assigning, closing and paging chats (spec:
//! "Endpoints", "Pagination").

use serde_json::{Value, json};

use crate::case::{Case, CaseResult, Failure};
use crate::checks::{self, array_at, ensure, expect_error, expect_status, str_at};
use crate::context::Ctx;
use crate::wire::http::Reply;

pub fn cases() -> Vec<Case> {
    vec![
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
    ]
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
