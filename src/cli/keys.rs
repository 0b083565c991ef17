use clap::Subcommand;

use crate::clock::format_rfc3339;
use crate::flows::keys::{KeyChange, early_rotation, revoke_signing_key, rotate_signing_keys, signing_keys};
use crate::flows::{Actor, Context};

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

pub async fn run(ctx: &Context<'_>, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::List => {
            let (keys, _) = signing_keys(ctx).await?;
            for key in keys {
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
            if let Some(early) = early_rotation(ctx).await? {
                eprintln!("warning: {}", early.explain(ctx.clock.now()));
            }
            let KeyChange::Done(rotation) = rotate_signing_keys(ctx, Actor::Cli).await? else {
                anyhow::bail!("another rotation happened at the same moment; nothing more was done");
            };
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
            if let KeyChange::Raced = revoke_signing_key(ctx, &kid, Actor::Cli).await? {
                anyhow::bail!("the keys were changed elsewhere at the same moment; nothing was done, look again");
            }
            println!("revoked {kid}; it is no longer published and its tokens no longer verify");
        }
    }
    Ok(())
}
