use clap::{Args, Subcommand};
use serde::Serialize;

use super::{print_json, read_password_stdin};
use crate::clock::format_rfc3339;
use crate::flows::admin::{self, UserInput};
use crate::flows::{Actor, Context};
use crate::model::User;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints a generated password unless --password-stdin is given
    Add(UserAdd),
    /// Create a user without a password and mail them a link (72 h, once) to choose one
    Invite(UserInvite),
    /// List users
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: ends their sessions and revokes their refresh tokens
    Disable { username: String },
    /// Enable a disabled user
    Enable { username: String },
    /// End a user's browser sessions and revoke their refresh tokens
    RevokeSessions { username: String },
    /// Enrol TOTP for a user, active at once; prints the otpauth:// URI once
    Totp { username: String },
    /// Remove a user's TOTP, recovery codes and passkeys; ends their sessions and refresh tokens
    ResetMfa { username: String },
    /// Set a user's password (generated unless --password-stdin); ends their sessions
    SetPassword {
        username: String,
        /// Read the password from one line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct UserAdd {
    username: String,
    #[arg(long)]
    email: Option<String>,
    /// Display name
    #[arg(long)]
    name: Option<String>,
    /// An application role carried in tokens (repeatable)
    #[arg(long = "role", value_name = "ROLE")]
    roles: Vec<String>,
    /// Make the user a wristband administrator
    #[arg(long)]
    admin: bool,
    /// Read the password from one line of standard input
    #[arg(long)]
    password_stdin: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct UserInvite {
    username: String,
    /// Where the invitation goes; following it verifies the address
    #[arg(long)]
    email: String,
    /// An application role carried in tokens (repeatable)
    #[arg(long = "role", value_name = "ROLE")]
    roles: Vec<String>,
    /// Make the user a wristband administrator (their first sign-in enrols TOTP)
    #[arg(long)]
    admin: bool,
}

#[derive(Serialize)]
struct UserView<'a> {
    sub: String,
    username: &'a str,
    email: Option<&'a str>,
    name: Option<&'a str>,
    roles: Vec<&'a str>,
    admin: bool,
    disabled: bool,
    created_at: String,
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(user: &'a User) -> Self {
        Self {
            sub: user.id.to_string(),
            username: user.username.as_str(),
            email: user.email.as_ref().map(|e| e.as_str()),
            name: user.name.as_ref().map(|n| n.as_str()),
            roles: user.roles.iter().map(|r| r.as_str()).collect(),
            admin: user.is_admin,
            disabled: user.disabled,
            created_at: format_rfc3339(user.created_at),
        }
    }
}

pub async fn run(ctx: &Context<'_>, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add(add) => {
            let password = if add.password_stdin { Some(read_password_stdin()?) } else { None };
            let input = UserInput {
                username: add.username,
                email: add.email,
                name: add.name,
                roles: add.roles,
                is_admin: add.admin,
                password,
                verify_before_sign_in: false,
            };
            let (user, generated) = admin::add_user(ctx, input, Actor::Cli).await?;
            if add.json {
                let mut view = serde_json::to_value(UserView::from(&user))?;
                if let (Some(object), Some(password)) = (view.as_object_mut(), &generated) {
                    object.insert("password".to_owned(), password.expose().into());
                }
                return print_json(&view);
            }
            println!("created user {} (sub {})", user.username, user.id);
            if let Some(password) = generated {
                println!("password: {}   (shown once)", password.expose());
            }
        }
        UserCommand::Invite(invite) => {
            let user = admin::invite_user(ctx, &invite.username, &invite.email, invite.roles, invite.admin, Actor::Cli)
                .await?;
            println!(
                "invited {} (sub {}): a link to choose a password is queued for {}",
                user.username, user.id, invite.email
            );
        }
        UserCommand::List { json } => {
            let users = admin::list_users(ctx).await?;
            if json {
                return print_json(&users.iter().map(UserView::from).collect::<Vec<_>>());
            }
            println!("{:<24} {:<36} {:<5} {:<8} {:<20} EMAIL", "USERNAME", "SUB", "ADMIN", "DISABLED", "ROLES");
            for user in &users {
                let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
                println!(
                    "{:<24} {:<36} {:<5} {:<8} {:<20} {}",
                    user.username,
                    user.id,
                    if user.is_admin { "yes" } else { "no" },
                    if user.disabled { "yes" } else { "no" },
                    if roles.is_empty() { "-".to_owned() } else { roles.join(",") },
                    user.email.as_ref().map_or("-", |e| e.as_str()),
                );
            }
        }
        UserCommand::Disable { username } => {
            let ended = admin::set_user_disabled(ctx, &username, true, Actor::Cli).await?;
            println!(
                "disabled {username}: ended {} session(s), revoked {} refresh-token family(ies)",
                ended.sessions, ended.families
            );
        }
        UserCommand::Enable { username } => {
            admin::set_user_disabled(ctx, &username, false, Actor::Cli).await?;
            println!("enabled {username}");
        }
        UserCommand::RevokeSessions { username } => {
            let ended = admin::revoke_user_sessions(ctx, &username, Actor::Cli).await?;
            println!(
                "{username}: ended {} session(s), revoked {} refresh-token family(ies)",
                ended.sessions, ended.families
            );
        }
        UserCommand::Totp { username } => {
            let url = admin::provision_totp(ctx, &username, Actor::Cli).await?;
            println!("TOTP is now required for {username}. Add it to their authenticator app (shown once):");
            println!("{url}");
        }
        UserCommand::ResetMfa { username } => {
            let removed = admin::reset_mfa(ctx, &username, Actor::Cli).await?;
            if removed {
                println!("removed the second factor of {username}; their sessions and refresh tokens were ended");
            } else {
                println!("{username} had no second factor; their sessions and refresh tokens were ended");
            }
        }
        UserCommand::SetPassword { username, password_stdin } => {
            let password = if password_stdin { Some(read_password_stdin()?) } else { None };
            let generated = admin::set_user_password(ctx, &username, password, Actor::Cli).await?;
            println!("password of {username} changed; their sessions and refresh tokens were ended");
            if let Some(password) = generated {
                println!("password: {}   (shown once)", password.expose());
            }
        }
    }
    Ok(())
}
