use clap::{Args, Subcommand};
use serde::Serialize;

use super::print_json;
use crate::clock::format_rfc3339;
use crate::flows::admin::{self, ApiInput};
use crate::flows::{Actor, Context};
use crate::model::Api;

#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// Register an API (a resource server): its tokens carry its identifier as `aud`
    Add(ApiAdd),
    /// List APIs
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show an API, its scopes and the clients that may request it
    Show {
        identifier: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove an API: no client may request it any more, and its introspection credentials go
    Remove { identifier: String },
}

#[derive(Debug, Args)]
pub struct ApiAdd {
    /// An absolute http(s) URI without fragment, e.g. https://orders.example.com (RFC 8707)
    identifier: String,
    /// Display name shown on the consent page [default: the identifier]
    #[arg(long)]
    name: Option<String>,
    /// A scope the API defines, with the sentence the consent page shows (repeatable)
    #[arg(long = "scope", value_name = "NAME[=DESCRIPTION]")]
    scopes: Vec<String>,
    /// Access token lifetime for this API [default: the client's, else tokens.access_token_seconds]
    #[arg(long, value_name = "SECONDS")]
    access_token_seconds: Option<i64>,
    /// Also create introspection credentials for the API (client id and secret, printed once)
    #[arg(long)]
    introspection: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ApiView<'a> {
    identifier: &'a str,
    name: &'a str,
    scopes: &'a [crate::model::ApiScope],
    access_token_seconds: Option<i64>,
    created_at: String,
}

impl<'a> From<&'a Api> for ApiView<'a> {
    fn from(api: &'a Api) -> Self {
        Self {
            identifier: api.identifier.as_str(),
            name: &api.name,
            scopes: &api.scopes,
            access_token_seconds: api.access_token_seconds,
            created_at: format_rfc3339(api.created_at),
        }
    }
}

pub async fn run(ctx: &Context<'_>, command: ApiCommand) -> anyhow::Result<()> {
    match command {
        ApiCommand::Add(add) => {
            let scopes = add
                .scopes
                .iter()
                .map(|s| match s.split_once('=') {
                    Some((name, description)) => (name.to_owned(), description.to_owned()),
                    None => (s.clone(), String::new()),
                })
                .collect();
            let input = ApiInput {
                identifier: add.identifier,
                name: add.name,
                scopes,
                access_token_seconds: add.access_token_seconds,
            };
            let created = admin::add_api(ctx, input, add.introspection, Actor::Cli).await?;
            let credentials = created.introspection.as_ref().map(|(id, secret)| (id.as_str(), secret.expose()));
            if add.json {
                let mut view = serde_json::to_value(ApiView::from(&created.api))?;
                if let (Some(object), Some((id, secret))) = (view.as_object_mut(), credentials) {
                    object.insert("introspection_client_id".into(), id.into());
                    object.insert("introspection_client_secret".into(), secret.into());
                }
                return print_json(&view);
            }
            println!("registered the API {}", created.api.identifier);
            if let Some((id, secret)) = credentials {
                println!("introspection client_id: {id}");
                println!("introspection client_secret: {secret}");
                println!(
                    "Store the secret now: it is shown once. Rotate it with `wristband client rotate-secret {id}`."
                );
            }
            println!(
                "Let clients request it: wristband client resources CLIENT_ID --resource {}",
                created.api.identifier
            );
        }
        ApiCommand::List { json } => {
            let apis = admin::list_apis(ctx).await?;
            if json {
                return print_json(&apis.iter().map(ApiView::from).collect::<Vec<_>>());
            }
            println!("{:<40} {:<24} SCOPES", "IDENTIFIER", "NAME");
            for api in &apis {
                let scopes: Vec<&str> = api.scopes.iter().map(|s| s.name.as_str()).collect();
                let scopes = if scopes.is_empty() { "-".to_owned() } else { scopes.join(" ") };
                println!("{:<40} {:<24} {scopes}", api.identifier, api.name);
            }
        }
        ApiCommand::Show { identifier, json } => {
            let details = admin::show_api(ctx, &identifier).await?;
            let ids = |clients: &[crate::model::Client]| clients.iter().map(|c| c.id.to_string()).collect::<Vec<_>>();
            if json {
                let mut view = serde_json::to_value(ApiView::from(&details.api))?;
                if let Some(object) = view.as_object_mut() {
                    object.insert("clients".into(), ids(&details.clients).into());
                    object.insert("introspection_clients".into(), ids(&details.introspection_clients).into());
                }
                return print_json(&view);
            }
            let api = &details.api;
            println!("identifier: {}", api.identifier);
            println!("name: {}", api.name);
            if let Some(seconds) = api.access_token_seconds {
                println!("access tokens live: {seconds} s");
            }
            for scope in &api.scopes {
                println!("scope: {}  {}", scope.name, scope.description);
            }
            println!("clients: {}", ids(&details.clients).join(" "));
            println!("introspection clients: {}", ids(&details.introspection_clients).join(" "));
        }
        ApiCommand::Remove { identifier } => {
            admin::remove_api(ctx, &identifier, Actor::Cli).await?;
            println!("removed the API {identifier}");
        }
    }
    Ok(())
}
