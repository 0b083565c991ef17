//! Token introspection (RFC 7662). The caller learns only about tokens meant for it
//! (§4): an API's introspection credentials about access tokens whose `aud` is that API,
//! an application about the tokens issued to it. Any other token is `active: false`.

use serde_json::{Value, json};

use super::Context;
use super::access::active_access_token;
use super::error::{ErrorCode, FlowError, oauth};
use super::token::{ClientAuthentication, authenticate_client, usable_family_user};
use crate::security::random::sha256_hex;

pub async fn introspect(
    ctx: &Context<'_>,
    auth: ClientAuthentication,
    token: Option<&str>,
) -> Result<Value, FlowError> {
    let client = authenticate_client(ctx, &auth).await?;
    if client.is_public() {
        return oauth(ErrorCode::InvalidClient, "Client authentication failed.", "public client at introspection");
    }
    ctx.limits.introspect_per_client.acquire(client.id.as_str(), ctx.clock.now())?;
    let Some(token) = token else { return oauth(ErrorCode::InvalidRequest, "token is required.", "missing token") };
    if token.starts_with("wbr_") {
        return refresh_token_status(ctx, &client.id, token).await;
    }
    let Some(active) = active_access_token(ctx, token).await? else { return Ok(json!({ "active": false })) };
    let claims = active.claims;
    let meant_for_caller = match &client.resource_server_for {
        Some(api) => claims.aud == api.as_str(),
        None => claims.client_id == client.id.as_str(),
    };
    if !meant_for_caller {
        tracing::debug!(caller = %client.id, aud = %claims.aud, "introspection of a token meant for another");
        return Ok(json!({ "active": false }));
    }
    let mut response = json!({
        "active": true,
        "token_type": "Bearer",
        "client_id": claims.client_id,
        "sub": claims.sub,
        "aud": claims.aud,
        "iss": claims.iss,
        "exp": claims.exp,
        "iat": claims.iat,
        "jti": claims.jti,
    });
    if let (Some(object), Some(scope)) = (response.as_object_mut(), claims.scope) {
        object.insert("scope".into(), Value::from(scope));
    }
    Ok(response)
}

/// A refresh token is described only to the client it was issued to.
async fn refresh_token_status(
    ctx: &Context<'_>,
    client_id: &crate::model::ClientId,
    token: &str,
) -> Result<Value, FlowError> {
    let now = ctx.clock.now();
    let found = ctx.store.find_refresh_token(&sha256_hex(token)).await?;
    let active = match found {
        Some(found) if &found.family.client_id == client_id && !found.used() => {
            usable_family_user(&found, now).is_ok().then_some(found)
        }
        _ => None,
    };
    Ok(match active {
        None => json!({ "active": false }),
        Some(found) => json!({
            "active": true,
            "token_type": "refresh_token",
            "client_id": found.family.client_id,
            "sub": found.family.user_id.to_string(),
            "scope": found.family.scope.to_string(),
            "exp": found.family.idle_expires_at.min(found.family.absolute_expires_at),
        }),
    })
}
