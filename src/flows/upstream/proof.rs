//! What an upstream's answer proves: the error it returned, or the code exchanged (with the
//! PKCE verifier and the client's credentials) and then the ID token verified completely,
//! or, for a plain OAuth 2.0 upstream, the user document read with the access token. Every
//! failure is audited with the stage it happened at.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::id_token::{self, Expected};
use super::identity::Identity;
use super::manage::secret_purpose;
use super::provider::{Endpoints, ProviderError};
use super::signin::{Callback, callback_uri};
use super::{UPSTREAM_DENIED, UPSTREAM_UNAVAILABLE, UPSTREAM_UNVERIFIED};
use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::flows::session::RequestMeta;
use crate::model::{Upstream, UpstreamLogin, UpstreamProtocol, UpstreamPurpose};
use crate::security::secret::SecretString;
use crate::store::AuditEvent;

/// What the upstream proved: the error it returned, or the code exchanged and the ID
/// token (or user document) verified. `Err` is the message for the person; every failure
/// is audited.
pub(super) async fn prove(
    ctx: &Context<'_>,
    upstream: &Upstream,
    login: &UpstreamLogin,
    answer: Callback,
    meta: &RequestMeta,
) -> Result<Result<Identity, &'static str>, FlowError> {
    if let Some(error) = answer.error {
        let error: String = error.chars().take(64).collect();
        failed(ctx, upstream, Some(login), meta, "authorization", &error).await?;
        return Ok(Err(UPSTREAM_DENIED));
    }
    let Some(code) = answer.code.filter(|c| !c.is_empty() && c.len() <= 2048) else {
        failed(ctx, upstream, Some(login), meta, "authorization", "no code").await?;
        return Ok(Err(UPSTREAM_DENIED));
    };
    let now = ctx.clock.now();
    let endpoints = match ctx.upstreams.endpoints(upstream, now).await {
        Ok(endpoints) => endpoints,
        Err(err) => return unavailable(ctx, upstream, login, meta, "discovery", err).await,
    };
    let secret = ctx.master_key.open(&secret_purpose(&upstream.name), &decode(&upstream.client_secret_sealed)?)?;
    let secret = SecretString::new(String::from_utf8(secret).map_err(|e| FlowError::Internal(Box::new(e)))?);
    let redirect_uri = callback_uri(&ctx.config.issuer, &upstream.name);
    let exchanged = ctx
        .upstreams
        .exchange_code(&endpoints, &upstream.client_id, &secret, &code, &redirect_uri, &login.code_verifier)
        .await;
    let tokens = match exchanged {
        Ok(tokens) => tokens,
        Err(err @ ProviderError::Status { .. }) => {
            failed(ctx, upstream, Some(login), meta, "token", &err.to_string()).await?;
            return Ok(Err(UPSTREAM_UNVERIFIED));
        }
        Err(err) => return unavailable(ctx, upstream, login, meta, "token", err).await,
    };
    let identity = match &upstream.protocol {
        UpstreamProtocol::Oidc { .. } => {
            let Some(token) = tokens.id_token else {
                failed(ctx, upstream, Some(login), meta, "id_token", "no ID token").await?;
                return Ok(Err(UPSTREAM_UNVERIFIED));
            };
            match verify_id_token(ctx, upstream, &endpoints, login, &token).await {
                Ok(Ok(identity)) => identity,
                Ok(Err(err)) => {
                    failed(ctx, upstream, Some(login), meta, "id_token", &err.to_string()).await?;
                    return Ok(Err(UPSTREAM_UNVERIFIED));
                }
                Err(err) => return unavailable(ctx, upstream, login, meta, "keys", err).await,
            }
        }
        UpstreamProtocol::OAuth2(provider) => {
            let Some(url) = &endpoints.userinfo else { return Ok(Err(UPSTREAM_UNVERIFIED)) };
            let document = match ctx.upstreams.user_document(url, &tokens.access_token).await {
                Ok(document) => document,
                Err(err) => return unavailable(ctx, upstream, login, meta, "userinfo", err).await,
            };
            match Identity::from_document(&document, &provider.claims) {
                Some(identity) => identity,
                None => {
                    failed(ctx, upstream, Some(login), meta, "userinfo", "no subject in the user document").await?;
                    return Ok(Err(UPSTREAM_UNVERIFIED));
                }
            }
        }
    };
    Ok(Ok(identity))
}

async fn verify_id_token(
    ctx: &Context<'_>,
    upstream: &Upstream,
    endpoints: &Endpoints,
    login: &UpstreamLogin,
    token: &str,
) -> Result<Result<Identity, id_token::IdTokenError>, ProviderError> {
    let (Some(jwks_uri), Some(issuer)) = (&endpoints.jwks_uri, &endpoints.issuer) else {
        return Ok(Err(id_token::IdTokenError::Malformed("no keys for this upstream")));
    };
    let now = ctx.clock.now();
    let keys = ctx.upstreams.keys_for(jwks_uri, token, now).await?;
    let expected = Expected { issuer, client_id: &upstream.client_id, nonce: &login.nonce, now };
    Ok(id_token::verify(token, &keys, expected).map(Identity::from_id_token))
}

async fn unavailable(
    ctx: &Context<'_>,
    upstream: &Upstream,
    login: &UpstreamLogin,
    meta: &RequestMeta,
    stage: &str,
    err: ProviderError,
) -> Result<Result<Identity, &'static str>, FlowError> {
    tracing::warn!(upstream = %upstream.name, stage, error = %err, "upstream sign-in failed");
    failed(ctx, upstream, Some(login), meta, stage, &err.to_string()).await?;
    Ok(Err(UPSTREAM_UNAVAILABLE))
}

pub(super) async fn failed(
    ctx: &Context<'_>,
    upstream: &Upstream,
    login: Option<&UpstreamLogin>,
    meta: &RequestMeta,
    stage: &str,
    reason: &str,
) -> Result<(), FlowError> {
    let mut event = AuditEvent::new("upstream_login_failed")
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "upstream": upstream.name, "stage": stage, "reason": reason }));
    if let Some(UpstreamPurpose::Link { user_id, .. }) = login.map(|l| &l.purpose) {
        event = event.user(*user_id);
    }
    ctx.store.record_audit(event, ctx.clock.now()).await?;
    Ok(())
}

fn decode(sealed: &str) -> Result<Vec<u8>, FlowError> {
    URL_SAFE_NO_PAD.decode(sealed).map_err(|e| FlowError::Internal(Box::new(e)))
}
