//! APIs (resource servers, RFC 8707): register one with the scopes it defines, list them,
//! show one with the clients that may request it, remove one. Every change is audited.

use crate::flows::error::FlowError;
use crate::flows::{Actor, Context};
use crate::model::{Api, ApiIdentifier, ApiScope, Client, ClientId, DisplayName};
use crate::security::random::{opaque_secret, sha256_hex};
use crate::security::secret::SecretString;
use crate::store::{AuditEvent, NewApi, NewClient, StoreError};

use super::clients::CLIENT_SECRET_PREFIX;

/// A new API as an administrator describes it; parsed and checked here.
#[derive(Debug, Clone, Default)]
pub struct ApiInput {
    pub identifier: String,
    pub name: Option<String>,
    /// `(name, description)`; the description may be empty.
    pub scopes: Vec<(String, String)>,
    /// Overrides the access-token lifetime of tokens for this API.
    pub access_token_seconds: Option<i64>,
}

/// A registered API and, when asked for, the client id and secret (shown once) it
/// introspects tokens with.
#[derive(Debug)]
pub struct CreatedApi {
    pub api: Api,
    pub introspection: Option<(ClientId, SecretString)>,
}

pub async fn add_api(
    ctx: &Context<'_>,
    input: ApiInput,
    introspection: bool,
    actor: Actor,
) -> Result<CreatedApi, FlowError> {
    let identifier = ApiIdentifier::parse(input.identifier.trim())?;
    let name = match input.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => DisplayName::parse(name)?.to_string(),
        None => identifier.to_string(),
    };
    let mut scopes: Vec<ApiScope> = Vec::new();
    for (scope, description) in &input.scopes {
        let scope = ApiScope::parse(scope.trim(), description)?;
        if scopes.iter().any(|s| s.name == scope.name) {
            return Err(FlowError::Mistake(format!("the scope `{}` is named twice", scope.name)));
        }
        scopes.push(scope);
    }
    if input.access_token_seconds.is_some_and(|seconds| !(60..=86_400).contains(&seconds)) {
        return Err(FlowError::mistake("the access token lifetime must be between 60 and 86400 seconds"));
    }
    let new = NewApi { identifier: identifier.clone(), name, scopes, access_token_seconds: input.access_token_seconds };
    let api = match ctx.store.insert_api(new, ctx.clock.now()).await {
        Err(StoreError::Conflict(_)) => return Err(FlowError::Mistake(format!("the API {identifier} already exists"))),
        other => other?,
    };
    let introspection = if introspection { Some(introspection_client(ctx, &api).await?) } else { None };
    let scope_names: Vec<&str> = api.scopes.iter().map(|s| s.name.as_str()).collect();
    let event = AuditEvent::new("api_created").details(serde_json::json!({
        "api": api.identifier, "scopes": scope_names,
        "introspection_client": introspection.as_ref().map(|(id, _)| id.to_string()),
    }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(CreatedApi { api, introspection })
}

/// A confidential client with no grant at all, for the API's introspection calls only.
async fn introspection_client(ctx: &Context<'_>, api: &Api) -> Result<(ClientId, SecretString), FlowError> {
    // Named after the API's host, with a random tail: unique, and recognisable in logs.
    let host = url::Url::parse(api.identifier.as_str())?.host_str().unwrap_or("api").to_owned();
    let tail = opaque_secret("")?.chars().filter(char::is_ascii_alphanumeric).take(8).collect::<String>();
    let id = ClientId::parse(&format!("rs-{host}-{tail}"))?;
    let secret = SecretString::new(opaque_secret(CLIENT_SECRET_PREFIX)?);
    let new = NewClient {
        id: id.clone(),
        name: format!("{} (introspection)", api.name),
        secret_hash: Some(sha256_hex(secret.expose())),
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        grant_types: Vec::new(),
        first_party: false,
        require_mfa: false,
        require_phishing_resistant: false,
        access_token_seconds: None,
        refresh: Default::default(),
        backchannel_logout_uri: None,
        resources: Vec::new(),
        default_resource: None,
        resource_server_for: Some(api.identifier.clone()),
    };
    ctx.store.insert_client(new, ctx.clock.now()).await?;
    Ok((id, secret))
}

pub async fn list_apis(ctx: &Context<'_>) -> Result<Vec<Api>, FlowError> {
    Ok(ctx.store.list_apis().await?)
}

/// An API with the clients that may request it and those that introspect for it.
#[derive(Debug)]
pub struct ApiDetails {
    pub api: Api,
    pub clients: Vec<Client>,
    pub introspection_clients: Vec<Client>,
}

pub async fn show_api(ctx: &Context<'_>, identifier: &str) -> Result<ApiDetails, FlowError> {
    let api = known(ctx, identifier).await?;
    let all = ctx.store.list_clients().await?;
    let introspects = |c: &Client| c.resource_server_for.as_ref() == Some(&api.identifier);
    let introspection_clients = all.iter().filter(|c| introspects(c)).cloned().collect();
    let clients = all.into_iter().filter(|c| c.resources.contains(&api.identifier)).collect();
    Ok(ApiDetails { api, clients, introspection_clients })
}

/// Removes an API with its introspection credentials; no client may request it any more,
/// and refreshes of grants for it are refused.
pub async fn remove_api(ctx: &Context<'_>, identifier: &str, actor: Actor) -> Result<(), FlowError> {
    let api = known(ctx, identifier).await?;
    if !ctx.store.delete_api(&api.identifier, ctx.clock.now()).await? {
        return Err(unknown_api(identifier));
    }
    let event = AuditEvent::new("api_removed").details(serde_json::json!({ "api": api.identifier }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(())
}

async fn known(ctx: &Context<'_>, identifier: &str) -> Result<Api, FlowError> {
    let Ok(parsed) = ApiIdentifier::parse(identifier.trim()) else { return Err(unknown_api(identifier)) };
    ctx.store.find_api(&parsed).await?.ok_or_else(|| unknown_api(identifier))
}

fn unknown_api(identifier: &str) -> FlowError {
    FlowError::Mistake(format!("no API `{}`", identifier.chars().take(255).collect::<String>()))
}
