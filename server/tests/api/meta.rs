//! `GET /healthz` (`spec/v1/openapi.json` operation `getHealth`, which asks
//! the store), `GET /openapi.json`, `GET /docs`, and what every response
//! shares: `Referrer-Policy: no-referrer`, `X-Request-Id`, JSON errors for
//! unknown routes and methods (`spec/v1/README.md#documents`,
//! `#conventions`, `#endpoints`, `#errors`).

use serde_json::json;

use crate::helpers::{error_code, json_body, snapshot_settings, spawn_app, spawn_app_with};

/// The `./name` and `/docs/name` assets an HTML page loads through `src` or
/// `href`.
fn referenced_assets(html: &str) -> Vec<String> {
    let mut assets = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in html.match_indices(attribute) {
            let rest = &html[start + attribute.len()..];
            let Some(end) = rest.find('"') else { continue };
            assets.push(rest[..end].to_owned());
        }
    }
    assets
}

#[tokio::test]
async fn healthz_answers_ok() {
    // `GET /healthz` -> 200 `{"status": "ok"}` while the database answers.
    let app = spawn_app().await;

    // Straight at the port the application reported binding.
    let url = format!("http://127.0.0.1:{}/healthz", app.port);
    let body = json_body(app.client.get(url).send().await.unwrap(), 200).await;

    assert_eq!(body, json!({"status": "ok"}));
}

#[tokio::test]
async fn openapi_json_is_an_openapi_3_1_document_listing_every_endpoint() {
    // `GET /openapi.json` serves the OpenAPI 3.1 document, the same one that
    // is committed as `spec/v1/openapi.json`, listing every endpoint.
    let app = spawn_app().await;

    let response = app.get("/openapi.json", None).await;

    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let served = json_body(response, 200).await;
    assert!(
        served["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        served["openapi"]
    );
    let paths = served["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/v1/auth/login", "post"),
        ("/v1/auth/refresh", "post"),
        ("/v1/auth/logout", "post"),
        ("/v1/chats", "post"),
        ("/v1/chats", "get"),
        ("/v1/chats/{chat_id}", "get"),
        ("/v1/chats/{chat_id}/token", "post"),
        ("/v1/chats/{chat_id}/assign", "post"),
        ("/v1/chats/{chat_id}/close", "post"),
        ("/v1/agents", "get"),
        ("/v1/agents", "post"),
        ("/v1/me", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not documented"
        );
    }
}

#[tokio::test]
async fn every_protocol_document_is_served_byte_for_byte_as_committed() {
    // spec/v1/README.md, "Documents": a running server serves its documents
    // side by side, so that `openapi.json`'s relative `$ref`s into
    // `ws.schema.json` resolve against the URL it was fetched from.
    let app = spawn_app().await;
    for (file, content_type) in [
        ("openapi.json", "application/json"),
        ("ws.schema.json", "application/schema+json"),
        ("claims.schema.json", "application/schema+json"),
        ("asyncapi.yaml", "application/yaml"),
    ] {
        let response = app.get(&format!("/{file}"), None).await;
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(response.headers()["content-type"], content_type, "{file}");
        let committed =
            std::fs::read_to_string(format!("{}/../spec/v1/{file}", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        assert_eq!(
            response.text().await.unwrap(),
            committed,
            "{file} differs; run `cargo run -p byrd-server -- spec write`"
        );
    }
}

#[tokio::test]
async fn docs_page_and_its_assets_are_served_by_byrd_itself() {
    // `GET /docs` is an interactive API reference that works with no
    // internet: the page and every asset it loads come from Byrd.
    let app = spawn_app().await;

    let redirect = app.get("/docs", None).await;
    assert!(redirect.status().is_redirection() || redirect.status() == 200);
    if redirect.status().is_redirection() {
        assert_eq!(redirect.headers()["location"], "/docs/");
    }
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();

    let assets = referenced_assets(&html);
    assert!(
        assets.iter().any(|a| a.ends_with("swagger-ui-bundle.js")),
        "{assets:?}"
    );
    for asset in &assets {
        assert!(
            !asset.contains("//"),
            "the docs page loads {asset} from another origin"
        );
        let path = if asset.starts_with('/') {
            asset.clone()
        } else {
            format!("/docs/{}", asset.trim_start_matches("./"))
        };
        let response = app.get(&path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(!response.bytes().await.unwrap().is_empty(), "{path}");
    }
    let initializer = app
        .get("/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("/openapi.json"),
        "the docs page does not load Byrd's own document"
    );
}

#[tokio::test]
async fn every_response_carries_referrer_policy_no_referrer() {
    // Responses carry `Referrer-Policy: no-referrer`, so a token in a URL
    // never leaks through the `Referer` header.
    let app = spawn_app_with(|settings| settings.limits.chat_starts_per_minute = 1).await;
    let admin = app.admin_token().await;

    let responses = vec![
        app.get("/healthz", None).await,
        app.get("/openapi.json", None).await,
        app.get("/docs", None).await,
        app.get("/docs/", None).await,
        app.get("/docs/swagger-ui-bundle.js", None).await,
        app.post("/v1/chats", None, None).await,
        app.post("/v1/chats", None, None).await,
        app.get("/v1/chats", Some(&admin)).await,
        app.get("/v1/chats", None).await,
        app.get("/v1/chats/nope", Some(&admin)).await,
        app.post("/v1/auth/logout", Some(&admin), None).await,
        app.get("/nowhere", None).await,
        app.client
            .delete(app.url("/v1/chats"))
            .send()
            .await
            .unwrap(),
    ];

    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses,
        [
            200, 200, 303, 200, 200, 201, 429, 200, 401, 400, 204, 404, 405
        ]
    );
    for response in responses {
        assert_eq!(
            response
                .headers()
                .get("referrer-policy")
                .unwrap_or_else(|| panic!("{} has no Referrer-Policy", response.url())),
            "no-referrer",
            "{}",
            response.url()
        );
    }
}

#[tokio::test]
async fn an_unknown_route_is_not_found_in_json() {
    // Unknown routes get 404 `not_found` in the spec's error format.
    let app = spawn_app().await;

    for path in [
        "/nowhere",
        "/v1",
        "/v1/chat",
        "/v2/chats",
        "/v1/chats/a/b/c",
    ] {
        let response = app.get(path, None).await;
        assert_eq!(error_code(response, 404).await, "not_found", "{path}");
    }
    let body = json_body(app.get("/nowhere", None).await, 404).await;
    snapshot_settings().bind(|| insta::assert_json_snapshot!("not_found", body));
}

#[tokio::test]
async fn a_wrong_method_is_method_not_allowed_in_json() {
    // A known route with another method gets 405 `method_not_allowed`.
    let app = spawn_app().await;

    for (method, path) in [
        (reqwest::Method::DELETE, "/v1/chats"),
        (reqwest::Method::GET, "/v1/auth/login"),
        (reqwest::Method::PUT, "/v1/agents"),
        (reqwest::Method::POST, "/v1/me"),
        (reqwest::Method::POST, "/healthz"),
        (
            reqwest::Method::GET,
            "/v1/chats/0193a5f2-7000-7abc-8def-0123456789ab/close",
        ),
    ] {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response, 405).await,
            "method_not_allowed",
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn every_answer_carries_a_fresh_request_id_the_client_cannot_choose() {
    // spec/v1/README.md, "Conventions": every response carries
    // `X-Request-Id`, made by the server for that request.
    let app = spawn_app().await;
    let id_of = |response: &reqwest::Response| {
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        uuid::Uuid::parse_str(&id).unwrap_or_else(|_| panic!("{id} is not a UUID"));
        id
    };
    let ok = app.get("/healthz", None).await;
    let refused = app.get("/v1/chats", None).await;
    let chosen = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "attacker-chosen")
        .send()
        .await
        .unwrap();
    let ids = [id_of(&ok), id_of(&refused), id_of(&chosen)];
    assert_eq!(refused.status(), 401);
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
}
