//! The `byrd` command line.
//!
//! Every flag has an environment variable. Secrets (`BYRD_JWT_SECRET`,
//! `BYRD_ADMIN_PASSWORD`) are read from the environment only, never from
//! flags, which other users of the machine can see in the process list.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use byrd_spec::agent::Role;
use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use crate::configuration::{BootstrapAdmin, ClusterSettings, Settings};
use crate::domain::{DisplayName, EmailAddress, Password};
use crate::startup::{Application, shutdown_signal};
use crate::store::{NewAgent, Store};
use crate::{auth, backup, data_dir, spec_docs, telemetry};

#[derive(Debug, Parser)]
#[command(name = "byrd", version, about = "Byrd helpdesk live-chat server")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Manage agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Write or check the generated protocol documents in spec/v1/.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Copy a SQLite deployment (database and generated JWT key) into a
    /// new folder, consistently, while the server runs.
    Backup(BackupArgs),
}

#[derive(Debug, Args)]
struct StorageArgs {
    /// sqlx database URL [default: sqlite://<data-dir>/byrd.db]
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Folder for the default database, the generated JWT key and the first
    /// admin's password.
    #[arg(long, env = "BYRD_DATA_DIR", default_value = "byrd-data")]
    data_dir: PathBuf,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BYRD_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    storage: StorageArgs,
    /// Redis URL through which nodes sharing a PostgreSQL database pass
    /// live events (redis://[:password@]host:port/). Without it a
    /// PostgreSQL node assumes it is alone.
    #[arg(long, env = "BYRD_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// How often, in milliseconds, a node compares the chats it serves
    /// with the database to deliver what no event announced.
    #[arg(long, env = "BYRD_SWEEP_INTERVAL_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(100..))]
    sweep_interval_ms: u64,
    /// How long, in seconds, an agent stays online for the other nodes
    /// after its node stops renewing it (the node died).
    #[arg(long, env = "BYRD_PRESENCE_TTL_SECS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..))]
    presence_ttl_secs: u64,
    /// `iss` of issued tokens, required on presented ones.
    #[arg(long, env = "BYRD_JWT_ISSUER", default_value = "byrd")]
    jwt_issuer: String,
    /// `aud` of issued tokens, required on presented ones.
    #[arg(long, env = "BYRD_JWT_AUDIENCE", default_value = "byrd")]
    jwt_audience: String,
    /// `kid` header of issued tokens, required on presented ones.
    #[arg(long, env = "BYRD_JWT_KID", default_value = "byrd-1")]
    jwt_kid: String,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds (at most 300).
    #[arg(long, env = "BYRD_JWT_LEEWAY_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=300))]
    jwt_leeway_secs: u64,
    /// Seconds an agent access token lives, 30 to 900 (15 minutes). Shorter
    /// lives end a revoked session's last token sooner, at the cost of
    /// more refreshes.
    #[arg(long, env = "BYRD_AGENT_TOKEN_TTL_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(30..=900))]
    agent_token_ttl_secs: u64,
    /// Chats one client address may start per minute.
    #[arg(long, env = "BYRD_CHAT_STARTS_PER_MINUTE", default_value_t = 10)]
    chat_starts_per_minute: u32,
    /// Logins and refreshes one client address may make per minute.
    #[arg(long, env = "BYRD_LOGINS_PER_MINUTE", default_value_t = 20)]
    logins_per_minute: u32,
    /// Read the client address from X-Forwarded-For. Only behind a
    /// reverse proxy that sets it.
    #[arg(long, env = "BYRD_TRUST_X_FORWARDED_FOR")]
    trust_x_forwarded_for: bool,
    /// Which X-Forwarded-For entry, counted from the right, is the
    /// client's: the number of proxies in front of Byrd.
    #[arg(long, env = "BYRD_X_FORWARDED_FOR_HOPS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    x_forwarded_for_hops: u16,
    /// Messages one principal may send per minute (REST and WebSocket).
    #[arg(long, env = "BYRD_SENDS_PER_MINUTE", default_value_t = 120)]
    sends_per_minute: u32,
    /// History reads (message pages, subscribes) one principal may make
    /// per minute (REST and WebSocket).
    #[arg(long, env = "BYRD_READS_PER_MINUTE", default_value_t = 600)]
    reads_per_minute: u32,
    /// WebSockets one principal may hold open.
    #[arg(long, env = "BYRD_SOCKETS_PER_PRINCIPAL", default_value_t = 16)]
    sockets_per_principal: usize,
    /// WebSockets one client address (an IPv6 /64) may hold open.
    #[arg(long, env = "BYRD_SOCKETS_PER_ADDRESS", default_value_t = 1000)]
    sockets_per_address: usize,
    /// Failed logins for one email within 15 minutes before its logins
    /// are refused for the rest of the 15 minutes.
    #[arg(long, env = "BYRD_FAILED_LOGINS_PER_ACCOUNT", default_value_t = 10)]
    failed_logins_per_account: u32,
    /// Chats one WebSocket may be subscribed to at once.
    #[arg(long, env = "BYRD_WS_MAX_SUBSCRIPTIONS", default_value_t = 1000)]
    ws_max_subscriptions: usize,
    /// Milliseconds a write may wait for the database before it is refused
    /// with 503.
    #[arg(long, env = "BYRD_DATABASE_BUSY_TIMEOUT_MS", default_value_t = 5000)]
    database_busy_timeout_ms: u64,
    /// Origins allowed to open a WebSocket, comma-separated (e.g.
    /// `https://example.com`). Unset allows any origin: set it in production.
    #[arg(long, env = "BYRD_WS_ALLOWED_ORIGINS", value_delimiter = ',')]
    ws_allowed_origins: Option<Vec<String>>,
    /// Most messages one `subscribe` replays.
    #[arg(long, env = "BYRD_WS_REPLAY_CAP", default_value_t = 1000)]
    ws_replay_cap: u32,
    /// Seconds between server pings; a client silent for twice as long is
    /// disconnected.
    #[arg(long, env = "BYRD_WS_HEARTBEAT_SECS", default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..))]
    ws_heartbeat_secs: u64,
    /// Largest WebSocket frame, in bytes.
    #[arg(long, env = "BYRD_WS_MAX_FRAME_BYTES", default_value_t = 64 * 1024)]
    ws_max_frame_bytes: usize,
    /// Client frames one WebSocket may send per second (bursts of twice as
    /// many); past it frames are refused with `rate_limited`.
    #[arg(long, env = "BYRD_WS_FRAMES_PER_SECOND", default_value_t = 20)]
    ws_frames_per_second: u32,
    /// Longest message body, in characters.
    #[arg(long, env = "BYRD_MAX_MESSAGE_CHARS", default_value_t = 4000)]
    max_message_chars: usize,
    /// Sends one WebSocket may have waiting for the database; past it the
    /// server stops reading that socket until one is acked.
    #[arg(long, env = "BYRD_WS_MAX_SENDS_IN_FLIGHT", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    ws_max_sends_in_flight: u32,
    /// Frames refused with `rate_limited` within the violation window
    /// past which the WebSocket is closed with 1008.
    #[arg(long, env = "BYRD_WS_MAX_VIOLATIONS", default_value_t = 20)]
    ws_max_violations: u32,
    /// The window, in seconds, in which rate violations are counted.
    #[arg(long, env = "BYRD_WS_VIOLATION_WINDOW_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    ws_violation_window_secs: u64,
    /// Seconds after a refresh in which the spent refresh token, presented
    /// again, returns the same successor (its answer was lost) instead of
    /// revoking the session as a reuse. 0 turns the grace off.
    #[arg(long, env = "BYRD_REFRESH_GRACE_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=300))]
    refresh_grace_secs: u64,
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Add an agent. The password is read from standard input.
    Create(CreateAgentArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Agent,
}

#[derive(Debug, Args)]
struct CreateAgentArgs {
    #[arg(long)]
    email: String,
    #[arg(long)]
    name: String,
    #[arg(long, value_enum, default_value = "agent")]
    role: RoleArg,
    /// Read the password from the first line of standard input. Without
    /// it a random password is generated and saved to an owner-only file
    /// in the data folder, whose path is printed. Passwords are never
    /// taken as flags.
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Args)]
struct BackupArgs {
    /// The new folder to write the backup to; it must not exist.
    #[arg(long)]
    to: PathBuf,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Subcommand)]
enum SpecCommand {
    /// Regenerate the documents.
    Write {
        #[arg(long, default_value_os_t = spec_docs::default_dir())]
        dir: PathBuf,
    },
    /// Fail if the committed documents differ from the code.
    Check {
        #[arg(long, default_value_os_t = spec_docs::default_dir())]
        dir: PathBuf,
    },
}

fn env_secret(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

impl StorageArgs {
    fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(url) => SecretString::from(url.clone()),
            None => SecretString::from(format!(
                "sqlite://{}",
                self.data_dir.join("byrd.db").display()
            )),
        }
    }
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(args) => serve(*args).await,
            Command::Agent(AgentCommand::Create(args)) => create_agent(args).await,
            Command::Backup(args) => {
                let url = args.storage.database_url();
                let backup = backup::run(url.expose_secret(), &args.storage.data_dir, &args.to)?;
                println!(
                    "backed up to {} (chats: {}, messages: {})",
                    backup.folder.display(),
                    backup.chats,
                    backup.messages
                );
                if !backup.jwt_key {
                    println!(
                        "no generated JWT key in the data folder: keep BYRD_JWT_SECRET with the backup"
                    );
                }
                Ok(())
            }
            Command::Spec(SpecCommand::Write { dir }) => {
                spec_docs::write(&dir)?;
                println!("wrote the spec documents to {}", dir.display());
                Ok(())
            }
            Command::Spec(SpecCommand::Check { dir }) => {
                let stale = spec_docs::stale(&dir)?;
                anyhow::ensure!(
                    stale.is_empty(),
                    "spec documents out of date: {}; run `{}` and commit the result",
                    stale.join(", "),
                    spec_docs::REGENERATE_COMMAND
                );
                Ok(())
            }
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    telemetry::init();
    let mut settings = Settings::with_data_dir(args.storage.data_dir.clone());
    settings.listen = args.listen;
    settings.database_url = args.storage.database_url();
    settings.jwt.secret = env_secret("BYRD_JWT_SECRET");
    settings.cluster = args.redis_url.map(|url| {
        let mut cluster = ClusterSettings::new(SecretString::from(url));
        cluster.sweep_interval = std::time::Duration::from_millis(args.sweep_interval_ms);
        cluster.presence_ttl = std::time::Duration::from_secs(args.presence_ttl_secs);
        // Fault injection for the multi-node tests only: no flag, only in
        // a binary built with the `fault-injection` feature (which only
        // this package's test build turns on), and a warning at start.
        #[cfg(feature = "fault-injection")]
        {
            cluster.drop_publishes_one_in = std::env::var("BYRD_TEST_DROP_PUBLISHES")
                .ok()
                .and_then(|n| n.parse().ok());
        }
        cluster
    });
    settings.jwt.issuer = args.jwt_issuer;
    settings.jwt.audience = args.jwt_audience;
    settings.jwt.kid = args.jwt_kid;
    settings.jwt.leeway = std::time::Duration::from_secs(args.jwt_leeway_secs);
    settings.jwt.agent_token_ttl = std::time::Duration::from_secs(args.agent_token_ttl_secs);
    settings.jwt.refresh_grace = std::time::Duration::from_secs(args.refresh_grace_secs);
    settings.limits.chat_starts_per_minute = args.chat_starts_per_minute;
    settings.limits.logins_per_minute = args.logins_per_minute;
    settings.trust_forwarded_for = args.trust_x_forwarded_for;
    settings.forwarded_for_hops = usize::from(args.x_forwarded_for_hops);
    settings.limits.sends_per_minute = args.sends_per_minute;
    settings.limits.reads_per_minute = args.reads_per_minute;
    settings.limits.sockets_per_principal = args.sockets_per_principal;
    settings.limits.sockets_per_address = args.sockets_per_address;
    settings.limits.failed_logins_per_account = args.failed_logins_per_account;
    settings.ws.max_subscriptions = args.ws_max_subscriptions;
    settings.store.busy_timeout = std::time::Duration::from_millis(args.database_busy_timeout_ms);
    settings.ws.allowed_origins = args.ws_allowed_origins.map(|origins| {
        origins
            .into_iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect()
    });
    settings.ws.replay_cap = args.ws_replay_cap;
    settings.ws.heartbeat_interval = std::time::Duration::from_secs(args.ws_heartbeat_secs);
    settings.ws.max_frame_bytes = args.ws_max_frame_bytes;
    settings.ws.max_body_chars = args.max_message_chars;
    settings.ws.frames_per_second = args.ws_frames_per_second;
    settings.ws.max_sends_in_flight = args.ws_max_sends_in_flight as usize;
    settings.ws.max_violations = args.ws_max_violations;
    settings.ws.violation_window = std::time::Duration::from_secs(args.ws_violation_window_secs);
    settings.bootstrap_admin = BootstrapAdmin {
        email: std::env::var("BYRD_ADMIN_EMAIL")
            .ok()
            .filter(|v| !v.is_empty()),
        password: env_secret("BYRD_ADMIN_PASSWORD"),
    };
    if settings.bootstrap_admin.password.is_some() && settings.bootstrap_admin.email.is_none() {
        anyhow::bail!("BYRD_ADMIN_PASSWORD is set but BYRD_ADMIN_EMAIL is not");
    }
    let app = Application::build(settings).await?;
    app.run_until_stopped(shutdown_signal()).await
}

async fn create_agent(args: CreateAgentArgs) -> anyhow::Result<()> {
    let email = EmailAddress::parse("--email", &args.email)?;
    let name = DisplayName::parse("--name", &args.name)?;
    data_dir::ensure(&args.storage.data_dir)?;
    let (password, saved_to) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        let password = SecretString::from(line.trim_end_matches(['\r', '\n']).to_owned());
        (password, None)
    } else {
        let file = format!("agent-password-{}", uuid::Uuid::new_v4());
        let (password, path) = data_dir::save_generated_password(&args.storage.data_dir, &file)?;
        (password, Some(path))
    };
    let password = Password::parse("password", password)?;
    let store = Store::connect(
        &args.storage.database_url(),
        &crate::configuration::StoreSettings::default(),
        None,
    )
    .await?;
    let role = match args.role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Agent => Role::Agent,
    };
    let inserted = store
        .insert_agent(NewAgent {
            email,
            name,
            role,
            password_hash: auth::hash_password(password).await?,
        })
        .await;
    store.close().await;
    let agent = match inserted {
        Ok(agent) => agent,
        Err(error) => {
            // No agent has the generated password: do not leave it lying around.
            if let Some(path) = &saved_to {
                let _ = std::fs::remove_file(path);
            }
            return Err(error.into());
        }
    };
    println!("created {} {} ({})", role.as_str(), agent.email, agent.id);
    if let Some(path) = saved_to {
        println!(
            "its password is in {} (readable by you only)",
            path.display()
        );
    }
    Ok(())
}
