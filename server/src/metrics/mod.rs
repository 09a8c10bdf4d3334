//! Metrics: what an operator watches, in the Prometheus text format.
//!
//! Everything is recorded through the `metrics` facade into one
//! process-wide Prometheus recorder (`recorder`), installed on first use:
//! a process that starts several servers (the tests) installs it once and
//! every server adds to the same numbers. `GET /metrics` (`endpoint`)
//! renders it, on the main listener or on a listener of its own.
//!
//! The hot paths (the store's writer, the hub's fan-out, the connection
//! loop) never look a metric up by name: their handles are registered
//! once (`handles`), and a label that varies per frame (its type, a close
//! code) is an index into a fixed array of handles. HTTP requests
//! (`http`) are labelled by their route template, never their raw path.
//! Gauges of the database pools and the writer's queue are sampled when
//! scraped, so they cost nothing in between.
//!
//! The names and labels are the ones the README's metric list and the
//! Grafana dashboard (`docs/grafana/byrd-dashboard.json`) use.

mod endpoint;
mod frames;
mod handles;
pub mod http;
mod recorder;

pub use endpoint::{metrics_router, render_metrics};
pub use frames::{CloseLabel, ReceivedFrame};
pub use handles::{Limit, OpenConnection, handles};
pub use recorder::install;

/// `byrd_ws_connections`: open WebSocket connections, by `principal`.
pub const WS_CONNECTIONS: &str = "byrd_ws_connections";
/// `byrd_ws_frames_received_total`: client frames, by `type`.
pub const WS_FRAMES_RECEIVED: &str = "byrd_ws_frames_received_total";
/// `byrd_ws_frames_sent_total`: server frames, by `type`.
pub const WS_FRAMES_SENT: &str = "byrd_ws_frames_sent_total";
/// `byrd_ws_closes_total`: WebSocket closes, by `code`.
pub const WS_CLOSES: &str = "byrd_ws_closes_total";
/// `byrd_messages_stored_total`: messages committed.
pub const MESSAGES_STORED: &str = "byrd_messages_stored_total";
/// `byrd_writer_batch_size`: messages per writer commit.
pub const WRITER_BATCH_SIZE: &str = "byrd_writer_batch_size";
/// `byrd_writer_commit_seconds`: how long a writer's commit took.
pub const WRITER_COMMIT_SECONDS: &str = "byrd_writer_commit_seconds";
/// `byrd_writer_queue_depth`: writes waiting for the writer.
pub const WRITER_QUEUE_DEPTH: &str = "byrd_writer_queue_depth";
/// `byrd_delivery_latency_seconds`: a send's arrival to its fan-out.
pub const DELIVERY_LATENCY_SECONDS: &str = "byrd_delivery_latency_seconds";
/// `byrd_http_requests_total`: by `route`, `method` and `status`.
pub const HTTP_REQUESTS: &str = "byrd_http_requests_total";
/// `byrd_http_request_duration_seconds`: by `route` and `method`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "byrd_http_request_duration_seconds";
/// `byrd_rate_limited_total`: refusals, by `limit`.
pub const RATE_LIMITED: &str = "byrd_rate_limited_total";
/// `byrd_db_pool_connections`: pooled connections, by `state`.
pub const DB_POOL_CONNECTIONS: &str = "byrd_db_pool_connections";
/// `byrd_db_pool_waiting`: tasks waiting for a pooled connection.
pub const DB_POOL_WAITING: &str = "byrd_db_pool_waiting";
