//! The `byrd` command line.
//!
//! `byrd serve`'s flags are the options declared in `options`: each has an
//! environment variable, a default and, for numbers, a range, all from that
//! one declaration. Secrets (`BYRD_JWT_SECRET`, `BYRD_ADMIN_PASSWORD`) are
//! read from the environment only, never from flags, which other users of
//! the machine can see in the process list.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Context;
use byrd_spec::agent::{Agent, Role};
use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use crate::configuration::{BootstrapAdmin, Settings, default_database_url};
use crate::data_dir::UnclaimedPasswordFile;
use crate::domain::{DisplayName, EmailAddress, Password};
use crate::options::{self, Kind, Setting, Values};
use crate::startup::{Application, shutdown_signal};
use crate::store::{NewAgent, Store};
use crate::{auth, backup, data_dir, spec_docs, telemetry};

#[derive(Debug, Parser)]
#[command(name = "byrd", version, about = "Byrd helpdesk live-chat server")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Manage the keys tokens are signed with.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Write or check the generated protocol documents in spec/v1/.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Copy a SQLite deployment (database and generated JWT key) into a
    /// new folder, consistently, while the server runs.
    Backup(BackupArgs),
    /// Write or check the generated configuration documentation.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Fail if README.md's configuration table differs from the declared
    /// options; with `--write`, rewrite it.
    Docs {
        #[arg(long)]
        write: bool,
        #[arg(long, default_value_os_t = options::readme::default_path())]
        readme: PathBuf,
    },
}

/// Where the data lives: `--database-url` and `--data-dir`, as declared.
#[derive(Debug)]
struct StorageArgs(Values);

const STORAGE: [&Setting; 2] = [&options::DATABASE_URL, &options::DATA_DIR];

/// Every declared option with a flag, as `byrd serve` takes them.
#[derive(Debug)]
struct ServeArgs(Values);

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Add an agent. The password is read from standard input.
    Create(CreateAgentArgs),
    /// Deactivate an agent who leaves: they can no longer log in, their
    /// sessions end and their chats go back to the queue. The last active
    /// admin cannot be deactivated.
    Deactivate(DeactivateAgentArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Agent,
}

#[derive(Debug, Args)]
struct CreateAgentArgs {
    #[arg(long)]
    email: String,
    #[arg(long)]
    name: String,
    #[arg(long, value_enum, default_value = "agent")]
    role: RoleArg,
    /// Read the password from the first line of standard input. Without
    /// it a random password is generated and saved to an owner-only file
    /// in the data folder, whose path is printed. Passwords are never
    /// taken as flags.
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Args)]
struct DeactivateAgentArgs {
    /// The agent's email, in any case.
    email: String,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Args)]
struct BackupArgs {
    /// The new folder to write the backup to; it must not exist.
    #[arg(long)]
    to: PathBuf,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Subcommand)]
enum SpecCommand {
    /// Regenerate the documents.
    Write {
        #[arg(long, default_value_os_t = spec_docs::default_dir())]
        dir: PathBuf,
    },
    /// Fail if the committed documents differ from the code.
    Check {
        #[arg(long, default_value_os_t = spec_docs::default_dir())]
        dir: PathBuf,
    },
}

fn env_secret(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

impl StorageArgs {
    fn database_url(&self) -> anyhow::Result<SecretString> {
        let data_dir = self.data_dir()?;
        Ok(self
            .0
            .optional(&options::DATABASE_URL)
            .map(SecretString::from)
            .unwrap_or_else(|| default_database_url(&data_dir)))
    }

    fn data_dir(&self) -> anyhow::Result<PathBuf> {
        Ok(PathBuf::from(self.0.text(&options::DATA_DIR)?))
    }
}

/// The clap argument of a declared option, `None` for one read from the
/// environment only. clap checks ranges and reads the variable; defaults
/// stay with the declaration (`Values`), and `--help` shows them.
fn declared_arg(setting: &'static Setting) -> Option<Arg> {
    let flag = setting.flag?;
    let mut help = setting.plain_about();
    match &setting.kind {
        Kind::Text { default } => help.push_str(&format!(" [default: {default}]")),
        Kind::Number { default, .. } => help.push_str(&format!(" [default: {default}]")),
        _ => {}
    }
    let arg = Arg::new(setting.env).long(flag).env(setting.env).help(help);
    Some(match setting.kind {
        Kind::Text { .. } => arg,
        Kind::Optional { sensitive, .. } => arg.hide_env_values(sensitive),
        Kind::Number { min, max, .. } => {
            arg.value_parser(clap::value_parser!(u64).range(min..=max))
        }
        Kind::Switch => arg.action(ArgAction::SetTrue),
        Kind::List { .. } => arg.value_delimiter(',').action(ArgAction::Append),
        Kind::EnvOnly { .. } => return None,
    })
}

/// The values given on the command line or in the environment for the
/// `declared` options.
fn declared_values(matches: &ArgMatches, declared: &[&'static Setting]) -> Values {
    let mut values = Values::default();
    for setting in declared.iter().filter(|setting| setting.flag.is_some()) {
        let value = match setting.kind {
            Kind::Switch => matches.get_flag(setting.env).then(|| "true".to_owned()),
            Kind::Number { .. } => matches.get_one::<u64>(setting.env).map(u64::to_string),
            Kind::List { .. } => matches
                .get_many::<String>(setting.env)
                .map(|entries| entries.cloned().collect::<Vec<_>>().join(",")),
            _ => matches.get_one::<String>(setting.env).cloned(),
        };
        if let Some(value) = value {
            values.set(setting, value);
        }
    }
    values
}

/// `clap::Args` for a type holding the values of some declared options.
macro_rules! declared_args {
    ($args:ident, $declared:expr) => {
        impl FromArgMatches for $args {
            fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
                Ok($args(declared_values(matches, &$declared)))
            }

            fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
                *self = Self::from_arg_matches(matches)?;
                Ok(())
            }
        }

        impl Args for $args {
            fn augment_args(command: clap::Command) -> clap::Command {
                command.args($declared.iter().copied().filter_map(declared_arg))
            }

            fn augment_args_for_update(command: clap::Command) -> clap::Command {
                Self::augment_args(command)
            }
        }
    };
}

declared_args!(StorageArgs, STORAGE);
declared_args!(ServeArgs, options::OPTIONS);

// After the macro, which it uses too.
mod keys;

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(args) => serve(args).await,
            Command::Agent(AgentCommand::Create(args)) => create_agent(args).await,
            Command::Agent(AgentCommand::Deactivate(args)) => deactivate_agent(args).await,
            Command::Keys(command) => keys::run(command).await,
            Command::Backup(args) => {
                let url = args.storage.database_url()?;
                let backup = backup::run(url.expose_secret(), &args.storage.data_dir()?, &args.to)?;
                println!(
                    "backed up to {} (chats: {}, messages: {})",
                    backup.folder.display(),
                    backup.chats,
                    backup.messages
                );
                if !backup.jwt_key {
                    println!(
                        "no generated JWT key in the data folder: keep BYRD_JWT_SECRET with the backup"
                    );
                }
                Ok(())
            }
            Command::Config(ConfigCommand::Docs { write, readme }) => config_docs(write, &readme),
            Command::Spec(SpecCommand::Write { dir }) => {
                spec_docs::write(&dir)?;
                println!("wrote the spec documents to {}", dir.display());
                Ok(())
            }
            Command::Spec(SpecCommand::Check { dir }) => {
                let stale = spec_docs::stale(&dir)?;
                anyhow::ensure!(
                    stale.is_empty(),
                    "spec documents out of date: {}; run `{}` and commit the result",
                    stale.join(", "),
                    spec_docs::REGENERATE_COMMAND
                );
                Ok(())
            }
        }
    }
}

fn config_docs(write: bool, readme: &std::path::Path) -> anyhow::Result<()> {
    if write {
        options::readme::write(readme)?;
        println!("wrote the configuration table to {}", readme.display());
        return Ok(());
    }
    anyhow::ensure!(
        options::readme::is_current(readme)?,
        "the configuration table in {} is out of date; run `{}` and commit the result",
        readme.display(),
        options::readme::WRITE_COMMAND
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    telemetry::init();
    let mut settings = Settings::from_options(&args.0)?;
    settings.jwt.secret = env_secret(options::JWT_SECRET.env);
    if let (Some(cluster), Some(key)) =
        (&mut settings.cluster, env_secret(options::CLUSTER_KEY.env))
    {
        anyhow::ensure!(
            cluster.key.is_none(),
            "set BYRD_CLUSTER_KEY or --cluster-key-file, not both"
        );
        cluster.key = Some(key.expose_secret().as_bytes().to_vec().into());
    }
    if let Some(key) = env_secret(options::KEYRING_KEY.env) {
        anyhow::ensure!(
            settings.jwt.keyring_key.is_none(),
            "set BYRD_KEYRING_KEY or --keyring-key-file, not both"
        );
        settings.jwt.keyring_key = Some(key.expose_secret().as_bytes().to_vec().into());
    }
    // Fault injection for the multi-node tests only: no flag, only in a
    // binary built with the `fault-injection` feature (which only this
    // package's test build turns on), and a warning at start.
    #[cfg(feature = "fault-injection")]
    if let Some(cluster) = &mut settings.cluster {
        cluster.drop_publishes_one_in = std::env::var("BYRD_TEST_DROP_PUBLISHES")
            .ok()
            .and_then(|n| n.parse().ok());
    }
    settings.bootstrap_admin = BootstrapAdmin {
        email: std::env::var(options::ADMIN_EMAIL.env)
            .ok()
            .filter(|v| !v.is_empty()),
        password: env_secret(options::ADMIN_PASSWORD.env),
    };
    if settings.bootstrap_admin.password.is_some() && settings.bootstrap_admin.email.is_none() {
        anyhow::bail!("BYRD_ADMIN_PASSWORD is set but BYRD_ADMIN_EMAIL is not");
    }
    crate::file_limit::raise_and_check(&settings);
    let app = Application::build(settings).await?;
    crate::startup::announce_listening(&mut std::io::stdout().lock(), app.local_addr());
    app.run_until_stopped(shutdown_signal()).await
}

async fn create_agent(args: CreateAgentArgs) -> anyhow::Result<()> {
    let email = EmailAddress::parse("--email", &args.email)?;
    let name = DisplayName::parse("--name", &args.name)?;
    let data_folder = args.storage.data_dir()?;
    data_dir::ensure(&data_folder)?;
    // A generated password is saved before the agent is stored, so that an
    // agent never exists with a password nobody kept; the file goes again
    // if the agent is not stored after all.
    let (password, saved) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        let password = SecretString::from(line.trim_end_matches(['\r', '\n']).to_owned());
        (password, None)
    } else {
        let file = format!("agent-password-{}", uuid::Uuid::new_v4());
        let (password, path) = data_dir::save_generated_password(&data_folder, &file)?;
        (password, Some(UnclaimedPasswordFile::new(path)))
    };
    let role = match args.role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Agent => Role::Agent,
    };
    let agent = NewAgent {
        email,
        name,
        role,
        password_hash: auth::hash_password(Password::parse("password", password)?).await?,
    };
    let agent = store_agent(&args.storage, agent).await?;
    println!("created {} {} ({})", role.as_str(), agent.email, agent.id);
    if let Some(path) = saved.and_then(UnclaimedPasswordFile::keep) {
        println!(
            "its password is in {} (readable by you only)",
            path.display()
        );
    }
    Ok(())
}

/// Deactivates the agent with the given email, as an admin would over
/// the API but as nobody in particular: any agent but the last active
/// admin. A server on the same database refuses their tokens at once;
/// a socket of theirs closes when its cluster sweep sees the ended
/// session or, on one node, when its token expires and cannot be renewed.
async fn deactivate_agent(args: DeactivateAgentArgs) -> anyhow::Result<()> {
    let email = EmailAddress::parse("email", &args.email)?;
    let store = open_store(&args.storage).await?;
    let deactivated = async {
        let agents = store.list_agents().await?;
        let agent = agents
            .iter()
            .find(|agent| agent.email.to_lowercase() == email.normalized())
            .with_context(|| format!("no agent has the email {}", email.as_str()))?;
        anyhow::Ok(store.deactivate_agent(agent.id, None).await?)
    }
    .await;
    store.close().await;
    let agent = deactivated?;
    println!(
        "deactivated {} {} ({})",
        agent.role.as_str(),
        agent.email,
        agent.id
    );
    Ok(())
}

async fn open_store(storage: &StorageArgs) -> anyhow::Result<Store> {
    Store::connect(
        &storage.database_url()?,
        &crate::configuration::StoreSettings::default(),
        None,
    )
    .await
}

/// Stores `agent` in the database the storage arguments name.
async fn store_agent(storage: &StorageArgs, agent: NewAgent) -> anyhow::Result<Agent> {
    let store = open_store(storage).await?;
    let inserted = store.insert_agent(agent).await;
    store.close().await;
    Ok(inserted?)
}
