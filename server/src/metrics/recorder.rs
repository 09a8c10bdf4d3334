//! The process-wide Prometheus recorder: built once, installed as the
//! `metrics` facade's global recorder, kept up by a thread of its own.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::*;

/// How often histogram samples are folded into their buckets. Until then
/// they wait in a lock-free queue, which must not grow without bound
/// between two scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Messages per commit: one when idle, up to the writer's largest batch.
const BATCH_SIZES: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];
/// A commit is an fsync (SQLite) or a WAL flush (PostgreSQL): about a
/// millisecond on a good disk, seconds on a failing one.
const COMMIT_SECONDS: &[f64] = &[
    0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
/// A send's way through the writer to the hub: a commit or two.
const LATENCY_SECONDS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Requests: from a cached page to a login's password hash.
const REQUEST_SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder unless it is already, and returns the handle
/// that renders it. Safe to call any number of times, from any thread.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        }
        let upkeep = handle.clone();
        let started = std::thread::Builder::new()
            .name("byrd-metrics".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
        if let Err(error) = started {
            tracing::warn!(%error, "cannot start the metrics upkeep thread; scrapes do it");
        }
        describe();
        handle
    })
}

/// Histograms get buckets fit for what they measure; any other histogram
/// gets the request buckets (a summary would not aggregate across nodes).
fn builder() -> PrometheusBuilder {
    let buckets = [
        (WRITER_BATCH_SIZE, BATCH_SIZES),
        (WRITER_COMMIT_SECONDS, COMMIT_SECONDS),
        (DELIVERY_LATENCY_SECONDS, LATENCY_SECONDS),
        (HTTP_REQUEST_DURATION_SECONDS, REQUEST_SECONDS),
    ];
    let mut builder = PrometheusBuilder::new()
        .set_buckets(REQUEST_SECONDS)
        .unwrap_or_else(|_| unreachable!("the bucket lists are not empty"));
    for (name, values) in buckets {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(name.into()), values)
            .unwrap_or_else(|_| unreachable!("the bucket lists are not empty"));
    }
    builder
}

/// The `# HELP` lines.
fn describe() {
    describe_gauge!(WS_CONNECTIONS, "Open WebSocket connections.");
    describe_counter!(
        WS_FRAMES_RECEIVED,
        "Client frames by type; `unknown` for an unknown type, `invalid` for a frame that is not a JSON object with a type."
    );
    describe_counter!(WS_FRAMES_SENT, "Server frames written, by type.");
    describe_counter!(
        WS_CLOSES,
        "WebSocket closes by code, whichever side closed; 1006 when the connection ended without one."
    );
    describe_counter!(MESSAGES_STORED, "Messages committed.");
    describe_histogram!(WRITER_BATCH_SIZE, "Messages per writer commit.");
    describe_histogram!(WRITER_COMMIT_SECONDS, "Writer commit time in seconds.");
    describe_gauge!(WRITER_QUEUE_DEPTH, "Writes waiting for the writer.");
    describe_histogram!(
        DELIVERY_LATENCY_SECONDS,
        "From a send reaching the store to its fan-out to this node's subscribers, in seconds."
    );
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by route template, method and status."
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        "HTTP request durations in seconds, by route template and method."
    );
    describe_counter!(RATE_LIMITED, "Requests and frames refused by a limit.");
    describe_gauge!(DB_POOL_CONNECTIONS, "Pooled database connections by state.");
    describe_gauge!(
        DB_POOL_WAITING,
        "Tasks waiting for a pooled database connection (0 where the driver does not tell)."
    );
    describe_counter!(
        crate::auth::issuers::JWKS_FETCHES,
        "Fetches of trusted issuers' JWKS URLs, by issuer and outcome (ok, unreachable, bad_status, too_large, invalid)."
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_jwks_fetch_counter_has_its_help_line() {
        let handle = super::install();
        let labels = [("issuer", "https://idp.example"), ("outcome", "ok")];
        metrics::counter!(crate::auth::issuers::JWKS_FETCHES, &labels).increment(1);
        let text = handle.render();
        assert!(
            text.contains("# HELP byrd_jwks_fetches_total Fetches of trusted issuers' JWKS URLs"),
            "{text}"
        );
    }
}
