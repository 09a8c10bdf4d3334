//! `sqlx::migrate!` embeds the migration folders when the server is
//! compiled; without this, cargo would not rebuild it when a migration is
//! added, and the binary would start without it.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations_postgres");
}
