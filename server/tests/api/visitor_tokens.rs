//! The lifetime of anonymous visitors' continuity tokens (`startChat`'s
//! `visitor_token`; README "Returning and verified visitors"): valid
//! `--visitor-token-ttl-secs` (180 days by default) after their last use,
//! then forgotten by housekeeping, which drops the token's hash and keeps
//! the visitor and their chats.

use std::time::Duration;

use byrd_server::configuration::Settings;
use byrd_server::options::{self, Values};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{TestApp, json_body, on_postgres, spawn_app_with};

async fn start(app: &TestApp, body: Value) -> Value {
    json_body(app.post("/v1/chats", None, Some(&body)).await, 201).await
}

fn visitor_id(started: &Value) -> String {
    started["chat"]["visitor"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `(visitors, visitors holding a token)` in the app's database.
async fn visitors(app: &TestApp) -> (i64, i64) {
    let url = app.state.settings.database_url.expose_secret().to_owned();
    let query = "SELECT COUNT(*), COUNT(secret_hash) FROM visitors";
    if on_postgres() {
        let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query_as(query)
            .fetch_one(&mut connection)
            .await
            .unwrap()
    } else {
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query_as(query)
            .fetch_one(&mut connection)
            .await
            .unwrap()
    }
}

async fn housekeeping(app: &TestApp) {
    let jwt = &app.state.settings.jwt;
    app.state
        .store
        .purge_expired(jwt.leeway.get(), jwt.refresh_grace.get())
        .await
        .unwrap();
}

#[test]
fn the_lifetime_is_an_option_of_180_days_by_default() {
    let defaults = Settings::from_options(&Values::default()).unwrap();
    let days = defaults.limits.visitor_token_ttl.as_secs() / (24 * 60 * 60);
    assert_eq!(days, 180);
    let mut values = Values::default();
    values.set(&options::VISITOR_TOKEN_TTL_SECS, "3600");
    let settings = Settings::from_options(&values).unwrap();
    assert_eq!(settings.limits.visitor_token_ttl, Duration::from_secs(3600));
    values.set(&options::VISITOR_TOKEN_TTL_SECS, "59");
    assert!(
        Settings::from_options(&values).is_err(),
        "a minute at least"
    );
}

#[tokio::test]
async fn housekeeping_forgets_lapsed_tokens_and_keeps_their_visitors() {
    let ttl = Duration::from_secs(2);
    let app = spawn_app_with(move |s| s.limits.visitor_token_ttl = ttl).await;
    let admin = app.admin_token().await;
    let lapsed = start(&app, json!({"visitor": {"name": "Sam"}})).await;
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;
    let live = start(&app, json!({})).await;
    assert_eq!(visitors(&app).await, (2, 2));

    housekeeping(&app).await;
    assert_eq!(visitors(&app).await, (2, 1), "one token forgotten");

    // The live token still recognises its visitor; the lapsed one starts
    // a new visitor, as it did before it was forgotten.
    let again = start(&app, json!({"visitor_token": live["visitor_token"]})).await;
    assert_eq!(visitor_id(&again), visitor_id(&live));
    let stranger = start(&app, json!({"visitor_token": lapsed["visitor_token"]})).await;
    assert_ne!(visitor_id(&stranger), visitor_id(&lapsed));
    // The forgotten token's visitor keeps their chat.
    let path = format!("/v1/visitors/{}/chats", visitor_id(&lapsed));
    let page = json_body(app.get(&path, Some(&admin)).await, 200).await;
    assert_eq!(page["chats"][0]["id"], lapsed["chat"]["id"]);
    assert_eq!(page["chats"].as_array().unwrap().len(), 1);
}
