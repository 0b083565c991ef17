//! The `wristband` command line: `serve`, `migrate`, and the administration commands.
//! Every command reads the same configuration as `serve`, and works while servers run
//! on the same database.

mod admin;
mod apis;
mod clients;
mod keys;
mod token;
mod upstreams;
mod users;

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{Application, open_services, open_store};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::security::secret::SecretString;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(name = "wristband", version, about = "An OAuth 2.0 / OpenID Connect identity provider")]
pub struct Cli {
    /// Configuration file [default: ./wristband.toml when it exists]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the identity provider
    Serve,
    /// Create or update the database schema, then exit
    Migrate,
    /// Manage users
    #[command(subcommand)]
    User(users::UserCommand),
    /// Manage APIs (resource servers) that access tokens are for
    #[command(subcommand)]
    Api(apis::ApiCommand),
    /// Manage clients (relying parties)
    #[command(subcommand)]
    Client(clients::ClientCommand),
    /// Manage signing keys
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Manage upstream providers people may sign in with (OpenID Connect, OAuth 2.0)
    #[command(subcommand)]
    Upstream(upstreams::UpstreamCommand),
    /// Inspect tokens
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Break-glass administration
    #[command(subcommand)]
    Admin(admin::AdminCommand),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    let level = if matches!(cli.command, Command::Serve) { "info" } else { "warn" };
    telemetry::init(config.log_format, level);
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            open_store(&config).await?;
            println!("database schema is up to date");
            Ok(())
        }
        command => {
            let services = open_services(config, Arc::new(SystemClock)).await?;
            let ctx = services.context();
            match command {
                Command::User(command) => users::run(&ctx, command).await,
                Command::Api(command) => apis::run(&ctx, command).await,
                Command::Client(command) => clients::run(&ctx, command).await,
                Command::Keys(command) => keys::run(&ctx, command).await,
                Command::Token(command) => token::run(&ctx, command).await,
                Command::Upstream(command) => upstreams::run(&ctx, command).await,
                Command::Admin(command) => admin::run(&ctx, command).await,
                Command::Serve | Command::Migrate => unreachable!("handled above"),
            }
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let (bind, issuer) = (config.bind, config.issuer.clone());
    let app = Application::build(config, Arc::new(SystemClock)).await?;
    if let Some(admin) = &app.bootstrapped_admin {
        println!("Created the first administrator.");
        println!("  username: {}", admin.username);
        match &admin.password {
            Some(password) => println!("  password: {}   (shown once: sign in and change it)", password.expose()),
            None => println!("  password: the one set in WRISTBAND_BOOTSTRAP_ADMIN_PASSWORD"),
        }
        println!("  sign in:  {issuer}/admin");
    }
    tracing::info!(%bind, %issuer, "wristband listening on {bind}, issuer {issuer}");
    app.run_until_stopped().await.context("server stopped with an error")
}

/// Reads a password from one line of standard input, with or without its newline.
fn read_password_stdin() -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line);
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    Ok(SecretString::new(password))
}

/// Prints a value as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command, clients::ClientCommand, keys::KeysCommand};

    #[test]
    fn a_kid_that_begins_with_a_hyphen_is_a_kid_not_an_option() {
        let cli = Cli::try_parse_from(["wristband", "keys", "revoke", "-y2QalOWaPf4nd9m1W_d8_UY1caK"]).unwrap();
        assert!(
            matches!(cli.command, Command::Keys(KeysCommand::Revoke { kid }) if kid == "-y2QalOWaPf4nd9m1W_d8_UY1caK")
        );
    }

    #[test]
    fn a_client_id_that_begins_with_a_hyphen_is_accepted_before_options() {
        let cli = Cli::try_parse_from(["wristband", "client", "remove", "-app"]).unwrap();
        assert!(matches!(cli.command, Command::Client(ClientCommand::Remove { client_id }) if client_id == "-app"));
        let add = ["wristband", "client", "add", "-app", "--redirect-uri", "https://app.example/cb", "--public"];
        assert!(matches!(Cli::try_parse_from(add).unwrap().command, Command::Client(ClientCommand::Add(_))));
    }
}
