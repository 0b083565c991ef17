use crate::config::MAX_REUSE_GRACE_SECONDS;
use crate::flows::Actor;
use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::model::{ApiIdentifier, Client, ClientId, DisplayName, GrantType, RedirectUri, RefreshOverrides};
use crate::security::random::{opaque_secret, sha256_hex};
use crate::security::secret::SecretString;
use crate::store::{AuditEvent, NewClient, StoreError};

pub(super) const CLIENT_SECRET_PREFIX: &str = "wbs_";

/// A new client as an administrator describes it; parsed and checked here.
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub client_id: String,
    pub name: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Empty: `authorization_code` and `refresh_token`.
    pub grant_types: Vec<String>,
    pub public: bool,
    pub first_party: bool,
    pub require_mfa: bool,
    /// Every login needs a passkey (`urn:wristband:acr:phr`).
    pub require_phishing_resistant: bool,
    /// Overrides `tokens.access_token_seconds` for this client.
    pub access_token_seconds: Option<i64>,
    /// Overrides of `refresh.*` for this client.
    pub refresh: RefreshOverrides,
    /// Back-Channel Logout 1.0 endpoint of the client.
    pub backchannel_logout_uri: Option<String>,
    /// The APIs the client may request tokens for (RFC 8707), by identifier.
    pub resources: Vec<String>,
    /// The API of a request that names none; one of `resources`.
    pub default_resource: Option<String>,
}

/// A registered client and, for confidential clients, its secret (shown once, stored hashed).
#[derive(Debug)]
pub struct CreatedClient {
    pub client: Client,
    pub secret: Option<SecretString>,
}

pub async fn add_client(ctx: &Context<'_>, input: ClientInput, actor: Actor) -> Result<CreatedClient, FlowError> {
    let secret = if input.public { None } else { Some(SecretString::new(opaque_secret(CLIENT_SECRET_PREFIX)?)) };
    let new = parse_client(input, secret.as_ref().map(|s| sha256_hex(s.expose())))?;
    registered(ctx, &new.resources).await?;
    let id = new.id.to_string();
    let client = match ctx.store.insert_client(new, ctx.clock.now()).await {
        Err(StoreError::Conflict(_)) => return Err(FlowError::Mistake(format!("client `{id}` already exists"))),
        other => other?,
    };
    let grants: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
    let event = AuditEvent::new("client_created")
        .client(client.id.as_str())
        .details(serde_json::json!({ "public": client.is_public(), "grant_types": grants }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(CreatedClient { client, secret })
}

/// Replaces a client's settings; whether it is public, and its secret, stay as they are.
pub async fn update_client(ctx: &Context<'_>, input: ClientInput, actor: Actor) -> Result<Client, FlowError> {
    let id = known_id(&input.client_id)?;
    let existing = ctx.store.find_client(&id).await?.ok_or_else(|| unknown_client(input.client_id.clone()))?;
    if let Some(api) = &existing.resource_server_for {
        return Err(FlowError::Mistake(format!(
            "`{id}` holds the introspection credentials of the API {api}: rotate its secret, or remove the API"
        )));
    }
    let input = ClientInput { public: existing.is_public(), ..input };
    let updated = parse_client(input, existing.secret_hash)?;
    registered(ctx, &updated.resources).await?;
    match ctx.store.update_client(updated, ctx.clock.now()).await {
        Err(StoreError::NotFound) => return Err(unknown_client(id.to_string())),
        other => other?,
    }
    let client = ctx.store.find_client(&id).await?.ok_or_else(|| unknown_client(id.to_string()))?;
    let grants: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
    let event = AuditEvent::new("client_updated").client(id.as_str()).details(serde_json::json!({
        "grant_types": grants, "first_party": client.first_party, "require_mfa": client.require_mfa,
        "require_phishing_resistant": client.require_phishing_resistant
    }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(client)
}

pub async fn list_clients(ctx: &Context<'_>) -> Result<Vec<Client>, FlowError> {
    Ok(ctx.store.list_clients().await?)
}

/// Deletes a client together with its codes, consents and refresh-token families.
pub async fn remove_client(ctx: &Context<'_>, client_id: &str, actor: Actor) -> Result<(), FlowError> {
    let id = known_id(client_id)?;
    match ctx.store.delete_client(&id).await {
        Err(StoreError::NotFound) => return Err(unknown_client(client_id.to_owned())),
        other => other?,
    }
    ctx.store.record_audit(actor.stamp(AuditEvent::new("client_removed").client(id.as_str())), ctx.clock.now()).await?;
    Ok(())
}

/// Replaces a confidential client's secret; the old one stops working at once.
pub async fn rotate_client_secret(ctx: &Context<'_>, client_id: &str, actor: Actor) -> Result<SecretString, FlowError> {
    let id = known_id(client_id)?;
    let client = ctx.store.find_client(&id).await?.ok_or_else(|| unknown_client(client_id.to_owned()))?;
    if client.is_public() {
        return Err(FlowError::Mistake(format!("client `{client_id}` is public: it has no secret to rotate")));
    }
    let secret = SecretString::new(opaque_secret(CLIENT_SECRET_PREFIX)?);
    ctx.store.set_client_secret_hash(&id, sha256_hex(secret.expose()), ctx.clock.now()).await?;
    ctx.store
        .record_audit(actor.stamp(AuditEvent::new("client_secret_rotated").client(id.as_str())), ctx.clock.now())
        .await?;
    Ok(secret)
}

/// Which APIs a client may request, and its default one; every API must be registered.
pub async fn set_client_resources(
    ctx: &Context<'_>,
    client_id: &str,
    resources: &[String],
    default_resource: Option<&str>,
    actor: Actor,
) -> Result<(), FlowError> {
    let id = known_id(client_id)?;
    let (resources, default_resource) = parse_resources(resources, default_resource)?;
    registered(ctx, &resources).await?;
    match ctx.store.set_client_resources(&id, &resources, default_resource.as_ref(), ctx.clock.now()).await {
        Err(StoreError::NotFound) => return Err(unknown_client(client_id.to_owned())),
        other => other?,
    }
    let event = AuditEvent::new("client_resources_set")
        .client(id.as_str())
        .details(serde_json::json!({ "resources": resources, "default_resource": default_resource }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(())
}

/// API identifiers as typed, without repeats; the default must be one of them.
fn parse_resources(
    resources: &[String],
    default_resource: Option<&str>,
) -> Result<(Vec<ApiIdentifier>, Option<ApiIdentifier>), FlowError> {
    let mut parsed: Vec<ApiIdentifier> = Vec::new();
    for resource in resources.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        let identifier = ApiIdentifier::parse(resource)?;
        if !parsed.contains(&identifier) {
            parsed.push(identifier);
        }
    }
    let default_resource = default_resource.map(str::trim).filter(|d| !d.is_empty()).map(ApiIdentifier::parse);
    let default_resource = default_resource.transpose()?;
    if let Some(default) = default_resource.as_ref().filter(|d| !parsed.contains(d)) {
        return Err(FlowError::Mistake(format!("the default API {default} must be one the client may request")));
    }
    Ok((parsed, default_resource))
}

/// Refuses APIs that are not registered.
async fn registered(ctx: &Context<'_>, resources: &[ApiIdentifier]) -> Result<(), FlowError> {
    for resource in resources {
        if ctx.store.find_api(resource).await?.is_none() {
            return Err(FlowError::Mistake(format!(
                "no API `{resource}`: register it first (wristband api add {resource})"
            )));
        }
    }
    Ok(())
}

fn known_id(client_id: &str) -> Result<ClientId, FlowError> {
    ClientId::parse(client_id).map_err(|_| unknown_client(client_id.to_owned()))
}

/// Parses and checks the combination of settings; `secret_hash` is `None` for public clients.
fn parse_client(input: ClientInput, secret_hash: Option<String>) -> Result<NewClient, FlowError> {
    let id = ClientId::parse(&input.client_id)?;
    let name = match input.name.as_deref() {
        Some(name) => DisplayName::parse(name)?.to_string(),
        None => id.to_string(),
    };
    let parse_uris = |uris: &[String]| uris.iter().map(|u| RedirectUri::parse(u)).collect::<Result<Vec<_>, _>>();
    let redirect_uris = parse_uris(&input.redirect_uris)?;
    let post_logout_redirect_uris = parse_uris(&input.post_logout_redirect_uris)?;
    let mut grant_types = if input.grant_types.is_empty() {
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    } else {
        input.grant_types.iter().map(|g| GrantType::parse(g)).collect::<Result<Vec<_>, _>>()?
    };
    grant_types.sort();
    grant_types.dedup();
    let has = |grant| grant_types.contains(&grant);
    let rejected = |reason: &str| Err(FlowError::Mistake(reason.to_owned()));
    if input.public && has(GrantType::ClientCredentials) {
        return rejected("a public client cannot use client_credentials: it has no secret to authenticate with");
    }
    if has(GrantType::RefreshToken) && !has(GrantType::AuthorizationCode) {
        return rejected("refresh_token needs authorization_code: refresh tokens are issued at the code exchange");
    }
    if has(GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        return rejected("authorization_code needs at least one --redirect-uri");
    }
    let has_uris = !redirect_uris.is_empty() || !post_logout_redirect_uris.is_empty();
    if has_uris && !has(GrantType::AuthorizationCode) {
        return rejected("redirect URIs are only used with the authorization_code grant");
    }
    if input.access_token_seconds.is_some_and(|seconds| !(60..=86_400).contains(&seconds)) {
        return rejected("the access token lifetime must be between 60 and 86400 seconds");
    }
    check_refresh_overrides(&input.refresh)?;
    let backchannel_logout_uri = input.backchannel_logout_uri.as_deref().map(RedirectUri::parse).transpose()?;
    if backchannel_logout_uri.as_ref().is_some_and(|uri| !uri.as_str().starts_with("http")) {
        return rejected("the back-channel logout URI must be an http(s) URL");
    }
    let (resources, default_resource) = parse_resources(&input.resources, input.default_resource.as_deref())?;
    Ok(NewClient {
        id,
        name,
        secret_hash,
        redirect_uris,
        post_logout_redirect_uris,
        grant_types,
        first_party: input.first_party,
        require_mfa: input.require_mfa,
        require_phishing_resistant: input.require_phishing_resistant,
        access_token_seconds: input.access_token_seconds,
        refresh: input.refresh,
        backchannel_logout_uri,
        resources,
        default_resource,
        resource_server_for: None,
    })
}

fn check_refresh_overrides(refresh: &RefreshOverrides) -> Result<(), FlowError> {
    let outside = |value: Option<i64>, min: i64, max: i64| value.is_some_and(|v| !(min..=max).contains(&v));
    if outside(refresh.idle_seconds, 300, 31_536_000) || outside(refresh.absolute_seconds, 300, 31_536_000) {
        return Err(FlowError::Mistake("refresh lifetimes must be between 300 and 31536000 seconds".into()));
    }
    if let (Some(idle), Some(absolute)) = (refresh.idle_seconds, refresh.absolute_seconds)
        && idle > absolute
    {
        return Err(FlowError::Mistake("the idle lifetime must not exceed the absolute lifetime".into()));
    }
    if outside(refresh.reuse_grace_seconds, 0, MAX_REUSE_GRACE_SECONDS) {
        return Err(FlowError::Mistake(format!(
            "the reuse grace window must be 0 to {MAX_REUSE_GRACE_SECONDS} seconds"
        )));
    }
    Ok(())
}

fn unknown_client(client_id: String) -> FlowError {
    FlowError::Mistake(format!("no client `{client_id}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(grants: &[&str], redirects: &[&str], public: bool) -> ClientInput {
        ClientInput {
            client_id: "demo".into(),
            redirect_uris: redirects.iter().map(|s| s.to_string()).collect(),
            grant_types: grants.iter().map(|s| s.to_string()).collect(),
            public,
            ..ClientInput::default()
        }
    }

    fn reason(input: ClientInput) -> String {
        let secret_hash = (!input.public).then(|| "hash".to_owned());
        parse_client(input, secret_hash).unwrap_err().to_string()
    }

    #[test]
    fn defaults_to_the_code_flow_with_refresh() {
        let client = parse_client(input(&[], &["https://app.example.com/cb"], false), Some("hash".into())).unwrap();
        assert_eq!(client.grant_types, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]);
        assert_eq!(client.name, "demo");
    }

    #[test]
    fn inconsistent_combinations_are_refused_with_a_reason() {
        assert!(reason(input(&["client_credentials"], &[], true)).contains("public client"));
        assert!(reason(input(&["refresh_token"], &[], false)).contains("needs authorization_code"));
        assert!(reason(input(&["authorization_code"], &[], false)).contains("--redirect-uri"));
        assert!(reason(input(&["client_credentials"], &["https://a.example/cb"], false)).contains("only used"));
        assert!(reason(input(&["implicit"], &[], false)).contains("implicit"));
        let short = ClientInput { access_token_seconds: Some(10), ..input(&[], &["https://a.example/cb"], false) };
        assert!(reason(short).contains("between 60 and 86400"));
        assert!(reason(input(&[], &["https://a.example/cb#x"], false)).contains("fragment"));
    }
}
