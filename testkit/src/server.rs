//! The real server as its own process: `byrd serve` on a free loopback
//! port (`--listen 127.0.0.1:0`) with a fresh data folder, the test admin
//! and signing key, and the lifted limits; ready when it prints its
//! readiness line on stdout, `{"event":"listening","address":"HOST:PORT"}`.
//! Its log (stderr) goes to a file in the data folder; the process is
//! killed when dropped.

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
        assert!(
            self.binary.exists(),
            "{} is missing: build the server in this profile first (`cargo build --release -p byrd-server`; `cargo test --release --workspace` does), or set BYRD_BIN",
            self.binary.display()
        );
        let data = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(data.path().join("byrd.log")).unwrap();
        let mut child = self
            .command(&data.path().join("data"))
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("{} does not start: {error}", self.binary.display()));
        let address = readiness(child.stdout.take().unwrap());
        let address = match address.recv_timeout(START_TIMEOUT) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(data.path().join("byrd.log")).unwrap_or_default();
                panic!("the server printed no readiness line; its log:\n{log}");
            }
        };
        ByrdServer {
            base_url: format!("http://{address}"),
            address,
            child,
            data,
        }
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
