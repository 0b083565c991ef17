//! Browser pages: authorize, login, consent, logout, account and admin. JavaScript only
//! for passkeys (`static/passkeys.js`, which WebAuthn needs); every form carries a CSRF token bound to the browser's `__Host-` CSRF cookie and its
//! session (see `security::csrf`).

pub mod account;
pub mod admin;
pub mod authorize;
pub mod consent;
pub mod links;
pub mod login;
pub mod logout;
pub mod passkeys;
pub mod upstream;

use std::sync::Arc;

use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::error::{ErrorPage, HttpError};
use super::extract::{CSRF_COOKIE, SESSION_COOKIE, cookie, pairs, read_form};
use crate::flows::interaction::{
    Browser, ChallengeMethods, ChangePasswordPage, ConsentPage, Continuation, EnrollPage, LoginPage, LoginStep,
    MfaPage, RecoveryCodesPage, Step,
};
use crate::flows::session::{CookieSession, SessionUser, current_session};
use crate::flows::totp::enrollment::EnrollmentOffer;
use crate::flows::upstream::LoginButton;
use crate::security::csrf::{self, PostSource};
use crate::security::master_key::MasterKey;
use crate::security::random::{constant_time_eq, opaque_secret};

/// Appended to static asset URLs so a new release is fetched, not served from cache.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

pub async fn stylesheet_get() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(include_str!("../../../static/wristband.css"))
}

/// The browser behind a page request. A browser without a CSRF cookie gets one minted,
/// set on the response.
pub struct PageBrowser {
    pub browser: Browser,
    new_csrf_cookie: bool,
    /// What this browser's forms carry: bound to its CSRF cookie and its session.
    form_token: String,
    /// Its session just ended for being unused too long: the login page says so.
    session_ended_idle: bool,
    /// The login page offers signing in with a passkey alone.
    passkey_sign_in: bool,
    /// The login page links to the sign-up page.
    sign_up_open: bool,
    /// The login page's "Sign in with ..." buttons.
    upstreams: Arc<Vec<LoginButton>>,
}

/// Shown on the login page after an idle session ended (`sessions.idle_seconds`).
pub const SESSION_IDLE_NOTICE: &str =
    "You were signed out because your session was not used for a while. Sign in again.";

impl PageBrowser {
    pub async fn load(state: &AppState, request: &HttpRequest) -> Result<Self, HttpError> {
        let existing = cookie(request, CSRF_COOKIE).filter(|v| (32..=128).contains(&v.len()));
        let new_csrf_cookie = existing.is_none();
        let csrf_cookie = match existing {
            Some(value) => value,
            None => opaque_secret("").map_err(HttpError::internal_page)?,
        };
        let found = current_session(&state.context(), cookie(request, SESSION_COOKIE).as_deref())
            .await
            .map_err(HttpError::page)?;
        let session_ended_idle = matches!(found, CookieSession::EndedIdle);
        let session = match found {
            CookieSession::Live(session) => Some(*session),
            CookieSession::None | CookieSession::EndedIdle => None,
        };
        let mut loaded = Self::new(&state.master_key, Browser { csrf_cookie, session }, new_csrf_cookie)?;
        loaded.session_ended_idle = session_ended_idle;
        loaded.passkey_sign_in = state.relying_party.is_some() && state.config.passkeys.passwordless;
        loaded.sign_up_open = state.config.registration.enabled;
        loaded.upstreams = state.upstreams.buttons(&state.store).await.map_err(|e| HttpError::page(e.into()))?;
        Ok(loaded)
    }

    fn new(master_key: &MasterKey, browser: Browser, new_csrf_cookie: bool) -> Result<Self, HttpError> {
        let sid = browser.session.as_ref().map(|s| s.session.sid);
        let form_token = csrf::form_token(master_key, &browser.csrf_cookie, sid).map_err(HttpError::internal_page)?;
        Ok(Self {
            browser,
            new_csrf_cookie,
            form_token,
            session_ended_idle: false,
            passkey_sign_in: false,
            sign_up_open: false,
            upstreams: Arc::default(),
        })
    }

    /// Loads the browser behind a posted form, refusing the form unless it came from one
    /// of our pages (by the browser's headers) and carries this browser's form token for
    /// its current session.
    pub async fn load_for_form(
        state: &AppState,
        request: &HttpRequest,
        body: &[u8],
    ) -> Result<(Self, Vec<(String, String)>), HttpError> {
        let header = |name| request.headers().get(name).and_then(|v| v.to_str().ok());
        let source = PostSource {
            sec_fetch_site: header("sec-fetch-site"),
            origin: header("origin"),
            referer: header("referer"),
        };
        if !source.is_same_origin(&state.config.issuer) {
            return Err(HttpError::cross_site());
        }
        let form = pairs(body)?;
        let browser = Self::load(state, request).await?;
        let CsrfField { csrf_token } = read_form(&form)?;
        if browser.new_csrf_cookie || !constant_time_eq(&browser.form_token, &csrf_token) {
            return Err(HttpError::csrf());
        }
        Ok((browser, form))
    }

    /// The same browser, now signed in: the pages that follow a login carry tokens for
    /// the new session.
    fn signed_in(self, master_key: &MasterKey, session: SessionUser) -> Result<Self, HttpError> {
        let (passkey_sign_in, sign_up_open, upstreams) = (self.passkey_sign_in, self.sign_up_open, self.upstreams);
        let mut signed_in =
            Self::new(master_key, Browser { session: Some(session), ..self.browser }, self.new_csrf_cookie)?;
        signed_in.passkey_sign_in = passkey_sign_in;
        signed_in.sign_up_open = sign_up_open;
        signed_in.upstreams = upstreams;
        Ok(signed_in)
    }

    pub fn csrf_token(&self) -> &str {
        &self.form_token
    }

    /// An HTML response that keeps the browser's cookies as they should be.
    fn html(&self, status: StatusCode) -> HttpResponseBuilder {
        let mut response = HttpResponse::build(status);
        response.content_type("text/html; charset=utf-8").insert_header((header::CACHE_CONTROL, "no-store"));
        if self.new_csrf_cookie {
            response.cookie(host_cookie(CSRF_COOKIE, self.browser.csrf_cookie.clone(), None));
        }
        response
    }
}

/// A `__Host-` cookie: Secure, no Domain, Path=/, HttpOnly, SameSite=Lax. Browsers keep
/// Secure cookies on http://127.0.0.1 and localhost too (secure contexts).
pub fn host_cookie(name: &'static str, value: String, max_age_seconds: Option<i64>) -> Cookie<'static> {
    let mut cookie =
        Cookie::build(name, value).path("/").secure(true).http_only(true).same_site(SameSite::Lax).finish();
    if let Some(seconds) = max_age_seconds {
        cookie.set_max_age(Duration::seconds(seconds));
    }
    cookie
}

/// A 303 to `location`, never cached: after a posted form, or to a page that must come
/// first.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::SEE_OTHER)
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A cookie that tells the browser to forget the session.
pub fn cleared_session_cookie() -> Cookie<'static> {
    host_cookie(SESSION_COOKIE, String::new(), Some(0))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate<'a> {
    client_name: &'a str,
    request_id: Option<&'a str>,
    destination: Option<&'a str>,
    csrf_token: &'a str,
    username: Option<&'a str>,
    error: Option<&'a str>,
    passkey: bool,
    sign_up: bool,
    upstreams: &'a [LoginButton],
}

#[derive(Template)]
#[template(path = "change_password.html")]
struct ChangePasswordTemplate<'a> {
    csrf_token: &'a str,
    request_id: Option<&'a str>,
    destination: Option<&'a str>,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaTemplate<'a> {
    csrf_token: &'a str,
    challenge: &'a str,
    request_id: Option<&'a str>,
    methods: ChallengeMethods,
    error: Option<&'a str>,
}

/// The enrollment page, inside a login (with `challenge`) or on the account pages.
#[derive(Template)]
#[template(path = "enroll.html")]
pub struct EnrollTemplate<'a> {
    pub reason: &'a str,
    pub offer: &'a EnrollmentOffer,
    pub action: &'a str,
    pub csrf_token: &'a str,
    pub challenge: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// Recovery codes, shown once; then on to a pending request or a page.
#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesTemplate<'a> {
    pub codes: &'a [String],
    pub request_id: Option<&'a str>,
    pub next_path: &'a str,
    pub csrf_token: &'a str,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentTemplate<'a> {
    client_name: &'a str,
    username: &'a str,
    scopes: &'a [String],
    request_id: &'a str,
    csrf_token: &'a str,
}

/// Turns what `/authorize` (or a page resuming it) decided into a response. After a
/// POST, a redirect is 303 so the browser does not resend the form (never 307).
pub fn render_outcome(
    outcome: Step,
    browser: &PageBrowser,
    after_post: bool,
    session_cookie: Option<Cookie<'static>>,
) -> Result<HttpResponse, HttpError> {
    let mut response = match &outcome {
        Step::Redirect(_) | Step::Destination(_) => {
            let mut r = HttpResponse::build(if after_post { StatusCode::SEE_OTHER } else { StatusCode::FOUND });
            r.insert_header((header::CACHE_CONTROL, "no-store"));
            r
        }
        Step::Login(_)
        | Step::SecondFactor(_)
        | Step::Enroll(_)
        | Step::RecoveryCodes(_)
        | Step::ChangePassword(_)
        | Step::Consent(_) => browser.html(StatusCode::OK),
        Step::Untrusted(_) | Step::Expired | Step::PasskeyNeeded => browser.html(StatusCode::BAD_REQUEST),
    };
    if let Some(cookie) = session_cookie {
        response.cookie(cookie);
    }
    let csrf_token = browser.csrf_token();
    Ok(match outcome {
        Step::Redirect(url) => response.insert_header((header::LOCATION, url.as_str())).finish(),
        Step::Destination(destination) => response.insert_header((header::LOCATION, destination.path())).finish(),
        Step::Login(LoginPage { continuation, client_name, username, error }) => {
            let page = LoginTemplate {
                client_name: &client_name,
                request_id: continuation.request_id(),
                destination: continuation.destination().map(|d| d.as_str()),
                csrf_token,
                username: username.as_deref(),
                error: error.or(browser.session_ended_idle.then_some(SESSION_IDLE_NOTICE)),
                passkey: browser.passkey_sign_in,
                sign_up: browser.sign_up_open,
                upstreams: &browser.upstreams,
            };
            response.body(page.render()?)
        }
        Step::SecondFactor(MfaPage { challenge, request_id, methods, error }) => {
            let page = MfaTemplate {
                csrf_token,
                challenge: &challenge,
                request_id: request_id.as_deref(),
                methods,
                error: error.as_deref(),
            };
            response.body(page.render()?)
        }
        Step::Enroll(EnrollPage { challenge, request_id, offer, error }) => {
            let page = EnrollTemplate {
                reason: "This sign-in needs a second step: a code from an app on your phone. Set it up now; it takes a minute.",
                offer: &offer,
                action: "/login/mfa",
                csrf_token,
                challenge: Some(&challenge),
                request_id: request_id.as_deref(),
                error,
            };
            response.body(page.render()?)
        }
        Step::ChangePassword(ChangePasswordPage { continuation, error }) => {
            let page = ChangePasswordTemplate {
                csrf_token,
                request_id: continuation.request_id(),
                destination: continuation.destination().map(|d| d.as_str()),
                error: error.as_deref(),
            };
            response.body(page.render()?)
        }
        Step::RecoveryCodes(RecoveryCodesPage { codes, next }) => {
            let page = RecoveryCodesTemplate {
                codes: &codes,
                request_id: next.request_id(),
                next_path: next.destination().map_or("/account", |d| d.path()),
                csrf_token,
            };
            response.body(page.render()?)
        }
        Step::Consent(ConsentPage { request_id, client_name, scopes }) => {
            let username = browser.browser.session.as_ref().map(|s| s.user.username.to_string()).unwrap_or_default();
            let page = ConsentTemplate {
                client_name: &client_name,
                username: &username,
                scopes: &scopes,
                request_id: &request_id,
                csrf_token,
            };
            response.body(page.render()?)
        }
        Step::Untrusted(reason) => {
            response.body(render_error("The sign-in request cannot be completed", reason.explanation()))
        }
        Step::PasskeyNeeded => response.body(render_error(
            "This sign-in needs a passkey",
            "The page you are signing in to accepts only a passkey, and your account has none yet. \
             Sign in to your account at /account/passkeys, add a passkey there, then try again.",
        )),
        Step::Expired => response.body(render_error(
            "This sign-in page has expired",
            "Nothing was done. Go back to the application and start again.",
        )),
    })
}

/// Renders a step of a login, setting the session cookie when the login completed. A
/// consent page that follows belongs to the new session.
pub fn render_step(step: LoginStep, browser: PageBrowser, master_key: &MasterKey) -> Result<HttpResponse, HttpError> {
    match step.session {
        None => render_outcome(step.outcome, &browser, true, None),
        Some(started) => {
            let cookie = host_cookie(SESSION_COOKIE, started.cookie_value, Some(started.max_age_seconds));
            let browser = browser.signed_in(master_key, started.session)?;
            render_outcome(step.outcome, &browser, true, Some(cookie))
        }
    }
}

/// Every posted page form's CSRF token.
#[derive(Deserialize, Default)]
#[serde(default)]
struct CsrfField {
    csrf_token: String,
}

/// The hidden fields of a login form that say where it goes on.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ContinuationFields {
    request_id: String,
    destination: String,
}

/// Where a posted login form goes on: a pending authorization request, or a wristband page.
pub fn continuation_field(form: &[(String, String)]) -> Result<Continuation, HttpError> {
    let ContinuationFields { request_id, destination } = read_form(form)?;
    let continuation = if request_id.is_empty() {
        crate::model::Destination::parse(&destination).map(Continuation::Page)
    } else {
        Some(Continuation::Authorization { request_id })
    };
    continuation.ok_or_else(|| HttpError::bad_page(UNKNOWN_LOGIN.0, UNKNOWN_LOGIN.1))
}

/// A login form or link that names neither a pending request nor a known page.
pub const UNKNOWN_LOGIN: (&str, &str) =
    ("This sign-in link is not valid", "Go to /account to manage your account, or back to the application.");

fn render_error(title: &str, message: &str) -> String {
    ErrorPage { title, message }.render().unwrap_or_else(|_| message.to_owned())
}
