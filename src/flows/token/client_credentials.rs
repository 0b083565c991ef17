//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client acting for
//! itself gets an access token with itself as `sub`; no ID token, no refresh token, and
//! no database write.

use uuid::Uuid;

use super::super::Context;
use super::super::error::{ErrorCode, FlowError, oauth};
use super::issue::access_token_seconds;
use super::{TokenParams, TokenResponse};
use crate::model::Client;
use crate::tokens::{AccessTokenClaims, sign_access_token};

pub(super) fn issue(ctx: &Context<'_>, client: &Client, params: &TokenParams) -> Result<TokenResponse, FlowError> {
    if client.is_public() {
        return oauth(ErrorCode::UnauthorizedClient, "Public clients cannot use client_credentials.", "public client");
    }
    if params.get("scope").is_some() {
        // The user scopes (openid, profile, ...) make no sense without a user, and no
        // API scopes are registered for clients.
        return oauth(
            ErrorCode::InvalidScope,
            "No scope can be granted to a client acting for itself.",
            "scope on client_credentials",
        );
    }
    let now = ctx.clock.now();
    let claims = AccessTokenClaims {
        iss: ctx.config.issuer.clone(),
        sub: client.id.to_string(),
        aud: client.id.to_string(),
        client_id: client.id.to_string(),
        exp: now + access_token_seconds(ctx, client),
        iat: now,
        nbf: None,
        jti: Uuid::new_v4().to_string(),
        scope: None,
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
        scope: None,
    })
}
