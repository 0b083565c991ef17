//! Building and signing the tokens of a response.

use uuid::Uuid;

use super::super::Context;
use super::super::error::FlowError;
use super::TokenResponse;
use crate::clock::UnixTime;
use crate::keys::KeySet;
use crate::model::{Api, Authentication, Client, Scope, User};
use crate::tokens::{AccessTokenClaims, IdTokenClaims, at_hash, sign_access_token, sign_id_token};

/// Everything a user's tokens say: who, what was granted, and how they logged in.
pub(super) struct UserGrant<'a> {
    pub user: &'a User,
    pub scope: &'a Scope,
    pub authentication: &'a Authentication,
    pub sid: Option<Uuid>,
    pub nonce: Option<&'a str>,
    /// The API the access token is for (its `aud`); `None`: the client itself.
    pub api: Option<&'a Api>,
}

/// An API's own lifetime, else the client's, else `tokens.access_token_seconds`.
pub(super) fn access_token_seconds(ctx: &Context<'_>, client: &Client, api: Option<&Api>) -> i64 {
    api.and_then(|api| api.access_token_seconds)
        .or(client.access_token_seconds)
        .unwrap_or(ctx.config.tokens.access_token_seconds)
}

/// The `aud` of an access token: the API it is for, or the client acting for itself or
/// calling wristband's userinfo.
pub(super) fn audience(client: &Client, api: Option<&Api>) -> String {
    api.map_or_else(|| client.id.to_string(), |api| api.identifier.to_string())
}

/// The claims of a user's access token; `jti` and `exp` are chosen by the caller so they
/// can be recorded before signing.
pub(super) fn user_access_claims(
    ctx: &Context<'_>,
    client: &Client,
    grant: &UserGrant<'_>,
    jti: String,
    now: UnixTime,
) -> AccessTokenClaims {
    let roles = grant.scope.contains("roles").then(|| grant.user.roles.iter().map(|r| r.to_string()).collect());
    AccessTokenClaims {
        iss: ctx.config.issuer.clone(),
        sub: grant.user.id.to_string(),
        aud: audience(client, grant.api),
        client_id: client.id.to_string(),
        exp: now + access_token_seconds(ctx, client, grant.api),
        iat: now,
        nbf: None,
        jti,
        scope: Some(grant.scope.for_api(grant.api).to_string()),
        auth_time: Some(grant.authentication.auth_time),
        acr: Some(grant.authentication.acr.clone()),
        amr: Some(grant.authentication.amr.clone()),
        sid: grant.sid.map(|sid| sid.to_string()),
        roles,
    }
}

/// Signs the access token and, with the `openid` scope, an ID token bound to it.
pub(super) fn user_tokens(
    ctx: &Context<'_>,
    keys: &KeySet,
    client: &Client,
    grant: &UserGrant<'_>,
    claims: &AccessTokenClaims,
    refresh_token: Option<String>,
) -> Result<TokenResponse, FlowError> {
    let access_token = sign_access_token(keys, claims)?;
    let id_token = if grant.scope.contains("openid") {
        Some(sign_id_token(keys, &id_token_claims(ctx, client, grant, &access_token, claims.iat))?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: claims.exp - claims.iat,
        refresh_token,
        id_token,
        scope: claims.scope.clone(),
    })
}

fn id_token_claims(
    ctx: &Context<'_>,
    client: &Client,
    grant: &UserGrant<'_>,
    access_token: &str,
    now: UnixTime,
) -> IdTokenClaims {
    let (profile, email) = (grant.scope.contains("profile"), grant.scope.contains("email"));
    let user = grant.user;
    IdTokenClaims {
        iss: ctx.config.issuer.clone(),
        sub: user.id.to_string(),
        aud: client.id.to_string(),
        azp: client.id.to_string(),
        exp: now + ctx.config.tokens.id_token_seconds,
        iat: now,
        nbf: None,
        auth_time: grant.authentication.auth_time,
        nonce: grant.nonce.map(str::to_owned),
        acr: grant.authentication.acr.clone(),
        amr: grant.authentication.amr.clone(),
        at_hash: Some(at_hash(access_token)),
        sid: grant.sid.map(|sid| sid.to_string()),
        name: if profile { user.name.as_ref().map(|n| n.to_string()) } else { None },
        preferred_username: profile.then(|| user.username.to_string()),
        email: if email { user.email.as_ref().map(|e| e.to_string()) } else { None },
        email_verified: (email && user.email.is_some()).then_some(user.email_verified),
    }
}
