//! The redirect to an upstream and its callback. `state` (256 bits) finds a row that is
//! taken once and bound to the browser's CSRF cookie, so a callback replayed, forged or
//! carried to another browser changes nothing; `nonce` binds the ID token to this sign-in
//! and PKCE S256 the code. Every failure is audited and shown as a page; none leaves a
//! session.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use url::Url;

use super::identity::{self, Identity, LinkOutcome};
use super::proof::{failed, prove};
use super::{ACCOUNT_UNAVAILABLE, LOGIN_SECONDS, NOT_LINKED, UNKNOWN_STATE, UPSTREAM_UNAVAILABLE};
use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::flows::interaction::{Browser, Continuation, LoginStep, Step, continue_login};
use crate::flows::login::{LoginTarget, login_target};
use crate::flows::session::{RequestMeta, SessionUser, establish_session};
use crate::metrics::LoginOutcome;
use crate::model::{Authentication, Upstream, UpstreamLogin, UpstreamName, UpstreamProtocol, UpstreamPurpose, User};
use crate::security::random::{constant_time_eq, opaque_secret, sha256_hex};
use crate::store::AuditEvent;

/// Where the upstream sends the person back: registered as a redirect URI there.
pub fn callback_uri(issuer: &str, name: &UpstreamName) -> String {
    format!("{issuer}/login/upstream/{name}/callback")
}

fn sealing_purpose(state_hash: &str) -> String {
    format!("upstream_request:{state_hash}")
}

/// The upstream named in a URL, or a page saying there is none.
async fn upstream(ctx: &Context<'_>, name: &str) -> Result<Upstream, FlowError> {
    let unknown = || FlowError::Mistake("No sign-in provider of that name is configured here.".to_owned());
    let name = UpstreamName::parse(name).map_err(|_| unknown())?;
    ctx.store.find_upstream(&name).await?.ok_or_else(unknown)
}

/// Starts signing in with upstream `name` for `continuation`: the redirect to the
/// upstream, or the login page again when it cannot be reached.
pub async fn start_sign_in(
    ctx: &Context<'_>,
    name: &str,
    continuation: &Continuation,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<Step, FlowError> {
    let upstream = upstream(ctx, name).await?;
    let Some(target) = login_target(ctx, continuation, browser).await? else { return Ok(Step::Expired) };
    let purpose = |state_hash: &str| -> Result<UpstreamPurpose, FlowError> {
        let seal = |id: &str| ctx.master_key.seal(&sealing_purpose(state_hash), id.as_bytes());
        let sealed_request_id = continuation.request_id().map(seal).transpose()?.map(|s| URL_SAFE_NO_PAD.encode(s));
        Ok(UpstreamPurpose::SignIn { sealed_request_id, destination: continuation.destination() })
    };
    match redirect(ctx, &upstream, purpose, browser, meta).await? {
        Ok(url) => Ok(Step::Redirect(url)),
        Err(message) => Ok(target.page(continuation.clone(), None, message)),
    }
}

/// Starts linking upstream `name` to the signed-in person's account; a mistake unless
/// they signed in within [`RECENT_SIGN_IN_SECONDS`](crate::flows::session::RECENT_SIGN_IN_SECONDS) (a new way into the account is made
/// only by someone who just proved they own it).
pub async fn start_link(
    ctx: &Context<'_>,
    name: &str,
    session: &SessionUser,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<Url, FlowError> {
    let upstream = upstream(ctx, name).await?;
    if !session.signed_in_recently(ctx.clock.now()) {
        return Err(FlowError::mistake(
            "To link another provider, sign in again first (sign out, sign in), then link it within five minutes.",
        ));
    }
    let purpose = |_: &str| Ok(UpstreamPurpose::Link { user_id: session.user.id, sid: session.session.sid });
    redirect(ctx, &upstream, purpose, browser, meta).await?.map_err(FlowError::mistake)
}

/// Keeps a new sign-in under way and builds the authorization request to the upstream
/// (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636); the message to show when the upstream
/// cannot be reached.
async fn redirect(
    ctx: &Context<'_>,
    upstream: &Upstream,
    purpose: impl FnOnce(&str) -> Result<UpstreamPurpose, FlowError>,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<Result<Url, &'static str>, FlowError> {
    let now = ctx.clock.now();
    // Each start costs a row: it counts against the address's authorization budget.
    ctx.limits.authorize_per_ip.acquire(meta.rate_limit_key(), now)?;
    let endpoints = match ctx.upstreams.endpoints(upstream, now).await {
        Ok(endpoints) => endpoints,
        Err(err) => {
            failed(ctx, upstream, None, meta, "discovery", &err.to_string()).await?;
            return Ok(Err(UPSTREAM_UNAVAILABLE));
        }
    };
    let state = opaque_secret("")?;
    let state_hash = sha256_hex(&state);
    let login = UpstreamLogin {
        upstream: upstream.name.clone(),
        purpose: purpose(&state_hash)?,
        browser_hash: sha256_hex(&browser.csrf_cookie),
        nonce: opaque_secret("")?,
        code_verifier: opaque_secret("")?,
        expires_at: now + LOGIN_SECONDS,
    };
    ctx.store.insert_upstream_login(state_hash, &login, now).await?;
    let challenge = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(login.code_verifier.as_bytes()));
    let mut url = endpoints.authorization.clone();
    let oidc = matches!(upstream.protocol, UpstreamProtocol::Oidc { .. });
    let mut scopes: Vec<&str> = upstream.scopes.iter().map(String::as_str).collect();
    if oidc && !scopes.contains(&"openid") {
        scopes.insert(0, "openid");
    }
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &upstream.client_id)
            .append_pair("redirect_uri", &callback_uri(&ctx.config.issuer, &upstream.name))
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if oidc {
            query.append_pair("nonce", &login.nonce);
        }
    }
    Ok(Ok(url))
}

/// The upstream's answer, as the browser brings it back.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
}

/// Where a callback leads.
#[derive(Debug)]
pub enum CallbackOutcome {
    /// A sign-in went on (through the gate), or its login page says why not.
    SignIn(LoginStep),
    /// Back to `/account`, with the notice of this key.
    Account(&'static str),
    /// Nothing to go back to: a page with this message.
    Failed(&'static str),
}

/// Finishes what [`start_sign_in`] or [`start_link`] began.
pub async fn callback(
    ctx: &Context<'_>,
    name: &str,
    answer: Callback,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<CallbackOutcome, FlowError> {
    let now = ctx.clock.now();
    let state = answer.state.as_deref().filter(|s| !s.is_empty() && s.len() <= 128);
    let Some(state) = state else { return Ok(CallbackOutcome::Failed(UNKNOWN_STATE)) };
    let state_hash = sha256_hex(state);
    let taken = ctx.store.take_upstream_login(&state_hash, now).await?;
    let login = taken.filter(|l| {
        l.upstream.as_str() == name && constant_time_eq(&l.browser_hash, &sha256_hex(&browser.csrf_cookie))
    });
    let Some(login) = login else {
        let event = AuditEvent::new("upstream_login_failed").ip(meta.ip.clone()).details(
            serde_json::json!({ "upstream": name, "stage": "state", "reason": "unknown, spent or foreign state" }),
        );
        ctx.store.record_audit(event, now).await?;
        return Ok(CallbackOutcome::Failed(UNKNOWN_STATE));
    };
    let Some(upstream) = ctx.store.find_upstream(&login.upstream).await? else {
        return Ok(CallbackOutcome::Failed(UNKNOWN_STATE));
    };
    match login.purpose.clone() {
        UpstreamPurpose::SignIn { sealed_request_id, destination } => {
            let continuation = match (sealed_request_id, destination) {
                (Some(sealed), _) => {
                    let opened = URL_SAFE_NO_PAD
                        .decode(sealed)
                        .ok()
                        .and_then(|s| ctx.master_key.open(&sealing_purpose(&state_hash), &s).ok())
                        .and_then(|id| String::from_utf8(id).ok());
                    let Some(request_id) = opened else { return Ok(CallbackOutcome::Failed(UNKNOWN_STATE)) };
                    Continuation::Authorization { request_id }
                }
                (None, Some(destination)) => Continuation::Page(destination),
                (None, None) => return Ok(CallbackOutcome::Failed(UNKNOWN_STATE)),
            };
            let Some(target) = login_target(ctx, &continuation, browser).await? else {
                return Ok(CallbackOutcome::SignIn(Step::Expired.into()));
            };
            let resume = Resume { continuation, target };
            let step = sign_in(ctx, &upstream, &login, answer, resume, browser, meta).await?;
            Ok(CallbackOutcome::SignIn(step))
        }
        UpstreamPurpose::Link { user_id, sid } => {
            let Some(session) = browser.session.as_ref().filter(|s| s.user.id == user_id && s.session.sid == sid)
            else {
                return Ok(CallbackOutcome::Failed(UNKNOWN_STATE));
            };
            let identity = match prove(ctx, &upstream, &login, answer, meta).await? {
                Ok(identity) => identity,
                Err(_) => return Ok(CallbackOutcome::Account("link_failed")),
            };
            let outcome = identity::link(ctx, &upstream, &identity, &session.user, meta).await?;
            Ok(CallbackOutcome::Account(match outcome {
                LinkOutcome::Linked | LinkOutcome::AlreadyYours => "identity_linked",
                LinkOutcome::LinkedToSomeoneElse => "identity_taken",
                LinkOutcome::UpstreamTaken => "upstream_already_linked",
            }))
        }
    }
}

/// Where a sign-in goes on, and the login page it goes back to when it cannot.
struct Resume {
    continuation: Continuation,
    target: LoginTarget,
}

impl Resume {
    fn page(self, message: &'static str) -> LoginStep {
        self.target.page(self.continuation, None, message).into()
    }
}

/// A sign-in's callback: proves the identity, finds (or links, or makes) the account,
/// starts the session and goes on through the gate.
async fn sign_in(
    ctx: &Context<'_>,
    upstream: &Upstream,
    login: &UpstreamLogin,
    answer: Callback,
    resume: Resume,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<LoginStep, FlowError> {
    let identity = match prove(ctx, upstream, login, answer, meta).await? {
        Ok(identity) => identity,
        Err(message) => return Ok(resume.page(message)),
    };
    let (reason, message) = match identity::resolve(ctx, upstream, &identity, meta).await? {
        identity::Resolved::User(user) => {
            return signed_in(ctx, upstream, &identity, user, resume, browser, meta).await;
        }
        identity::Resolved::NotLinked => ("not linked", NOT_LINKED),
        identity::Resolved::Unavailable => ("account disabled or unverified", ACCOUNT_UNAVAILABLE),
    };
    let event = AuditEvent::new("upstream_login_failed").ip(meta.ip.clone()).details(serde_json::json!({
        "upstream": upstream.name, "stage": "account", "reason": reason, "upstream_subject": identity.subject,
    }));
    ctx.store.record_audit(event, ctx.clock.now()).await?;
    Ok(resume.page(message))
}

/// Starts the session of `user`, who the upstream proved, and goes on through the gate.
async fn signed_in(
    ctx: &Context<'_>,
    upstream: &Upstream,
    identity: &Identity,
    user: User,
    resume: Resume,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<LoginStep, FlowError> {
    let now = ctx.clock.now();
    let authentication = Authentication::federated(now, upstream.trusted_for_mfa && identity.upstream_mfa);
    let started = establish_session(ctx, browser.session.as_ref(), user, authentication, meta).await?;
    ctx.metrics.login(LoginOutcome::Success);
    let mut event = AuditEvent::new("login_succeeded").user(started.session.user.id).ip(meta.ip.clone()).details(
        serde_json::json!({
            "amr": started.session.session.authentication.amr, "factor": "upstream",
            "upstream": upstream.name, "upstream_subject": identity.subject,
        }),
    );
    if let Some(client_id) = &resume.target.client_id {
        event = event.client(client_id.clone());
    }
    ctx.store.record_audit(event, now).await?;
    let outcome = continue_login(ctx, &resume.continuation, browser, &started.session).await?;
    Ok(LoginStep { outcome, session: Some(Box::new(started)) })
}
