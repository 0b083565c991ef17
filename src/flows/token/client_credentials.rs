//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client acting for
//! itself gets an access token with itself as `sub`, for an API it may use (RFC 8707) or
//! for itself; no ID token, no refresh token, and no database write.

use uuid::Uuid;

use super::super::Context;
use super::super::error::{ErrorCode, FlowError, oauth};
use super::super::resource::{load_apis, requested_resources};
use super::issue::{access_token_seconds, audience};
use super::{TokenParams, TokenResponse};
use crate::model::{Api, Client, Scope};
use crate::tokens::{AccessTokenClaims, sign_access_token};

pub(super) async fn issue(
    ctx: &Context<'_>,
    client: &Client,
    params: &TokenParams,
) -> Result<TokenResponse, FlowError> {
    if client.is_public() {
        return oauth(ErrorCode::UnauthorizedClient, "Public clients cannot use client_credentials.", "public client");
    }
    let resources = requested_resources(client, params.get("resource").as_slice())?;
    let api = load_apis(ctx, &resources).await?.pop();
    let scope = granted_scope(api.as_ref(), params.get("scope"))?;
    let now = ctx.clock.now();
    let claims = AccessTokenClaims {
        iss: ctx.config.issuer.clone(),
        sub: client.id.to_string(),
        aud: audience(client, api.as_ref()),
        client_id: client.id.to_string(),
        exp: now + access_token_seconds(ctx, client, api.as_ref()),
        iat: now,
        nbf: None,
        jti: Uuid::new_v4().to_string(),
        scope: scope.clone(),
        auth_time: None,
        acr: None,
        amr: None,
        sid: None,
        roles: None,
    };
    let access_token = sign_access_token(&ctx.keystore.current(), &claims)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: claims.exp - now,
        refresh_token: None,
        id_token: None,
        scope,
    })
}

/// A client acting for itself has only API scopes: those it asks for, each defined by
/// the API, or all of the API's when it asks for none. Without an API there is nothing
/// to grant (the user scopes make no sense without a user).
fn granted_scope(api: Option<&Api>, requested: Option<&str>) -> Result<Option<String>, FlowError> {
    let refused = |reason: String| {
        oauth(ErrorCode::InvalidScope, "The requested scope is not one the requested API defines.", reason)
    };
    let Some(api) = api else {
        return match requested {
            Some(_) => refused("scope on client_credentials without an API".into()),
            None => Ok(None),
        };
    };
    let Some(requested) = requested else {
        let all: Vec<&str> = api.scopes.iter().map(|s| s.name.as_str()).collect();
        return Ok(Some(all.join(" ")).filter(|s| !s.is_empty()));
    };
    let scope = match Scope::parse(requested) {
        Ok(scope) => scope,
        Err(err) => return refused(err.to_string()),
    };
    match scope.iter().find(|token| !api.defines(token)) {
        Some(unknown) => refused(format!("scope {unknown} is not defined by {}", api.identifier)),
        None => Ok(Some(scope.to_string())),
    }
}
