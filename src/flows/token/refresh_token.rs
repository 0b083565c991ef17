//! `grant_type=refresh_token` (RFC 6749 §6, RFC 9700 §4.14.2): every use rotates the token;
//! a token presented after it was used revokes its whole family, unless it comes back
//! within the client's reuse grace window, when it gets the same successor again.

use super::super::Context;
use super::super::error::{ErrorCode, FlowError, oauth};
use super::super::resource::token_target;
use super::super::session::{RequestMeta, end_session};
use super::issue::{UserGrant, user_access_claims, user_tokens};
use super::{TokenParams, TokenResponse};
use crate::clock::UnixTime;
use crate::model::{Client, RefreshFamily, RevocationReason, Scope, User};
use crate::security::random::{opaque_secret, sha256_hex};
use crate::store::{AuditEvent, FoundRefreshToken, Rotation};

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
    let family = found.family.clone();
    if family.client_id != client.id {
        return oauth(
            ErrorCode::InvalidGrant,
            INVALID_GRANT,
            format!("token of {} presented by {}", family.client_id, client.id),
        );
    }
    let user = match usable_family_user(&found, now) {
        Ok(user) => user,
        Err(reason) => return oauth(ErrorCode::InvalidGrant, INVALID_GRANT, reason),
    };
    let grace = client.refresh.reuse_grace_seconds.unwrap_or(ctx.config.refresh.reuse_grace_seconds);
    let repeated = if found.used() {
        match successor_within_grace(ctx, &found, &old_hash, grace).await? {
            Some(successor) => Some(successor),
            None => return reused(ctx, &family, meta).await,
        }
    } else {
        None
    };
    let scope = narrowed_scope(&family, params.get("scope"))?;
    // Down-scoping to one API of the grant (RFC 8707 §2.2), checked before the rotation.
    let api = token_target(ctx, params.get("resource"), &family.resources).await?;
    let successor = match repeated {
        Some(successor) => successor,
        None => match rotate(ctx, client, &family, &old_hash, grace).await? {
            Some(successor) => successor,
            None => return reused(ctx, &family, meta).await,
        },
    };
    let grant = UserGrant {
        user,
        scope: &scope,
        authentication: &family.authentication,
        sid: family.sid,
        nonce: None,
        api: api.as_ref(),
    };
    let claims = user_access_claims(ctx, client, &grant, uuid::Uuid::new_v4().to_string(), now);
    user_tokens(ctx, &ctx.keystore.current(), client, &grant, &claims, Some(successor))
}

/// The user a family can still be refreshed for, or why it cannot be. The one rule for
/// `/token` and `/introspect`: not revoked, within its idle and absolute lifetimes, its user
/// there and not disabled, and, without `offline_access`, its browser session still live.
pub fn usable_family_user(found: &FoundRefreshToken, now: UnixTime) -> Result<&User, &'static str> {
    let family = &found.family;
    if family.revoked {
        return Err("family revoked");
    }
    if now >= family.idle_expires_at || now >= family.absolute_expires_at {
        return Err("family expired");
    }
    let user = match &found.user {
        Some(user) if !user.disabled => user,
        _ => return Err("user disabled or removed"),
    };
    if !family.is_offline() && !found.session.is_live(now) {
        return Err("browser session ended");
    }
    Ok(user)
}

/// Rotates the token; when another request rotated it a moment earlier, the grace window
/// decides whether this one gets the same successor (`Some`) or is a reuse (`None`).
async fn rotate(
    ctx: &Context<'_>,
    client: &Client,
    family: &RefreshFamily,
    old_hash: &str,
    grace: i64,
) -> Result<Option<String>, FlowError> {
    let now = ctx.clock.now();
    let successor = opaque_secret("wbr_")?;
    let sealed =
        if grace > 0 { Some(ctx.master_key.seal(&successor_purpose(old_hash), successor.as_bytes())?) } else { None };
    let idle = client.refresh.idle_seconds.unwrap_or(ctx.config.refresh.idle_seconds);
    let idle_expires_at = (now + idle).min(family.absolute_expires_at);
    let new_hash = sha256_hex(&successor);
    match ctx.store.rotate_refresh_token(old_hash, &new_hash, sealed, family.id, idle_expires_at, now).await? {
        Rotation::Rotated => Ok(Some(successor)),
        Rotation::AlreadyUsed => match ctx.store.find_refresh_token(old_hash).await? {
            Some(again) => successor_within_grace(ctx, &again, old_hash, grace).await,
            None => Ok(None),
        },
    }
}

/// The associated data under which a successor is sealed: it opens only for its
/// predecessor.
fn successor_purpose(old_hash: &str) -> String {
    format!("refresh_successor:{old_hash}")
}

/// The successor of a used token, when the token was rotated at most `grace` seconds ago
/// and the successor itself is still unused; `None` means the second use is theft.
async fn successor_within_grace(
    ctx: &Context<'_>,
    found: &FoundRefreshToken,
    old_hash: &str,
    grace: i64,
) -> Result<Option<String>, FlowError> {
    let now = ctx.clock.now();
    let within = found.used_at.is_some_and(|used_at| grace > 0 && now - used_at <= grace);
    let (true, Some(sealed)) = (within, &found.sealed_successor) else { return Ok(None) };
    let Ok(successor) = ctx.master_key.open(&successor_purpose(old_hash), sealed) else { return Ok(None) };
    let Ok(successor) = String::from_utf8(successor) else { return Ok(None) };
    if ctx.store.refresh_token_used(&sha256_hex(&successor)).await? {
        return Ok(None);
    }
    Ok(Some(successor))
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
    ctx.metrics.refresh_reuse_detected();
    ctx.store.revoke_family(family.id, RevocationReason::RefreshTokenReused, now).await?;
    // Someone holds a copy of a token of this login: end the browser session too, which
    // tells every client of the session through back-channel logout.
    if let Some(sid) = family.sid {
        end_session(ctx, sid, family.user_id, RevocationReason::SessionCompromised).await?;
    }
    let event = AuditEvent::new("refresh_token_reused")
        .user(family.user_id)
        .client(family.client_id.as_str())
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "family": family.id }));
    ctx.store.record_audit(event, now).await?;
    oauth(ErrorCode::InvalidGrant, INVALID_GRANT, "refresh token reused; family revoked")
}
