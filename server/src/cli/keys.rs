//! `byrd keys`: the keyring from the command line, straight in the
//! database, as `byrd agent create` works: `list`, `rotate` and `retire`.
//!
//! Running nodes see a change on their next keyring reload: a rotated key
//! is published at once and signs two reload intervals later, a retired
//! key stops verifying within one. `rotate` needs the keyring key the
//! nodes use (`BYRD_KEYRING_KEY`, `--keyring-key-file`, or the
//! `BYRD_JWT_SECRET` it is derived from) to seal the new private key.

use clap::{ArgMatches, Args, FromArgMatches, Subcommand, ValueEnum};
use secrecy::ExposeSecret;

use super::{StorageArgs, declared_arg, declared_values, env_secret};
use crate::auth::keyring::{self, KeyringSource};
use crate::configuration::{Settings, StoreSettings};
use crate::data_dir;
use crate::options::{self, Setting, Values};
use crate::store::{KeyAlgorithm, Retired, Store};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List every key: kid, algorithm, state and dates (never a private
    /// part).
    List(KeysArgs),
    /// Publish a new signing key now; it signs two refresh intervals
    /// later, and the keys it supersedes verify until every token they
    /// signed has expired.
    Rotate {
        /// The new key's algorithm; `--jwt-algorithm` (eddsa) by default.
        #[arg(long, value_enum)]
        algorithm: Option<AlgorithmArg>,
        #[command(flatten)]
        args: KeysArgs,
    },
    /// Retire a key at once (a compromised key): every node refuses its
    /// tokens within one refresh interval. The key that signs now is
    /// retired only if a rotated key is waiting to take over.
    Retire {
        /// A kid is base64url, so it may begin with `-`: taken as the
        /// kid, not as an option.
        #[arg(allow_hyphen_values = true)]
        kid: String,
        #[command(flatten)]
        args: KeysArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AlgorithmArg {
    Eddsa,
    Es256,
}

/// The options `byrd keys` shares with `byrd serve`.
#[derive(Debug)]
pub struct KeysArgs(Values);

const KEYS: [&Setting; 7] = [
    &options::DATABASE_URL,
    &options::DATA_DIR,
    &options::JWT_ALGORITHM,
    &options::AGENT_TOKEN_TTL_SECS,
    &options::JWT_LEEWAY_SECS,
    &options::KEYRING_KEY_FILE,
    &options::KEYRING_REFRESH_SECS,
];

declared_args!(KeysArgs, KEYS);

pub async fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::List(args) => {
            let store = args.store().await?;
            let keys = keyring::list(&store).await;
            store.close().await;
            println!("kid\talgorithm\tstate\tcreated\tsigns from\tverifies until\tretired");
            for (key, state) in keys? {
                let at = |time: Option<chrono::DateTime<chrono::Utc>>| {
                    time.map_or("-".to_owned(), |time| time.to_rfc3339())
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    key.kid,
                    key.alg.jws(),
                    state.as_str(),
                    key.created_at.to_rfc3339(),
                    key.activates_at.to_rfc3339(),
                    at(key.verify_until),
                    at(key.retired_at),
                );
            }
            Ok(())
        }
        KeysCommand::Rotate { algorithm, args } => {
            let settings = args.settings()?;
            let alg = match algorithm {
                Some(AlgorithmArg::Eddsa) => KeyAlgorithm::EdDsa,
                Some(AlgorithmArg::Es256) => KeyAlgorithm::Es256,
                None if settings.jwt.algorithm == KeyAlgorithm::Hs256 => KeyAlgorithm::EdDsa,
                None => settings.jwt.algorithm,
            };
            let source = args.source(&settings).await?;
            let rotated = keyring::rotate(
                &source,
                alg,
                settings.jwt.keyring_refresh.get() * 2,
                settings.jwt.verification_window(),
            )
            .await;
            source.store.close().await;
            let (kid, activates_at) = rotated?;
            println!(
                "published {kid} ({}); it signs from {}",
                alg.jws(),
                activates_at.to_rfc3339()
            );
            Ok(())
        }
        KeysCommand::Retire { kid, args } => {
            let store = args.store().await?;
            let retired = keyring::retire(&store, &kid).await;
            store.close().await;
            match retired? {
                Retired::Retired { successor: None } => println!("retired {kid}"),
                Retired::Retired {
                    successor: Some(successor),
                } => println!("retired {kid}; {successor} signs from now on"),
                Retired::AlreadyRetired => println!("{kid} was retired already"),
                Retired::NotFound => anyhow::bail!("no key {kid}: see `byrd keys list`"),
                Retired::OnlySigner => anyhow::bail!(
                    "{kid} is the key that signs now and no other is ready: run `byrd keys rotate` first, then retire it"
                ),
            }
            Ok(())
        }
    }
}

impl KeysArgs {
    fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings::from_options(&self.0)?;
        if let Some(key) = env_secret(options::KEYRING_KEY.env) {
            anyhow::ensure!(
                settings.jwt.keyring_key.is_none(),
                "set BYRD_KEYRING_KEY or --keyring-key-file, not both"
            );
            settings.jwt.keyring_key = Some(key.expose_secret().as_bytes().to_vec().into());
        }
        Ok(settings)
    }

    async fn store(&self) -> anyhow::Result<Store> {
        StorageArgs(self.0.clone()).connect().await
    }

    /// The database and the keyring key, as `byrd serve` finds them.
    async fn source(&self, settings: &Settings) -> anyhow::Result<KeyringSource> {
        let secret = match env_secret(options::JWT_SECRET.env) {
            Some(secret) => secret,
            None => {
                data_dir::ensure(&settings.data_dir)?;
                data_dir::load_or_create_jwt_secret(&settings.data_dir)?
            }
        };
        let sealing = keyring::keyring_key(&settings.jwt, &secret)?;
        Ok(KeyringSource::new(self.store().await?, sealing, secret))
    }
}

impl StorageArgs {
    async fn connect(&self) -> anyhow::Result<Store> {
        Store::connect(&self.database_url()?, &StoreSettings::default(), None).await
    }
}
