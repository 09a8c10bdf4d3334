//! The real server as its own process: `byrd serve` on a free loopback
//! port (`--listen 127.0.0.1:0`) with a fresh data folder, the test admin
//! and signing key, and the lifted limits; ready when it prints its
//! readiness line on stdout, `{"event":"listening","address":"HOST:PORT"}`.
//! Its log (stderr) goes to a file in the data folder; the process is
//! killed when dropped. Tests [`start`](ServerBuilder::start) it and fail
//! if it does not come up; a tool (the load generator) calls
//! [`try_start`](ServerBuilder::try_start) and reports why.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::limits::LIFTED;
use crate::{ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET};

/// How long a server may take to print its readiness line.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The `byrd` binary of this cargo profile: `BYRD_BIN` when set, else
/// `target/<profile>/byrd` next to the running test (whose executable is
/// `target/<profile>/deps/<test>`). `cargo test --release --workspace`
/// builds it; a test of the server package itself passes
/// `env!("CARGO_BIN_EXE_byrd")` instead.
pub fn byrd_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BYRD_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(|deps| deps.parent()).unwrap();
    profile.join(format!("byrd{}", std::env::consts::EXE_SUFFIX))
}

/// How to start a server: the binary, and settings on top of the usual.
pub struct ServerBuilder {
    binary: PathBuf,
    env: Vec<(OsString, OsString)>,
    args: Vec<OsString>,
}

/// Why a server did not start.
#[derive(Debug)]
pub enum StartError {
    /// The binary is not there.
    Missing(PathBuf),
    /// A data folder, the log or the process could not be made.
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    /// No readiness line: the server exited first (`exited`), or stayed
    /// silent for [`START_TIMEOUT`] and was killed. `log` is its stderr.
    NotReady { exited: bool, log: String },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Missing(binary) => write!(
                f,
                "{} is missing: build the server in this profile first (`cargo build --release -p byrd-server`; `cargo test --release --workspace` does), or set BYRD_BIN",
                binary.display()
            ),
            StartError::Io { what, source } => write!(f, "cannot {what}: {source}"),
            StartError::NotReady { exited, log } => {
                let how = if *exited {
                    "exited before it printed"
                } else {
                    "printed no"
                };
                write!(f, "the server {how} its readiness line; its log:\n{log}")
            }
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A running `byrd serve`.
pub struct ByrdServer {
    /// `host:port` it listens on.
    pub address: String,
    /// `http://host:port`.
    pub base_url: String,
    child: Child,
    data: TempDir,
}

impl ByrdServer {
    /// A server of [`byrd_binary`].
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new(byrd_binary())
    }

    /// Starts [`byrd_binary`] with `env` on top of the usual settings.
    pub fn start(env: &[(&str, &str)]) -> ByrdServer {
        ByrdServer::builder().envs(env).start()
    }

    /// The data folder it was given (its log is `byrd.log` beside it).
    pub fn data_dir(&self) -> PathBuf {
        self.data.path().join("data")
    }

    /// What the server has logged so far (stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("byrd.log")).unwrap_or_default()
    }

    /// The process id, to watch or signal it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown, no last publish, no goodbye to its sockets.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ByrdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerBuilder {
    pub fn new(binary: impl Into<PathBuf>) -> ServerBuilder {
        ServerBuilder {
            binary: binary.into(),
            env: Vec::new(),
            args: Vec::new(),
        }
    }

    /// Sets (or overrides) one environment variable.
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn envs(mut self, env: &[(&str, &str)]) -> Self {
        for (name, value) in env {
            self = self.env(name, value);
        }
        self
    }

    /// Adds arguments after `serve --listen ... --data-dir ...`.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(OsString::from));
        self
    }

    /// Starts the server and waits for its readiness line; fails the test
    /// if it exits first or stays silent for [`START_TIMEOUT`].
    pub fn start(self) -> ByrdServer {
        self.try_start().unwrap_or_else(|error| panic!("{error}"))
    }

    /// Like [`ServerBuilder::start`], but a server that cannot start is an
    /// error, for a tool that reports it rather than a test that fails.
    pub fn try_start(self) -> Result<ByrdServer, StartError> {
        if !self.binary.exists() {
            return Err(StartError::Missing(self.binary));
        }
        let io = |what| move |source| StartError::Io { what, source };
        let data = tempfile::tempdir().map_err(io("create a data folder"))?;
        let log = std::fs::File::create(data.path().join("byrd.log"))
            .map_err(io("create the server's log"))?;
        let mut child = self
            .command(&data.path().join("data"))
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(io("start the server"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let address = match readiness(stdout).recv_timeout(START_TIMEOUT) {
            Ok(address) => address,
            Err(waited) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(data.path().join("byrd.log")).unwrap_or_default();
                let exited = waited == mpsc::RecvTimeoutError::Disconnected;
                return Err(StartError::NotReady { exited, log });
            }
        };
        Ok(ByrdServer {
            base_url: format!("http://{address}"),
            address,
            child,
            data,
        })
    }

    fn command(&self, data_dir: &Path) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(&self.args)
            .env("BYRD_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("BYRD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BYRD_JWT_SECRET", JWT_SECRET)
            .env("RUST_LOG", "warn")
            .envs(LIFTED.env())
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null());
        command
    }
}

/// The address of the first readiness line `stdout` prints, once it does;
/// a thread keeps draining stdout afterwards so the server never blocks
/// on it.
fn readiness(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (found, address) = mpsc::channel();
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(address) = listening_address(&line)
                && let Some(tx) = found.take()
            {
                let _ = tx.send(address);
            }
        }
    });
    address
}

/// The address of a readiness line, `{"event":"listening","address":...}`.
pub fn listening_address(line: &str) -> Option<String> {
    let line: Value = serde_json::from_str(line).ok()?;
    (line["event"] == "listening")
        .then(|| line["address"].as_str().map(str::to_owned))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_listening_line_is_the_readiness_line() {
        let line = r#"{"event":"listening","address":"127.0.0.1:8080"}"#;
        assert_eq!(listening_address(line).as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(listening_address(r#"{"event":"stopping"}"#), None);
        assert_eq!(listening_address(r#"{"event":"listening"}"#), None);
        assert_eq!(listening_address("listening on 127.0.0.1:8080"), None);
    }

    #[test]
    fn a_missing_binary_is_an_error() {
        let started = ServerBuilder::new("/nonexistent/byrd").try_start();
        assert!(matches!(started, Err(StartError::Missing(_))));
    }

    #[test]
    fn a_server_that_exits_silently_is_reported_at_once() {
        // `true` takes the server's arguments, prints nothing and exits.
        let binary = ["/bin/true", "/usr/bin/true"]
            .into_iter()
            .find(|path| Path::new(path).exists())
            .expect("coreutils' true");
        let began = std::time::Instant::now();
        let started = ServerBuilder::new(binary).try_start();
        assert!(
            matches!(started, Err(StartError::NotReady { exited: true, .. })),
            "{:?}",
            started.err()
        );
        assert!(began.elapsed() < START_TIMEOUT / 2);
    }
}
