//! A consistent copy of the SQLite database, taken while the server runs.
//!
//! Copying the file with `cp` while Byrd writes can capture a file that
//! does not match its WAL, and a copy without the WAL loses the newest
//! commits. Instead the database is written out with `VACUUM INTO`, which
//! reads one snapshot inside a read transaction (the writer carries on
//! beside it) and writes a compact, self-contained file, checked with
//! SQLite's integrity check before it is reported written.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, ensure};
use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::SqliteConnectOptions;

/// What a snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub chats: i64,
    pub messages: i64,
}

/// The file a `sqlite:` URL names; an in-memory database names none (an
/// empty path).
pub fn database_file(database_url: &str) -> anyhow::Result<PathBuf> {
    ensure!(
        database_url.starts_with("sqlite:"),
        "unsupported database URL scheme; `byrd backup` copies sqlite: databases"
    );
    let options = SqliteConnectOptions::from_str(database_url).context("invalid SQLite URL")?;
    Ok(options.get_filename().to_owned())
}

/// Writes one snapshot of the database `source` to the new file `target`,
/// owner-only, and checks it; answers what the copy holds.
pub fn write_snapshot(source: &Path, target: &Path) -> anyhow::Result<Snapshot> {
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
    Ok(Snapshot {
        chats: count("chats")?,
        messages: count("messages")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sqlite_urls_name_a_file() {
        assert!(database_file("mysql://db/byrd").is_err());
        assert_eq!(
            database_file("sqlite:///var/lib/byrd/byrd.db?mode=rwc").unwrap(),
            PathBuf::from("/var/lib/byrd/byrd.db")
        );
    }
}
