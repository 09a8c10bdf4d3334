//! The keyring (README "Signing keys and rotation"): tokens signed with an
//! Ed25519 key by default and verifiable from `/.well-known/jwks.json`;
//! rotations that invalidate no token and close no socket; retirement;
//! `hs256` deployments as before; the move from `hs256` to a keyring; and
//! two nodes on one database agreeing within the refresh interval.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_server::auth::keyring::{self, KeyringSource};
use byrd_server::configuration::{KeyAlgorithm, Settings};
use byrd_server::options::bounded::{AgentTokenTtl, KeyringRefresh};
use byrd_server::store::{Retired, Store};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{
    JWT_SECRET, TestApp, agent_claims, error_code, fresh_postgres_schema, hs256, json_body,
    keyring_default, mint, now, on_postgres, sign_hs256, spawn_app_with,
};
use crate::ws_client::WsClient;

/// The refresh interval of these tests: a rotated key signs two of it
/// after it is published.
pub(crate) const REFRESH: Duration = Duration::from_millis(200);

/// The keyring with the default algorithm (the suites' servers sign with
/// the test key), reloaded every [`REFRESH`].
pub(crate) fn quick_refresh(settings: &mut Settings) {
    keyring_default(settings);
    settings.jwt.keyring_refresh = KeyringRefresh::below_floor_for_tests(REFRESH).unwrap();
}

/// What `byrd keys` works with, for this app's database.
fn source(store: &Store, settings: &Settings) -> KeyringSource {
    let secret = SecretString::from(JWT_SECRET);
    let sealing = keyring::keyring_key(&settings.jwt, &secret).unwrap();
    KeyringSource::new(store.clone(), sealing, secret)
}

pub(crate) async fn rotate(app: &TestApp) -> String {
    let jwt = &app.state.settings.jwt;
    let (kid, _) = keyring::rotate(
        &source(&app.state.store, &app.state.settings),
        KeyAlgorithm::EdDsa,
        jwt.keyring_refresh.get() * 2,
        jwt.verification_window(),
    )
    .await
    .unwrap();
    kid
}

/// The decoded header of a JWT.
fn header(token: &str) -> Value {
    let encoded = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap()
}

pub(crate) fn kid(token: &str) -> String {
    header(token)["kid"].as_str().unwrap().to_owned()
}

pub(crate) async fn jwks(app: &TestApp) -> Value {
    json_body(app.get("/.well-known/jwks.json", None).await, 200).await
}

pub(crate) fn kids(set: &Value) -> Vec<String> {
    set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/v1/me", Some(token)).await.status().as_u16()
}

#[tokio::test]
async fn tokens_are_eddsa_by_default_and_verify_with_the_published_key_alone() {
    let app = spawn_app_with(keyring_default).await;
    let token = app.admin_token().await;
    assert_eq!(header(&token)["alg"], "EdDSA");

    let response = app.get("/.well-known/jwks.json", None).await;
    let cache = response.headers()["cache-control"].to_str().unwrap();
    assert_eq!(cache, "public, max-age=60");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let set: Value = json_body(response, 200).await;
    assert_eq!(kids(&set), vec![kid(&token)]);
    let key = &set["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["use"], "sig");
    assert!(key.get("d").is_none());

    // Anyone can check the token from the JWKS, with no secret.
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["byrd"]);
    let decoded = jsonwebtoken::decode::<Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
        &validation,
    );
    assert!(decoded.is_ok(), "{decoded:?}");

    let cached = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
}

#[tokio::test]
async fn a_guest_token_is_signed_by_the_keyring_too() {
    let app = spawn_app_with(keyring_default).await;
    let started = app.start_chat().await;
    let guest = started["guest_token"].as_str().unwrap();
    assert_eq!(header(guest)["alg"], "EdDSA");
    assert_eq!(kids(&jwks(&app).await), vec![kid(guest)]);
    assert_eq!(me_status(&app, guest).await, 200);
}

#[tokio::test]
async fn a_rotation_closes_no_socket_and_keeps_every_token_valid() {
    let app = spawn_app_with(quick_refresh).await;
    let admin = app.admin_token().await;
    let started = app.start_chat().await;
    let guest = started["guest_token"].as_str().unwrap().to_owned();
    let (mut agent_socket, _) = WsClient::connect(&app, &admin).await;
    let (mut guest_socket, _) = WsClient::connect(&app, &guest).await;
    let old = kid(&admin);

    let new = rotate(&app).await;
    // Published at once (after one reload), but not signing yet: the
    // key it supersedes still does.
    tokio::time::sleep(REFRESH + Duration::from_millis(50)).await;
    assert_eq!(kids(&jwks(&app).await), vec![old.clone(), new.clone()]);
    let during = app.start_chat().await;
    let during = kid(during["guest_token"].as_str().unwrap());
    assert!(during == old || during == new, "{during}");
    agent_socket.expect_type("chat_updated").await;

    tokio::time::sleep(REFRESH * 2).await;
    agent_socket.assert_alive("after the rotation").await;
    guest_socket.assert_alive("after the rotation").await;
    let fresh = app.admin_token().await;
    assert_eq!(kid(&fresh), new);
    let fresh_guest = app.start_chat().await;
    assert_eq!(kid(fresh_guest["guest_token"].as_str().unwrap()), new);
    assert_eq!(me_status(&app, &admin).await, 200);
    assert_eq!(me_status(&app, &guest).await, 200);
    assert_eq!(me_status(&app, &fresh).await, 200);
    let (_, reconnected) = WsClient::connect(&app, &admin).await;
    assert_eq!(reconnected["type"], "hello");
}

#[tokio::test]
async fn a_retired_key_verifies_nothing_and_the_signing_key_needs_a_successor() {
    let app = spawn_app_with(quick_refresh).await;
    let old_token = app.admin_token().await;
    let old = kid(&old_token);
    let store = &app.state.store;
    assert_eq!(
        keyring::retire(store, &old).await.unwrap(),
        Retired::OnlySigner
    );

    let new = rotate(&app).await;
    assert_eq!(
        keyring::retire(store, &old).await.unwrap(),
        Retired::Retired {
            successor: Some(new.clone())
        }
    );
    tokio::time::sleep(REFRESH * 2).await;
    assert_eq!(
        error_code(app.get("/v1/me", Some(&old_token)).await, 401).await,
        "token_invalid"
    );
    assert_eq!(kids(&jwks(&app).await), vec![new.clone()]);
    let fresh = app.admin_token().await;
    assert_eq!(kid(&fresh), new);
    assert_eq!(me_status(&app, &fresh).await, 200);
}

#[tokio::test]
async fn hs256_deployments_sign_with_the_secret_and_publish_no_key() {
    let app = spawn_app_with(hs256).await;
    let token = app.admin_token().await;
    assert_eq!(header(&token)["alg"], "HS256");
    assert_eq!(header(&token)["kid"], "byrd-1");
    assert_eq!(jwks(&app).await, json!({"keys": []}));
    let me: Value = json_body(app.get("/v1/me", Some(&token)).await, 200).await;
    let minted = mint(&agent_claims(me["id"].as_str().unwrap()));
    assert_eq!(me_status(&app, &minted).await, 200);
}

#[tokio::test]
async fn a_keyring_deployment_refuses_tokens_minted_with_the_secret() {
    let app = spawn_app_with(keyring_default).await;
    let me: Value = json_body(app.get("/v1/me", Some(&app.admin_token().await)).await, 200).await;
    let minted = mint(&agent_claims(me["id"].as_str().unwrap()));
    assert_eq!(
        error_code(app.get("/v1/me", Some(&minted)).await, 401).await,
        "token_invalid"
    );
}

#[tokio::test]
async fn an_hs256_token_under_a_public_keys_kid_is_refused() {
    // Algorithm confusion: the public key used as an HMAC secret.
    let app = spawn_app_with(keyring_default).await;
    let token = app.admin_token().await;
    let me: Value = json_body(app.get("/v1/me", Some(&token)).await, 200).await;
    let set = jwks(&app).await;
    let x = set["keys"][0]["x"].as_str().unwrap();
    let claims = agent_claims(me["id"].as_str().unwrap());
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid(&token)});
    for secret in [URL_SAFE_NO_PAD.decode(x).unwrap(), x.as_bytes().to_vec()] {
        let forged = sign_hs256(&header, &claims, &secret);
        assert_eq!(
            error_code(app.get("/v1/me", Some(&forged)).await, 401).await,
            "token_invalid"
        );
    }
}

/// A database URL two servers can share: a fresh PostgreSQL schema, or an
/// SQLite file in `folder`.
async fn shared_database(folder: &tempfile::TempDir) -> SecretString {
    if on_postgres() {
        let url = std::env::var("BYRD_TEST_POSTGRES_URL").unwrap();
        return SecretString::from(fresh_postgres_schema(&url).await);
    }
    SecretString::from(format!(
        "sqlite://{}",
        folder.path().join("byrd.db").display()
    ))
}

#[tokio::test]
async fn a_deployment_leaving_hs256_keeps_its_tokens_for_the_window_then_never() {
    let folder = tempfile::tempdir().unwrap();
    let database = shared_database(&folder).await;
    // Lifetimes of three seconds make the window three seconds.
    let short = |settings: &mut Settings| {
        settings.jwt.agent_token_ttl =
            AgentTokenTtl::below_floor_for_tests(Duration::from_secs(3)).unwrap();
        settings.jwt.guest_token_ttl = Duration::from_secs(3);
        settings.jwt.leeway = Duration::ZERO.try_into().unwrap();
    };
    let before = {
        let database = database.clone();
        spawn_app_with(move |settings| {
            hs256(settings);
            short(settings);
            settings.database_url = database;
        })
        .await
    };
    let old_token = before.admin_token().await;
    let admin: Value = json_body(before.get("/v1/me", Some(&old_token)).await, 200).await;
    let admin_id = admin["id"].as_str().unwrap().to_owned();
    drop(before);

    let after = spawn_app_with(move |settings| {
        keyring_default(settings);
        short(settings);
        settings.database_url = database;
    })
    .await;
    assert_eq!(me_status(&after, &old_token).await, 200);
    let minted = |lives: i64| {
        let mut claims = agent_claims(&admin_id);
        claims["exp"] = json!(now() + lives);
        mint(&claims)
    };
    assert_eq!(me_status(&after, &minted(2)).await, 200);
    assert_eq!(header(&after.admin_token().await)["alg"], "EdDSA");

    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        error_code(after.get("/v1/me", Some(&minted(2))).await, 401).await,
        "token_invalid"
    );
}

#[tokio::test]
async fn two_nodes_on_one_database_agree_within_the_refresh_interval() {
    let folder = tempfile::tempdir().unwrap();
    let database = shared_database(&folder).await;
    let node = |database: SecretString| {
        move |settings: &mut Settings| {
            quick_refresh(settings);
            settings.database_url = database;
        }
    };
    let one = spawn_app_with(node(database.clone())).await;
    let two = spawn_app_with(node(database)).await;
    let from_one = one.admin_token().await;
    let from_two = two.admin_token().await;
    assert_eq!(kid(&from_one), kid(&from_two), "one first key, not two");

    let new = rotate(&one).await;
    tokio::time::sleep(REFRESH * 3 + Duration::from_millis(100)).await;
    let after_one = one.admin_token().await;
    let after_two = two.admin_token().await;
    assert_eq!(kid(&after_one), new);
    assert_eq!(kid(&after_two), new);
    for token in [&from_one, &from_two, &after_one, &after_two] {
        assert_eq!(me_status(&one, token).await, 200);
        assert_eq!(me_status(&two, token).await, 200);
    }
}

#[tokio::test]
async fn two_first_keys_made_at_once_leave_one() {
    let folder = tempfile::tempdir().unwrap();
    let database = shared_database(&folder).await;
    let settings = Settings::with_data_dir(folder.path().to_path_buf());
    assert_eq!(settings.jwt.algorithm, KeyAlgorithm::EdDsa, "the default");
    let store = Store::connect(&database, &settings.store, None)
        .await
        .unwrap();
    let source = source(&store, &settings);
    let (a, b) = tokio::join!(
        keyring::ensure_first_key(&source, KeyAlgorithm::EdDsa, None),
        keyring::ensure_first_key(&source, KeyAlgorithm::Es256, None),
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one of them made a key");
    assert_eq!(store.signing_keys().await.unwrap().len(), 1);
    store.close().await;
}
