//! The server under load: one this tool starts, or one already running.
//!
//! A started server is the release binary as its own process, on a fresh
//! data folder, so its memory and CPU are its own; `byrd-testkit` starts
//! it as every suite does, on a port the system chooses, ready once it
//! prints its readiness line. Limits that would refuse
//! the load (per-address chat starts, per-connection and per-principal
//! frame and send rates, socket caps, heartbeats an idle client does not
//! answer) are lifted through environment variables: a server that does
//! not know one of them ignores it, so the same tool measures older and
//! newer servers alike.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use byrd_testkit::server::{ByrdServer, ServerBuilder, StartError};
use clap::Args;

/// Where the load goes.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The `byrd` binary to start (ignored with `--url`).
    #[arg(long, default_value_os_t = crate::default_server_binary())]
    server: PathBuf,
    /// A running server to load instead, e.g. `http://127.0.0.1:8080`. It
    /// must allow enough chat starts, logins, frames and sockets from this
    /// address for the scenario.
    #[arg(long)]
    url: Option<String>,
    /// Another node of the same cluster for the agent sockets, e.g.
    /// `http://127.0.0.1:8081`: every message then crosses from the
    /// guests' node to the agents' through the broker.
    #[arg(long, requires = "url")]
    agent_url: Option<String>,
    /// The running server's process id, to report its memory and CPU.
    #[arg(long, requires = "url")]
    server_pid: Option<u32>,
    /// An admin of the running server; its password is read from
    /// `BYRD_LOADGEN_ADMIN_PASSWORD`.
    #[arg(long, default_value = "loadgen-admin@example.com")]
    admin_email: String,
}

/// Limits lifted on a started server, as environment variables.
const LIFTED_LIMITS: &[(&str, &str)] = &[
    ("BYRD_CHAT_STARTS_PER_MINUTE", "100000000"),
    ("BYRD_OPEN_CHATS_PER_ADDRESS", "0"),
    ("BYRD_LOGINS_PER_MINUTE", "1000000"),
    ("BYRD_WS_FRAMES_PER_SECOND", "1000000"),
    ("BYRD_SENDS_PER_MINUTE", "100000000"),
    ("BYRD_READS_PER_MINUTE", "100000000"),
    ("BYRD_SOCKETS_PER_PRINCIPAL", "100000"),
    ("BYRD_SOCKETS_PER_ADDRESS", "100000"),
    // Idle clients here do not answer pings while nobody reads them.
    ("BYRD_WS_HEARTBEAT_SECS", "3600"),
];

const ADMIN_PASSWORD: &str = "load generator admin password";

/// A server to load, and how to reach and watch it.
pub struct Target {
    /// `http://host:port`.
    pub base: String,
    /// `ws://host:port`.
    pub ws_base: String,
    /// Where the agent sockets connect: `ws_base` unless `--agent-url`.
    pub agent_ws_base: String,
    pub admin_email: String,
    pub admin_password: String,
    /// Whose memory and CPU to report.
    pub pid: Option<u32>,
    /// Keeps a started server alive; it is killed on drop.
    _started: Option<ByrdServer>,
}

impl Target {
    pub async fn open(args: &TargetArgs) -> anyhow::Result<Target> {
        let Some(url) = &args.url else {
            // Ready once started: it has said so.
            return start(&args.server, &args.admin_email).await;
        };
        let target = Target {
            base: url.trim_end_matches('/').to_owned(),
            ws_base: ws_base(url),
            agent_ws_base: ws_base(args.agent_url.as_deref().unwrap_or(url)),
            admin_email: args.admin_email.clone(),
            admin_password: std::env::var("BYRD_LOADGEN_ADMIN_PASSWORD")
                .context("BYRD_LOADGEN_ADMIN_PASSWORD must hold the admin's password")?,
            pid: args.server_pid,
            _started: None,
        };
        target.wait_healthy().await?;
        Ok(target)
    }

    async fn wait_healthy(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let answer = client.get(format!("{}/healthz", self.base)).send().await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "the server at {} did not become healthy within 30 s",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The WebSocket base of an `http://` URL.
fn ws_base(url: &str) -> String {
    url.trim_end_matches('/').replacen("http", "ws", 1)
}

/// Starts `binary` with the limits lifted and this tool's admin, and
/// waits (on a thread, as the start blocks) for its readiness line.
async fn start(binary: &Path, admin_email: &str) -> anyhow::Result<Target> {
    let builder = ServerBuilder::new(binary)
        .envs(LIFTED_LIMITS)
        .env("BYRD_ADMIN_EMAIL", admin_email)
        .env("BYRD_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let server = tokio::task::spawn_blocking(move || builder.try_start())
        .await
        .context("the server's start was interrupted")?
        .map_err(|error| match error {
            StartError::Missing(binary) => anyhow::anyhow!(
                "cannot start {} (build it with `cargo build --release -p byrd-server`)",
                binary.display()
            ),
            error => {
                anyhow::Error::new(error).context(format!("cannot start {}", binary.display()))
            }
        })?;
    let pid = server.pid();
    eprintln!(
        "started {} as process {pid} on {}",
        binary.display(),
        server.address
    );
    Ok(Target {
        base: server.base_url.clone(),
        ws_base: format!("ws://{}", server.address),
        agent_ws_base: format!("ws://{}", server.address),
        admin_email: admin_email.to_owned(),
        admin_password: ADMIN_PASSWORD.to_owned(),
        pid: Some(pid),
        _started: Some(server),
    })
}
