//! `GET /metrics` and `GET /readyz` (README, "Metrics, dashboard and
//! readiness"; `spec/v1/openapi.yaml`, `getReadiness`).
//!
//! The counters are read from the real binary, so that each test's
//! numbers are its own: the recorder is process-wide, and tests in this
//! process run side by side. Readiness is checked in process, where the
//! test can break the store under a running server.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use byrd_server::startup::Application;
use byrd_testkit::server::ServerBuilder;
use byrd_testkit::ws::WsClient;
use byrd_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;

use crate::helpers::{json_body, on_postgres, spawn_app, test_settings};

/// Every sample of a scrape, by `name{label="value",...}` with labels
/// sorted; histograms by their `_sum`, `_count` and `_bucket` lines.
type Samples = BTreeMap<String, f64>;

/// Scrapes `url`: checks the content type, that the text parses as the
/// Prometheus exposition format, and that every sample belongs to a
/// family declared by a `# TYPE` line; returns the samples.
async fn scrape(url: &str) -> Samples {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4"
    );
    let text = response.text().await.unwrap();
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())));
    assert!(
        parsed.is_ok_and(|scrape| !scrape.samples.is_empty()),
        "{text}"
    );
    let mut typed = BTreeMap::new();
    let mut samples = Samples::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        if let Some(declaration) = line.strip_prefix("# TYPE ") {
            let (name, kind) = declaration.split_once(' ').unwrap();
            typed.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let name = series.split('{').next().unwrap();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|base| typed.get(*base).is_some_and(|kind| kind == "histogram"))
            })
            .unwrap_or(name);
        assert!(typed.contains_key(family), "{line:?} has no # TYPE line");
        samples.insert(normalised(series), value.parse().unwrap());
    }
    samples
}

/// `name{b="2",a="1"}` as `name{a="1",b="2"}`.
fn normalised(series: &str) -> String {
    let Some((name, labels)) = series.split_once('{') else {
        return series.to_owned();
    };
    let mut labels: Vec<&str> = labels.trim_end_matches('}').split("\",").collect();
    for label in &mut labels {
        *label = label.trim_end_matches('"');
    }
    labels.sort_unstable();
    let labels: Vec<String> = labels.iter().map(|l| format!("{l}\"")).collect();
    format!("{name}{{{}}}", labels.join(","))
}

/// How much `series` grew from `before` to `after` (absent counts as 0).
fn delta(before: &Samples, after: &Samples, series: &str) -> f64 {
    let series = normalised(series);
    after.get(&series).copied().unwrap_or(0.0) - before.get(&series).copied().unwrap_or(0.0)
}

async fn login(http: &reqwest::Client, base: &str) -> reqwest::Response {
    http.post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
}

/// Reads frames until `count` of each type in `kinds` came, skipping others.
async fn receive_kinds(client: &mut WsClient, kinds: &[&str], count: usize) {
    let mut seen = vec![0; kinds.len()];
    while seen.iter().any(|n| *n < count) {
        let frame = client.next_json().await;
        if let Some(index) = kinds.iter().position(|kind| frame["type"] == *kind) {
            seen[index] += 1;
        }
    }
}

#[tokio::test]
async fn a_scripted_chat_moves_each_counter_by_what_it_did() {
    // Two logins a minute: the third is refused.
    let server = ServerBuilder::new(env!("CARGO_BIN_EXE_byrd"))
        .env("BYRD_LOGINS_PER_MINUTE", "2")
        .start();
    let base = &server.base_url;
    let metrics = format!("{base}/metrics");
    let http = reqwest::Client::new();
    let before = scrape(&metrics).await;

    let session: Value = login(&http, base).await.json().await.unwrap();
    let agent_token = session["access_token"].as_str().unwrap();
    let started: Value = http
        .post(format!("{base}/v1/chats"))
        .json(&json!({"visitor": {"name": "Sam"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chat = started["chat"]["id"].as_str().unwrap();
    let (mut agent, _) = WsClient::connect(&server.address, agent_token).await;
    agent
        .send_json(json!({"type": "subscribe", "chat_id": chat, "after_seq": 0}))
        .await;
    receive_kinds(&mut agent, &["subscribed"], 1).await;
    let guest_token = started["guest_token"].as_str().unwrap();
    let (mut guest, _) = WsClient::connect(&server.address, guest_token).await;
    let during = scrape(&metrics).await;
    for n in 1..=3 {
        guest
            .send_json(json!({"type": "send", "chat_id": chat, "client_msg_id": format!("m{n}"), "body": "Hello"}))
            .await;
    }
    // The guest gets its acks and its own messages live; the agent gets
    // the messages.
    receive_kinds(&mut guest, &["ack", "message"], 3).await;
    receive_kinds(&mut agent, &["message"], 3).await;
    assert_eq!(login(&http, base).await.status(), 200);
    assert_eq!(login(&http, base).await.status(), 429);
    let missing = http
        .get(format!("{base}/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    for client in [&mut agent, &mut guest] {
        let close = CloseFrame {
            code: WsCloseCode::Normal,
            reason: "".into(),
        };
        client.send_raw(Message::Close(Some(close))).await;
        client.drain_until_close().await;
    }
    // The server counts a connection closed once its task ends.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = scrape(&metrics).await;

    let connections = |principal: &str| format!("byrd_ws_connections{{principal=\"{principal}\"}}");
    assert_eq!(delta(&before, &during, &connections("agent")), 1.0);
    assert_eq!(delta(&before, &during, &connections("guest")), 1.0);
    assert_eq!(delta(&before, &after, &connections("agent")), 0.0);
    assert_eq!(delta(&before, &after, &connections("guest")), 0.0);
    let moved = |series: &str| delta(&before, &after, series);
    assert_eq!(moved("byrd_messages_stored_total"), 3.0);
    assert_eq!(moved(r#"byrd_ws_frames_received_total{type="send"}"#), 3.0);
    assert_eq!(
        moved(r#"byrd_ws_frames_received_total{type="subscribe"}"#),
        1.0
    );
    assert_eq!(moved(r#"byrd_ws_frames_sent_total{type="ack"}"#), 3.0);
    assert_eq!(moved(r#"byrd_ws_frames_sent_total{type="message"}"#), 6.0);
    assert_eq!(moved(r#"byrd_ws_frames_sent_total{type="hello"}"#), 2.0);
    assert_eq!(moved(r#"byrd_ws_closes_total{code="1000"}"#), 2.0);
    assert_eq!(moved("byrd_writer_batch_size_sum"), 3.0);
    assert!(moved("byrd_writer_batch_size_count") >= 1.0);
    assert!(moved("byrd_writer_commit_seconds_count") >= moved("byrd_writer_batch_size_count"));
    assert_eq!(moved("byrd_delivery_latency_seconds_count"), 3.0);
    assert_eq!(moved(r#"byrd_rate_limited_total{limit="login"}"#), 1.0);
    let requests = |route: &str, method: &str, status: u16| {
        moved(&format!(
            r#"byrd_http_requests_total{{route="{route}",method="{method}",status="{status}"}}"#
        ))
    };
    assert_eq!(requests("/v1/auth/login", "POST", 200), 2.0);
    assert_eq!(requests("/v1/auth/login", "POST", 429), 1.0);
    assert_eq!(requests("/v1/chats", "POST", 201), 1.0);
    assert_eq!(requests("/v1/ws", "GET", 101), 2.0);
    assert_eq!(requests("unmatched", "GET", 404), 1.0);
    assert!(
        !after.keys().any(|series| series.contains("/no/such/page")),
        "a raw path became a label"
    );
    assert_eq!(
        moved(r#"byrd_http_request_duration_seconds_count{route="/v1/auth/login",method="POST"}"#),
        3.0
    );
    assert!(after.contains_key(&normalised(r#"byrd_db_pool_connections{state="idle"}"#)));
    assert!(after.contains_key("byrd_writer_queue_depth"));
}

#[tokio::test]
async fn with_its_own_listener_metrics_are_served_there_and_not_on_the_main_one() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&data_dir);
    if on_postgres() {
        let url = std::env::var("BYRD_TEST_POSTGRES_URL").unwrap();
        settings.database_url = crate::helpers::fresh_postgres_schema(&url).await.into();
    }
    settings.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let app = Application::build(settings).await.unwrap();
    let main = app.local_addr();
    let own = app.metrics_addr().expect("a metrics listener is bound");
    assert_ne!(main, own);
    tokio::spawn(app.run_until_stopped(std::future::pending()));

    let samples = scrape(&format!("http://{own}/metrics")).await;
    assert!(samples.keys().any(|series| series.starts_with("byrd_")));
    let on_main = reqwest::get(format!("http://{main}/metrics"))
        .await
        .unwrap();
    assert_eq!(on_main.status(), 404);
    let api_on_own = reqwest::get(format!("http://{own}/healthz")).await.unwrap();
    assert_eq!(
        api_on_own.status(),
        404,
        "the metrics listener serves nothing else"
    );
}

#[tokio::test]
async fn without_its_own_listener_metrics_are_served_on_the_main_one() {
    let app = spawn_app().await;
    let samples = scrape(&app.url("/metrics")).await;
    assert!(
        samples
            .keys()
            .any(|series| series.starts_with("byrd_ws_frames_sent_total"))
    );
}

#[tokio::test]
async fn readyz_is_200_while_the_database_answers_and_503_naming_it_when_not() {
    let app = spawn_app().await;
    let ready = json_body(app.get("/readyz", None).await, 200).await;
    assert_eq!(ready, json!({"status": "ok", "failing": []}));
    if on_postgres() {
        // Breaking a shared PostgreSQL would break every other test.
        return;
    }
    // Moved away under the running server, the file it holds open is no
    // longer the database its path names: whatever it writes now is lost
    // at the next start.
    let file = app.data_dir.path().join("byrd.db");
    let moved = app.data_dir.path().join("byrd.db.moved");
    std::fs::rename(&file, &moved).unwrap();
    let not_ready = json_body(app.get("/readyz", None).await, 503).await;
    assert_eq!(
        not_ready,
        json!({"status": "unavailable", "failing": ["database"]})
    );
    std::fs::rename(&moved, &file).unwrap();
    let ready = json_body(app.get("/readyz", None).await, 200).await;
    assert_eq!(ready["status"], "ok");
}

#[test]
fn every_metric_the_dashboard_queries_is_one_byrd_serves_or_documents() {
    let dashboard = include_str!("../../../docs/grafana/byrd-dashboard.json");
    let readme = include_str!("../../../README.md");
    let dashboard: Value = serde_json::from_str(dashboard).unwrap();
    let mut names = BTreeSet::new();
    collect_metric_names(&dashboard, &mut names);
    assert!(
        names.len() >= 15,
        "the dashboard queries Byrd's metrics: {names:?}"
    );
    for name in names {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(&name);
        assert!(
            readme.contains(&format!("`{family}`")),
            "{family} is queried by the dashboard but not in the README's metric list"
        );
    }
}

/// Every `byrd_...` name in the `expr` of the dashboard's targets.
fn collect_metric_names(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(expr) = map.get("expr").and_then(Value::as_str) {
                let mut rest = expr;
                while let Some(start) = rest.find("byrd_") {
                    let tail = &rest[start..];
                    let end = tail
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(tail.len());
                    out.insert(tail[..end].to_owned());
                    rest = &tail[end..];
                }
            }
            map.values().for_each(|v| collect_metric_names(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_metric_names(v, out)),
        _ => {}
    }
}
