//! `GET /healthz`: liveness and database reachability, for load balancers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use byrd_spec::health::{Health, HealthStatus};

use crate::operation::Operation;
use crate::state::AppState;

/// What the annotation below cannot say; see `crate::operation`.
pub const OPERATION: Operation = Operation {
    id: "getHealth",
    errors: &[],
    behaviour: None,
};

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
