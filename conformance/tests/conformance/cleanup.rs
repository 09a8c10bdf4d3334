//! The runner leaves no chat open behind it: a server bounds the chats one
//! address holds open (spec/v1/README.md, "Rate limits"), and every case
//! starts its chats from the runner's address, so a run of more cases than
//! the bound passes only if each case's chats are closed when it ends, and
//! the shared ones when the run ends.

use byrd_conformance::cases;
use byrd_conformance::config::{Config, Environment};
use byrd_conformance::report::Status;
use byrd_conformance::runner::{self, RunOptions};
use byrd_conformance::selection::{ExpectedFailures, Selection};
use byrd_testkit::server::ByrdServer;
use byrd_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET};
use serde_json::{Value, json};

/// Far below the chats the selected cases start between them.
const OPEN_CHATS_PER_ADDRESS: u32 = 3;

struct Nothing;

impl Environment for Nothing {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_of_more_chats_than_the_open_bound_passes_and_leaves_every_chat_closed() {
    let bound = OPEN_CHATS_PER_ADDRESS.to_string();
    // HS256: the runner forges tokens with the shared secret.
    let server = ByrdServer::start(&[
        ("BYRD_OPEN_CHATS_PER_ADDRESS", bound.as_str()),
        ("BYRD_JWT_ALGORITHM", "hs256"),
    ]);
    let config = Config::from_toml(
        &format!(
            "admin_email = \"{ADMIN_EMAIL}\"\nadmin_password = \"{ADMIN_PASSWORD}\"\njwt_secret = \"{JWT_SECRET}\"\nopen_chats_per_address = {OPEN_CHATS_PER_ADDRESS}\n"
        ),
        &Nothing,
    )
    .unwrap();
    let selected = Selection {
        include: vec!["auth.guest.*".into(), "rest.messages.*".into()],
        exclude: Vec::new(),
    }
    .apply(cases::all())
    .unwrap();
    let options = RunOptions {
        base_url: server.base_url.clone(),
        strict: true,
        expected_failures: ExpectedFailures::default(),
    };

    let report = runner::run(config, options, selected, |_| {})
        .await
        .unwrap();

    let started: usize = report
        .cases
        .iter()
        .map(|case| {
            case.transcript
                .entries
                .windows(2)
                .filter(|pair| {
                    let pair = serde_json::to_value(pair).unwrap();
                    pair[0]["kind"] == "request"
                        && pair[0]["method"] == "POST"
                        && pair[0]["path"] == "/v1/chats"
                        && pair[1]["status"] == 201
                })
                .count()
        })
        .sum();
    assert!(
        started > 2 * OPEN_CHATS_PER_ADDRESS as usize,
        "the cases start {started} chats, enough to fill the bound twice"
    );
    for case in &report.cases {
        assert_eq!(
            case.status,
            Status::Passed,
            "{}: {:?}",
            case.id,
            case.failure
        );
    }
    let chats = all_chats(&server.base_url).await;
    let open: Vec<&Value> = chats
        .iter()
        .filter(|chat| chat["status"] != "closed")
        .collect();
    assert!(open.is_empty(), "chats left open: {open:?}");
}

/// Every chat on the server, as the admin sees them.
async fn all_chats(base_url: &str) -> Vec<Value> {
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base_url}/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap();
    let page: Value = client
        .get(format!("{base_url}/v1/chats?limit=100"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page["next_cursor"].is_null(), "one page holds them all");
    page["chats"].as_array().unwrap().clone()
}
