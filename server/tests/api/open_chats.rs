//! The open chats one client address may hold (`startChat` in
//! `spec/v1/openapi.json`, error `too_many_open_chats`; the
//! `--open-chats-per-address` option): an IPv4 address counts alone, an
//! IPv6 address with its whole /64, as the trusted `X-Forwarded-For` hop
//! gives it; past the bound a start is refused with 429 (its
//! `Retry-After` a hint), and a chat closing (by an agent, or idle) frees
//! a place.

use std::time::Duration;

use byrd_server::store::IdleClose;

use crate::helpers::{TestApp, error_code, json_body, spawn_app_with};

async fn bounded_app(max_open: u32) -> TestApp {
    spawn_app_with(|s| {
        s.trust_forwarded_for = true;
        s.limits.open_chats_per_address = max_open;
        s.limits.chat_idle_close = None;
    })
    .await
}

async fn start_from(app: &TestApp, address: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/chats"))
        .header("x-forwarded-for", address)
        .send()
        .await
        .unwrap()
}

async fn started_from(app: &TestApp, address: &str) -> String {
    let started = json_body(start_from(app, address).await, 201).await;
    started["chat"]["id"].as_str().unwrap().to_owned()
}

async fn refused_from(app: &TestApp, address: &str) {
    let refused = start_from(app, address).await;
    assert_eq!(refused.headers()["retry-after"], "60");
    assert_eq!(error_code(refused, 429).await, "too_many_open_chats");
}

#[tokio::test]
async fn an_ipv4_address_holds_up_to_the_bound_and_a_close_frees_a_place() {
    let app = bounded_app(2).await;
    let admin = app.admin_token().await;
    let first = started_from(&app, "203.0.113.7").await;
    started_from(&app, "203.0.113.7").await;
    refused_from(&app, "203.0.113.7").await;
    started_from(&app, "203.0.113.8").await;

    // Taken is still open: it counts.
    let taken = app
        .post(&format!("/v1/chats/{first}/assign"), Some(&admin), None)
        .await;
    assert_eq!(taken.status(), 200);
    refused_from(&app, "203.0.113.7").await;

    let closed = app
        .post(&format!("/v1/chats/{first}/close"), Some(&admin), None)
        .await;
    assert_eq!(closed.status(), 200);
    started_from(&app, "203.0.113.7").await;
    refused_from(&app, "203.0.113.7").await;
}

#[tokio::test]
async fn ipv6_addresses_of_one_64_count_together_and_another_64_apart() {
    let app = bounded_app(2).await;
    started_from(&app, "2001:db8:1:2::1").await;
    started_from(&app, "2001:db8:1:2:ffff:ffff:ffff:fffe").await;
    refused_from(&app, "2001:db8:1:2:abcd::9").await;
    started_from(&app, "2001:db8:1:3::1").await;
    // An IPv4-mapped address is its IPv4 address.
    started_from(&app, "198.51.100.4").await;
    started_from(&app, "::ffff:198.51.100.4").await;
    refused_from(&app, "198.51.100.4").await;
}

#[tokio::test]
async fn an_idle_close_frees_a_place_too() {
    let app = bounded_app(1).await;
    started_from(&app, "192.0.2.1").await;
    refused_from(&app, "192.0.2.1").await;
    let idle = IdleClose {
        idle: Duration::ZERO,
    };
    assert_eq!(
        app.state.store.close_idle_chats(idle).await.unwrap().len(),
        1
    );
    started_from(&app, "192.0.2.1").await;
}

#[tokio::test]
async fn zero_means_no_bound() {
    let app = bounded_app(0).await;
    for _ in 0..12 {
        started_from(&app, "192.0.2.9").await;
    }
}
