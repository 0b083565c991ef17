//! `/account` and `/account/mfa`: the signed-in person's own account. Without a session,
//! every page sends the browser to sign in first; every form is CSRF-checked.

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{EnrollTemplate, PageBrowser, RecoveryCodesTemplate, cleared_session_cookie, see_other};
use crate::clock::format_rfc3339;
use crate::flows::account::{self, AccountOverview, PasswordChange};
use crate::flows::error::FlowError;
use crate::flows::mfa::ENROLL_WRONG_CODE;
use crate::flows::session::SessionUser;
use crate::flows::totp::enrollment::{self, Enrollment, EnrollmentOffer};
use crate::flows::upstream;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{query, read_form, request_meta};
use crate::model::{AssuranceLevel, Destination};
use crate::security::secret::SecretString;

/// Messages an action may leave for the page it returns to, by a fixed key.
const NOTICES: [(&str, &str); 13] = [
    ("identity_linked", "The identity is linked: you can sign in with it from now on."),
    ("identity_unlinked", "The identity is unlinked: it no longer signs you in here."),
    ("identity_taken", "Nothing was linked: that identity is linked to another account here."),
    (
        "upstream_already_linked",
        "Nothing was linked: your account has an identity of that provider already. Unlink it first.",
    ),
    ("link_failed", "Nothing was linked: the other provider did not sign you in, or its answer could not be verified."),
    ("email_changed", "Your address was changed. Follow the link we mailed to it to verify it."),
    ("verification_sent", "A new verification link is on its way to your address."),
    ("password_changed", "Your password was changed. Every other session was signed out."),
    ("session_ended", "That session was signed out."),
    ("app_revoked", "The application no longer has access. It must ask you to sign in again."),
    ("mfa_disabled", "Two-step verification is off."),
    ("nothing_changed", "Nothing was changed: that item is not yours, or it no longer exists."),
    ("enroll_expired", "That setup form expired. Scan the new code below."),
];

struct SessionRow {
    sid: String,
    created_at: String,
    ip: String,
    user_agent: String,
    factors: &'static str,
    current: bool,
}

struct ProviderRow {
    name: String,
    display_name: String,
    identity: String,
    linked_at: String,
    linked: bool,
}

struct AppRow {
    id: String,
    client_name: String,
    scope: String,
    created_at: String,
    last_used_at: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountTemplate<'a> {
    csrf_token: &'a str,
    notice: Option<&'a str>,
    username: &'a str,
    name: &'a str,
    email: &'a str,
    email_verified: bool,
    totp: bool,
    recovery_codes_left: u64,
    passkeys: usize,
    sessions: Vec<SessionRow>,
    apps: Vec<AppRow>,
    providers: Vec<ProviderRow>,
    form_error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "account_mfa.html")]
struct AccountMfaTemplate<'a> {
    csrf_token: &'a str,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    recovery_codes_left: u64,
}

/// The signed-in person (with the posted form, CSRF-checked); without a session, the
/// browser is sent to sign in.
async fn signed_in(
    state: &AppState,
    request: &HttpRequest,
    body: Option<&[u8]>,
) -> Result<(PageBrowser, SessionUser, Vec<(String, String)>), HttpError> {
    signed_in_to(state, request, body, Destination::Account).await
}

/// [`signed_in`], for a page of the account that a sign-in returns to.
pub(super) async fn signed_in_to(
    state: &AppState,
    request: &HttpRequest,
    body: Option<&[u8]>,
    destination: Destination,
) -> Result<(PageBrowser, SessionUser, Vec<(String, String)>), HttpError> {
    let (browser, form) = match body {
        Some(body) => PageBrowser::load_for_form(state, request, body).await?,
        None => (PageBrowser::load(state, request).await?, Vec::new()),
    };
    let location = match destination {
        Destination::Passkeys => "/login?destination=passkeys",
        Destination::Account | Destination::Admin => "/login?destination=account",
    };
    let session = browser.browser.session.clone().ok_or(HttpError::SignIn { location })?;
    Ok((browser, session, form))
}

/// The proof a form that changes the second factor carries: a current code, or else the
/// password.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ProofFields {
    code: String,
    password: String,
}

/// `POST /account/password`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordChangeFields {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// `POST /account/mfa/enable`: the enrollment offered and the first code of the app.
#[derive(Deserialize, Default)]
#[serde(default)]
struct EnrollFields {
    enrollment: String,
    code: String,
}

/// `POST /account/email`: the new address and the current password.
#[derive(Deserialize, Default)]
#[serde(default)]
struct EmailFields {
    email: String,
    current_password: String,
}

/// `POST /account/sessions/end`: which session.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SessionField {
    sid: String,
}

/// `POST /account/apps/revoke`: which application's refresh-token family.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FamilyField {
    family: String,
}

/// `?notice=`: a message an action left for the page it returned to, by a fixed key.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: String,
}

fn notice(request: &HttpRequest) -> Option<&'static str> {
    let NoticeQuery { notice } = read_form(&query(request).ok()?).ok()?;
    NOTICES.iter().find(|(k, _)| *k == notice).map(|(_, text)| *text)
}

fn html(browser: &PageBrowser, status: StatusCode, body: String) -> HttpResponse {
    browser.html(status).body(body)
}

pub async fn account_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let (browser, session, _) = signed_in(&state, &request, None).await?;
    render_account(&state, &browser, &session, notice(&request), None, StatusCode::OK).await
}

async fn render_account(
    state: &AppState,
    browser: &PageBrowser,
    session: &SessionUser,
    notice: Option<&str>,
    form_error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, HttpError> {
    let AccountOverview { user, current_sid, recovery_codes_left, passkeys, sessions, apps } =
        account::overview(&state.context(), session).await.map_err(HttpError::page)?;
    let sessions = sessions
        .into_iter()
        .map(|s| SessionRow {
            sid: s.sid.to_string(),
            created_at: format_rfc3339(s.created_at),
            ip: s.ip.unwrap_or_else(|| "-".into()),
            user_agent: s.user_agent.unwrap_or_else(|| "-".into()),
            factors: match AssuranceLevel::from_acr(&s.acr) {
                Some(AssuranceLevel::PhishingResistant) => "passkey",
                Some(AssuranceLevel::TwoFactor) => "password and code",
                _ if s.amr.contains("\"fed\"") => "another provider",
                _ => "password",
            },
            current: s.sid == current_sid,
        })
        .collect();
    let apps = apps
        .into_iter()
        .map(|a| AppRow {
            id: a.id.to_string(),
            client_name: a.client_name,
            scope: a.scope.to_string(),
            created_at: format_rfc3339(a.created_at),
            last_used_at: format_rfc3339(a.last_used_at),
        })
        .collect();
    let linked = upstream::linked_identities(&state.context(), user.id).await.map_err(HttpError::page)?;
    let providers = browser
        .upstreams
        .iter()
        .map(|button| {
            let link = linked.iter().find(|l| l.upstream.as_str() == button.name);
            ProviderRow {
                name: button.name.clone(),
                display_name: button.display_name.clone(),
                identity: link.map_or_else(String::new, |l| {
                    l.username.clone().or_else(|| l.email.clone()).unwrap_or_else(|| l.subject.clone())
                }),
                linked_at: link.map_or_else(String::new, |l| format_rfc3339(l.created_at)),
                linked: link.is_some(),
            }
        })
        .collect();
    let page = AccountTemplate {
        csrf_token: browser.csrf_token(),
        providers,
        notice,
        username: user.username.as_str(),
        name: user.name.as_ref().map_or("-", |n| n.as_str()),
        email: user.email.as_ref().map_or("-", |e| e.as_str()),
        email_verified: user.email_verified,
        totp: user.has_totp(),
        recovery_codes_left,
        passkeys,
        sessions,
        apps,
        form_error,
    };
    Ok(html(browser, status, page.render()?))
}

pub async fn end_session_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (_, session, form) = signed_in(&state, &request, Some(&body)).await?;
    let SessionField { sid } = read_form(&form)?;
    let ended = account::end_own_session(&state.context(), &session, &sid).await.map_err(HttpError::page)?;
    if ended && sid == session.session.sid.to_string() {
        let mut response = see_other("/login?destination=account");
        response.add_cookie(&cleared_session_cookie()).map_err(HttpError::internal_page)?;
        return Ok(response);
    }
    Ok(see_other(if ended { "/account?notice=session_ended" } else { "/account?notice=nothing_changed" }))
}

pub async fn revoke_app_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (_, session, form) = signed_in(&state, &request, Some(&body)).await?;
    let FamilyField { family } = read_form(&form)?;
    let revoked = account::revoke_app(&state.context(), &session, &family).await.map_err(HttpError::page)?;
    Ok(see_other(if revoked { "/account?notice=app_revoked" } else { "/account?notice=nothing_changed" }))
}

pub async fn password_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, session, form) = signed_in(&state, &request, Some(&body)).await?;
    let PasswordChangeFields { current_password, new_password, confirm_password } = read_form(&form)?;
    let change = PasswordChange {
        current: SecretString::new(current_password),
        new: SecretString::new(new_password),
        confirm: SecretString::new(confirm_password),
    };
    match account::change_password(&state.context(), &session, change, &request_meta(&request)).await {
        Ok(()) => Ok(see_other("/account?notice=password_changed")),
        Err(FlowError::Mistake(message)) => {
            render_account(&state, &browser, &session, None, Some(&message), StatusCode::BAD_REQUEST).await
        }
        Err(err) => Err(HttpError::page(err)),
    }
}

pub async fn email_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, session, form) = signed_in(&state, &request, Some(&body)).await?;
    let EmailFields { email, current_password } = read_form(&form)?;
    let password = SecretString::new(current_password);
    match account::change_email(&state.context(), &session, &email, &password, &request_meta(&request)).await {
        Ok(()) => Ok(see_other("/account?notice=email_changed")),
        Err(FlowError::Mistake(message)) => {
            render_account(&state, &browser, &session, None, Some(&message), StatusCode::BAD_REQUEST).await
        }
        Err(err) => Err(HttpError::page(err)),
    }
}

pub async fn email_verify_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (_, session, _) = signed_in(&state, &request, Some(&body)).await?;
    account::resend_verification(&state.context(), &session).await.map_err(HttpError::page)?;
    Ok(see_other("/account?notice=verification_sent"))
}

pub async fn mfa_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let (browser, session, _) = signed_in(&state, &request, None).await?;
    let notice = notice(&request);
    if session.user.has_totp() {
        return render_mfa(&state, &browser, &session, notice, None, StatusCode::OK).await;
    }
    let offer = enrollment::offer(&state.context(), &session.user).map_err(HttpError::page)?;
    render_enroll(&browser, &offer, notice, None, StatusCode::OK)
}

async fn render_mfa(
    state: &AppState,
    browser: &PageBrowser,
    session: &SessionUser,
    notice: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, HttpError> {
    let recovery_codes_left = account::recovery_codes_left(&state.context(), session).await.map_err(HttpError::page)?;
    let page = AccountMfaTemplate { csrf_token: browser.csrf_token(), notice, error, recovery_codes_left };
    Ok(html(browser, status, page.render()?))
}

fn render_enroll(
    browser: &PageBrowser,
    offer: &EnrollmentOffer,
    notice: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, HttpError> {
    let page = EnrollTemplate {
        reason: notice.unwrap_or(
            "Two-step verification is off. Turn it on so that a stolen password alone cannot open your account.",
        ),
        offer,
        action: "/account/mfa/enable",
        csrf_token: browser.csrf_token(),
        challenge: None,
        request_id: None,
        error,
    };
    Ok(html(browser, status, page.render()?))
}

fn render_codes(browser: &PageBrowser, codes: &[String]) -> Result<HttpResponse, HttpError> {
    let page =
        RecoveryCodesTemplate { codes, request_id: None, next_path: "/account/mfa", csrf_token: browser.csrf_token() };
    Ok(html(browser, StatusCode::OK, page.render()?))
}

pub async fn mfa_enable_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, session, form) = signed_in(&state, &request, Some(&body)).await?;
    let EnrollFields { enrollment: token, code } = read_form(&form)?;
    let ctx = state.context();
    match enrollment::confirm(&ctx, &session.user, &token, &code, Some(session.session.sid), &request_meta(&request))
        .await
        .map_err(HttpError::page)?
    {
        Enrollment::Enabled { recovery_codes } => render_codes(&browser, &recovery_codes),
        Enrollment::WrongCode(offer) => {
            render_enroll(&browser, &offer, None, Some(ENROLL_WRONG_CODE), StatusCode::BAD_REQUEST)
        }
        Enrollment::Expired => Ok(see_other("/account/mfa?notice=enroll_expired")),
    }
}

pub async fn mfa_disable_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, session, form) = signed_in(&state, &request, Some(&body)).await?;
    let ProofFields { code, password } = read_form(&form)?;
    let meta = request_meta(&request);
    match account::disable_totp(&state.context(), &session, &code, &SecretString::new(password), &meta).await {
        Ok(()) => Ok(see_other("/account?notice=mfa_disabled")),
        Err(FlowError::Mistake(message)) => {
            render_mfa(&state, &browser, &session, None, Some(&message), StatusCode::BAD_REQUEST).await
        }
        Err(err) => Err(HttpError::page(err)),
    }
}

pub async fn recovery_codes_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, session, form) = signed_in(&state, &request, Some(&body)).await?;
    let ProofFields { code, password } = read_form(&form)?;
    let meta = request_meta(&request);
    let password = SecretString::new(password);
    match account::regenerate_recovery_codes(&state.context(), &session, &code, &password, &meta).await {
        Ok(codes) => render_codes(&browser, &codes),
        Err(FlowError::Mistake(message)) => {
            render_mfa(&state, &browser, &session, None, Some(&message), StatusCode::BAD_REQUEST).await
        }
        Err(err) => Err(HttpError::page(err)),
    }
}
