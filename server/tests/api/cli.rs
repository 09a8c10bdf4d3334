//! The command line, through the real binary. `byrd agent create --email
//! --name --role [--password-stdin]`: the password comes from standard
//! input, or is generated into an owner-only file whose path, never the
//! password, is printed. `byrd backup --to`: a consistent copy of a running
//! SQLite deployment, database and JWT key, into a new folder. And the
//! bounds `byrd serve` puts on its settings, and the line it prints when
//! it listens (README, "Knowing when it listens").

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use secrecy::SecretString;
use tempfile::TempDir;

use crate::helpers::{TestApp, spawn_app_with};

fn create_agent(data_dir: &Path, email: &str, stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_byrd"));
    command
        .args([
            "agent", "create", "--email", email, "--name", "Grace", "--role", "agent",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if stdin.is_some() {
        command.arg("--password-stdin").stdin(Stdio::piped());
    }
    let mut child = command.spawn().unwrap();
    if let Some(password) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

/// A server over the database the CLI wrote in `dir`.
async fn serve(dir: &TempDir) -> TestApp {
    let path = dir.path().to_path_buf();
    spawn_app_with(move |settings| {
        settings.database_url =
            SecretString::from(format!("sqlite://{}", path.join("byrd.db").display()));
        settings.data_dir = path;
    })
    .await
}

#[tokio::test]
async fn an_agent_created_with_a_password_on_stdin_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let password = "grace's password from stdin";
    let output = create_agent(dir.path(), "grace@example.com", Some(password));
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("grace@example.com"), "{stdout}");
    assert!(!stdout.contains(password));

    let app = serve(&dir).await;
    assert_eq!(app.login("grace@example.com", password).await.status(), 200);
}

#[tokio::test]
async fn without_password_stdin_a_generated_password_goes_to_an_owner_only_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = create_agent(dir.path(), "ada@example.com", None);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let path = stdout
        .lines()
        .find_map(|line| line.strip_prefix("its password is in "))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no password file named in {stdout}"));
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let password = std::fs::read_to_string(path).unwrap();
    assert!(
        !stdout.contains(password.trim()),
        "the password itself was printed"
    );

    let app = serve(&dir).await;
    assert_eq!(
        app.login("ada@example.com", password.trim()).await.status(),
        200
    );
}

#[tokio::test]
async fn a_taken_email_fails_and_leaves_no_password_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        create_agent(dir.path(), "ada@example.com", Some("a first password"))
            .status
            .success()
    );
    let output = create_agent(dir.path(), "ADA@example.com", None);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("already exists"), "{stderr}");
    let leftovers = password_files(dir.path());
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The `agent-password-*` files left in `dir`.
fn password_files(dir: &Path) -> Vec<std::fs::DirEntry> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("agent-password-")
        })
        .collect()
}

#[test]
fn an_unreachable_database_fails_and_leaves_no_password_file_behind() {
    // A PostgreSQL URL on a port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "postgres://byrd@127.0.0.1:{}/byrd",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_byrd"))
        .args([
            "agent",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--database-url", &url])
        .output()
        .unwrap();
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("cannot connect"), "{stderr}");
    let leftovers = password_files(dir.path());
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn backup(data_dir: &Path, to: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_byrd"))
        .arg("backup")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--to")
        .arg(to)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

/// A server over `dir` whose JWT key is the one generated in `dir`.
async fn serve_with_own_key(dir: &Path) -> TestApp {
    let path = dir.to_path_buf();
    spawn_app_with(move |settings| {
        settings.database_url =
            SecretString::from(format!("sqlite://{}", path.join("byrd.db").display()));
        settings.data_dir = path;
        settings.jwt.secret = None;
    })
    .await
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_the_chats_and_honours_old_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let app = serve_with_own_key(dir.path()).await;
    let chat = app.start_chat().await;
    let (chat_id, token) = (
        chat["chat"]["id"].as_str().unwrap().to_owned(),
        chat["guest_token"].as_str().unwrap().to_owned(),
    );
    let path = format!("/v1/chats/{chat_id}/messages");
    for n in 1..=3 {
        let body =
            serde_json::json!({"client_msg_id": format!("m{n}"), "body": format!("message {n}")});
        assert_eq!(
            app.post(&path, Some(&token), Some(&body)).await.status(),
            201
        );
    }

    // Taken while the server still runs, with its WAL not checkpointed.
    let backups = tempfile::tempdir().unwrap();
    let to = backups.path().join("nightly");
    let output = backup(dir.path(), &to);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("(chats: 1, messages: 3)"), "{stdout}");
    for file in ["byrd.db", "jwt-secret"] {
        let mode = std::fs::metadata(to.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    // Written after the backup: not in it.
    let late = serde_json::json!({"client_msg_id": "m4", "body": "after the backup"});
    assert_eq!(
        app.post(&path, Some(&token), Some(&late)).await.status(),
        201
    );

    let restored = serve_with_own_key(&to).await;
    let history = restored.get(&path, Some(&token)).await;
    assert_eq!(history.status(), 200, "the old guest token is honoured");
    let history: serde_json::Value = history.json().await.unwrap();
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["message 1", "message 2", "message 3"]);
}

#[tokio::test]
async fn a_backup_never_writes_into_an_existing_folder() {
    let dir = tempfile::tempdir().unwrap();
    let app = serve_with_own_key(dir.path()).await;
    app.start_chat().await;
    let existing = tempfile::tempdir().unwrap();
    std::fs::write(existing.path().join("byrd.db"), "an earlier backup").unwrap();

    let output = backup(dir.path(), existing.path());
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("exists already"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(existing.path().join("byrd.db")).unwrap(),
        "an earlier backup"
    );
}

#[test]
fn a_data_folder_without_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("backup");
    let output = backup(dir.path(), &to);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("nothing to back up"), "{stderr}");
    assert!(!to.exists());
}

#[test]
fn an_agent_token_lifetime_out_of_bounds_is_refused_at_start() {
    // `--agent-token-ttl-secs` (`BYRD_AGENT_TOKEN_TTL_SECS`) takes 30 to
    // 900 seconds; anything else stops the server before it starts.
    let dir = TempDir::new().unwrap();
    for secs in ["29", "901", "0"] {
        let output = Command::new(env!("CARGO_BIN_EXE_byrd"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--agent-token-ttl-secs", secs])
            .output()
            .unwrap();
        assert!(!output.status.success(), "{secs} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--agent-token-ttl-secs"),
            "{secs}: {stderr}"
        );
    }
}

#[tokio::test]
async fn serve_prints_one_json_line_with_its_address_once_it_listens() {
    // `byrd serve` writes `{"event":"listening","address":"HOST:PORT"}` on
    // stdout when it accepts connections, and nothing else there: whoever
    // started it on port 0 learns the port without reading its log.
    let dir = TempDir::new().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_byrd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("BYRD_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let read = tokio::task::spawn_blocking(move || {
        std::io::BufRead::read_line(&mut stdout, &mut line).map(|_| (line, stdout))
    });
    let (line, mut stdout) = tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("the readiness line within 30 s")
        .unwrap()
        .unwrap();
    let announced: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
    let address = announced["address"]
        .as_str()
        .expect("an address")
        .to_owned();
    let port: u16 = address.strip_prefix("127.0.0.1:").unwrap().parse().unwrap();
    assert_ne!(port, 0);
    assert_eq!(
        announced,
        serde_json::json!({"event": "listening", "address": address})
    );
    let health = reqwest::get(format!("http://{address}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    child.kill().unwrap();
    child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "", "nothing else on stdout");
}
