//! `GET /metrics`: the recorder rendered in the Prometheus text format.
//!
//! Gauges that are a state rather than an event (the database pools, the
//! writer's queue) are read from the store when scraped, so they cost
//! nothing between scrapes. Served on the main listener, or only on the
//! one `--metrics-listen` names.

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::gauge;

use super::{DB_POOL_CONNECTIONS, DB_POOL_WAITING, WRITER_QUEUE_DEPTH, install};
use crate::state::AppState;

/// The Prometheus text exposition format's content type.
const CONTENT: &str = "text/plain; version=0.0.4";

/// Renders every metric, after sampling the store's gauges.
pub async fn render_metrics(State(state): State<AppState>) -> Response {
    let load = state.store.load();
    gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(load.in_use as f64);
    gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(load.idle as f64);
    gauge!(DB_POOL_WAITING).set(load.waiting as f64);
    gauge!(WRITER_QUEUE_DEPTH).set(load.queued_writes as f64);
    ([(CONTENT_TYPE, CONTENT)], install().render()).into_response()
}

/// `/metrics` alone: merged into the main router, or given its state and
/// served on a listener of its own.
pub fn metrics_router() -> Router<AppState> {
    Router::new().route("/metrics", get(render_metrics))
}
