//! The data folder: the SQLite file by default, the generated JWT key, and
//! the first admin's generated password. Files holding secrets are created
//! owner-only (0600) before anything is written to them.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::SecretString;

pub const JWT_SECRET_FILE: &str = "jwt-secret";
pub const ADMIN_PASSWORD_FILE: &str = "initial-admin-password";

/// Creates the folder (owner-only) when missing.
pub fn ensure(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create data folder {}", dir.display()))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict data folder {}", dir.display()))?;
    }
    Ok(())
}

/// Writes `contents` to a new owner-only file; refuses to overwrite.
pub fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// 32 random bytes, base64url: a key or password nobody can guess.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Generates a password and saves it to the new owner-only file `name` in
/// `dir`, so that only the file's path, never the password, need be shown.
pub fn save_generated_password(dir: &Path, name: &str) -> anyhow::Result<(SecretString, PathBuf)> {
    ensure(dir)?;
    let path = dir.join(name);
    let generated = random_secret();
    write_private_file(&path, &format!("{generated}\n"))
        .context("cannot save the generated password")?;
    Ok((SecretString::from(generated), path))
}

/// A generated password's file, removed when dropped unless kept: nobody
/// has the password until the agent holding it is stored, and a password
/// that opens nothing must not be left lying around, whatever failed.
#[derive(Debug)]
pub struct UnclaimedPasswordFile(Option<PathBuf>);

impl UnclaimedPasswordFile {
    pub fn new(path: PathBuf) -> Self {
        Self(Some(path))
    }

    /// An agent holds the password now: the file stays.
    pub fn keep(mut self) -> Option<PathBuf> {
        self.0.take()
    }
}

impl Drop for UnclaimedPasswordFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// The JWT key kept in the data folder, generated on first start.
pub fn load_or_create_jwt_secret(dir: &Path) -> anyhow::Result<SecretString> {
    let path: PathBuf = dir.join(JWT_SECRET_FILE);
    if !path.exists() {
        write_private_file(&path, &random_secret())?;
        tracing::info!(path = %path.display(), "generated a JWT signing key");
    }
    let mode = fs::metadata(&path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .permissions()
        .mode();
    anyhow::ensure!(
        mode & 0o077 == 0,
        "{} can be read by other users (mode {:o}); the signing key must be owner-only: run `chmod 600 {}`",
        path.display(),
        mode & 0o777,
        path.display()
    );
    let secret =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(SecretString::from(secret.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_jwt_secret(dir.path()).unwrap();
        let second = load_or_create_jwt_secret(dir.path()).unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert!(first.expose_secret().len() >= 32);
        let mode = fs::metadata(dir.path().join(JWT_SECRET_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JWT_SECRET_FILE);
        fs::write(&path, random_secret()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let refused = load_or_create_jwt_secret(dir.path()).unwrap_err();
        assert!(format!("{refused:#}").contains("chmod 600"), "{refused:#}");
    }
}
