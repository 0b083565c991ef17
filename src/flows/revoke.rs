//! Token revocation (RFC 7009). A refresh token revokes its whole family; an access token's
//! `jti` is refused until it expires. Unknown tokens, and tokens of other clients, get the
//! same 200, so the endpoint tells nothing.

use super::Context;
use super::error::{ErrorCode, FlowError, oauth};
use super::token::{ClientAuthentication, authenticate_client};
use crate::model::RevocationReason;
use crate::security::random::sha256_hex;
use crate::store::AuditEvent;
use crate::tokens::verify_access_token;

pub async fn revoke(ctx: &Context<'_>, auth: ClientAuthentication, token: Option<&str>) -> Result<(), FlowError> {
    let client = authenticate_client(ctx, &auth).await?;
    let Some(token) = token else { return oauth(ErrorCode::InvalidRequest, "token is required.", "missing token") };
    let now = ctx.clock.now();
    if token.starts_with("wbr_") {
        let found = ctx.store.find_refresh_token(&sha256_hex(token)).await?;
        if let Some(found) = found.filter(|f| f.family.client_id == client.id)
            && ctx.store.revoke_family(found.family.id, RevocationReason::RevokedByClient, now).await?
        {
            let event = AuditEvent::new("refresh_family_revoked")
                .user(found.family.user_id)
                .client(client.id.as_str())
                .details(serde_json::json!({ "family": found.family.id, "reason": RevocationReason::RevokedByClient.as_str() }));
            ctx.store.record_audit(event, now).await?;
        }
        return Ok(());
    }
    if let Ok(claims) = verify_access_token(&ctx.keystore.current(), token, &ctx.config.issuer, now)
        && claims.client_id == client.id.as_str()
    {
        ctx.store.revoke_access_token(&claims.jti, claims.exp, now).await?;
    }
    Ok(())
}
