//! Building and running the server.
//!
//! [`Application::build`] resolves secrets, opens the store, creates the
//! first admin if needed and binds the listener (and the metrics'
//! listener, when it has its own); `run_until_stopped` serves until the
//! shutdown future resolves, then drains in-flight requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, Request, header};
use axum::serve::ListenerExt;
use secrecy::ExposeSecret;
use tokio::net::{TcpListener, TcpSocket};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::accept::PriorityListener;
use crate::auth::issuers::OwnTokens;
use crate::auth::keyring::RefreshTask;
use crate::auth::{FailedLogins, PasswordSlots, TrustedIssuers, ensure_first_admin};
use crate::cluster::Cluster;
use crate::configuration::Settings;
use crate::hub::Hub;
use crate::metrics::Limit;
use crate::rate_limit::RateLimiter;
use crate::readiness::Readiness;
use crate::routes;
use crate::socket_caps::SocketCaps;
use crate::state::{AppState, AppStateInner};
use crate::store::{KeyAlgorithm, Store};
use crate::ws::gate::HandshakeGate;
use crate::{auth, data_dir};

pub struct Application {
    listener: TcpListener,
    /// Serves `/metrics` alone, when `--metrics-listen` gives it an
    /// address of its own; the main listener then does not serve it.
    metrics_listener: Option<TcpListener>,
    router: Router,
    state: AppState,
    /// This node's link to the others, if any; lives as long as the server.
    cluster: Option<Cluster>,
    /// Reloads the keyring (none for `hs256`); stops when dropped.
    keyring_refresh: Option<RefreshTask>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        // Before anything records: a handle registered earlier would
        // record nowhere.
        crate::metrics::handles();
        data_dir::ensure(&settings.data_dir)?;
        check_deployment(&settings)?;
        let secret = match &settings.jwt.secret {
            Some(secret) => secret.clone(),
            None => data_dir::load_or_create_jwt_secret(&settings.data_dir)?,
        };
        let trusted_issuers = trusted_issuers(&settings)?;
        let hub = Hub::new(settings.ws.outbound_queue);
        let store = Store::connect(
            &settings.database_url,
            &settings.store,
            Some(Arc::new(hub.clone())),
        )
        .await?;
        hub.start_filler(store.clone());
        // Before the first admin is made: an empty database is a new
        // deployment, whose keyring owes nothing to the shared secret.
        let (tokens, keyring_refresh) =
            auth::keyring::start(&settings.jwt, &store, &secret).await?;
        let cluster = match (&settings.cluster, store.postgres()) {
            (Some(cluster), Some(postgres)) => {
                Some(Cluster::start(cluster, &hub, postgres.clone(), &secret).await?)
            }
            _ => None,
        };
        ensure_first_admin(&store, &settings.data_dir, &settings.bootstrap_admin).await?;
        auth::passwords::warm_up();
        routes::web::prepare_in_background();

        let listener = listen(settings.listen)
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let metrics_listener = match settings.metrics_listen {
            Some(address) => Some(
                listen(address)
                    .with_context(|| format!("cannot listen for metrics on {address}"))?,
            ),
            None => None,
        };
        let readiness = match &cluster {
            Some(cluster) => Readiness::with_subscription(cluster.subscription_check()),
            None => Readiness::standalone(),
        };
        let state = AppState::new(AppStateInner {
            chat_start_limiter: RateLimiter::per_minute(
                Limit::ChatCreate,
                settings.limits.chat_starts_per_minute,
            ),
            login_limiter: RateLimiter::per_minute(Limit::Login, settings.limits.logins_per_minute),
            hub,
            send_limiter: RateLimiter::per_minute(Limit::Send, settings.limits.sends_per_minute),
            read_limiter: RateLimiter::per_minute(Limit::Read, settings.limits.reads_per_minute),
            handshakes: HandshakeGate::default(),
            socket_caps: SocketCaps::new(
                settings.limits.sockets_per_principal,
                settings.limits.sockets_per_address,
            ),
            failed_logins: FailedLogins::new(
                settings.limits.failed_logins_per_account,
                Duration::from_secs(15 * 60),
            ),
            password_slots: PasswordSlots::new(settings.limits.password_hashes_at_once),
            readiness,
            store,
            tokens,
            trusted_issuers,
            settings,
        });
        let router = router(state.clone())?;
        Ok(Application {
            listener,
            metrics_listener,
            router,
            state,
            cluster,
            keyring_refresh,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The shared state, for tests and tools that drive the server from
    /// inside (housekeeping, say).
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The metrics listener's address, when it has its own.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets
    /// in-flight requests finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let housekeeping = tokio::spawn(housekeeping(self.state.clone()));
        let metrics = self.metrics_addr().zip(self.metrics_listener);
        let metrics = metrics.map(|(address, listener)| {
            tracing::info!(%address, "serving /metrics");
            let router = crate::metrics::metrics_router().with_state(self.state.clone());
            tokio::spawn(async move { axum::serve(listener, router).await })
        });
        let idle_close = tokio::spawn(crate::idle_close::run(self.state.clone()));
        let hub = self.state.hub.clone();
        let shutdown = async move {
            shutdown.await;
            // Upgraded sockets are not tracked by the HTTP server's
            // graceful shutdown: tell them to close with 1001 first.
            hub.shutdown();
        };
        tracing::info!(address = %self.listener.local_addr()?, "Byrd is listening");
        // Without TCP_NODELAY a small frame written while an earlier one
        // is unacknowledged waits for the peer's delayed ACK (Nagle), up to
        // tens of milliseconds. Connections flush whole bursts, so nothing
        // is gained by holding bytes back.
        let listener = PriorityListener::start(self.listener)?.tap_io(|accepted| {
            if let Err(error) = accepted.tcp().set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
        });
        let served = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        housekeeping.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        idle_close.abort();
        drop(self.cluster);
        drop(self.keyring_refresh);
        self.state.store.close().await;
        served.context("server failed")
    }
}

/// Connections the kernel may hold for `accept` (Linux caps it at
/// `net.core.somaxconn`). When a node restarts, its clients come back
/// within the same second or two: with the 1,024 a plain bind asks for,
/// the queue overflowed at a few thousand, and every connection dropped
/// there waited for its SYN to be sent again, 1 s, then 3 s, then 7 s
/// later. Measured with `byrd-loadgen storm`.
const ACCEPT_BACKLOG: u32 = 65_535;

/// A listener on `address` with the [`ACCEPT_BACKLOG`].
fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As a plain bind does: a restarted node can listen again at once,
    // beside its old connections still in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Writes the readiness line, `{"event":"listening","address":"HOST:PORT"}`,
/// the one thing Byrd prints on stdout: whatever starts it (a test, a
/// script, a supervisor) learns the port `--listen 127.0.0.1:0` got
/// without parsing logs. `byrd serve` writes it once the listener is
/// bound (connections wait in its backlog until serving starts); an
/// application embedded in a test or another program prints nothing. A
/// closed stdout is no reason to stop serving.
pub fn announce_listening(out: &mut impl std::io::Write, address: SocketAddr) {
    let line = serde_json::json!({"event": "listening", "address": address.to_string()});
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// The trusted issuers of `--trusted-issuers-file`, their JWKS fetches
/// started.
fn trusted_issuers(settings: &Settings) -> anyhow::Result<TrustedIssuers> {
    let own = OwnTokens {
        issuer: settings.jwt.issuer.clone(),
        agent_token_ttl: settings.jwt.agent_token_ttl.get(),
        leeway: settings.jwt.leeway.get(),
    };
    let issuers = TrustedIssuers::load(settings.trusted_issuers_file.as_deref(), own)?;
    if !issuers.is_empty() {
        tracing::info!(count = issuers.len(), "trusted issuers loaded");
    }
    issuers.prefetch();
    Ok(issuers)
}

/// Refuses settings that would make several nodes misbehave quietly, and
/// says what a lone PostgreSQL node assumes.
fn check_deployment(settings: &Settings) -> anyhow::Result<()> {
    let shared = crate::store::postgres::handles(settings.database_url.expose_secret());
    if shared && settings.jwt.algorithm == KeyAlgorithm::Hs256 && settings.jwt.secret.is_none() {
        anyhow::bail!(
            "a PostgreSQL database is meant to be shared by several nodes, which must all sign \
             and check tokens with one key: set BYRD_JWT_SECRET (at least 32 bytes) to the same \
             value on every node"
        );
    }
    let unshared = unshared_keys(settings);
    if shared && !unshared.is_empty() {
        anyhow::bail!(
            "a PostgreSQL database is meant to be shared by several nodes, which must all hold \
             the same keys: set BYRD_JWT_SECRET (at least 32 bytes) to the same value on every \
             node, or else {}, which are derived from it by default",
            unshared.join(" and ")
        );
    }
    if settings.cluster.is_some() && !shared {
        anyhow::bail!(
            "--redis-url joins this node to others, which needs a database they share: \
             set --database-url to a postgres:// URL"
        );
    }
    if shared && settings.cluster.is_none() {
        tracing::warn!(
            "no --redis-url: this node assumes it is the only one using the database; \
             sockets on other nodes would not hear of its messages until they reconnect"
        );
    }
    if let Some(cluster) = &settings.cluster
        && let Some(one_in) = cluster.drop_publishes_one_in
    {
        tracing::warn!(
            one_in,
            "fault injection: dropping publishes on purpose (tests only)"
        );
    }
    Ok(())
}

/// The keys every node must share that a node without `BYRD_JWT_SECRET`
/// would make up on its own: by default the keyring key and the cluster
/// key are derived from the secret, so a keyring deployment that gives
/// both its own (or has no cluster) needs no secret at all.
fn unshared_keys(settings: &Settings) -> Vec<&'static str> {
    if settings.jwt.secret.is_some() {
        return Vec::new();
    }
    let mut unshared = Vec::new();
    if settings.jwt.keyring_key.is_none() {
        unshared.push("BYRD_KEYRING_KEY (or --keyring-key-file)");
    }
    if settings.cluster.as_ref().is_some_and(|c| c.key.is_none()) {
        unshared.push("BYRD_CLUSTER_KEY (or --cluster-key-file)");
    }
    unshared
}

/// The full router: documented API, protocol documents, docs UI,
/// fallbacks and middleware.
pub fn router(state: AppState) -> anyhow::Result<Router> {
    let (api, _) = routes::api_router().split_for_parts();
    let documents = crate::spec_docs::documents().context("cannot render the spec documents")?;
    let max_body = state.settings.limits.max_body_bytes;
    let cors = cors(&state);
    let metrics = match state.settings.metrics_listen {
        Some(_) => Router::new(),
        None => crate::metrics::metrics_router(),
    };
    Ok(api
        .merge(metrics)
        .merge(crate::spec_docs::router(documents))
        .merge(routes::docs::router())
        .merge(routes::web::router())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(cors)
        // Outside every layer that may answer (CORS, body limit), so each
        // answer is counted; inside the routing, so the route is known.
        .layer(axum::middleware::from_fn(crate::metrics::http::track))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        // Outermost, so the request's span and every answer carry the id.
        .layer(axum::middleware::from_fn(crate::request_id::assign))
        .with_state(state))
}

/// Cross-origin access for the widget, from the same allow-list as
/// WebSocket origins: a site may call the API from the browser exactly
/// when it may open the WebSocket. Without an allow-list (development)
/// any origin may. Tokens travel in headers, never cookies, so no
/// credentials mode is needed.
fn cors(state: &AppState) -> CorsLayer {
    let origins = match &state.settings.ws.allowed_origins {
        Some(origins) => AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        ),
        None => AllowOrigin::any(),
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER, crate::request_id::X_REQUEST_ID.clone()])
        .max_age(Duration::from_secs(600))
}

/// The span of one request: method and path, never the query string (a
/// guest token may ride in it) nor any header.
fn request_span<B>(request: &Request<B>) -> Span {
    let query = if request.uri().query().is_some() {
        "[redacted]"
    } else {
        ""
    };
    let request_id = request
        .headers()
        .get(&crate::request_id::X_REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), query, request_id)
}

/// Periodic clean-up: expired revocations and refresh tokens, and
/// rate-limiter entries of addresses gone quiet.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        state.chat_start_limiter.forget_idle();
        state.login_limiter.forget_idle();
        state.send_limiter.forget_idle();
        state.read_limiter.forget_idle();
        state.failed_logins.forget_old();
        let jwt = &state.settings.jwt;
        if let Err(error) = state
            .store
            .purge_expired(jwt.leeway.get(), jwt.refresh_grace.get())
            .await
        {
            tracing::warn!(error = format!("{error:#}"), "housekeeping failed");
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use secrecy::{SecretSlice, SecretString};

    use super::*;
    use crate::cluster::ClusterSettings;

    /// A node on PostgreSQL with `algorithm` and neither the secret nor
    /// any key of its own.
    fn on_postgres(algorithm: KeyAlgorithm) -> Settings {
        let mut settings = Settings::with_data_dir("/nonexistent".into());
        settings.database_url = SecretString::from("postgres://byrd@db.example/byrd");
        settings.jwt.algorithm = algorithm;
        settings
    }

    fn key() -> Option<SecretSlice<u8>> {
        Some(vec![7; 32].into())
    }

    fn refusal(settings: &Settings) -> String {
        format!("{:#}", check_deployment(settings).unwrap_err())
    }

    #[test]
    fn hs256_on_postgres_needs_the_shared_secret() {
        let mut settings = on_postgres(KeyAlgorithm::Hs256);
        settings.jwt.keyring_key = key();
        assert!(refusal(&settings).contains("set BYRD_JWT_SECRET"));
        settings.jwt.secret = Some(SecretString::from("s".repeat(32)));
        assert!(check_deployment(&settings).is_ok());
    }

    #[test]
    fn a_keyring_with_its_own_key_needs_no_secret_on_postgres() {
        let mut settings = on_postgres(KeyAlgorithm::EdDsa);
        let error = refusal(&settings);
        assert!(
            error.contains("BYRD_JWT_SECRET") && error.contains("BYRD_KEYRING_KEY"),
            "{error}"
        );
        assert!(!error.contains("BYRD_CLUSTER_KEY"), "no cluster: {error}");
        settings.jwt.keyring_key = key();
        assert!(check_deployment(&settings).is_ok());
    }

    #[test]
    fn a_cluster_without_the_secret_needs_its_own_cluster_key() {
        let mut settings = on_postgres(KeyAlgorithm::Es256);
        settings.jwt.keyring_key = key();
        let mut cluster = ClusterSettings::new(SecretString::from("redis://r/"));
        settings.cluster = Some(cluster.clone());
        let error = refusal(&settings);
        assert!(
            error.contains("BYRD_CLUSTER_KEY") && !error.contains("BYRD_KEYRING_KEY ("),
            "{error}"
        );
        cluster.key = key();
        settings.cluster = Some(cluster);
        assert!(check_deployment(&settings).is_ok());
        settings.jwt.keyring_key = None;
        assert!(refusal(&settings).contains("BYRD_KEYRING_KEY"));
    }
}
