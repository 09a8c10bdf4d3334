//! Snapshots of representative exchanges with the real server, normalised
//! (ids, times and tokens replaced by placeholders), so that a change of
//! the server's behaviour, or of what a case sends, shows up as a
//! reviewable diff. Only cases whose exchange is deterministic are here:
//! one connection read at a time, no race between two senders.

use byrd_conformance::cases;
use byrd_conformance::config::{Config, Environment};
use byrd_conformance::report::Status;
use byrd_conformance::runner::{self, RunOptions};
use byrd_conformance::selection::{ExpectedFailures, Selection};
use byrd_conformance::wire::normalise;

use byrd_testkit::server::ByrdServer;
use byrd_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET};

/// The exchanges worth reviewing, in run order.
const REPRESENTATIVE: &[&str] = &[
    "auth.jwt.token-missing",
    "auth.jwt.tampered-claims.rest",
    "auth.session.login",
    "auth.session.refresh-reuse",
    "auth.guest.start",
    "auth.guest.renew",
    "auth.scope.other-chat.ws-send",
    "rest.readiness",
    "rest.errors.not-found",
    "rest.messages.send",
    "ws.handshake.hello-guest",
    "ws.ticket.once",
    "ws.frames.error-ref",
    "ws.resume.after-seq",
    "ws.typing.relay",
    "ws.typing.agent-to-guest",
    "ws.lifetime.refresh-token",
    "ws.limits.frame-too-large",
];

/// No environment: the config below says everything.
struct Nothing;

impl Environment for Nothing {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn representative_exchanges_match_their_snapshots() {
    // The runner forges tokens with the shared secret (`jwt_secret`),
    // which only an HS256 server verifies.
    let server = ByrdServer::start(&[("BYRD_JWT_ALGORITHM", "hs256")]);
    let config = Config::from_toml(
        &format!(
            "admin_email = \"{ADMIN_EMAIL}\"\nadmin_password = \"{ADMIN_PASSWORD}\"\njwt_secret = \"{JWT_SECRET}\"\n"
        ),
        &Nothing,
    )
    .unwrap();
    let selected = Selection {
        include: REPRESENTATIVE.iter().map(|id| (*id).to_owned()).collect(),
        exclude: Vec::new(),
    }
    .apply(cases::all())
    .unwrap();
    assert_eq!(
        selected.len(),
        REPRESENTATIVE.len(),
        "every id names a case"
    );
    let options = RunOptions {
        base_url: server.base_url.clone(),
        strict: true,
        expected_failures: ExpectedFailures::default(),
    };

    let report = runner::run(config, options, selected, |_| {})
        .await
        .unwrap();

    for case in &report.cases {
        assert_eq!(
            case.status,
            Status::Passed,
            "{}: {:?}",
            case.id,
            case.failure
        );
        let transcript = normalise::transcript(&case.transcript);
        insta::assert_json_snapshot!(case.id.replace('.', "_"), transcript);
    }
}
