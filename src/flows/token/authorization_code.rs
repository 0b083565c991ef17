//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5-4.6, RFC 9700 §2.1.1).
//! A code works once: a failed verification consumes it, and a second use revokes what
//! the first issued (RFC 6749 §4.1.2).

use uuid::Uuid;

use super::super::Context;
use super::super::error::{ErrorCode, FlowError, oauth};
use super::super::session::RequestMeta;
use super::issue::{UserGrant, access_token_seconds, user_access_claims, user_tokens};
use super::{TokenParams, TokenResponse};
use crate::flows::pkce;
use crate::flows::resource::token_target;
use crate::model::{Client, CodeGrant, RefreshFamily, RevocationReason};
use crate::security::random::{opaque_secret, sha256_hex};
use crate::store::{AuditEvent, CodeRedemption, FoundCode, NewFamily};

const INVALID_GRANT: &str = "The authorization code is invalid, expired, or was already used.";

pub(super) async fn exchange(
    ctx: &Context<'_>,
    client: &Client,
    params: &TokenParams,
    meta: &RequestMeta,
) -> Result<TokenResponse, FlowError> {
    let code = params.require("code", "code is required.")?;
    let redirect_uri = params.require("redirect_uri", "redirect_uri is required.")?;
    let code_hash = sha256_hex(code);
    let now = ctx.clock.now();
    let Some(FoundCode { grant, user, session }) = ctx.store.find_code(&code_hash).await? else {
        return oauth(ErrorCode::InvalidGrant, INVALID_GRANT, "unknown code");
    };
    if grant.used {
        return replayed(ctx, &grant, meta).await;
    }
    let api = token_target(ctx, params.get("resource"), &grant.resources).await?;
    if let Err(reason) = check(&grant, client, redirect_uri, params.get("code_verifier"), now) {
        ctx.store.burn_code(&code_hash, now).await?;
        return oauth(ErrorCode::InvalidGrant, INVALID_GRANT, reason);
    }
    let Some(user) = user.filter(|u| !u.disabled && session.is_live(now)) else {
        ctx.store.burn_code(&code_hash, now).await?;
        return oauth(
            ErrorCode::InvalidGrant,
            INVALID_GRANT,
            "user disabled or session ended since the code was issued",
        );
    };

    let refresh_token =
        if client.allows(crate::model::GrantType::RefreshToken) { Some(opaque_secret("wbr_")?) } else { None };
    let family = refresh_token.as_ref().map(|token| NewFamily {
        family: RefreshFamily {
            id: Uuid::new_v4(),
            client_id: client.id.clone(),
            user_id: user.id,
            sid: Some(grant.sid),
            scope: grant.scope.clone(),
            resources: grant.resources.clone(),
            authentication: grant.authentication.clone(),
            idle_expires_at: now + client.refresh.idle_seconds.unwrap_or(ctx.config.refresh.idle_seconds),
            absolute_expires_at: now + client.refresh.absolute_seconds.unwrap_or(ctx.config.refresh.absolute_seconds),
            revoked: false,
        },
        token_hash: sha256_hex(token),
    });
    let jti = Uuid::new_v4().to_string();
    let redemption = CodeRedemption {
        jti: jti.clone(),
        jti_expires_at: now + access_token_seconds(ctx, client, api.as_ref()),
        family,
    };
    if !ctx.store.redeem_code(&code_hash, redemption, now).await? {
        // Another exchange of the same code won the race: this one is the replay.
        let grant = ctx.store.find_code(&code_hash).await?.map_or(grant, |found| found.grant);
        return replayed(ctx, &grant, meta).await;
    }
    let user_grant = UserGrant {
        user: &user,
        scope: &grant.scope,
        authentication: &grant.authentication,
        sid: Some(grant.sid),
        nonce: grant.nonce.as_deref(),
        api: api.as_ref(),
    };
    let claims = user_access_claims(ctx, client, &user_grant, jti, now);
    user_tokens(ctx, &ctx.keystore.current(), client, &user_grant, &claims, refresh_token)
}

/// Everything the code was bound to, checked before anything is issued.
fn check(
    grant: &CodeGrant,
    client: &Client,
    redirect_uri: &str,
    verifier: Option<&str>,
    now: i64,
) -> Result<(), String> {
    if now >= grant.expires_at {
        return Err("code expired".into());
    }
    if grant.client_id != client.id {
        return Err(format!("code of {} presented by {}", grant.client_id, client.id));
    }
    if grant.redirect_uri != redirect_uri {
        return Err("redirect_uri differs from the authorization request".into());
    }
    match (&grant.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) if pkce::verify_s256(verifier, challenge) => Ok(()),
        (Some(_), Some(_)) => Err("code_verifier does not match the challenge".into()),
        (Some(_), None) => Err("code_verifier missing".into()),
        // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a downgrade.
        (None, Some(_)) => Err("code_verifier sent for a code without challenge".into()),
        (None, None) => Ok(()),
    }
}

/// A used code presented again: revoke the refresh-token family and access token the
/// first exchange issued.
async fn replayed(ctx: &Context<'_>, grant: &CodeGrant, meta: &RequestMeta) -> Result<TokenResponse, FlowError> {
    let now = ctx.clock.now();
    if let Some(family_id) = grant.issued_family_id {
        ctx.store.revoke_family(family_id, RevocationReason::AuthorizationCodeReused, now).await?;
    }
    if let Some((jti, expires_at)) = &grant.issued_jti {
        ctx.store.revoke_access_token(jti, *expires_at, now).await?;
    }
    let event = AuditEvent::new("authorization_code_reused")
        .user(grant.user_id)
        .client(grant.client_id.as_str())
        .ip(meta.ip.clone())
        .details(
            serde_json::json!({ "family": grant.issued_family_id, "jti": grant.issued_jti.as_ref().map(|j| &j.0) }),
        );
    ctx.store.record_audit(event, now).await?;
    oauth(ErrorCode::InvalidGrant, INVALID_GRANT, "code reused; its tokens were revoked")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Authentication, ClientId, GrantType, RedirectUri, Scope};

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client(id: &str) -> Client {
        Client {
            id: ClientId::parse(id).unwrap(),
            name: id.into(),
            secret_hash: Some("hash".into()),
            redirect_uris: vec![RedirectUri::parse("https://app.example.com/cb").unwrap()],
            post_logout_redirect_uris: vec![],
            grant_types: vec![GrantType::AuthorizationCode],
            first_party: false,
            require_mfa: false,
            require_phishing_resistant: false,
            access_token_seconds: None,
            refresh: Default::default(),
            backchannel_logout_uri: None,
            resources: vec![],
            default_resource: None,
            resource_server_for: None,
            created_at: 0,
        }
    }

    fn grant(challenge: Option<&str>) -> CodeGrant {
        CodeGrant {
            client_id: ClientId::parse("demo").unwrap(),
            user_id: Uuid::nil(),
            sid: Uuid::nil(),
            redirect_uri: "https://app.example.com/cb".into(),
            scope: Scope::parse("openid").unwrap(),
            resources: vec![],
            nonce: None,
            code_challenge: challenge.map(str::to_owned),
            authentication: Authentication::password(0),
            expires_at: 60,
            used: false,
            issued_family_id: None,
            issued_jti: None,
        }
    }

    #[test]
    fn a_verifier_for_a_code_without_challenge_is_a_downgrade() {
        let err = check(&grant(None), &client("demo"), "https://app.example.com/cb", Some(VERIFIER), 0).unwrap_err();
        assert!(err.contains("without challenge"), "{err}");
        assert!(check(&grant(None), &client("demo"), "https://app.example.com/cb", None, 0).is_ok());
    }

    #[test]
    fn every_binding_of_the_code_is_checked() {
        let uri = "https://app.example.com/cb";
        assert!(check(&grant(Some(CHALLENGE)), &client("demo"), uri, Some(VERIFIER), 59).is_ok());
        assert!(check(&grant(Some(CHALLENGE)), &client("demo"), uri, Some(VERIFIER), 60).is_err(), "expired");
        assert!(check(&grant(Some(CHALLENGE)), &client("other"), uri, Some(VERIFIER), 0).is_err(), "other client");
        assert!(
            check(&grant(Some(CHALLENGE)), &client("demo"), "https://app.example.com/cb/", Some(VERIFIER), 0).is_err()
        );
        assert!(check(&grant(Some(CHALLENGE)), &client("demo"), uri, None, 0).is_err(), "missing verifier");
        assert!(check(&grant(Some(CHALLENGE)), &client("demo"), uri, Some(CHALLENGE), 0).is_err(), "plain");
    }
}
