//! The first admin.
//!
//! A fresh server has no agent, so nobody could log in to create one. On a
//! start with an empty agents table, an admin is created from
//! `BYRD_ADMIN_EMAIL`/`BYRD_ADMIN_PASSWORD`; without a password, a random
//! one is written to an owner-only file in the data folder and only that
//! file's path is logged. Nodes sharing a database may start at once:
//! the one whose insert loses the race leaves the admin to the winner.

use std::path::Path;

use byrd_spec::agent::Role;

use crate::auth::hash_password;
use crate::configuration::BootstrapAdmin;
use crate::data_dir::{self, ADMIN_PASSWORD_FILE, UnclaimedPasswordFile};
use crate::domain::{DisplayName, EmailAddress, Password};
use crate::store::{NewAgent, Store, StoreError};

const DEFAULT_ADMIN_EMAIL: &str = "admin@byrd.localhost";

pub async fn ensure_first_admin(
    store: &Store,
    data_dir: &Path,
    admin: &BootstrapAdmin,
) -> anyhow::Result<()> {
    if store.count_agents().await? > 0 {
        return Ok(());
    }
    let email = EmailAddress::parse(
        "BYRD_ADMIN_EMAIL",
        admin.email.as_deref().unwrap_or(DEFAULT_ADMIN_EMAIL),
    )?;
    // Removed again unless the admin is stored: a failed start (a database
    // gone mid-way, a lost race) leaves no password that opens nothing.
    let (password, written_to) = match &admin.password {
        Some(password) => (password.clone(), None),
        None => {
            let (generated, path) =
                data_dir::save_generated_password(data_dir, ADMIN_PASSWORD_FILE)?;
            (generated, Some(UnclaimedPasswordFile::new(path)))
        }
    };
    let password = Password::parse("BYRD_ADMIN_PASSWORD", password)?;
    let inserted = store
        .insert_agent(NewAgent {
            email,
            name: DisplayName::parse("name", "Admin")?,
            role: Role::Admin,
            password_hash: hash_password(password).await?,
        })
        .await;
    let agent = match inserted {
        Ok(agent) => agent,
        Err(StoreError::EmailTaken) => {
            // Another node sharing the database created it first; the
            // password this node generated opens nothing (its file goes).
            tracing::info!("another node created the first admin");
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    };
    match written_to.and_then(UnclaimedPasswordFile::keep) {
        Some(path) => tracing::warn!(
            email = %agent.email,
            password_file = %path.display(),
            "created the first admin; its password is in the file named here; keep it somewhere safe, then delete the file"
        ),
        None => {
            tracing::info!(email = %agent.email, "created the first admin from BYRD_ADMIN_EMAIL")
        }
    }
    Ok(())
}
