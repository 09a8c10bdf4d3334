//! `GET /healthz` and `GET /readyz`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether the server can serve requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` (with status 503) when the database does not answer.
    pub status: HealthStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Unavailable,
}

/// Whether the server should be sent traffic (`GET /readyz`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Readiness {
    /// `ok` (status 200), or `unavailable` (status 503) while a check fails.
    pub status: HealthStatus,
    /// The checks that failed; empty when ready.
    pub failing: Vec<ReadinessCheck>,
}

/// A readiness check; the set may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReadinessCheck {
    /// The database did not answer in time (or, on SQLite, its file was
    /// removed or replaced under the running server).
    Database,
    /// Redis is configured and this node's subscription to the other
    /// nodes' events is not live.
    RedisSubscription,
}
