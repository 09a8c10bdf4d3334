//! What a conformance case is: a stable id tied to a section of
//! `spec/v1/README.md`, a level, a one-line expectation, the capabilities
//! it needs from the config, and the async body that exercises the server.
//!
//! A case body returns `Ok(())` when the server did what the spec says, or
//! a [`CaseError`]: a [`Failure`] that states what was expected and what
//! came back, or a skip with its reason.

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;

use crate::context::Ctx;

/// How binding a case is, after RFC 2119: a server that fails a MUST case
/// does not conform; a SHOULD case fails the run only with `--strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Must,
    Should,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that `{:<6}` lines levels up in listings.
        f.pad(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        })
    }
}

/// Something a case needs that only the config can give; without it the
/// case is skipped with [`Capability::missing_reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// `jwt_secret`: signing tokens that are correct but wrong.
    JwtSecret,
    /// `ws_allowed_origins`: the server's WebSocket origin allow-list.
    AllowedOrigins,
    /// `ws_replay_cap` small enough to store more messages than it.
    SmallReplayCap,
    /// `test_issuer`, trusted by the server for visitor identity tokens.
    IdentityIssuer,
    /// `test_issuer`, trusted by the server for agent tokens.
    AgentIssuer,
}

/// The largest `ws_replay_cap` the replay-cap case will fill up.
pub const MAX_TESTED_REPLAY_CAP: u32 = 100;

impl Capability {
    pub fn missing_reason(self) -> String {
        match self {
            Capability::JwtSecret => {
                "needs `jwt_secret` in the config, to sign tokens the server must refuse for their claims alone"
                    .to_owned()
            }
            Capability::AllowedOrigins => {
                "needs `ws_allowed_origins` in the config, naming the server's WebSocket origin allow-list"
                    .to_owned()
            }
            Capability::IdentityIssuer => {
                "needs a test issuer in the config (`test_issuer`, `test_issuer_audience`, `test_issuer_key_file`) that the server trusts for `visitor_identity`"
                    .to_owned()
            }
            Capability::AgentIssuer => {
                "needs a test issuer in the config (`test_issuer`, `test_issuer_audience`, `test_issuer_key_file`) that the server trusts for `agent_tokens`"
                    .to_owned()
            }
            Capability::SmallReplayCap => format!(
                "needs `ws_replay_cap` of at most {MAX_TESTED_REPLAY_CAP} in the config (and on the server): the case stores cap + 2 messages"
            ),
        }
    }
}

/// A case's verdict on the server, with both sides of the disagreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What was being done when the server disagreed.
    pub context: String,
    pub expected: String,
    pub actual: String,
}

impl Failure {
    pub fn new(
        context: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Failure {
            context: context.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.context, self.expected, self.actual
        )
    }
}

/// Why a case body stopped early.
#[derive(Debug, Clone)]
pub enum CaseError {
    Failed(Failure),
    /// The server or config cannot support the case; not a failure.
    Skipped(String),
}

impl From<Failure> for CaseError {
    fn from(failure: Failure) -> Self {
        CaseError::Failed(failure)
    }
}

pub type CaseResult = Result<(), CaseError>;

/// The body of a case: an async function of its context.
pub type CaseFn = Arc<dyn Fn(Ctx) -> BoxFuture<'static, CaseResult> + Send + Sync>;

/// One conformance case.
#[derive(Clone)]
pub struct Case {
    /// Stable id, `area.topic.detail`; never renumbered or reused.
    pub id: String,
    pub level: Level,
    /// Anchor of the section of `spec/v1/README.md` that requires it.
    pub section: &'static str,
    /// One line: what the server must do.
    pub expectation: String,
    pub needs: Vec<Capability>,
    pub body: CaseFn,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

impl Case {
    /// A MUST case with no special needs; adjust with the builder methods.
    pub fn must<F, Fut>(
        id: impl Into<String>,
        section: &'static str,
        expectation: impl Into<String>,
        body: F,
    ) -> Self
    where
        F: Fn(Ctx) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = CaseResult> + Send + 'static,
    {
        Case {
            id: id.into(),
            level: Level::Must,
            section,
            expectation: expectation.into(),
            needs: Vec::new(),
            body: Arc::new(move |ctx| Box::pin(body(ctx))),
        }
    }

    pub fn should<F, Fut>(
        id: impl Into<String>,
        section: &'static str,
        expectation: impl Into<String>,
        body: F,
    ) -> Self
    where
        F: Fn(Ctx) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = CaseResult> + Send + 'static,
    {
        Case {
            level: Level::Should,
            ..Case::must(id, section, expectation, body)
        }
    }

    pub fn needs(mut self, capability: Capability) -> Self {
        self.needs.push(capability);
        self
    }

    /// Where the spec says it: a link into `spec/v1/README.md`.
    pub fn reference(&self) -> String {
        format!("spec/v1/README.md#{}", self.section)
    }
}
