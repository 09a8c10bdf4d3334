//! Listing chats: `GET /v1/chats` (`spec/v1/openapi.json` operation
//! `listChats`; `spec/v1/README.md#pagination`): filtered by status,
//! newest first, paged by an opaque cursor that each store builds and
//! reads back, with the page's documented shape.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, json_body, snapshot_settings, spawn_app};

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("an id")
}

async fn change(app: &TestApp, token: &str, chat: &str, action: &str) -> reqwest::Response {
    app.post(&format!("/v1/chats/{chat}/{action}"), Some(token), None)
        .await
}

#[tokio::test]
async fn listing_chats_filters_by_status() {
    // `GET /v1/chats?status=...` lists only chats with that status.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut started = Vec::new();
    for _ in 0..4 {
        started.push(app.start_chat().await["chat"].clone());
    }
    assert_eq!(
        change(&app, &admin, id(&started[1]), "assign")
            .await
            .status(),
        200
    );
    assert_eq!(
        change(&app, &admin, id(&started[2]), "close")
            .await
            .status(),
        200
    );

    let mut by_status = Vec::new();
    for status in ["open", "assigned", "closed"] {
        let page = json_body(
            app.get(&format!("/v1/chats?status={status}"), Some(&admin))
                .await,
            200,
        )
        .await;
        let ids: Vec<String> = page["chats"]
            .as_array()
            .unwrap()
            .iter()
            .inspect(|chat| assert_eq!(chat["status"], status))
            .map(|chat| chat["id"].as_str().unwrap().to_owned())
            .collect();
        by_status.push(ids);
    }

    assert_eq!(by_status[0], [id(&started[3]), id(&started[0])]);
    assert_eq!(by_status[1], [id(&started[1])]);
    assert_eq!(by_status[2], [id(&started[2])]);
}

#[tokio::test]
async fn listing_chats_pages_through_all_of_them_newest_first() {
    // Cursor pagination: following `next_cursor` visits every chat once,
    // newest first, and the last page has no `next_cursor`.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut expected = Vec::new();
    for _ in 0..7 {
        expected.push(app.start_chat().await["chat"]["id"].clone());
    }
    expected.reverse();

    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut path = "/v1/chats?limit=3".to_owned();
    loop {
        let page = json_body(app.get(&path, Some(&admin)).await, 200).await;
        pages.push(page["chats"].as_array().unwrap().len());
        seen.extend(
            page["chats"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].clone()),
        );
        match page.get("next_cursor") {
            None | Some(Value::Null) => break,
            Some(cursor) => {
                path = format!("/v1/chats?limit=3&cursor={}", cursor.as_str().unwrap());
            }
        }
        assert!(pages.len() < 10, "pagination does not end");
    }

    assert_eq!(pages, [3, 3, 1]);
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_chat_page_has_the_documented_shape() {
    // `GET /v1/chats` answers `{chats: [...], next_cursor}`.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.post(
        "/v1/chats",
        None,
        Some(&json!({"visitor": {"name": "Sam"}, "subject": "Help"})),
    )
    .await;
    app.post("/v1/chats", None, None).await;

    let page = json_body(app.get("/v1/chats?limit=1", Some(&admin)).await, 200).await;

    snapshot_settings().bind(|| insta::assert_json_snapshot!("chat_page", page));
}

#[tokio::test]
async fn a_page_that_ends_exactly_at_the_last_chat_has_no_next_cursor() {
    // `next_cursor` is absent on the last page, even when it is full.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.start_chat().await;
    app.start_chat().await;

    let page = json_body(app.get("/v1/chats?limit=2", Some(&admin)).await, 200).await;
    let empty = json_body(app.get("/v1/chats?status=closed", Some(&admin)).await, 200).await;

    assert_eq!(page["chats"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_null(), "{page}");
    assert_eq!(empty["chats"], json!([]));
    assert!(empty["next_cursor"].is_null(), "{empty}");
}

#[tokio::test]
async fn bad_list_parameters_are_invalid_request() {
    // A bad `status`, `cursor` or `limit` is 400 `invalid_request`.
    let app = spawn_app().await;
    let admin = app.admin_token().await;

    for query in [
        "status=pending",
        "status=",
        "cursor=not-a-cursor",
        "cursor=AAAA",
        "cursor=%00",
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=ten",
    ] {
        let response = app.get(&format!("/v1/chats?{query}"), Some(&admin)).await;
        assert_eq!(
            error_code(response, 400).await,
            "invalid_request",
            "{query}"
        );
    }
    let largest = app.get("/v1/chats?limit=100", Some(&admin)).await;
    assert_eq!(largest.status(), 200, "limit 100 is allowed");
}
