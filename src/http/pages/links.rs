//! The pages around mailed links: `/password/forgot` (ask for a reset link),
//! `/password/reset` (follow a reset link or an invitation), `/email/verify` (prove an
//! address), and `/register` (sign up, where it is open). The request page answers the
//! same whatever was typed, before the lookup even starts: the lookup and the mail run
//! afterwards (`flows::password_reset`).

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::PageBrowser;
use crate::flows::email_address::{open_verification, verify_email};
use crate::flows::error::FlowError;
use crate::flows::password_reset::{
    NewPasswordByLink, RESET_REQUESTED, ResetOutcome, ResetPage, limit_reset_request, open_reset, reset_password,
    send_reset_link,
};
use crate::flows::registration::{SignUp, registration_open, sign_up};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{query, read_form, request_meta};
use crate::security::secret::SecretString;

#[derive(Template)]
#[template(path = "password_forgot.html")]
struct ForgotTemplate<'a> {
    csrf_token: &'a str,
}

/// A page that says what happened and where to go on.
#[derive(Template)]
#[template(path = "notice.html")]
struct NoticeTemplate<'a> {
    title: &'a str,
    message: &'a str,
    link: &'a str,
    link_text: &'a str,
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetTemplate<'a> {
    csrf_token: &'a str,
    token: &'a str,
    username: &'a str,
    needs_code: bool,
    invitation: bool,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterTemplate<'a> {
    csrf_token: &'a str,
    username: &'a str,
    email: &'a str,
    error: Option<&'a str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignUpFields {
    username: String,
    email: String,
    new_password: String,
    confirm_password: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IdentifierField {
    identifier: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenField {
    token: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResetFields {
    token: String,
    new_password: String,
    confirm_password: String,
    code: String,
}

/// A link that no longer works: expired, used, superseded by a newer one, or its password
/// changed meanwhile.
const LINK_EXPIRED: (&str, &str) = (
    "This link no longer works",
    "Password links work once, for 30 minutes, and only the newest one. Ask for a new link at /password/forgot.",
);

pub async fn forgot_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let browser = PageBrowser::load(&state, &request).await?;
    let page = ForgotTemplate { csrf_token: browser.csrf_token() };
    Ok(browser.html(StatusCode::OK).body(page.render()?))
}

pub async fn forgot_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let IdentifierField { identifier } = read_form(&form)?;
    limit_reset_request(&state.context(), &identifier, &request_meta(&request)).await.map_err(HttpError::page)?;
    // The answer does not wait for the lookup: whether an account matched shows neither in
    // the page nor in its timing.
    let services = state.services.clone();
    tokio::spawn(async move {
        if let Err(error) = send_reset_link(&services.context(), &identifier).await {
            tracing::warn!(%error, "a password reset link could not be queued");
        }
    });
    let page = NoticeTemplate {
        title: "Check your email",
        message: RESET_REQUESTED,
        link: "/login?destination=account",
        link_text: "Back to sign in",
    };
    Ok(browser.html(StatusCode::OK).body(page.render()?))
}

fn render_reset(
    browser: &PageBrowser,
    token: &str,
    page: &ResetPage,
    error: Option<&str>,
) -> Result<HttpResponse, HttpError> {
    let template = ResetTemplate {
        csrf_token: browser.csrf_token(),
        token,
        username: &page.username,
        needs_code: page.needs_code,
        invitation: page.invitation,
        error,
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok(browser.html(status).body(template.render()?))
}

#[derive(Template)]
#[template(path = "email_verify.html")]
struct VerifyTemplate<'a> {
    csrf_token: &'a str,
    token: &'a str,
    address: &'a str,
}

/// A verification link that no longer works.
const VERIFY_EXPIRED: (&str, &str) = (
    "This link no longer works",
    "Verification links work once, for 24 hours, for the address the account has now. Sign in to your account to get a new one.",
);

/// `GET /email/verify?token=`: the address and a button (a mail scanner that opens the
/// link verifies nothing).
pub async fn verify_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let browser = PageBrowser::load(&state, &request).await?;
    let TokenField { token } = read_form(&query(&request)?)?;
    let Some((_, email)) = open_verification(&state.context(), &token).await.map_err(HttpError::page)? else {
        return Err(HttpError::bad_page(VERIFY_EXPIRED.0, VERIFY_EXPIRED.1));
    };
    let page = VerifyTemplate { csrf_token: browser.csrf_token(), token: &token, address: email.as_str() };
    Ok(browser.html(StatusCode::OK).body(page.render()?))
}

pub async fn verify_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let TokenField { token } = read_form(&form)?;
    if !verify_email(&state.context(), &token).await.map_err(HttpError::page)? {
        return Err(HttpError::bad_page(VERIFY_EXPIRED.0, VERIFY_EXPIRED.1));
    }
    let page = NoticeTemplate {
        title: "Your address is verified",
        message: "Applications now see it as verified, and password-reset links can go there.",
        link: "/account",
        link_text: "Your account",
    };
    Ok(browser.html(StatusCode::OK).body(page.render()?))
}

pub async fn reset_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let browser = PageBrowser::load(&state, &request).await?;
    let TokenField { token } = read_form(&query(&request)?)?;
    match open_reset(&state.context(), &token).await.map_err(HttpError::page)? {
        Some(page) => render_reset(&browser, &token, &page, None),
        None => Err(HttpError::bad_page(LINK_EXPIRED.0, LINK_EXPIRED.1)),
    }
}

pub async fn reset_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let ResetFields { token, new_password, confirm_password, code } = read_form(&form)?;
    let reset = NewPasswordByLink {
        token: token.clone(),
        new: SecretString::new(new_password),
        confirm: SecretString::new(confirm_password),
        code,
    };
    match reset_password(&state.context(), reset, &request_meta(&request)).await.map_err(HttpError::page)? {
        ResetOutcome::Changed => {
            let page = NoticeTemplate {
                title: "Your password was changed",
                message: "Every browser and application that was signed in to your account was signed out. \
                          Sign in with the new password (and your second factor, if you have one).",
                link: "/login?destination=account",
                link_text: "Sign in",
            };
            Ok(browser.html(StatusCode::OK).body(page.render()?))
        }
        ResetOutcome::Expired => Err(HttpError::bad_page(LINK_EXPIRED.0, LINK_EXPIRED.1)),
        ResetOutcome::Refused { page, message } => render_reset(&browser, &token, &page, Some(&message)),
    }
}

pub async fn register_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let browser = PageBrowser::load(&state, &request).await?;
    registration_open(&state.context()).map_err(HttpError::page)?;
    let page = RegisterTemplate { csrf_token: browser.csrf_token(), username: "", email: "", error: None };
    Ok(browser.html(StatusCode::OK).body(page.render()?))
}

/// `POST /register`: "check your email" whether the address was new or already had an
/// account (`flows::registration`); a mistake in the form is shown on it, as typed.
pub async fn register_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let SignUpFields { username, email, new_password, confirm_password } = read_form(&form)?;
    let form = SignUp {
        username: username.clone(),
        email: email.clone(),
        password: SecretString::new(new_password),
        confirm: SecretString::new(confirm_password),
    };
    match sign_up(&state.context(), form, &request_meta(&request)).await {
        Ok(()) => {
            let page = NoticeTemplate {
                title: "Check your email",
                message: "If the address can be used, a link to confirm it is on its way there. \
                          Follow it, then sign in. The link works once, for 24 hours.",
                link: "/login?destination=account",
                link_text: "Back to sign in",
            };
            Ok(browser.html(StatusCode::OK).body(page.render()?))
        }
        Err(FlowError::Mistake(message)) if state.config.registration.enabled => {
            let page = RegisterTemplate {
                csrf_token: browser.csrf_token(),
                username: &username,
                email: &email,
                error: Some(&message),
            };
            Ok(browser.html(StatusCode::BAD_REQUEST).body(page.render()?))
        }
        Err(err) => Err(HttpError::page(err)),
    }
}
