//! The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6): client authentication, then one
//! module per grant.

mod authorization_code;
mod client_auth;
mod client_credentials;
mod issue;
mod refresh_token;

use std::collections::HashMap;

use serde::Serialize;

pub use client_auth::{ClientAuthentication, authenticate_client};
pub use refresh_token::usable_family_user;

use super::Context;
use super::error::{ErrorCode, FlowError, oauth};
use super::session::RequestMeta;
use crate::model::GrantType;

/// Form parameters of a token request; each may appear once (RFC 6749 §3.2).
#[derive(Debug, Clone, Default)]
pub struct TokenParams(HashMap<String, String>);

impl TokenParams {
    /// Collects the form; a repeated parameter is `invalid_request`.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, FlowError> {
        let mut map = HashMap::new();
        for (name, value) in pairs {
            if map.insert(name, value).is_some() {
                return oauth(ErrorCode::InvalidRequest, "A parameter was sent more than once.", "repeated parameter");
            }
        }
        Ok(Self(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn require(&self, name: &'static str, description: &'static str) -> Result<&str, FlowError> {
        match self.get(name) {
            Some(value) => Ok(value),
            None => oauth(ErrorCode::InvalidRequest, description, format!("missing {name}")),
        }
    }
}

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Authenticates the client, then runs the grant it asked for. The address's limit counts
/// every request; the client's counts only requests that authenticated as it, so nobody
/// can use up a client's allowance by merely naming it.
pub async fn exchange(
    ctx: &Context<'_>,
    auth: ClientAuthentication,
    params: TokenParams,
    meta: &RequestMeta,
) -> Result<TokenResponse, FlowError> {
    let now = ctx.clock.now();
    ctx.limits.token_per_ip.acquire(meta.rate_limit_key(), now)?;
    let client = authenticate_client(ctx, &auth).await?;
    ctx.limits.token_per_client.acquire(client.id.as_str(), now)?;
    let grant = match params.get("grant_type") {
        None => return oauth(ErrorCode::InvalidRequest, "grant_type is required.", "missing grant_type"),
        Some(name) => match GrantType::parse(name) {
            Ok(grant) => grant,
            Err(_) => {
                return oauth(ErrorCode::UnsupportedGrantType, "The grant type is not supported.", name.to_owned());
            }
        },
    };
    if !client.allows(grant) {
        return oauth(
            ErrorCode::UnauthorizedClient,
            "The client may not use this grant type.",
            format!("client {} lacks {grant}", client.id),
        );
    }
    let issued = match grant {
        GrantType::AuthorizationCode => authorization_code::exchange(ctx, &client, &params, meta).await?,
        GrantType::RefreshToken => refresh_token::refresh(ctx, &client, &params, meta).await?,
        GrantType::ClientCredentials => client_credentials::issue(ctx, &client, &params)?,
    };
    ctx.metrics.token_issued(grant.as_str());
    Ok(issued)
}
