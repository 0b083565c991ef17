//! The login pages: `GET /login` (sign in to a wristband page), `POST /login` (the
//! password), `POST /login/mfa` (the second factor, a passkey, or its enrollment) and
//! `POST /login/password` (a temporary password replaced) and `POST /login/resume` (on to
//! the application after the recovery codes).

use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{PageBrowser, UNKNOWN_LOGIN, continuation_field, render_outcome, render_step};
use crate::flows::interaction::{self, Step};
use crate::flows::login::{LoginAttempt, NewPassword, login, login_page, replace_temporary_password};
use crate::flows::mfa::{MfaAnswer, answer_challenge};
use crate::flows::passkeys::PasskeyAnswer;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{query, read_form, request_meta};
use crate::model::Destination;
use crate::security::secret::SecretString;

/// `GET /login?destination=&prompt=`: the wristband page to sign in to (the account page
/// if none); `prompt=login` asks for a sign-in even with a session (a re-authentication).
#[derive(Deserialize, Default)]
#[serde(default)]
struct DestinationQuery {
    destination: String,
    prompt: String,
}

/// `POST /login`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordFields {
    username: String,
    password: String,
}

/// `POST /login/mfa`: a TOTP or recovery code, the first code of an enrollment, or a
/// passkey's answer (`ceremony` and `credential`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeFields {
    challenge: String,
    request_id: String,
    code: String,
    enrollment: String,
    ceremony: String,
    credential: String,
}

/// `POST /login/password`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NewPasswordFields {
    new_password: String,
    confirm_password: String,
}

/// `POST /login/resume`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RequestIdField {
    request_id: String,
}

pub async fn login_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let DestinationQuery { destination, prompt } = read_form(&query(&request)?)?;
    let destination =
        if destination.is_empty() { Some(Destination::Account) } else { Destination::parse(&destination) };
    let Some(destination) = destination else { return Err(HttpError::bad_page(UNKNOWN_LOGIN.0, UNKNOWN_LOGIN.1)) };
    let browser = PageBrowser::load(&state, &request).await?;
    let mut page = login_page(destination);
    match &browser.browser.session {
        Some(session) if prompt == "login" => page.username = Some(session.user.username.to_string()),
        Some(_) => {
            return Ok(HttpResponse::build(StatusCode::FOUND)
                .insert_header((header::LOCATION, destination.path()))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish());
        }
        None => {}
    }
    render_outcome(Step::Login(page), &browser, false, None)
}

pub async fn login_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let continuation = continuation_field(&form)?;
    let PasswordFields { username, password } = read_form(&form)?;
    let attempt = LoginAttempt { continuation, username, password: SecretString::new(password) };
    let step =
        login(&state.context(), attempt, &browser.browser, &request_meta(&request)).await.map_err(HttpError::page)?;
    render_step(step, browser, &state.master_key)
}

pub async fn mfa_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let CodeFields { challenge, request_id, code, enrollment, ceremony, credential } = read_form(&form)?;
    let non_empty = |value: String| Some(value).filter(|v| !v.is_empty());
    let passkey = non_empty(credential).map(|credential| PasskeyAnswer { ceremony, credential });
    let answer =
        MfaAnswer { challenge, request_id: non_empty(request_id), code, enrollment: non_empty(enrollment), passkey };
    let step = answer_challenge(&state.context(), answer, &browser.browser, &request_meta(&request))
        .await
        .map_err(HttpError::page)?;
    render_step(step, browser, &state.master_key)
}

pub async fn password_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let continuation = continuation_field(&form)?;
    let NewPasswordFields { new_password, confirm_password } = read_form(&form)?;
    let new_password = NewPassword {
        continuation,
        new: SecretString::new(new_password),
        confirm: SecretString::new(confirm_password),
    };
    let outcome = replace_temporary_password(&state.context(), new_password, &browser.browser, &request_meta(&request))
        .await
        .map_err(HttpError::page)?;
    render_outcome(outcome, &browser, true, None)
}

pub async fn resume_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let RequestIdField { request_id } = read_form(&form)?;
    let outcome =
        interaction::resume_pending(&state.context(), &request_id, &browser.browser, browser.browser.session.as_ref())
            .await
            .map_err(HttpError::page)?;
    render_outcome(outcome, &browser, true, None)
}
