//! Configuring upstream providers, for the CLI and the admin pages alike. An OpenID
//! Connect upstream is checked by fetching its discovery document before it is saved; a
//! plain OAuth 2.0 upstream names its endpoints and which members of its user document
//! say who the person is. Client secrets are sealed with the master key. Every change is
//! audited.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use url::Url;

use super::provider::{Endpoints, check_endpoint};
use super::signin::callback_uri;
use crate::flows::error::FlowError;
use crate::flows::{Actor, Context};
use crate::model::{ClaimMapping, DisplayName, OAuth2Provider, Upstream, UpstreamName, UpstreamProtocol};
use crate::security::secret::SecretString;
use crate::store::{AuditEvent, StoreError};

/// Scopes asked of an OpenID Connect upstream when none are configured.
const DEFAULT_OIDC_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// The master key's purpose for an upstream's client secret.
pub fn secret_purpose(name: &UpstreamName) -> String {
    format!("upstream_client_secret:{name}")
}

/// Members of a plain OAuth 2.0 user document; unset ones take GitHub's names.
#[derive(Debug, Clone, Default)]
pub struct ClaimInput {
    pub subject: Option<String>,
    pub username: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<String>,
}

/// An upstream as an administrator describes it.
#[derive(Debug, Clone)]
pub struct UpstreamInput {
    pub name: String,
    pub display_name: Option<String>,
    /// OpenID Connect: the issuer to discover.
    pub issuer: Option<String>,
    /// Plain OAuth 2.0: the three endpoints and the claim mapping.
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub claims: ClaimInput,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    pub link_by_verified_email: bool,
    pub create_users: bool,
    pub trusted_for_mfa: bool,
    pub offer_end_session: bool,
}

/// An upstream, where to register wristband there, and what discovery says now.
#[derive(Debug)]
pub struct UpstreamDetails {
    pub upstream: Upstream,
    /// The redirect URI to register at the upstream.
    pub callback_uri: String,
    pub endpoints: Result<Endpoints, String>,
}

fn endpoint(field: &str, value: &str) -> Result<Url, FlowError> {
    let url =
        Url::parse(value.trim()).map_err(|e| FlowError::Mistake(format!("{field}: `{value}` is not a URL: {e}")))?;
    check_endpoint(&url).map_err(|reason| FlowError::Mistake(format!("{field}: {reason}")))?;
    if url.fragment().is_some() {
        return Err(FlowError::Mistake(format!("{field}: must not have a fragment")));
    }
    Ok(url)
}

/// A scope token (RFC 6749 §3.3): printable ASCII without space, `"` or `\`.
fn scope(value: &str) -> Result<String, FlowError> {
    let ok = !value.is_empty()
        && value.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
    if !ok {
        return Err(FlowError::Mistake(format!(
            "`{value}` is not a scope: printable characters without spaces or quotes"
        )));
    }
    Ok(value.to_owned())
}

fn member(value: Option<&str>, default: &str) -> Result<String, FlowError> {
    let value = value.map(str::trim).filter(|v| !v.is_empty()).unwrap_or(default);
    if value.len() > 64 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FlowError::Mistake(format!("`{value}` is not a member name")));
    }
    Ok(value.to_owned())
}

/// Adds an upstream; an OpenID Connect one only when its discovery document can be read
/// now (a typo in the issuer is found here, not by the first person signing in).
pub async fn add_upstream(ctx: &Context<'_>, input: UpstreamInput, actor: Actor) -> Result<UpstreamDetails, FlowError> {
    let name = UpstreamName::parse(input.name.trim())?;
    let display_name = match input.display_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(display) => DisplayName::parse(display)?.to_string(),
        None => name.to_string(),
    };
    let client_id = input.client_id.trim().to_owned();
    if client_id.is_empty() || client_id.len() > 255 || client_id.chars().any(char::is_control) {
        return Err(FlowError::mistake("the client id must have 1 to 255 characters"));
    }
    let secret = input.client_secret.expose().trim();
    if secret.is_empty() || secret.len() > 1024 {
        return Err(FlowError::mistake("the client secret must have 1 to 1024 characters"));
    }
    let mut scopes =
        input.scopes.iter().flat_map(|s| s.split_whitespace()).map(scope).collect::<Result<Vec<_>, _>>()?;
    scopes.dedup();
    let explicit = [&input.authorization_endpoint, &input.token_endpoint, &input.userinfo_endpoint];
    let protocol = match (&input.issuer, explicit) {
        (Some(issuer), [None, None, None]) => {
            let issuer = endpoint("issuer", issuer)?;
            if issuer.query().is_some() {
                return Err(FlowError::mistake("issuer: must not have a query"));
            }
            if let Err(err) = ctx.upstreams.fetch_metadata(&issuer, ctx.clock.now()).await {
                return Err(FlowError::Mistake(format!("The issuer's discovery document could not be used: {err}")));
            }
            if scopes.is_empty() {
                scopes = DEFAULT_OIDC_SCOPES.map(str::to_owned).to_vec();
            }
            UpstreamProtocol::Oidc { issuer }
        }
        (None, [Some(authorization), Some(token), Some(userinfo)]) => {
            let c = &input.claims;
            UpstreamProtocol::OAuth2(Box::new(OAuth2Provider {
                authorization_endpoint: endpoint("authorization endpoint", authorization)?,
                token_endpoint: endpoint("token endpoint", token)?,
                userinfo_endpoint: endpoint("userinfo endpoint", userinfo)?,
                claims: ClaimMapping {
                    subject: member(c.subject.as_deref(), "id")?,
                    username: Some(member(c.username.as_deref(), "login")?),
                    name: Some(member(c.name.as_deref(), "name")?),
                    email: Some(member(c.email.as_deref(), "email")?),
                    email_verified: c.email_verified.as_deref().map(|m| member(Some(m), "")).transpose()?,
                },
            }))
        }
        _ => {
            return Err(FlowError::mistake(
                "Give either an issuer (OpenID Connect) or all three of the authorization, token and userinfo \
                 endpoints (plain OAuth 2.0), not both.",
            ));
        }
    };
    if input.offer_end_session && !matches!(protocol, UpstreamProtocol::Oidc { .. }) {
        return Err(FlowError::mistake("only an OpenID Connect upstream has an end-session endpoint to offer"));
    }
    if input.trusted_for_mfa && !matches!(protocol, UpstreamProtocol::Oidc { .. }) {
        return Err(FlowError::mistake(
            "only an OpenID Connect upstream says (in its ID token) how the person signed in",
        ));
    }
    let sealed = ctx.master_key.seal(&secret_purpose(&name), secret.as_bytes())?;
    let upstream = Upstream {
        name: name.clone(),
        display_name,
        protocol,
        client_id,
        client_secret_sealed: URL_SAFE_NO_PAD.encode(sealed),
        scopes,
        link_by_verified_email: input.link_by_verified_email,
        create_users: input.create_users,
        trusted_for_mfa: input.trusted_for_mfa,
        offer_end_session: input.offer_end_session,
        created_at: ctx.clock.now(),
    };
    match ctx.store.insert_upstream(&upstream).await {
        Err(StoreError::Conflict(_)) => return Err(FlowError::Mistake(format!("the upstream {name} already exists"))),
        other => other?,
    }
    let event = AuditEvent::new("upstream_added").details(serde_json::json!({
        "upstream": name, "client_id": upstream.client_id, "scopes": upstream.scopes,
        "link_by_verified_email": upstream.link_by_verified_email, "create_users": upstream.create_users,
        "trusted_for_mfa": upstream.trusted_for_mfa,
    }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    ctx.upstreams.forget_buttons();
    show_upstream(ctx, name.as_str()).await
}

pub async fn list_upstreams(ctx: &Context<'_>) -> Result<Vec<Upstream>, FlowError> {
    Ok(ctx.store.list_upstreams().await?)
}

pub async fn show_upstream(ctx: &Context<'_>, name: &str) -> Result<UpstreamDetails, FlowError> {
    let unknown = || FlowError::Mistake(format!("no upstream named `{name}`"));
    let name = UpstreamName::parse(name).map_err(|_| unknown())?;
    let upstream = ctx.store.find_upstream(&name).await?.ok_or_else(unknown)?;
    let endpoints = ctx.upstreams.endpoints(&upstream, ctx.clock.now()).await.map_err(|e| e.to_string());
    Ok(UpstreamDetails { callback_uri: callback_uri(&ctx.config.issuer, &name), upstream, endpoints })
}

/// Removes an upstream and every identity linked through it. Sessions it started stay
/// until they end; nobody signs in through it again.
pub async fn remove_upstream(ctx: &Context<'_>, name: &str, actor: Actor) -> Result<(), FlowError> {
    let unknown = || FlowError::Mistake(format!("no upstream named `{name}`"));
    let name = UpstreamName::parse(name).map_err(|_| unknown())?;
    if !ctx.store.delete_upstream(&name).await? {
        return Err(unknown());
    }
    ctx.upstreams.forget_buttons();
    let event = AuditEvent::new("upstream_removed").details(serde_json::json!({ "upstream": name }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(())
}

/// Fetches every OpenID Connect upstream's discovery document again; the upstreams whose
/// fetch failed, with why.
pub async fn refresh_discovery(ctx: &Context<'_>) -> Result<Vec<(UpstreamName, String)>, FlowError> {
    let mut failures = Vec::new();
    for upstream in ctx.store.list_upstreams().await? {
        if let UpstreamProtocol::Oidc { issuer } = &upstream.protocol
            && let Err(err) = ctx.upstreams.fetch_metadata(issuer, ctx.clock.now()).await
        {
            failures.push((upstream.name, err.to_string()));
        }
    }
    Ok(failures)
}
