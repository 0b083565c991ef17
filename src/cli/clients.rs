use clap::{Args, Subcommand};
use serde::Serialize;

use super::print_json;
use crate::clock::format_rfc3339;
use crate::flows::admin::{self, ClientInput};
use crate::flows::{Actor, Context};
use crate::model::{Client, RefreshOverrides};

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its generated client_secret once (confidential clients)
    Add(ClientAdd),
    /// List clients
    List {
        #[arg(long)]
        json: bool,
    },
    /// Delete a client with its codes, consents and refresh tokens
    Remove {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Replace a confidential client's secret; prints the new one once
    RotateSecret {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Set the APIs a client may request (none: tokens for the client itself only)
    Resources {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        /// An API identifier (repeatable); replaces the client's list
        #[arg(long = "resource", value_name = "IDENTIFIER")]
        resources: Vec<String>,
        /// The API of a request that names none; one of --resource
        #[arg(long = "default-resource", value_name = "IDENTIFIER")]
        default_resource: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ClientAdd {
    /// Letters, digits and `- . _ ~`; it may begin with `-`
    #[arg(allow_hyphen_values = true)]
    client_id: String,
    /// A redirect URI, matched exactly (repeatable)
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    /// A public client (no secret; PKCE only), e.g. a single-page or native app
    #[arg(long)]
    public: bool,
    /// Display name shown on the login and consent pages
    #[arg(long)]
    name: Option<String>,
    /// authorization_code, refresh_token or client_credentials (repeatable)
    /// [default: authorization_code and refresh_token]
    #[arg(long = "grant", value_name = "GRANT")]
    grants: Vec<String>,
    /// A first-party client: no consent page
    #[arg(long)]
    first_party: bool,
    /// Every login to this client needs two factors (TOTP); people without one enrol first
    #[arg(long)]
    require_mfa: bool,
    /// Every login to this client needs a passkey (acr urn:wristband:acr:phr); people
    /// without one are told to add one on their account page first
    #[arg(long)]
    require_phishing_resistant: bool,
    /// Access token lifetime for this client [default: tokens.access_token_seconds]
    #[arg(long, value_name = "SECONDS")]
    access_token_seconds: Option<i64>,
    /// Refresh tokens of this client die unused this long [default: refresh.idle_seconds]
    #[arg(long, value_name = "SECONDS")]
    refresh_idle_seconds: Option<i64>,
    /// Refresh tokens of this client die this long after login [default: refresh.absolute_seconds]
    #[arg(long, value_name = "SECONDS")]
    refresh_absolute_seconds: Option<i64>,
    /// Grace window for presenting a just-rotated refresh token again [default: refresh.reuse_grace_seconds]
    #[arg(long, value_name = "SECONDS")]
    reuse_grace_seconds: Option<i64>,
    /// Where to POST a logout token when a browser session ends (Back-Channel Logout 1.0)
    #[arg(long, value_name = "URI")]
    backchannel_logout_uri: Option<String>,
    /// A URI to return to after logout, matched exactly (repeatable)
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    post_logout_redirect_uris: Vec<String>,
    /// An API the client may request tokens for (RFC 8707; repeatable; see `wristband api`)
    #[arg(long = "resource", value_name = "IDENTIFIER")]
    resources: Vec<String>,
    /// The API of a request that names none; one of --resource [default: a token for the client itself]
    #[arg(long = "default-resource", value_name = "IDENTIFIER")]
    default_resource: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ClientView<'a> {
    client_id: &'a str,
    name: &'a str,
    public: bool,
    redirect_uris: Vec<&'a str>,
    post_logout_redirect_uris: Vec<&'a str>,
    grant_types: Vec<&'static str>,
    first_party: bool,
    require_mfa: bool,
    require_phishing_resistant: bool,
    access_token_seconds: Option<i64>,
    backchannel_logout_uri: Option<&'a str>,
    resources: Vec<&'a str>,
    default_resource: Option<&'a str>,
    /// Set when these are an API's introspection credentials.
    introspects_for: Option<&'a str>,
    created_at: String,
}

impl<'a> From<&'a Client> for ClientView<'a> {
    fn from(client: &'a Client) -> Self {
        Self {
            client_id: client.id.as_str(),
            name: &client.name,
            public: client.is_public(),
            redirect_uris: client.redirect_uris.iter().map(|u| u.as_str()).collect(),
            post_logout_redirect_uris: client.post_logout_redirect_uris.iter().map(|u| u.as_str()).collect(),
            grant_types: client.grant_types.iter().map(|g| g.as_str()).collect(),
            first_party: client.first_party,
            require_mfa: client.require_mfa,
            require_phishing_resistant: client.require_phishing_resistant,
            access_token_seconds: client.access_token_seconds,
            backchannel_logout_uri: client.backchannel_logout_uri.as_ref().map(|u| u.as_str()),
            resources: client.resources.iter().map(|r| r.as_str()).collect(),
            default_resource: client.default_resource.as_ref().map(|r| r.as_str()),
            introspects_for: client.resource_server_for.as_ref().map(|r| r.as_str()),
            created_at: format_rfc3339(client.created_at),
        }
    }
}

pub async fn run(ctx: &Context<'_>, command: ClientCommand) -> anyhow::Result<()> {
    match command {
        ClientCommand::Add(add) => {
            let input = ClientInput {
                client_id: add.client_id,
                name: add.name,
                redirect_uris: add.redirect_uris,
                post_logout_redirect_uris: add.post_logout_redirect_uris,
                grant_types: add.grants,
                public: add.public,
                first_party: add.first_party,
                require_mfa: add.require_mfa,
                require_phishing_resistant: add.require_phishing_resistant,
                access_token_seconds: add.access_token_seconds,
                refresh: RefreshOverrides {
                    idle_seconds: add.refresh_idle_seconds,
                    absolute_seconds: add.refresh_absolute_seconds,
                    reuse_grace_seconds: add.reuse_grace_seconds,
                },
                backchannel_logout_uri: add.backchannel_logout_uri,
                resources: add.resources,
                default_resource: add.default_resource,
            };
            let created = admin::add_client(ctx, input, Actor::Cli).await?;
            for uri in created.client.redirect_uris.iter().filter(|uri| uri.is_localhost()) {
                eprintln!(
                    "warning: {uri} is matched exactly, port included. RFC 8252 §8.3 recommends \
                     http://127.0.0.1:PORT/ for native apps: that loopback IP literal matches any port."
                );
            }
            let secret = created.secret.as_ref().map(|s| s.expose());
            if add.json {
                let mut view = serde_json::to_value(ClientView::from(&created.client))?;
                if let Some(object) = view.as_object_mut() {
                    object.insert("client_secret".to_owned(), secret.into());
                }
                return print_json(&view);
            }
            let kind = if created.client.is_public() { "public" } else { "confidential" };
            println!("created {kind} client {}", created.client.id);
            if let Some(secret) = secret {
                println!("client_secret: {secret}");
                println!("Store the secret now: it is shown once and kept only as a hash.");
            }
        }
        ClientCommand::List { json } => {
            let clients = admin::list_clients(ctx).await?;
            if json {
                return print_json(&clients.iter().map(ClientView::from).collect::<Vec<_>>());
            }
            println!("{:<24} {:<12} {:<48} REDIRECT_URIS", "CLIENT_ID", "TYPE", "GRANTS");
            for client in &clients {
                let grants: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
                let uris: Vec<&str> = client.redirect_uris.iter().map(|u| u.as_str()).collect();
                println!(
                    "{:<24} {:<12} {:<48} {}",
                    client.id,
                    if client.is_public() { "public" } else { "confidential" },
                    grants.join(","),
                    if uris.is_empty() { "-".to_owned() } else { uris.join(" ") },
                );
            }
        }
        ClientCommand::Remove { client_id } => {
            admin::remove_client(ctx, &client_id, Actor::Cli).await?;
            println!("removed client {client_id}");
        }
        ClientCommand::Resources { client_id, resources, default_resource } => {
            admin::set_client_resources(ctx, &client_id, &resources, default_resource.as_deref(), Actor::Cli).await?;
            match resources.is_empty() {
                true => println!("{client_id} may request no API: its tokens are for itself"),
                false => println!("{client_id} may request {}", resources.join(", ")),
            }
        }
        ClientCommand::RotateSecret { client_id } => {
            let secret = admin::rotate_client_secret(ctx, &client_id, Actor::Cli).await?;
            println!("client_secret: {}", secret.expose());
            println!("The previous secret no longer works. Store this one now: it is shown once.");
        }
    }
    Ok(())
}
