//! `grant_type=refresh_token` (RFC 6749 §6, RFC 9700 §4.14.2): every use rotates the token;
//! a token presented after it was used revokes its whole family.

use uuid::Uuid;

use super::super::Context;
use super::super::error::{ErrorCode, FlowError, oauth};
use super::super::session::RequestMeta;
use super::issue::{UserGrant, user_access_claims, user_tokens};
use super::{TokenParams, TokenResponse};
use crate::model::{Client, RefreshFamily, Scope};
use crate::security::random::{opaque_secret, sha256_hex};
use crate::store::{AuditEvent, Rotation};

const INVALID_GRANT: &str = "The refresh token is invalid, expired, or revoked.";

pub(super) async fn refresh(
    ctx: &Context<'_>,
    client: &Client,
    params: &TokenParams,
    meta: &RequestMeta,
) -> Result<TokenResponse, FlowError> {
    let presented = params.require("refresh_token", "refresh_token is required.")?;
    let old_hash = sha256_hex(presented);
    let now = ctx.clock.now();
    let Some(found) = ctx.store.find_refresh_token(&old_hash).await? else {
        return oauth(ErrorCode::InvalidGrant, INVALID_GRANT, "unknown refresh token");
    };
    let family = found.family;
    if family.client_id != client.id {
        return oauth(
            ErrorCode::InvalidGrant,
            INVALID_GRANT,
            format!("token of {} presented by {}", family.client_id, client.id),
        );
    }
    if family.revoked {
        return oauth(ErrorCode::InvalidGrant, INVALID_GRANT, "family revoked");
    }
    if now >= family.idle_expires_at || now >= family.absolute_expires_at {
        return oauth(ErrorCode::InvalidGrant, INVALID_GRANT, "family expired");
    }
    if found.used {
        return reused(ctx, &family, meta).await;
    }
    let scope = narrowed_scope(&family, params.get("scope"))?;
    let Some(user) = ctx.store.find_user(family.user_id).await?.filter(|u| !u.disabled) else {
        return oauth(ErrorCode::InvalidGrant, INVALID_GRANT, "user disabled or removed");
    };
    let successor = opaque_secret("wbr_")?;
    let idle_expires_at = (now + ctx.config.refresh.idle_seconds).min(family.absolute_expires_at);
    match ctx.store.rotate_refresh_token(&old_hash, &sha256_hex(&successor), family.id, idle_expires_at, now).await? {
        Rotation::Rotated => {}
        Rotation::AlreadyUsed => return reused(ctx, &family, meta).await,
    }
    let grant = UserGrant {
        user: &user,
        scope: &scope,
        authentication: &family.authentication,
        sid: family.sid,
        nonce: None,
        audience: None,
    };
    let claims = user_access_claims(ctx, client, &grant, Uuid::new_v4().to_string(), now);
    user_tokens(ctx, &ctx.keystore.current(), client, &grant, &claims, Some(successor))
}

/// `scope` may narrow what the family was granted, never widen it (RFC 6749 §6).
fn narrowed_scope(family: &RefreshFamily, requested: Option<&str>) -> Result<Scope, FlowError> {
    let Some(requested) = requested else { return Ok(family.scope.clone()) };
    match Scope::parse(requested) {
        Ok(scope) if !scope.is_empty() && scope.is_subset(&family.scope) => Ok(scope),
        _ => oauth(ErrorCode::InvalidScope, "The scope may only narrow what was granted.", "scope widened"),
    }
}

/// A used token came back: someone holds a copy. Revoke the family (RFC 9700 §4.14.2).
async fn reused(ctx: &Context<'_>, family: &RefreshFamily, meta: &RequestMeta) -> Result<TokenResponse, FlowError> {
    let now = ctx.clock.now();
    ctx.store.revoke_family(family.id, "refresh_token_reused", now).await?;
    let event = AuditEvent::new("refresh_token_reused")
        .user(family.user_id)
        .client(family.client_id.as_str())
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "family": family.id }));
    ctx.store.record_audit(event, now).await?;
    oauth(ErrorCode::InvalidGrant, INVALID_GRANT, "refresh token reused; family revoked")
}
