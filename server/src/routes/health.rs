//! `GET /healthz`: liveness and database reachability, for load balancers;
//! `GET /readyz`: whether this node should be sent traffic.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use byrd_spec::health::{Health, HealthStatus, Readiness, ReadinessCheck};

use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "getHealth",
    errors: &[],
    behaviour: None,
};

/// What the annotation below cannot say; see `crate::operation`.
pub const READY_OPERATION: Operation = Operation {
    id: "getReadiness",
    errors: &[],
    behaviour: None,
};

/// How long the database may take to answer a readiness check: probes
/// come every few seconds and must not pile up behind a stuck database.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

/// Check that the server and its database are up.
///
/// For load balancers and monitoring: needs no token, answers `200` while the
/// database answers and `503` when it does not.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = OPERATION.id,
    tag = "meta",
    responses(
        (status = 200, description = "The server and its database are up.", body = Health),
        (status = 503, description = "The database does not answer.", body = Health),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: HealthStatus::Ok,
            }),
        ),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: HealthStatus::Unavailable,
                }),
            )
        }
    }
}

/// Check that this node should be sent traffic.
///
/// For load balancers and readiness probes: needs no token, answers `200`
/// while the database answers within two seconds and, on a node configured
/// with Redis, its subscription to the other nodes' events is live; `503`
/// otherwise, naming the checks that failed. Unlike `/healthz`, a `503`
/// here is no reason to restart the node: it recovers by itself.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = READY_OPERATION.id,
    tag = "meta",
    responses(
        (status = 200, description = "Ready: every check passed.", body = Readiness),
        (status = 503, description = "Not ready: `failing` names the checks that failed.", body = Readiness),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let mut failing = Vec::new();
    let database = tokio::time::timeout(DATABASE_TIMEOUT, state.store.check_ready()).await;
    match database {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(error = format!("{error:#}"), "not ready: the database");
            failing.push(ReadinessCheck::Database);
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer in time");
            failing.push(ReadinessCheck::Database);
        }
    }
    if state.readiness.subscription_live() == Some(false) {
        failing.push(ReadinessCheck::RedisSubscription);
    }
    let (code, status) = if failing.is_empty() {
        (StatusCode::OK, HealthStatus::Ok)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, HealthStatus::Unavailable)
    };
    (code, Json(Readiness { status, failing }))
}
