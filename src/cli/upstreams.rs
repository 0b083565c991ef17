use clap::{Args, Subcommand};
use serde::Serialize;

use super::{print_json, read_password_stdin};
use crate::clock::format_rfc3339;
use crate::flows::upstream::manage::{ClaimInput, UpstreamDetails};
use crate::flows::upstream::{self, UpstreamInput};
use crate::flows::{Actor, Context};
use crate::model::{Upstream, UpstreamProtocol};

#[derive(Debug, Subcommand)]
pub enum UpstreamCommand {
    /// Add a provider people may sign in with: OpenID Connect (--issuer) or plain OAuth 2.0
    /// (--authorization-endpoint, --token-endpoint, --userinfo-endpoint)
    Add(Box<UpstreamAdd>),
    /// List upstream providers
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show a provider, the redirect URI to register there, and what its discovery says now
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a provider and every identity linked through it
    Remove { name: String },
}

#[derive(Debug, Args)]
pub struct UpstreamAdd {
    /// Its name in URLs: 1–32 of a-z 0-9 -, starting with a letter
    name: String,
    /// The OpenID Connect issuer (its /.well-known/openid-configuration is read now)
    #[arg(long)]
    issuer: Option<String>,
    /// The client id wristband has at the provider
    #[arg(long)]
    client_id: String,
    /// Read the client secret from one line of standard input
    #[arg(long, required = true)]
    client_secret_stdin: bool,
    /// A scope to ask for (repeatable) [default for OpenID Connect: openid profile email]
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// The login page's button says "Sign in with DISPLAY_NAME" [default: the name]
    #[arg(long)]
    display_name: Option<String>,
    /// A first sign-in links to the account with the same address, when both sides verified it
    #[arg(long)]
    link_by_verified_email: bool,
    /// A first sign-in with no linked account creates one
    #[arg(long)]
    create_users: bool,
    /// The provider's own second factor (its ID token's amr/acr) counts as two factors here
    #[arg(long)]
    trusted_for_mfa: bool,
    /// The logout page offers signing out of the provider too (its end_session_endpoint)
    #[arg(long)]
    offer_end_session: bool,
    /// Plain OAuth 2.0: the authorization endpoint
    #[arg(long, value_name = "URL")]
    authorization_endpoint: Option<String>,
    /// Plain OAuth 2.0: the token endpoint
    #[arg(long, value_name = "URL")]
    token_endpoint: Option<String>,
    /// Plain OAuth 2.0: the user document (e.g. https://api.github.com/user)
    #[arg(long, value_name = "URL")]
    userinfo_endpoint: Option<String>,
    /// Plain OAuth 2.0: the member naming the person, never reused [default: id]
    #[arg(long, value_name = "MEMBER")]
    subject_claim: Option<String>,
    /// Plain OAuth 2.0: the member with the username [default: login]
    #[arg(long, value_name = "MEMBER")]
    username_claim: Option<String>,
    /// Plain OAuth 2.0: the member with the display name [default: name]
    #[arg(long, value_name = "MEMBER")]
    name_claim: Option<String>,
    /// Plain OAuth 2.0: the member with the address [default: email]
    #[arg(long, value_name = "MEMBER")]
    email_claim: Option<String>,
    /// Plain OAuth 2.0: a boolean member saying the address is verified [default: none, so
    /// the address never counts as verified]
    #[arg(long, value_name = "MEMBER")]
    email_verified_claim: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct UpstreamView<'a> {
    name: &'a str,
    display_name: &'a str,
    protocol: &'static str,
    issuer: Option<String>,
    client_id: &'a str,
    scopes: &'a [String],
    link_by_verified_email: bool,
    create_users: bool,
    trusted_for_mfa: bool,
    offer_end_session: bool,
    created_at: String,
}

impl<'a> From<&'a Upstream> for UpstreamView<'a> {
    fn from(u: &'a Upstream) -> Self {
        let (protocol, issuer) = match &u.protocol {
            UpstreamProtocol::Oidc { issuer } => ("oidc", Some(issuer.to_string())),
            UpstreamProtocol::OAuth2(_) => ("oauth2", None),
        };
        Self {
            name: u.name.as_str(),
            display_name: &u.display_name,
            protocol,
            issuer,
            client_id: &u.client_id,
            scopes: &u.scopes,
            link_by_verified_email: u.link_by_verified_email,
            create_users: u.create_users,
            trusted_for_mfa: u.trusted_for_mfa,
            offer_end_session: u.offer_end_session,
            created_at: format_rfc3339(u.created_at),
        }
    }
}

fn print_details(details: &UpstreamDetails, json: bool) -> anyhow::Result<()> {
    if json {
        let mut view = serde_json::to_value(UpstreamView::from(&details.upstream))?;
        if let Some(object) = view.as_object_mut() {
            object.insert("redirect_uri".into(), details.callback_uri.clone().into());
        }
        return print_json(&view);
    }
    let u = &details.upstream;
    println!("name: {}", u.name);
    println!("button: Sign in with {}", u.display_name);
    match &u.protocol {
        UpstreamProtocol::Oidc { issuer } => println!("issuer: {issuer}"),
        UpstreamProtocol::OAuth2(provider) => println!("OAuth 2.0; subject member: {}", provider.claims.subject),
    }
    println!("client_id: {}", u.client_id);
    println!("scopes: {}", u.scopes.join(" "));
    println!("first sign-in: {}", u.first_sign_in());
    println!("trusted for MFA: {}", u.trusted_for_mfa);
    match &details.endpoints {
        Ok(endpoints) => {
            println!("authorization endpoint: {}", endpoints.authorization);
            println!("token endpoint: {}", endpoints.token);
            if let Some(end_session) = &endpoints.end_session {
                println!("end-session endpoint: {end_session}");
            }
        }
        Err(err) => println!("discovery now: FAILED ({err})"),
    }
    println!("Register this redirect URI at the provider: {}", details.callback_uri);
    Ok(())
}

pub async fn run(ctx: &Context<'_>, command: UpstreamCommand) -> anyhow::Result<()> {
    match command {
        UpstreamCommand::Add(add) => {
            let add = *add;
            let input = UpstreamInput {
                name: add.name,
                display_name: add.display_name,
                issuer: add.issuer,
                authorization_endpoint: add.authorization_endpoint,
                token_endpoint: add.token_endpoint,
                userinfo_endpoint: add.userinfo_endpoint,
                claims: ClaimInput {
                    subject: add.subject_claim,
                    username: add.username_claim,
                    name: add.name_claim,
                    email: add.email_claim,
                    email_verified: add.email_verified_claim,
                },
                client_id: add.client_id,
                client_secret: read_password_stdin()?,
                scopes: add.scopes,
                link_by_verified_email: add.link_by_verified_email,
                create_users: add.create_users,
                trusted_for_mfa: add.trusted_for_mfa,
                offer_end_session: add.offer_end_session,
            };
            let details = upstream::add_upstream(ctx, input, Actor::Cli).await?;
            print_details(&details, add.json)?;
        }
        UpstreamCommand::List { json } => {
            let upstreams = upstream::list_upstreams(ctx).await?;
            if json {
                return print_json(&upstreams.iter().map(UpstreamView::from).collect::<Vec<_>>());
            }
            println!("{:<20} {:<8} {:<24} ISSUER", "NAME", "PROTOCOL", "BUTTON");
            for u in &upstreams {
                let view = UpstreamView::from(u);
                println!(
                    "{:<20} {:<8} {:<24} {}",
                    view.name,
                    view.protocol,
                    view.display_name,
                    view.issuer.as_deref().unwrap_or("-")
                );
            }
        }
        UpstreamCommand::Show { name, json } => print_details(&upstream::show_upstream(ctx, &name).await?, json)?,
        UpstreamCommand::Remove { name } => {
            upstream::remove_upstream(ctx, &name, Actor::Cli).await?;
            println!("removed the upstream {name} and the identities linked through it");
        }
    }
    Ok(())
}
