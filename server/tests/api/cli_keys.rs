//! `byrd keys list|rotate|retire` through the real binary (README "Signing
//! keys and rotation"), on the database of a server that made its first
//! key: `list` prints one tab-separated row per key and never a private
//! part; `rotate` publishes a key that `list` shows waiting; `retire`
//! refuses the key that signs unless a successor waits; every refusal is
//! a non-zero exit with a message saying what to do.

use std::path::Path;
use std::process::{Command, Output};

use secrecy::SecretString;
use tempfile::TempDir;

use crate::helpers::{JWT_SECRET, TestApp, keyring_default, spawn_app_with};
use crate::keyring::{jwks, kids};

/// The columns `byrd keys list` prints, in order.
const HEADER: &str = "kid\talgorithm\tstate\tcreated\tsigns from\tverifies until\tretired";

/// A keyring server (Ed25519) whose SQLite database is in `dir`, as
/// `--data-dir` finds it.
async fn serve(dir: &TempDir) -> TestApp {
    let path = dir.path().to_path_buf();
    spawn_app_with(move |settings| {
        keyring_default(settings);
        settings.database_url =
            SecretString::from(format!("sqlite://{}", path.join("byrd.db").display()));
        settings.data_dir = path;
    })
    .await
}

/// `byrd keys ARGS... --data-dir DIR`, with the server's secret (the
/// keyring key is derived from it).
fn keys(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_byrd"))
        .arg("keys")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("DATABASE_URL")
        .env_remove("BYRD_KEYRING_KEY")
        .env("BYRD_JWT_SECRET", JWT_SECRET)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// A refusal: exit code 1, nothing on stdout, and `byrd: ...` on stderr.
fn refusal(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert!(stderr.starts_with("byrd: "), "{stderr}");
    stderr
}

/// The rows of `byrd keys list`, each split at its tabs, after checking
/// the header.
fn list(dir: &Path) -> Vec<Vec<String>> {
    let out = stdout(&keys(dir, &["list"]));
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(HEADER));
    let rows: Vec<Vec<String>> = lines
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect();
    for row in &rows {
        assert_eq!(row.len(), 7, "{row:?}");
    }
    rows
}

/// `(kid, algorithm, state)` of each row.
fn states(rows: &[Vec<String>]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|row| (row[0].clone(), row[1].clone(), row[2].clone()))
        .collect()
}

/// The kid `byrd keys rotate` says it published, and checks its line.
fn rotate(dir: &Path, args: &[&str], alg: &str) -> String {
    let out = stdout(&keys(dir, &[&["rotate"][..], args].concat()));
    let (kid, rest) = out
        .trim_end()
        .strip_prefix("published ")
        .and_then(|rest| rest.split_once(' '))
        .unwrap_or_else(|| panic!("{out}"));
    let from = rest
        .strip_prefix(&format!("({alg}); it signs from "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(chrono::DateTime::parse_from_rfc3339(from).is_ok(), "{out}");
    kid.to_owned()
}

#[tokio::test]
async fn list_shows_each_key_on_a_row_and_no_private_part() {
    let dir = tempfile::tempdir().unwrap();
    let app = serve(&dir).await;
    let first = kids(&jwks(&app).await).remove(0);
    let rows = list(dir.path());
    assert_eq!(
        states(&rows),
        [(first.clone(), "EdDSA".into(), "signing".into())]
    );
    let [_, _, _, created, signs_from, until, retired] = &rows[0][..] else {
        unreachable!("seven columns")
    };
    assert!(chrono::DateTime::parse_from_rfc3339(created).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(signs_from).is_ok());
    assert_eq!((until.as_str(), retired.as_str()), ("-", "-"));

    let out = stdout(&keys(dir.path(), &["list"]));
    let stored = app.state.store.signing_keys().await.unwrap();
    let sealed = stored[0].sealed_private.as_deref().unwrap();
    assert!(!out.contains(sealed), "the sealed private key was printed");
    assert!(!out.contains("PRIVATE"), "{out}");
}

#[tokio::test]
async fn rotate_publishes_a_key_that_list_shows_waiting_to_sign() {
    let dir = tempfile::tempdir().unwrap();
    let app = serve(&dir).await;
    let first = kids(&jwks(&app).await).remove(0);
    let eddsa = rotate(dir.path(), &[], "EdDSA");
    let es256 = rotate(dir.path(), &["--algorithm", "es256"], "ES256");
    let rows = list(dir.path());
    assert_eq!(
        states(&rows),
        [
            (first, "EdDSA".into(), "signing".into()),
            (eddsa, "EdDSA".into(), "published".into()),
            (es256, "ES256".into(), "published".into()),
        ]
    );
    assert_ne!(rows[0][5], "-", "the superseded key verifies until a date");
}

#[tokio::test]
async fn retire_refuses_the_signing_key_until_a_successor_waits() {
    let dir = tempfile::tempdir().unwrap();
    let app = serve(&dir).await;
    let first = kids(&jwks(&app).await).remove(0);

    let stderr = refusal(&keys(dir.path(), &["retire", &first]));
    assert!(
        stderr.contains(&format!("{first} is the key that signs now"))
            && stderr.contains("run `byrd keys rotate` first"),
        "{stderr}"
    );
    assert_eq!(states(&list(dir.path()))[0].2, "signing", "still signing");

    let stderr = refusal(&keys(dir.path(), &["retire", "no-such-kid"]));
    assert!(
        stderr.contains("no key no-such-kid: see `byrd keys list`"),
        "{stderr}"
    );
    // Kids are base64url: one in 32 begins with '-', and is still a kid.
    let stderr = refusal(&keys(dir.path(), &["retire", "-Wno-such-kid"]));
    assert!(stderr.contains("no key -Wno-such-kid"), "{stderr}");

    let next = rotate(dir.path(), &[], "EdDSA");
    let out = stdout(&keys(dir.path(), &["retire", &first]));
    assert_eq!(
        out.trim_end(),
        format!("retired {first}; {next} signs from now on")
    );
    let out = stdout(&keys(dir.path(), &["retire", &first]));
    assert_eq!(out.trim_end(), format!("{first} was retired already"));
    let rows = list(dir.path());
    assert_eq!(
        states(&rows),
        [
            (first, "EdDSA".into(), "retired".into()),
            (next, "EdDSA".into(), "signing".into()),
        ]
    );
    assert_ne!(rows[0][6], "-", "the retirement is dated");
}

#[tokio::test]
async fn rotate_without_a_usable_keyring_key_says_why_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = serve(&dir).await;
    let output = Command::new(env!("CARGO_BIN_EXE_byrd"))
        .args(["keys", "rotate", "--data-dir"])
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .env("BYRD_JWT_SECRET", JWT_SECRET)
        .env("BYRD_KEYRING_KEY", "too short")
        .output()
        .unwrap();
    let stderr = refusal(&output);
    assert!(stderr.contains("keyring key"), "{stderr}");
    assert!(
        !stderr.contains("too short"),
        "the key was printed: {stderr}"
    );
    assert_eq!(app.state.store.signing_keys().await.unwrap().len(), 1);
}
