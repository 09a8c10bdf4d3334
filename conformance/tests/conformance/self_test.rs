//! The runner can fail, and is shown to: run as a process against the
//! fake server with faults planted, exactly the cases that meet a planted
//! fault fail, each saying what it expected and what came back; the cases
//! next to them, which the fake gets right, pass. Each fault that only a
//! connection's life or another chat can show is planted alone and must
//! be caught by two cases, and the fake without faults passes every case
//! the self-test runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::fake_server::{self, Fault};

/// The faults planted together in the main run.
const PLANTED_TOGETHER: &[Fault] = &[
    Fault::WildcardWithCredentials,
    Fault::AlgNone,
    Fault::IgnoredAudience,
    Fault::GuestReadsAnyChat,
    Fault::AckBeforeStore,
    Fault::ResendAckedAsNew,
    Fault::SkippedSeq,
    Fault::CloseUnanswered,
];

/// Faults planted one at a time, each with the two independent cases
/// that must catch it.
const PLANTED_ALONE: &[(Fault, [&str; 2])] = &[
    (
        Fault::IgnoredReplayCap,
        ["ws.resume.announced-cap", "ws.resume.replay-cap"],
    ),
    (
        Fault::ExpiryClosedWith1000,
        [
            "ws.lifetime.expiry-4001",
            "ws.lifetime.expiry-after-refresh",
        ],
    ),
    (
        Fault::DroppedTyping,
        ["ws.typing.relay", "ws.typing.agent-to-guest"],
    ),
    (
        Fault::OtherChatsPushedToGuests,
        [
            "prop.ws.guest-isolation",
            "auth.scope.other-chat.never-delivered",
        ],
    ),
];

/// Cases the self-test runs: each planted fault's cases, and neighbours
/// of theirs that the fake gets right.
const SELECTION: &[&str] = &[
    "auth.jwt.alg-none.*",
    "auth.jwt.wrong-audience.*",
    "auth.jwt.wrong-issuer.*",
    "auth.jwt.tampered-signature.*",
    "auth.jwt.expired.rest",
    "auth.scope.other-chat.get-chat",
    "auth.scope.other-chat.list-messages",
    "ws.send.ack-after-store",
    "ws.send.own-message",
    "ws.send.idempotent",
    "ws.seq.no-gaps",
    "ws.frames.ping",
    "ws.handshake.hello-guest",
    "ws.lifetime.client-close-answered",
    "rest.health",
    "rest.cors.no-wildcard-credentials",
];

/// What the fake's faults must fail, and nothing else.
const PLANTED: &[&str] = &[
    "auth.jwt.alg-none.rest",
    "auth.jwt.alg-none.ws-query",
    "auth.jwt.alg-none.ws-header",
    "auth.jwt.alg-none.ws-refresh",
    "auth.jwt.wrong-audience.rest",
    "auth.jwt.wrong-audience.ws-query",
    "auth.jwt.wrong-audience.ws-header",
    "auth.jwt.wrong-audience.ws-refresh",
    "auth.scope.other-chat.get-chat",
    "ws.send.ack-after-store",
    "ws.send.idempotent",
    "ws.seq.no-gaps",
    "ws.lifetime.client-close-answered",
    "rest.cors.no-wildcard-credentials",
];

fn config(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "admin_email = \"{}\"\nadmin_password = \"{}\"\njwt_secret = \"{}\"\n\
             jwt_leeway_secs = {}\nws_replay_cap = {}\nproperty_cases = 8\n",
            fake_server::ADMIN_EMAIL,
            fake_server::ADMIN_PASSWORD,
            fake_server::SECRET,
            fake_server::LEEWAY_SECS,
            fake_server::REPLAY_CAP,
        ),
    )
    .unwrap();
    path
}

/// Runs the `byrd-conformance` binary with `args`, off the async threads.
async fn runner(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_byrd-conformance"))
            .args(&args)
            // Secrets from the environment must not leak into these runs.
            .env_remove("BYRD_ADMIN_PASSWORD")
            .env_remove("BYRD_JWT_SECRET")
            .env_remove("BYRD_ADMIN_EMAIL")
            .output()
            .expect("the runner starts")
    })
    .await
    .unwrap()
}

fn args(base_url: &str, config: &Path, extra: &[&str]) -> Vec<String> {
    args_for(base_url, config, &SELECTION.join(","), extra)
}

fn args_for(base_url: &str, config: &Path, cases: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--base-url".to_owned(),
        base_url.to_owned(),
        "--config".to_owned(),
        config.display().to_string(),
        "--cases".to_owned(),
        cases.to_owned(),
    ];
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    args
}

fn ids_with(report: &Value, status: &str) -> BTreeSet<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|case| case["status"] == status)
        .map(|case| case["id"].as_str().unwrap().to_owned())
        .collect()
}

fn case<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|case| case["id"] == id)
        .unwrap_or_else(|| panic!("{id} is in the report"))
}

/// One run of the runner against the fake, with every report it wrote.
struct Run {
    code: Option<i32>,
    stdout: String,
    /// The JSON report, parsed and as written.
    report: Value,
    report_text: String,
    junit: String,
}

async fn run_against_the_fake() -> Run {
    let address = fake_server::spawn(PLANTED_TOGETHER).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let junit = dir.path().join("junit.xml");
    let output = runner(args(
        &format!("http://{address}"),
        &config(dir.path()),
        &[
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
    ))
    .await;
    let report_text = std::fs::read_to_string(&json).unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        report: serde_json::from_str(&report_text).unwrap(),
        report_text,
        junit: std::fs::read_to_string(&junit).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_fails_exactly_the_cases_that_meet_a_planted_fault() {
    let run = run_against_the_fake().await;
    let stdout = &run.stdout;

    assert_eq!(run.code, Some(1), "MUST failures exit 1:\n{stdout}");
    let failed = ids_with(&run.report, "failed");
    let planted: BTreeSet<String> = PLANTED.iter().map(|id| (*id).to_owned()).collect();
    assert_eq!(
        failed, planted,
        "exactly the planted faults fail:\n{stdout}"
    );
    let total = run.report["cases"].as_array().unwrap().len();
    assert_eq!(
        ids_with(&run.report, "passed").len(),
        total - planted.len(),
        "every other selected case passes:\n{stdout}"
    );
    assert!(
        total > planted.len() + 10,
        "controls ran too: {total} cases"
    );
    each_failure_says_what_came_back(&run.report);
    people_and_machines_read_the_same(&run, total, planted.len());

    // No transcript holds a usable token.
    assert!(!run.report_text.contains(fake_server::ADMIN_PASSWORD));
    assert!(!run.report_text.contains(fake_server::SECRET));
}

/// Each failure says what was expected and what came back, in terms of
/// the fault it met.
fn each_failure_says_what_came_back(report: &Value) {
    for id in PLANTED {
        let failure = &case(report, id)["failure"];
        assert!(!failure["expected"].as_str().unwrap().is_empty(), "{id}");
        assert!(!failure["actual"].as_str().unwrap().is_empty(), "{id}");
    }
    let alg_none = &case(report, "auth.jwt.alg-none.rest")["failure"];
    assert!(
        alg_none["expected"]
            .as_str()
            .unwrap()
            .contains("401 with error.code \"token_invalid\"")
    );
    assert!(
        alg_none["actual"].as_str().unwrap().contains(": 200 "),
        "{alg_none}"
    );
    let audience = &case(report, "auth.jwt.wrong-audience.ws-query")["failure"];
    assert!(
        audience["actual"]
            .as_str()
            .unwrap()
            .contains("the socket opened"),
        "{audience}"
    );
    let scope = &case(report, "auth.scope.other-chat.get-chat")["failure"];
    assert!(
        scope["expected"].as_str().unwrap().contains("403"),
        "{scope}"
    );
    assert!(
        scope["actual"].as_str().unwrap().starts_with("200 "),
        "{scope}"
    );
    let ack = &case(report, "ws.send.ack-after-store")["failure"];
    assert_eq!(
        ack["actual"], "[]",
        "the store was empty when the ack came: {ack}"
    );
    let seq = &case(report, "ws.seq.no-gaps")["failure"];
    assert!(
        seq["expected"]
            .as_str()
            .unwrap()
            .contains("[1, 2, 3, 4, 5, 6]"),
        "{seq}"
    );
    // A seq past 6 among six messages: one was skipped.
    assert!(seq["actual"].as_str().unwrap().contains('7'), "{seq}");
    let resend = &case(report, "ws.send.idempotent")["failure"];
    assert_eq!(
        resend["expected"], "an `ack` with duplicate: true",
        "{resend}"
    );
    let cors = &case(report, "rest.cors.no-wildcard-credentials")["failure"];
    assert!(
        cors["actual"]
            .as_str()
            .unwrap()
            .contains("access-control-allow-credentials: true"),
        "{cors}"
    );
}

/// People read the same on the console as machines in JUnit.
fn people_and_machines_read_the_same(run: &Run, total: usize, failed: usize) {
    let stdout = &run.stdout;
    assert!(
        stdout.contains("FAIL  MUST   auth.jwt.alg-none.rest"),
        "{stdout}"
    );
    assert!(
        stdout.contains("        expected: 401 with error.code"),
        "{stdout}"
    );
    let last = stdout.lines().last().unwrap();
    assert_eq!(
        last,
        format!("{} passed, {} failed, 0 skipped", total - failed, failed)
    );
    let junit = &run.junit;
    assert_eq!(junit.matches("<failure ").count(), failed, "{junit}");
    assert!(junit.contains(&format!("failures=\"{failed}\"")), "{junit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_expected_failures_pass_the_run_and_a_stale_entry_fails_it() {
    let address = fake_server::spawn(PLANTED_TOGETHER).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let list = dir.path().join("expected-failures.txt");
    let mut text: String = PLANTED
        .iter()
        .map(|id| format!("{id}  # planted\n"))
        .collect();
    std::fs::write(&list, &text).unwrap();
    let base_url = format!("http://{address}");
    let flag = ["--expected-failures", list.to_str().unwrap()];

    let output = runner(args(&base_url, &config, &flag)).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("xfail MUST   ws.seq.no-gaps"), "{stdout}");
    let count = format!("{} expected failure(s)", PLANTED.len());
    assert!(stdout.contains(&count), "{stdout}");

    // A listed case that passes is reported, and fails the run.
    text.push_str("rest.health  # no longer true\n");
    std::fs::write(&list, &text).unwrap();
    let output = runner(args(&base_url, &config, &flag)).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("XPASS MUST   rest.health"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_that_cannot_run_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    // A port nothing listens on: bind one, then let it go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let output = runner(args(&format!("http://{closed}"), &config, &[])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be reached"));

    let address = fake_server::spawn(PLANTED_TOGETHER).await;
    let base_url = format!("http://{address}");
    let wrong = dir.path().join("wrong.toml");
    std::fs::write(
        &wrong,
        "admin_password = \"not the password\"\nadmin_email = \"admin@fake.example\"\n",
    )
    .unwrap();
    let output = runner(args(&base_url, &wrong, &[])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot log in"));

    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "admin_pasword = \"x\"\n").unwrap();
    let output = runner(args(&base_url, &typo, &[])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("admin_pasword"));

    // A malformed line is named by its number; its text may be a secret.
    let leaky = dir.path().join("leaky.toml");
    std::fs::write(
        &leaky,
        "admin_email = \"admin@fake.example\"\njwt_secret = \"leaked-signing-key\n",
    )
    .unwrap();
    let output = runner(args(&base_url, &leaky, &[])).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2: "), "{stderr}");
    assert!(!stderr.contains("leaked-signing-key"), "{stderr}");

    let output = runner(args(&base_url, &config, &["--cases", "no.such.case"])).await;
    assert_eq!(output.status.code(), Some(2));
}

/// The cases that catch the faults planted alone.
fn caught_alone() -> Vec<&'static str> {
    PLANTED_ALONE
        .iter()
        .flat_map(|(_, cases)| cases.iter().copied())
        .collect()
}

/// Runs `cases` against a fake with `faults`; the ids that failed, and
/// the console output.
async fn failed_against(faults: &[Fault], cases: &str) -> (Option<i32>, BTreeSet<String>, String) {
    let address = fake_server::spawn(faults).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let output = runner(args_for(
        &format!("http://{address}"),
        &config(dir.path()),
        cases,
        &["--json", json.to_str().unwrap()],
    ))
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap())
        .unwrap_or_else(|error| panic!("a JSON report ({error}):\n{stdout}"));
    assert_eq!(
        ids_with(&report, "skipped"),
        BTreeSet::new(),
        "nothing skipped:\n{stdout}"
    );
    (output.status.code(), ids_with(&report, "failed"), stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_planted_alone_is_caught_by_its_two_cases_and_no_other() {
    let cases = caught_alone().join(",");
    // The runs wait out token lifetimes, so they go side by side.
    let runs = PLANTED_ALONE.iter().map(|(fault, _)| {
        let cases = cases.clone();
        async move { failed_against(&[*fault], &cases).await }
    });
    let results = futures_util::future::join_all(runs).await;
    for ((fault, caught), (code, failed, stdout)) in PLANTED_ALONE.iter().zip(results) {
        let expected: BTreeSet<String> = caught.iter().map(|id| (*id).to_owned()).collect();
        assert_eq!(failed, expected, "{fault:?} planted alone:\n{stdout}");
        assert_eq!(code, Some(1), "{fault:?}:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_without_faults_passes_every_case_the_self_test_runs() {
    let mut cases: Vec<&str> = SELECTION.to_vec();
    cases.extend(caught_alone());
    let (code, failed, stdout) = failed_against(&[], &cases.join(",")).await;
    assert_eq!(failed, BTreeSet::new(), "{stdout}");
    assert_eq!(code, Some(0), "{stdout}");
}
