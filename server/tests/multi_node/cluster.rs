//! A cluster of nodes for one test: a fresh database, the nodes as child
//! processes, and ways to break them.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use byrd_testkit::server::{ByrdServer, ServerBuilder, StartError};
use serde_json::{Value, json};
use sqlx::Connection;

/// Held for the whole of each test: the tests run one at a time, so the
/// nodes of one do not slow down another's (some measure delivery time)
/// on a machine of two cores.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

// Every node gets the kit's first admin (the first to start creates it,
// the others find it) and its HS256 key, shared as a deployment's must be.
pub use byrd_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD};

/// What `scripts/services` exported; `None` (the test is skipped) outside it.
pub struct Services {
    /// With `sslmode=verify-full` and the services' CA as `sslrootcert`.
    pub postgres_url: String,
    /// `rediss://`: the services' Redis speaks TLS only.
    pub redis_url: String,
    /// `redis-cli` with its TLS options, host and port, to break connections.
    pub redis_cli: Vec<String>,
}

impl Services {
    pub fn from_env() -> Option<Services> {
        let (Ok(postgres_url), Ok(redis_url), Ok(cli)) = (
            std::env::var("BYRD_TEST_POSTGRES_URL"),
            std::env::var("BYRD_TEST_REDIS_URL"),
            std::env::var("BYRD_TEST_REDIS_CLI"),
        ) else {
            eprintln!("skipped: run under `scripts/services run -- ...` for PostgreSQL and Redis");
            return None;
        };
        Some(Services {
            postgres_url,
            redis_url,
            redis_cli: cli.split_whitespace().map(str::to_owned).collect(),
        })
    }

    /// A raw client of the services' Redis, trusting their CA as a node
    /// does: for tests that publish on the channel themselves.
    pub fn redis_client(&self) -> redis::Client {
        let ca = std::env::var("BYRD_TEST_REDIS_CA_FILE").ok();
        byrd_server::cluster::connect::client(
            &secrecy::SecretString::from(self.redis_url.clone()),
            ca.as_deref().map(std::path::Path::new),
        )
        .unwrap()
    }

    /// A fresh database on the services' PostgreSQL, as a URL.
    pub async fn fresh_database(&self) -> String {
        let name = format!("byrd_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&self.postgres_url)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
        // The query (TLS settings, with a path in it) stays as it is.
        let (address, query) = self
            .postgres_url
            .split_once('?')
            .unwrap_or((&self.postgres_url, ""));
        let (base, _) = address.rsplit_once('/').unwrap();
        format!("{base}/{name}?{query}")
    }

    /// Runs `redis-cli ARGS...`; returns its output.
    pub fn redis(&self, args: &[&str]) -> String {
        let output = Command::new(&self.redis_cli[0])
            .args(&self.redis_cli[1..])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "redis-cli {args:?} failed");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

/// A `redis-server` of one test's own, on a free port, that the test may
/// stop and start again without disturbing the others. Under
/// `scripts/services` it speaks TLS only, as the services' Redis does, on
/// their certificate (`BYRD_TEST_TLS_DIR`).
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// The folder of `ca.pem`, `server.pem` and `server.key`.
    tls: Option<PathBuf>,
}

impl PrivateRedis {
    /// A free port for a Redis not started yet.
    pub fn stopped() -> PrivateRedis {
        PrivateRedis {
            port: free_port(),
            child: None,
            dir: tempfile::tempdir().unwrap(),
            tls: std::env::var_os("BYRD_TEST_TLS_DIR").map(PathBuf::from),
        }
    }

    pub fn started() -> PrivateRedis {
        let mut redis = PrivateRedis::stopped();
        redis.start();
        redis
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    /// Starts the server (again) on its port and waits until it answers.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "Redis is running already");
        let port = self.port.to_string();
        let mut command = Command::new("redis-server");
        command.args(["--bind", "127.0.0.1"]);
        match &self.tls {
            Some(tls) => {
                command
                    .args(["--port", "0", "--tls-port", &port])
                    .arg("--tls-cert-file")
                    .arg(tls.join("server.pem"))
                    .arg("--tls-key-file")
                    .arg(tls.join("server.key"))
                    .arg("--tls-ca-cert-file")
                    .arg(tls.join("ca.pem"))
                    .args(["--tls-auth-clients", "no"]);
            }
            None => {
                command.args(["--port", &port]);
            }
        }
        let child = command
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (installed by scripts/services)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.try_cli(&["PING"]).as_deref() != Some("PONG") {
            assert!(Instant::now() < deadline, "Redis did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server entirely, as a crash would: every connection to it
    /// drops at once, and nothing listens on its port until `start`.
    pub fn stop(&mut self) {
        let mut child = self.child.take().expect("Redis is running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    fn try_cli(&self, args: &[&str]) -> Option<String> {
        let mut command = Command::new("redis-cli");
        if let Some(tls) = &self.tls {
            command.arg("--tls").arg("--cacert").arg(tls.join("ca.pem"));
        }
        let output = command
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .ok()?;
        let out = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (output.status.success() && !out.starts_with("Could not connect")).then_some(out)
    }

    /// Waits until `nodes` nodes are subscribed and each has both its
    /// connections (the subscriber and the one for commands) open.
    pub async fn wait_for_nodes(&self, nodes: usize, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let subscribed = self
                .try_cli(&["PUBSUB", "NUMSUB", "byrd:events"])
                .and_then(|out| out.lines().nth(1)?.trim().parse::<usize>().ok());
            // Every client but this redis-cli.
            let clients = self
                .try_cli(&["CLIENT", "LIST"])
                .map(|out| out.lines().count().saturating_sub(1));
            if subscribed == Some(nodes) && clients == Some(2 * nodes) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nodes not all back on Redis: {subscribed:?} subscribed, {clients:?} connections"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One `byrd serve` process: the kit's server, on the shared database
/// and Redis.
pub struct Node {
    /// `127.0.0.1:<port>`.
    pub address: String,
    server: ByrdServer,
}

impl Node {
    /// Starts a node and waits until it listens. `env` adds to (or
    /// overrides) the settings every test node gets.
    pub async fn start(database_url: &str, redis_url: &str, env: &[(&str, &str)]) -> Node {
        let server = Node::try_start(database_url, redis_url, env)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        Node {
            address: server.address.clone(),
            server,
        }
    }

    /// Starts a node, or says why it did not start. A `rediss://` Redis
    /// is trusted through the services' CA (`BYRD_TEST_REDIS_CA_FILE`)
    /// unless `env` names another.
    pub async fn try_start(
        database_url: &str,
        redis_url: &str,
        env: &[(&str, &str)],
    ) -> Result<ByrdServer, StartError> {
        let mut builder = ServerBuilder::new(env!("CARGO_BIN_EXE_byrd"))
            .env("DATABASE_URL", database_url)
            .env("BYRD_REDIS_URL", redis_url)
            .env("BYRD_SWEEP_INTERVAL_MS", "500")
            // The tests mint agent tokens with the shared key, as a
            // backend of an `hs256` deployment does.
            .env("BYRD_JWT_ALGORITHM", "hs256");
        if redis_url.starts_with("rediss://")
            && let Ok(ca) = std::env::var("BYRD_TEST_REDIS_CA_FILE")
        {
            builder = builder.env("BYRD_REDIS_CA_FILE", ca);
        }
        let builder = builder.envs(env);
        // The start waits on a thread of its own, not on the runtime the
        // test's other sockets are read on.
        tokio::task::spawn_blocking(move || builder.try_start())
            .await
            .unwrap()
    }

    /// What the node has logged so far (warnings and worse).
    pub fn log(&self) -> String {
        self.server.log()
    }

    /// SIGKILL: no shutdown, no last publish, no goodbye to its sockets.
    pub fn kill(&mut self) {
        self.server.kill();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Starts a chat on `node`: its id and guest token.
pub async fn start_chat(client: &reqwest::Client, node: &str) -> (String, String) {
    let response = client
        .post(format!("http://{node}/v1/chats"))
        .json(&json!({"visitor": {"name": "Sam"}, "subject": "Help"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let started: Value = response.json().await.unwrap();
    (
        started["chat"]["id"].as_str().unwrap().to_owned(),
        started["guest_token"].as_str().unwrap().to_owned(),
    )
}

/// Logs the first admin in on `node`: its access token and agent id.
pub async fn login_admin(client: &reqwest::Client, node: &str) -> (String, String) {
    let response = client
        .post(format!("http://{node}/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let login: Value = response.json().await.unwrap();
    (
        login["access_token"].as_str().unwrap().to_owned(),
        login["agent"]["id"].as_str().unwrap().to_owned(),
    )
}

/// An agent token signed with the shared key, as a backend would mint it.
pub fn agent_token(agent_id: &str) -> String {
    byrd_testkit::token::agent_token(agent_id)
}

/// Posts message `client_msg_id` to `chat` on `node`; its `seq`.
pub async fn post_message(
    client: &reqwest::Client,
    node: &str,
    chat: &str,
    token: &str,
    client_msg_id: &str,
) -> i64 {
    let response = client
        .post(format!("http://{node}/v1/chats/{chat}/messages"))
        .bearer_auth(token)
        .json(&json!({"client_msg_id": client_msg_id, "body": client_msg_id}))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "send: {}",
        response.status()
    );
    let message: Value = response.json().await.unwrap();
    message["seq"].as_i64().unwrap()
}
