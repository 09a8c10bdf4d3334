//! Running cases: a preflight that proves the runner can run at all (the
//! server answers, with a certificate the runner trusts when it speaks
//! https, the admin can log in, a configured key is the server's), then every selected case in order, one at a time, each with
//! a time budget and its own record; after each, the chats it started are
//! closed, and after the last, the chats the cases shared.
//!
//! Cases run one at a time so that what one case does (a chat start, an
//! agent coming online) never lands in another's exchange, and so that a
//! transcript reads in the order things happened.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::case::{Case, CaseError, Failure};
use crate::config::Config;
use crate::context::{Ctx, Target};
use crate::documents::{DocumentError, Documents};
use crate::report::{CaseReport, Report, Status};
use crate::selection::ExpectedFailures;
use crate::wire::tls::{TlsError, Trust, tls_failure, with_causes};
use crate::wire::transcript::{Recorder, Violation};

/// Why the runner could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Documents(#[from] DocumentError),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("the server at {base_url} cannot be reached: {reason}")]
    Unreachable { base_url: String, reason: String },
    #[error("the preflight failed: {0}")]
    Preflight(String),
    #[error("the base URL {0} is neither http:// nor https://")]
    Scheme(String),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(
        "the server at {base_url} presented a certificate not vouched for by {trust} ({reason}); {hint}"
    )]
    Untrusted {
        base_url: String,
        trust: String,
        reason: String,
        hint: &'static str,
    },
}

pub struct RunOptions {
    pub base_url: String,
    pub strict: bool,
    pub expected_failures: ExpectedFailures,
}

/// Runs `cases` against the server; `on_case` sees each result as it comes.
pub async fn run(
    config: Config,
    options: RunOptions,
    cases: Vec<Case>,
    mut on_case: impl FnMut(&CaseReport),
) -> Result<Report, RunError> {
    let started = Instant::now();
    let documents = Arc::new(Documents::embedded()?);
    let seed = config.properties.seed;
    let base = options.base_url.to_ascii_lowercase();
    if !base.starts_with("http://") && !base.starts_with("https://") {
        return Err(RunError::Scheme(options.base_url));
    }
    let trust = Trust::from_ca_file(config.ca_file.as_deref());
    let tls = trust.client_config()?;
    let target = Arc::new(
        Target::new(&options.base_url, config, documents, tls)
            .map_err(|error| RunError::Client(error.to_string()))?,
    );
    check_certificate(&target, &trust).await?;
    preflight(&target).await?;
    let mut reports = Vec::with_capacity(cases.len());
    for case in &cases {
        let report = run_case(&target, case, &options.expected_failures).await;
        on_case(&report);
        reports.push(report);
    }
    let shared = target.shared_chat_ids();
    close_chats(&target, &shared, &Recorder::default()).await;
    Ok(Report::new(
        target.base_url.clone(),
        options.strict,
        seed,
        millis(started.elapsed()),
        reports,
    ))
}

/// One request before anything else: a certificate the runner does not
/// trust is said once, plainly, rather than as every case's failure.
async fn check_certificate(target: &Target, trust: &Trust) -> Result<(), RunError> {
    let Err(error) = target.http.probe("/healthz").await else {
        return Ok(());
    };
    match tls_failure(&error) {
        Some(tls @ rustls::Error::InvalidCertificate(_)) => Err(RunError::Untrusted {
            base_url: target.base_url.clone(),
            trust: trust.describe(),
            reason: tls.to_string(),
            hint: match trust {
                Trust::PublicRoots => {
                    "for a server certified by a private CA, name the CA's PEM file with --ca-file or `ca_file`"
                }
                Trust::CaFile(_) => {
                    "name the CA that signed the server's certificate with --ca-file or `ca_file`"
                }
            },
        }),
        _ => Err(RunError::Unreachable {
            base_url: target.base_url.clone(),
            reason: with_causes(&error),
        }),
    }
}

/// The server answers `/healthz`, the admin logs in, and a configured
/// key signs tokens the server accepts.
async fn preflight(target: &Arc<Target>) -> Result<(), RunError> {
    let ctx = Ctx::new(target.clone());
    let health = ctx
        .get("/healthz")
        .send()
        .await
        .map_err(|failure| RunError::Unreachable {
            base_url: target.base_url.clone(),
            reason: failure.actual,
        })?;
    if health.status != 200 {
        return Err(RunError::Unreachable {
            base_url: target.base_url.clone(),
            reason: format!("GET /healthz answered {}", health.describe()),
        });
    }
    let session = ctx.admin_login().await.map_err(|failure| {
        RunError::Preflight(format!(
            "the admin ({}) cannot log in, check admin_email and admin_password: {}",
            target.config.admin.email, failure.actual
        ))
    })?;
    target.set_admin(session.clone());
    if let Ok(minter) = ctx.minter() {
        let token = minter.sign(&minter.agent_claims(&session));
        let me = ctx
            .get("/v1/me")
            .bearer(&token)
            .send()
            .await
            .map_err(|failure| RunError::Preflight(failure.to_string()))?;
        if me.status != 200 {
            return Err(RunError::Preflight(format!(
                "a token signed with the configured jwt_secret, jwt_kid, jwt_issuer and jwt_audience is refused ({}): they are not the server's",
                me.describe()
            )));
        }
    }
    Ok(())
}

/// How long one case may take in all, waits included.
fn budget(config: &Config) -> Duration {
    (config.timeout * 6).max(Duration::from_secs(90))
}

async fn run_case(target: &Arc<Target>, case: &Case, expected: &ExpectedFailures) -> CaseReport {
    let missing: Vec<String> = case
        .needs
        .iter()
        .filter(|capability| !has(&target.config, **capability))
        .map(|capability| capability.missing_reason())
        .collect();
    if !missing.is_empty() {
        return CaseReport::skipped(case, missing.join("; "));
    }
    let ctx = Ctx::new(target.clone());
    let recorder = ctx.recorder.clone();
    let started = Instant::now();
    let body = (case.body)(ctx);
    let limit = budget(&target.config);
    // Spawned, so a panic in a case body is that case's failure only.
    let mut task = tokio::spawn(body);
    let outcome = match tokio::time::timeout(limit, &mut task).await {
        Err(_) => Err(CaseError::Failed(Failure::new(
            "running the case",
            format!("the case to finish within {limit:?}"),
            "it did not",
        ))),
        Ok(Err(join)) => Err(CaseError::Failed(Failure::new(
            "running the case",
            "the case to run to its end",
            format!("the runner's case body failed: {join}"),
        ))),
        Ok(Ok(outcome)) => outcome,
    };
    // A case out of time starts nothing more behind the cleanup's back.
    task.abort();
    let duration_ms = millis(started.elapsed());
    let shared = target.shared_chat_ids();
    let mut started_chats = recorder.started_chats();
    started_chats.retain(|id| !shared.contains(id));
    close_chats(target, &started_chats, &recorder).await;
    let violations = recorder.violations();
    let (passed, failure, skip_reason) = match outcome {
        Ok(()) if violations.is_empty() => (true, None, None),
        Ok(()) => (false, Some(document_failure(&violations)), None),
        Err(CaseError::Failed(failure)) => (false, Some(failure), None),
        Err(CaseError::Skipped(reason)) => (false, None, Some(reason)),
    };
    let note = expected.note(&case.id).map(str::to_owned);
    let status = match (skip_reason.is_some(), passed, note.is_some()) {
        (true, _, _) => Status::Skipped,
        (false, true, false) => Status::Passed,
        (false, true, true) => Status::UnexpectedPass,
        (false, false, false) => Status::Failed,
        (false, false, true) => Status::ExpectedFailure,
    };
    CaseReport {
        id: case.id.clone(),
        level: case.level,
        spec: case.reference(),
        expectation: case.expectation.clone(),
        status,
        duration_ms,
        skip_reason,
        failure,
        violations,
        expected_failure_note: note,
        transcript: recorder.transcript(),
    }
}

/// Closes the chats a case started, whatever its verdict: a server bounds
/// the chats one address holds open (ten by default), and every case
/// starts its chats from the runner's address. The closes are not part of
/// the case's exchange; one that fails is noted in `recorder`, and the
/// next case's starts would show it.
async fn close_chats(target: &Arc<Target>, ids: &[String], recorder: &Recorder) {
    let cleanup = Ctx::new(target.clone());
    for id in ids {
        if let Err(failure) = cleanup.close_as_admin(id).await {
            recorder.note(format!(
                "after the case, the runner could not close chat {id}: {failure}"
            ));
        }
    }
}

fn has(config: &Config, capability: crate::case::Capability) -> bool {
    use crate::case::{Capability, MAX_TESTED_REPLAY_CAP};
    match capability {
        Capability::JwtSecret => config.jwt.secret.is_some(),
        Capability::AllowedOrigins => config.ws_allowed_origins.is_some(),
        Capability::SmallReplayCap => config.limits.ws_replay_cap <= MAX_TESTED_REPLAY_CAP,
        Capability::IdentityIssuer => config
            .test_issuer
            .as_ref()
            .is_some_and(|issuer| issuer.purposes.visitor_identity),
        Capability::AgentIssuer => config
            .test_issuer
            .as_ref()
            .is_some_and(|issuer| issuer.purposes.agent_tokens),
    }
}

/// The failure of a case whose own checks passed but whose exchange broke
/// the spec documents.
fn document_failure(violations: &[Violation]) -> Failure {
    let first: Vec<String> = violations
        .iter()
        .take(3)
        .map(|violation| format!("{}: {}", violation.subject, violation.problems.join("; ")))
        .collect();
    Failure::new(
        "checking every response and frame against spec/v1 (openapi.json, ws.schema.json)",
        "every one to match its schema",
        format!("{} did not: {}", violations.len(), first.join(" | ")),
    )
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
