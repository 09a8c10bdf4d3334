//! `byrd backup`: a consistent copy of a SQLite deployment, taken while
//! the server runs.
//!
//! Copying `byrd.db` with `cp` while Byrd writes can capture a file that
//! does not match its WAL, and a copy without the WAL loses the newest
//! commits. Instead the database is written out with `VACUUM INTO`, which
//! reads one snapshot inside a read transaction (the writer carries on
//! beside it) and writes a compact, self-contained file. The generated JWT
//! key is copied along, so tokens issued before the backup are still
//! honoured by a server restored from it. The copy is checked with SQLite's
//! integrity check before it is reported done.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, bail, ensure};
use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::SqliteConnectOptions;

use crate::data_dir::JWT_SECRET_FILE;

/// The database file's name in a backup folder, as in a data folder.
pub const DATABASE_FILE: &str = "byrd.db";

/// What a backup holds.
#[derive(Debug)]
pub struct Backup {
    pub folder: PathBuf,
    pub chats: i64,
    pub messages: i64,
    /// Whether the data folder's generated JWT key was copied.
    pub jwt_key: bool,
}

/// Backs up the SQLite database at `database_url`, and the JWT key of
/// `data_dir` if there is one, into the new folder `to`.
pub fn run(database_url: &str, data_dir: &Path, to: &Path) -> anyhow::Result<Backup> {
    let source = sqlite_path(database_url)?;
    ensure!(
        source.is_file(),
        "no database at {}: nothing to back up",
        source.display()
    );
    create_folder(to)?;
    let target = to.join(DATABASE_FILE);
    let result = copy_database(&source, &target).and_then(|counts| {
        let jwt_key = copy_jwt_key(data_dir, to)?;
        Ok(Backup {
            folder: to.to_owned(),
            chats: counts.0,
            messages: counts.1,
            jwt_key,
        })
    });
    if result.is_err() {
        // A half-written backup must not pass for a good one.
        let _ = fs::remove_dir_all(to);
    }
    result
}

/// The file a `sqlite:` URL names; other databases have their own tools.
fn sqlite_path(database_url: &str) -> anyhow::Result<PathBuf> {
    if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        bail!(
            "this deployment's database is PostgreSQL: back it up with pg_dump or the \
             provider's snapshots, and keep BYRD_JWT_SECRET with it"
        );
    }
    ensure!(
        database_url.starts_with("sqlite:"),
        "unsupported database URL scheme; `byrd backup` copies sqlite: databases"
    );
    let options = SqliteConnectOptions::from_str(database_url).context("invalid SQLite URL")?;
    // An in-memory database names no file, which `run` finds missing.
    Ok(options.get_filename().to_owned())
}

/// Creates `to`, owner-only; refuses one that exists, so that no earlier
/// backup is overwritten by mistake.
fn create_folder(to: &Path) -> anyhow::Result<()> {
    ensure!(
        !to.exists(),
        "{} exists already; back up into a new folder",
        to.display()
    );
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(to)
        .with_context(|| format!("cannot create {}", to.display()))
}

/// Writes one snapshot of `source` to `target` and checks it; answers the
/// copy's chat and message counts.
fn copy_database(source: &Path, target: &Path) -> anyhow::Result<(i64, i64)> {
    // Read-write without create: a WAL database's readers need its shared
    // memory file, and nothing is written through this connection.
    let connection = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {}", source.display()))?;
    // The server's writer holds the write lock only for a commit; a backup
    // that meets one waits rather than fails.
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    let target_text = target
        .to_str()
        .context("the backup folder's path is not UTF-8")?;
    connection
        .execute("VACUUM INTO ?1", [target_text])
        .context("cannot write the backup")?;
    drop(connection);
    fs::set_permissions(target, fs::Permissions::from_mode(0o600))
        .context("cannot restrict the backup's permissions")?;

    let copy = Connection::open_with_flags(target, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .context("cannot open the backup to check it")?;
    let verdict: String = copy
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .context("cannot check the backup")?;
    ensure!(
        verdict == "ok",
        "the backup failed its integrity check: {verdict}"
    );
    let count = |table: &str| -> anyhow::Result<i64> {
        copy.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .with_context(|| format!("the backup has no readable {table} table"))
    };
    Ok((count("chats")?, count("messages")?))
}

/// Copies the generated JWT key, owner-only; false when the data folder
/// has none (the key then comes from `BYRD_JWT_SECRET`).
fn copy_jwt_key(data_dir: &Path, to: &Path) -> anyhow::Result<bool> {
    let key = data_dir.join(JWT_SECRET_FILE);
    if !key.is_file() {
        return Ok(false);
    }
    let contents =
        fs::read_to_string(&key).with_context(|| format!("cannot read {}", key.display()))?;
    crate::data_dir::write_private_file(&to.join(JWT_SECRET_FILE), &contents)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sqlite_files_are_backed_up() {
        let postgres = sqlite_path("postgres://byrd@db/byrd").unwrap_err();
        assert!(postgres.to_string().contains("pg_dump"), "{postgres}");
        assert!(sqlite_path("mysql://db/byrd").is_err());
        let dir = tempfile::tempdir().unwrap();
        let memory = run("sqlite::memory:", dir.path(), &dir.path().join("to")).unwrap_err();
        assert!(
            memory.to_string().contains("nothing to back up"),
            "{memory}"
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/byrd/byrd.db?mode=rwc").unwrap(),
            PathBuf::from("/var/lib/byrd/byrd.db")
        );
    }

    #[test]
    fn an_existing_folder_is_never_written_into() {
        let dir = tempfile::tempdir().unwrap();
        let error = create_folder(dir.path()).unwrap_err();
        assert!(error.to_string().contains("exists already"), "{error}");
    }
}
