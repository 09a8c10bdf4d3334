//! Sessions: tokens refreshed before expiry as a single flight, guest
//! renewal, token providers, logout.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use byrd_sdk::operations::TokenKind;
use byrd_sdk::types::{LoginRequest, Me};
use byrd_sdk::{AuthErrorKind, Error};
use byrd_server::options::bounded::Bounded;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn_app_with, visitor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_with_a_stale_token_share_one_refresh() {
    // Refresh tokens are single use: two refreshes racing with the same one
    // would revoke the session, and every call below would fail. The grace
    // for lost answers is off, so that a second refresh would show.
    let app = spawn_app_with(|settings| {
        settings.jwt.agent_token_ttl =
            Bounded::below_floor_for_tests(Duration::from_secs(2)).unwrap();
        settings.jwt.refresh_grace = Duration::ZERO.try_into().unwrap();
    })
    .await;
    let agent = app.admin().await;
    let first_refresh_token = agent.refresh_token().unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let agent = agent.clone();
            tokio::spawn(async move { agent.get_me().await })
        })
        .collect();
    for call in calls {
        assert!(matches!(call.await.unwrap(), Ok(Me::Agent(_))));
    }
    let second_refresh_token = agent.refresh_token().unwrap();
    assert_ne!(first_refresh_token, second_refresh_token);
    // The first one is spent: presenting it again counts as reuse.
    let reused = app.client().resume_agent(&first_refresh_token).await;
    assert!(
        matches!(&reused, Err(Error::Auth(auth)) if auth.kind == AuthErrorKind::Revoked),
        "{reused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_token_is_renewed_before_it_expires() {
    let app =
        spawn_app_with(|settings| settings.jwt.guest_token_ttl = Duration::from_secs(2)).await;
    let (guest, chat) = app.client().start_guest(&visitor("Sam")).await.unwrap();
    let first = guest.token().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(guest.get_chat(chat.id).await.unwrap().id, chat.id);
    let renewed = guest.token().await.unwrap();
    assert_ne!(first, renewed);
    let resumed = app.client().resume_guest(&renewed).unwrap();
    assert_eq!(resumed.guest_chat_id(), Some(chat.id));
    assert_eq!(resumed.session_kind(), Some(TokenKind::Guest));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_provider_is_asked_only_when_a_token_is_needed() {
    let app = spawn_app_with(|_| {}).await;
    let anonymous = app.client();
    let calls = Arc::new(AtomicUsize::new(0));
    let backend = {
        let minter = anonymous.clone();
        let calls = calls.clone();
        anonymous.with_token_provider(move || {
            let anonymous = minter.clone();
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                let login = LoginRequest {
                    email: ADMIN_EMAIL.into(),
                    password: ADMIN_PASSWORD.into(),
                };
                Ok(anonymous.login(&login).await?.access_token)
            }
        })
    };
    for _ in 0..3 {
        assert!(matches!(backend.get_me().await, Ok(Me::Agent(_))));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(backend.session_kind(), Some(TokenKind::Agent));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_an_agent_session_revokes_it_everywhere() {
    let app = spawn_app_with(|_| {}).await;
    let agent = app.admin().await;
    let refresh_token = agent.refresh_token().unwrap();
    agent.end_session().await.unwrap();
    let after = agent.get_me().await;
    assert!(
        matches!(&after, Err(Error::Auth(auth)) if auth.kind == AuthErrorKind::LoggedOut),
        "{after:?}"
    );
    let resumed = app.client().resume_agent(&refresh_token).await;
    assert!(
        matches!(&resumed, Err(Error::Auth(auth)) if auth.kind == AuthErrorKind::Revoked),
        "{resumed:?}"
    );
}
