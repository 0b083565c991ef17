use clap::Subcommand;

use crate::app::open_store;
use crate::clock::{Clock, SystemClock, format_rfc3339};
use crate::config::Config;
use crate::flows::Actor;
use crate::flows::keys::{KeyContext, early_rotation, revoke_signing_key, rotate_signing_keys};
use crate::security::master_key::MasterKey;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys, one line each: kid, state, algorithm, size, dates
    List,
    /// Rotate: next becomes active, active is retired, a new next is published
    Rotate,
    /// Revoke a key at once (emergency): it leaves the JWKS and its tokens stop verifying
    Revoke {
        /// A kid is base64url, so it may begin with `-`
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
}

pub async fn run(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let clock = SystemClock;
    match command {
        KeysCommand::List => {
            for key in store.list_signing_keys().await? {
                let mut line = format!(
                    "{}  {:<7}  {} {}  created {}",
                    key.kid,
                    key.state,
                    key.algorithm,
                    key.key_bits,
                    format_rfc3339(key.created_at)
                );
                for (label, at) in
                    [("activated", key.activated_at), ("retired", key.retired_at), ("revoked", key.revoked_at)]
                {
                    if let Some(at) = at {
                        line.push_str(&format!("  {label} {}", format_rfc3339(at)));
                    }
                }
                println!("{line}");
            }
        }
        KeysCommand::Rotate => {
            let master_key = MasterKey::load_or_create(&config.master_key)?;
            let ctx =
                KeyContext { store: &store, master_key: &master_key, clock: &clock, rsa_bits: config.keys.rsa_bits };
            if let Some(early) = early_rotation(&store, clock.now(), config.keys.jwks_max_age_seconds).await? {
                eprintln!("warning: {}", early.explain(clock.now()));
            }
            let rotation = rotate_signing_keys(&ctx, Actor::Cli).await?;
            match rotation.activated {
                Some(active) => println!("active: {active}"),
                None => println!("no next key was published; nothing was activated"),
            }
            if let Some(retired) = rotation.retired {
                println!("retired: {retired}");
            }
            println!("next: {}", rotation.new_next);
        }
        KeysCommand::Revoke { kid } => {
            let master_key = MasterKey::load_or_create(&config.master_key)?;
            let ctx =
                KeyContext { store: &store, master_key: &master_key, clock: &clock, rsa_bits: config.keys.rsa_bits };
            revoke_signing_key(&ctx, &kid, Actor::Cli).await?;
            println!("revoked {kid}; it is no longer published and its tokens no longer verify");
        }
    }
    Ok(())
}
