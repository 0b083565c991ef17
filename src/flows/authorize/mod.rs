//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2): decides whether the
//! person must log in, must consent, or gets a code at once, and resumes a request after
//! the login and consent pages.

mod request;

use url::Url;
use uuid::Uuid;

pub use request::{AuthorizeParams, UntrustedRequest, trusted_redirect, validate};

use super::Context;
use super::error::{ErrorCode, FlowError, OAuthError};
use super::gate::{self, Admitted, Verdict};
use super::login::ChangePasswordPage;
use super::mfa::{self, EnrollPage, MfaPage, RecoveryCodesPage};
use super::redirect;
use super::session::{RequestMeta, SessionUser};
use crate::model::{
    AuthorizationRequest, Client, CodeGrant, Destination, OFFLINE_ACCESS, PendingAuthorization, RedirectUri,
};
use crate::security::random::{constant_time_eq, opaque_secret, sha256_hex};
use crate::store::NewCode;

/// How long a person has to finish the login and consent pages.
const PENDING_SECONDS: i64 = 600;

/// Where a login goes on once the person has proven who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continuation {
    /// A pending authorization request, by its id (the login page's `request_id`).
    Authorization { request_id: String },
    /// A page of wristband itself.
    Page(Destination),
}

impl Continuation {
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Authorization { request_id } => Some(request_id),
            Self::Page(_) => None,
        }
    }

    pub fn destination(&self) -> Option<Destination> {
        match self {
            Self::Authorization { .. } => None,
            Self::Page(destination) => Some(*destination),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginPage {
    pub continuation: Continuation,
    /// Who the person signs in to: a client's name, or a wristband page's title.
    pub client_name: String,
    pub username: Option<String>,
    /// Shown above the form after a failed attempt.
    pub error: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentPage {
    pub request_id: String,
    pub client_name: String,
    /// What the client asks for, in words.
    pub scopes: Vec<&'static str>,
}

/// What `/authorize` (and the pages that resume it) leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    Login(LoginPage),
    /// The TOTP or recovery code after the password, or to step up a session.
    SecondFactor(MfaPage),
    /// Enrollment of a second factor that the request demands.
    Enroll(EnrollPage),
    /// Recovery codes of a factor just enrolled, shown once.
    RecoveryCodes(RecoveryCodesPage),
    /// A temporary password to replace before the login goes on.
    ChangePassword(ChangePasswordPage),
    Consent(ConsentPage),
    /// Back to the client, with a code or an error.
    Redirect(Url),
    /// On to a page of wristband itself.
    Destination(Destination),
    /// An error page: the redirect URI could not be trusted.
    Untrusted(UntrustedRequest),
    /// The login or consent page was for a request that expired, finished, or belongs to
    /// another browser.
    Expired,
}

/// The browser making the request: its CSRF cookie (which pending requests are bound
/// to) and its live session, if any.
#[derive(Debug, Clone)]
pub struct Browser {
    pub csrf_cookie: String,
    pub session: Option<SessionUser>,
}

pub async fn authorize(
    ctx: &Context<'_>,
    params: &AuthorizeParams,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<AuthorizeOutcome, FlowError> {
    let client = match request::client_id(params) {
        Some(id) => ctx.store.find_client(&id).await?,
        None => None,
    };
    let redirect_uri = match request::trusted_redirect(params, client.as_ref()) {
        Ok(uri) => uri,
        Err(untrusted) => return Ok(AuthorizeOutcome::Untrusted(untrusted)),
    };
    let Some(client) = client else { return Ok(AuthorizeOutcome::Untrusted(UntrustedRequest::UnknownClient)) };
    match request::validate(params, &client, redirect_uri.clone()) {
        Ok(request) => decide(ctx, &client, request, browser, meta).await,
        Err(error) => redirect_error(ctx, &redirect_uri, &error, request::state(params).as_deref()),
    }
}

async fn decide(
    ctx: &Context<'_>,
    client: &Client,
    request: AuthorizationRequest,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<AuthorizeOutcome, FlowError> {
    let session = browser.session.as_ref();
    let gate_request = gate::Request { client, request: &request, requested_at: None, bound_user: None };
    let refusal = match gate::judge(gate_request, session, ctx.clock.now()) {
        Verdict::Admitted(admitted) => {
            if !needs_consent(ctx, client, &request, admitted.session().user.id).await? {
                return issue_code(ctx, None, &admitted).await;
            }
            if request.prompt.none {
                OAuthError::new(ErrorCode::ConsentRequired, "The person must consent.", "prompt=none without consent")
            } else {
                let scopes = describe_scopes(&request);
                let request_id = store_pending(ctx, request, browser, meta, Some(admitted.session())).await?;
                return Ok(AuthorizeOutcome::Consent(ConsentPage {
                    request_id,
                    client_name: client.name.clone(),
                    scopes,
                }));
            }
        }
        Verdict::Login | Verdict::Refused => {
            if request.prompt.none {
                OAuthError::new(ErrorCode::LoginRequired, "The person must log in.", "prompt=none without session")
            } else {
                let username = request.login_hint.clone();
                let request_id = store_pending(ctx, request, browser, meta, None).await?;
                return Ok(AuthorizeOutcome::Login(LoginPage {
                    continuation: Continuation::Authorization { request_id },
                    client_name: client.name.clone(),
                    username,
                    error: None,
                }));
            }
        }
        Verdict::SecondFactor => OAuthError::new(
            ErrorCode::LoginRequired,
            "The person must sign in with a second factor.",
            "prompt=none with a one-factor session",
        ),
        Verdict::ChangePassword => OAuthError::new(
            ErrorCode::InteractionRequired,
            "The person must replace a temporary password.",
            "prompt=none with a temporary password",
        ),
    };
    match session.filter(|_| !request.prompt.none) {
        // A second factor or a new password, for this request: the session is bound to it.
        Some(session) => {
            let request_id = store_pending(ctx, request, browser, meta, Some(session)).await?;
            resume_pending(ctx, &request_id, browser, Some(session)).await
        }
        None => redirect_error(ctx, &request.redirect_uri, &refusal, request.state.as_deref()),
    }
}

/// Goes on with a pending request once something changed: a login, a second factor, a
/// new password, the recovery-codes page. `session` is this browser's session (perhaps
/// started by this very request). The gate decides what comes next; only its
/// [`gate::Admitted`] leads to consent or a code.
pub async fn resume_pending(
    ctx: &Context<'_>,
    request_id: &str,
    browser: &Browser,
    session: Option<&SessionUser>,
) -> Result<AuthorizeOutcome, FlowError> {
    let Some((pending, client)) = find_pending(ctx, request_id, &browser.csrf_cookie).await? else {
        return Ok(AuthorizeOutcome::Expired);
    };
    let continuation = Continuation::Authorization { request_id: request_id.to_owned() };
    match judge_pending(ctx, &pending, &client, session) {
        Verdict::Admitted(admitted) => answer(ctx, request_id, &client, &admitted).await,
        Verdict::Login => Ok(AuthorizeOutcome::Login(LoginPage {
            continuation,
            client_name: client.name,
            username: pending.request.login_hint,
            error: None,
        })),
        Verdict::SecondFactor => match session {
            Some(session) => {
                mfa::start_challenge(ctx, &session.user, browser, Some(session.session.sid), &continuation).await
            }
            None => Ok(AuthorizeOutcome::Expired),
        },
        Verdict::ChangePassword => {
            Ok(AuthorizeOutcome::ChangePassword(ChangePasswordPage { continuation, error: None }))
        }
        Verdict::Refused => Ok(AuthorizeOutcome::Expired),
    }
}

/// The gate, for a stored request.
pub(super) fn judge_pending(
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
async fn answer(
    ctx: &Context<'_>,
    request_id: &str,
    client: &Client,
    admitted: &Admitted,
) -> Result<AuthorizeOutcome, FlowError> {
    let session = admitted.session();
    if needs_consent(ctx, client, admitted.request(), session.user.id).await? {
        ctx.store.bind_authorization_request(&sha256_hex(request_id), session.user.id, session.session.sid).await?;
        return Ok(AuthorizeOutcome::Consent(ConsentPage {
            request_id: request_id.to_owned(),
            client_name: client.name.clone(),
            scopes: describe_scopes(admitted.request()),
        }));
    }
    issue_code(ctx, Some(request_id), admitted).await
}

/// Ends an admitted pending request with an error sent back to the client.
pub(super) async fn finish_with_error(
    ctx: &Context<'_>,
    request_id: &str,
    admitted: &Admitted,
    error: &OAuthError,
) -> Result<AuthorizeOutcome, FlowError> {
    if !ctx.store.finish_authorization_request(&sha256_hex(request_id)).await? {
        return Ok(AuthorizeOutcome::Expired);
    }
    let request = admitted.request();
    redirect_error(ctx, &request.redirect_uri, error, request.state.as_deref())
}

/// Finds a pending request for this browser and its client; `None` when it expired,
/// finished, was started in another browser, or its client is gone.
pub(super) async fn find_pending(
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
pub(super) async fn needs_consent(
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
    let granted = ctx.store.find_consent(user_id, &client.id).await?;
    Ok(!granted.is_some_and(|granted| request.scope.is_subset(&granted)))
}

fn describe_scopes(request: &AuthorizationRequest) -> Vec<&'static str> {
    request
        .scope
        .iter()
        .map(|scope| match scope {
            "openid" => "Know who you are (an account identifier that never changes)",
            "profile" => "See your name and username",
            "email" => "See your email address",
            "roles" => "See the roles you hold",
            "offline_access" => "Keep access to this after you sign out",
            _ => "Access to an unnamed permission",
        })
        .collect()
}

/// Keeps a request for the pages that follow (10 minutes at most). Each costs a row, so
/// an address may start only so many (`rate_limits.authorize_per_ip`; 429 beyond it).
async fn store_pending(
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
pub(super) async fn issue_code(
    ctx: &Context<'_>,
    request_id: Option<&str>,
    admitted: &Admitted,
) -> Result<AuthorizeOutcome, FlowError> {
    if let Some(request_id) = request_id
        && !ctx.store.finish_authorization_request(&sha256_hex(request_id)).await?
    {
        return Ok(AuthorizeOutcome::Expired);
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
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        audience: request.audience.clone(),
        authentication: session.session.authentication.clone(),
        expires_at: now + ctx.config.tokens.authorization_code_seconds,
        used: false,
        issued_family_id: None,
        issued_jti: None,
    };
    ctx.store.insert_code(NewCode { code_hash: sha256_hex(&code), grant }, now).await?;
    let url = redirect::success(request.redirect_uri.as_str(), &code, request.state.as_deref(), &ctx.config.issuer)?;
    Ok(AuthorizeOutcome::Redirect(url))
}

fn redirect_error(
    ctx: &Context<'_>,
    redirect_uri: &RedirectUri,
    error: &OAuthError,
    state: Option<&str>,
) -> Result<AuthorizeOutcome, FlowError> {
    tracing::info!(error = %error, "authorization request refused");
    Ok(AuthorizeOutcome::Redirect(redirect::error(redirect_uri.as_str(), error, state, &ctx.config.issuer)?))
}
