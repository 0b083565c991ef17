//! Pending authorization requests: kept for the pages that follow `/authorize`, bound to
//! the browser that started them, resumed through the gate, and answered once — with
//! consent, a code, or an error sent back to the client.

use uuid::Uuid;

use super::gate::{self, Admitted, Verdict};
use super::{Browser, ChangePasswordPage, ConsentPage, Continuation, LoginPage, Step};
use crate::flows::Context;
use crate::flows::error::{FlowError, OAuthError};
use crate::flows::redirect;
use crate::flows::resource::load_apis;
use crate::flows::session::{RequestMeta, SessionUser};
use crate::model::{AuthorizationRequest, Client, CodeGrant, OFFLINE_ACCESS, PendingAuthorization, RedirectUri};
use crate::security::random::{constant_time_eq, opaque_secret, sha256_hex};
use crate::store::NewCode;

/// How long a person has to finish the login and consent pages.
const PENDING_SECONDS: i64 = 600;

/// Goes on with a pending request once something changed: a login, a second factor, a
/// new password, the recovery-codes page. `session` is this browser's session (perhaps
/// started by this very request). The gate decides what comes next; only its
/// [`gate::Admitted`] leads to consent or a code.
pub async fn resume_pending(
    ctx: &Context<'_>,
    request_id: &str,
    browser: &Browser,
    session: Option<&SessionUser>,
) -> Result<Step, FlowError> {
    let Some((pending, client)) = find_pending(ctx, request_id, &browser.csrf_cookie).await? else {
        return Ok(Step::Expired);
    };
    let continuation = Continuation::Authorization { request_id: request_id.to_owned() };
    match judge_pending(ctx, &pending, &client, session) {
        Verdict::Admitted(admitted) => answer(ctx, request_id, &client, &admitted).await,
        Verdict::Login => Ok(Step::Login(LoginPage {
            continuation,
            client_name: client.name,
            username: pending.request.login_hint,
            error: None,
        })),
        Verdict::StepUp => match session {
            Some(session) => {
                let factors = super::SecondFactors::of(ctx, &session.user).await?;
                let required = gate::required_level(&client, &pending.request);
                let sid = Some(session.session.sid);
                super::start_challenge(ctx, &session.user, &factors, browser, sid, &continuation, required).await
            }
            None => Ok(Step::Expired),
        },
        Verdict::ChangePassword => Ok(Step::ChangePassword(ChangePasswordPage { continuation, error: None })),
        Verdict::Refused => Ok(Step::Expired),
    }
}

/// The gate, for a stored request.
pub fn judge_pending(
    ctx: &Context<'_>,
    pending: &PendingAuthorization,
    client: &Client,
    session: Option<&SessionUser>,
) -> Verdict {
    let request = gate::Request {
        client,
        request: &pending.request,
        requested_at: Some(pending.created_at),
        bound_user: pending.user_id,
    };
    gate::judge(request, session, ctx.clock.now())
}

/// An admitted request: consent if the person has not given it, else a code.
async fn answer(ctx: &Context<'_>, request_id: &str, client: &Client, admitted: &Admitted) -> Result<Step, FlowError> {
    let session = admitted.session();
    if needs_consent(ctx, client, admitted.request(), session.user.id).await? {
        ctx.store.bind_authorization_request(&sha256_hex(request_id), session.user.id, session.session.sid).await?;
        return Ok(Step::Consent(ConsentPage {
            request_id: request_id.to_owned(),
            client_name: client.name.clone(),
            scopes: describe_scopes(ctx, admitted.request()).await?,
        }));
    }
    issue_code(ctx, Some(request_id), admitted).await
}

/// Ends an admitted pending request with an error sent back to the client.
pub async fn finish_with_error(
    ctx: &Context<'_>,
    request_id: &str,
    admitted: &Admitted,
    error: &OAuthError,
) -> Result<Step, FlowError> {
    if !ctx.store.finish_authorization_request(&sha256_hex(request_id)).await? {
        return Ok(Step::Expired);
    }
    let request = admitted.request();
    redirect_error(ctx, &request.redirect_uri, error, request.state.as_deref())
}

/// Finds a pending request for this browser and its client; `None` when it expired,
/// finished, was started in another browser, or its client is gone.
pub async fn find_pending(
    ctx: &Context<'_>,
    request_id: &str,
    csrf_cookie: &str,
) -> Result<Option<(PendingAuthorization, Client)>, FlowError> {
    let pending = ctx.store.find_authorization_request(&sha256_hex(request_id), ctx.clock.now()).await?;
    let Some(pending) = pending.filter(|p| constant_time_eq(&p.browser_hash, &sha256_hex(csrf_cookie))) else {
        return Ok(None);
    };
    Ok(ctx.store.find_client(&pending.request.client_id).await?.map(|client| (pending, client)))
}

/// First-party clients never ask, except for `offline_access`, which is granted only
/// through consent (OIDC Core §11); others ask once per scope set, or again on
/// `prompt=consent`.
pub async fn needs_consent(
    ctx: &Context<'_>,
    client: &Client,
    request: &AuthorizationRequest,
    user_id: Uuid,
) -> Result<bool, FlowError> {
    if client.first_party && !request.scope.contains(OFFLINE_ACCESS) {
        return Ok(false);
    }
    if request.prompt.consent {
        return Ok(true);
    }
    let requested = request.scope.qualified(&load_apis(ctx, &request.resources).await?);
    let granted = ctx.store.find_consent(user_id, &client.id).await?;
    Ok(!granted.is_some_and(|granted| requested.is_subset(&granted)))
}

/// What the client asks for, in words: wristband's own scopes, then each API's by the
/// descriptions it registered.
pub async fn describe_scopes(ctx: &Context<'_>, request: &AuthorizationRequest) -> Result<Vec<String>, FlowError> {
    let mut described: Vec<String> = request
        .scope
        .iter()
        .filter_map(|scope| match scope {
            "openid" => Some("Know who you are (an account identifier that never changes)"),
            "profile" => Some("See your name and username"),
            "email" => Some("See your email address"),
            "roles" => Some("See the roles you hold"),
            "offline_access" => Some("Keep access to this after you sign out"),
            _ => None,
        })
        .map(str::to_owned)
        .collect();
    for api in load_apis(ctx, &request.resources).await? {
        for scope in api.scopes.iter().filter(|s| request.scope.contains(&s.name)) {
            let what = if scope.description.is_empty() { &scope.name } else { &scope.description };
            described.push(format!("{}: {what}", api.name));
        }
    }
    Ok(described)
}

/// Keeps a request for the pages that follow (10 minutes at most). Each costs a row, so
/// an address may start only so many (`rate_limits.authorize_per_ip`; 429 beyond it).
pub async fn store_pending(
    ctx: &Context<'_>,
    request: AuthorizationRequest,
    browser: &Browser,
    meta: &RequestMeta,
    session: Option<&SessionUser>,
) -> Result<String, FlowError> {
    let now = ctx.clock.now();
    ctx.limits.authorize_per_ip.acquire(meta.rate_limit_key(), now)?;
    let request_id = opaque_secret("")?;
    let pending = PendingAuthorization {
        request,
        browser_hash: sha256_hex(&browser.csrf_cookie),
        user_id: session.map(|s| s.user.id),
        sid: session.map(|s| s.session.sid),
        created_at: now,
        expires_at: now + PENDING_SECONDS,
    };
    ctx.store.insert_authorization_request(sha256_hex(&request_id), &pending).await?;
    Ok(request_id)
}

/// The one place a code is made, for a request the gate admitted. A pending request is
/// finished first, so one request yields one code however often it is resumed.
pub async fn issue_code(ctx: &Context<'_>, request_id: Option<&str>, admitted: &Admitted) -> Result<Step, FlowError> {
    if let Some(request_id) = request_id
        && !ctx.store.finish_authorization_request(&sha256_hex(request_id)).await?
    {
        return Ok(Step::Expired);
    }
    let (request, session) = (admitted.request(), admitted.session());
    let code = opaque_secret("")?;
    let now = ctx.clock.now();
    let grant = CodeGrant {
        client_id: request.client_id.clone(),
        user_id: session.user.id,
        sid: session.session.sid,
        redirect_uri: request.redirect_uri.to_string(),
        scope: request.scope.clone(),
        resources: request.resources.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        authentication: session.session.authentication.clone(),
        expires_at: now + ctx.config.tokens.authorization_code_seconds,
        used: false,
        issued_family_id: None,
        issued_jti: None,
    };
    ctx.store.insert_code(NewCode { code_hash: sha256_hex(&code), grant }, now).await?;
    let url = redirect::success(request.redirect_uri.as_str(), &code, request.state.as_deref(), &ctx.config.issuer)?;
    Ok(Step::Redirect(url))
}

pub fn redirect_error(
    ctx: &Context<'_>,
    redirect_uri: &RedirectUri,
    error: &OAuthError,
    state: Option<&str>,
) -> Result<Step, FlowError> {
    tracing::info!(error = %error, "authorization request refused");
    Ok(Step::Redirect(redirect::error(redirect_uri.as_str(), error, state, &ctx.config.issuer)?))
}
