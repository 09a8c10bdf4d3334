//! The real server, as its own process: the `byrd` binary of the same
//! cargo profile as this test (`cargo test --release --workspace` builds
//! `target/release/byrd` for the server's own tests), on a free loopback
//! port with a fresh data folder, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tempfile::TempDir;

pub const ADMIN_EMAIL: &str = "snapshots-admin@example.com";
pub const ADMIN_PASSWORD: &str = "snapshots admin password";
pub const JWT_SECRET: &str = "snapshots-secret-that-is-at-least-32-bytes-long";

pub struct ByrdServer {
    pub base_url: String,
    child: Child,
    _data: TempDir,
}

impl Drop for ByrdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `byrd` next to this test's profile directory (`target/<profile>/byrd`),
/// or `BYRD_BIN` when set.
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BYRD_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<this test> -> target/<profile>/byrd
    let profile = exe.parent().and_then(|deps| deps.parent()).unwrap();
    profile.join(format!("byrd{}", std::env::consts::EXE_SUFFIX))
}

impl ByrdServer {
    /// Starts the server with `env` on top of a known admin and key.
    pub fn start(env: &[(&str, &str)]) -> ByrdServer {
        let binary = binary();
        assert!(
            binary.exists(),
            "{} is missing: build the server in this profile first (`cargo build --release -p byrd-server`; `cargo test --release --workspace` does), or set BYRD_BIN",
            binary.display()
        );
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(&binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path().join("data"))
            .env("BYRD_LOG_FORMAT", "json")
            .env("BYRD_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("BYRD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BYRD_JWT_SECRET", JWT_SECRET)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("{} does not start: {error}", binary.display()));
        // The log names the port; the thread keeps draining it afterwards.
        let stderr = child.stderr.take().unwrap();
        let (found, address) = mpsc::channel();
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(tx) = found.as_ref()
                    && line.contains("Byrd is listening")
                    && let Some(start) = line.find("\"address\":\"")
                {
                    let rest = &line[start + "\"address\":\"".len()..];
                    let _ = tx.send(rest[..rest.find('"').unwrap_or(rest.len())].to_owned());
                    found = None;
                }
            }
        });
        let address = address
            .recv_timeout(Duration::from_secs(30))
            .expect("the server logs the address it listens on");
        ByrdServer {
            base_url: format!("http://{address}"),
            child,
            _data: data,
        }
    }
}
