//! Whether an access token presented to wristband (userinfo, introspection) is active:
//! it verifies (RS256, published kid, `typ: at+jwt`, issuer, time with leeway), its `jti`
//! was not revoked, no refresh-token family of its session and client was revoked (reuse,
//! revocation) after it was issued, its client still exists, its browser session is live
//! (or, with `offline_access`, its family is), and its user may still sign in.

use uuid::Uuid;

use super::Context;
use super::error::FlowError;
use crate::model::{ClientId, OFFLINE_ACCESS, User};
use crate::store::TokenGrant;
use crate::tokens::{AccessTokenClaims, verify_access_token};

/// An access token that is active now.
#[derive(Debug, Clone)]
pub struct ActiveToken {
    pub claims: AccessTokenClaims,
    /// The user, for tokens issued to a person (not for `client_credentials`).
    pub user: Option<User>,
}

/// `Ok(None)` when the token is not active, for whatever reason (logged, not told).
pub async fn active_access_token(ctx: &Context<'_>, token: &str) -> Result<Option<ActiveToken>, FlowError> {
    let now = ctx.clock.now();
    let claims = match verify_access_token(&ctx.keystore.current(), token, &ctx.config.issuer, now) {
        Ok(claims) => claims,
        Err(reason) => {
            tracing::debug!(%reason, "access token rejected");
            return Ok(None);
        }
    };
    let Some(sid) = &claims.sid else {
        // A client's own token: its subject is the client, which must still exist.
        if ctx.store.access_token_revoked(&claims.jti).await? {
            return Ok(None);
        }
        let client = ClientId::parse(&claims.client_id).ok();
        let exists = match client {
            Some(id) => ctx.store.find_client(&id).await?.is_some(),
            None => false,
        };
        return Ok(exists.then_some(ActiveToken { claims, user: None }));
    };
    let (Ok(sid), Ok(user_id), Ok(client_id)) =
        (Uuid::parse_str(sid), Uuid::parse_str(&claims.sub), ClientId::parse(&claims.client_id))
    else {
        return Ok(None);
    };
    let offline = claims.scope.as_deref().is_some_and(|scope| scope.split(' ').any(|s| s == OFFLINE_ACCESS));
    let token = TokenGrant { jti: &claims.jti, issued_at: claims.iat, user_id, sid, client_id: &client_id, offline };
    let Some(grant) = ctx.store.grant_status(token, now).await? else {
        return Ok(None);
    };
    let live = grant.session_live || (offline && grant.offline_family_live);
    if grant.jti_revoked || grant.grant_condemned || !grant.client_exists || !live || grant.user.disabled {
        return Ok(None);
    }
    Ok(Some(ActiveToken { claims, user: Some(grant.user) }))
}
