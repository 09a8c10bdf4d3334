//! The keys, identity and trusted-issuer cases against the real server:
//! started with its default keyring (EdDSA) and a trusted-issuers file
//! naming a test issuer whose Ed25519 key the test makes, as
//! `scripts/conformance` does. With the test issuer in the config every
//! such case passes; without it the identity and issuer cases are skipped,
//! each saying what the config lacks. The JWKS document and a verified
//! visitor are snapshots of their normalised transcripts.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use byrd_conformance::cases;
use byrd_conformance::config::{Config, Environment};
use byrd_conformance::issuer::SigningKey;
use byrd_conformance::report::{Report, Status};
use byrd_conformance::runner::{self, RunOptions};
use byrd_conformance::selection::{ExpectedFailures, Selection};
use byrd_conformance::wire::normalise;
use byrd_testkit::server::ByrdServer;
use byrd_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD};
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;

const ISS: &str = "https://shop.conformance.test";
const AUDIENCE: &str = "byrd-backends";

/// Cases whose exchange is worth reviewing as a snapshot.
const SNAPSHOTS: [&str; 2] = ["keys.jwks.shape", "identity.verified-visitor"];

struct Nothing;

impl Environment for Nothing {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

/// A new Ed25519 private key in `dir` (PKCS#8 PEM, as `openssl genpkey`
/// writes), its public half beside it, and a trusted-issuers file naming it
/// for both purposes. Returns the private key's path and the file's.
fn test_issuer(dir: &Path) -> (String, String) {
    let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let private = dir.join("issuer-private.pem");
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(document.as_ref())
    );
    std::fs::write(&private, pem).unwrap();
    let key = SigningKey::read(&private).unwrap();
    let public = dir.join("issuer-public.pem");
    std::fs::write(&public, key.public_pem()).unwrap();
    let issuers = dir.join("trusted-issuers.toml");
    std::fs::write(
        &issuers,
        format!(
            "[[issuer]]\niss = {ISS:?}\naudience = {AUDIENCE:?}\nalgorithms = [\"EdDSA\"]\n\
             purposes = [\"agent_tokens\", \"visitor_identity\"]\nkeys_file = {:?}\n",
            public.display().to_string()
        ),
    )
    .unwrap();
    (private.display().to_string(), issuers.display().to_string())
}

fn config(issuer_key: Option<&str>) -> Config {
    let mut text = format!(
        "admin_email = \"{ADMIN_EMAIL}\"\nadmin_password = \"{ADMIN_PASSWORD}\"\nproperty_cases = 8\n"
    );
    if let Some(path) = issuer_key {
        text.push_str(&format!(
            "test_issuer = {ISS:?}\ntest_issuer_audience = {AUDIENCE:?}\ntest_issuer_key_file = {path:?}\n"
        ));
    }
    Config::from_toml(&text, &Nothing).unwrap()
}

async fn run(server: &ByrdServer, config: Config) -> Report {
    let selected = Selection {
        include: vec!["keys.*".into(), "identity.*".into(), "issuer.*".into()],
        exclude: Vec::new(),
    }
    .apply(cases::all())
    .unwrap();
    let options = RunOptions {
        base_url: server.base_url.clone(),
        strict: true,
        expected_failures: ExpectedFailures::default(),
    };
    runner::run(config, options, selected, |_| {})
        .await
        .unwrap()
}

#[test]
fn the_config_names_a_test_issuer_by_its_key_file_and_never_shows_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (private, _) = test_issuer(dir.path());
    let config = config(Some(&private));
    let issuer = config.test_issuer.as_ref().unwrap();
    assert_eq!(issuer.iss, ISS);
    assert_eq!(issuer.audience, AUDIENCE);
    assert_eq!(issuer.key.alg(), "EdDSA");
    assert!(issuer.purposes.agent_tokens && issuer.purposes.visitor_identity);
    let pem = std::fs::read_to_string(&private).unwrap();
    let body = pem.lines().nth(1).unwrap();
    let printed = format!("{config:?}");
    assert!(!printed.contains(&body[16..]), "{printed}");
    let incomplete =
        format!("admin_password = \"x\"\ntest_issuer = {ISS:?}\ntest_issuer_audience = \"a\"\n");
    let error = Config::from_toml(&incomplete, &Nothing).unwrap_err();
    assert!(
        error.to_string().contains("test_issuer_key_file"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identity_and_issuer_cases_pass_with_a_test_issuer_and_are_skipped_without() {
    let dir = tempfile::tempdir().unwrap();
    let (private, issuers) = test_issuer(dir.path());
    let server = ByrdServer::start(&[("BYRD_TRUSTED_ISSUERS_FILE", issuers.as_str())]);

    let report = run(&server, config(Some(&private))).await;
    assert!(report.cases.len() >= 20, "{} cases", report.cases.len());
    for case in &report.cases {
        assert_eq!(
            case.status,
            Status::Passed,
            "{}: {:?} {:?}",
            case.id,
            case.failure,
            case.skip_reason
        );
        if SNAPSHOTS.contains(&case.id.as_str()) {
            let transcript = normalise::transcript(&case.transcript);
            insta::assert_json_snapshot!(case.id.replace('.', "_"), transcript);
        }
    }

    let without = run(&server, config(None)).await;
    for case in &without.cases {
        let needs_issuer = case.id.starts_with("issuer.")
            || (case.id.starts_with("identity.") && case.id != "identity.visitor-chats.anonymous");
        let expected = if needs_issuer {
            Status::Skipped
        } else {
            Status::Passed
        };
        assert_eq!(case.status, expected, "{}: {:?}", case.id, case.failure);
        if needs_issuer {
            let reason = case.skip_reason.as_deref().unwrap_or_default();
            assert!(
                reason.contains("test_issuer_key_file"),
                "{}: {reason}",
                case.id
            );
        }
    }
}
