use clap::Subcommand;

use crate::flows::admin;
use crate::flows::{Actor, Context};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Break-glass: give an administrator a new password (printed once) and clear their
    /// second factor, for the day the only admin loses their phone
    Recover { username: String },
}

pub async fn run(ctx: &Context<'_>, command: AdminCommand) -> anyhow::Result<()> {
    let AdminCommand::Recover { username } = command;
    let password = admin::recover_admin(ctx, &username, Actor::Cli).await?;
    println!("{username} can sign in again; their sessions ended and their second factor was removed.");
    println!(
        "password: {}   (shown once; the next sign-in at {}/admin enrols TOTP again)",
        password.expose(),
        ctx.config.issuer
    );
    Ok(())
}
