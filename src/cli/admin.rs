use clap::Subcommand;

use crate::app::open_store;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::flows::Actor;
use crate::flows::admin;
use crate::security::password::PasswordHasher;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Break-glass: give an administrator a new password (printed once) and clear their
    /// second factor, for the day the only admin loses their phone
    Recover { username: String },
}

pub async fn run(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    let AdminCommand::Recover { username } = command;
    let store = open_store(config).await?;
    let hasher = PasswordHasher::new(&config.password)?;
    let password = admin::recover_admin(&store, &SystemClock, &hasher, &username, Actor::Cli).await?;
    println!("{username} can sign in again; their sessions ended and their second factor was removed.");
    println!(
        "password: {}   (shown once; the next sign-in at {}/admin enrols TOTP again)",
        password.expose(),
        config.issuer
    );
    Ok(())
}
