//! The login pages: `GET /login` (sign in to a wristband page), `POST /login` (the
//! password), `POST /login/mfa` (the second factor or its enrollment) and
//! `POST /login/password` (a temporary password replaced) and `POST /login/resume` (on to
//! the application after the recovery codes).

use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use super::{PageBrowser, UNKNOWN_LOGIN, continuation_field, render_outcome, render_step};
use crate::flows::interaction::{self, Step};
use crate::flows::login::{LoginAttempt, NewPassword, login, login_page, replace_temporary_password};
use crate::flows::mfa::{MfaAnswer, answer_challenge};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{field, query, request_meta};
use crate::model::Destination;
use crate::security::secret::SecretString;

pub async fn login_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let query = query(&request)?;
    let destination = field(&query, "destination").map_or(Some(Destination::Account), Destination::parse);
    let Some(destination) = destination else { return Err(HttpError::bad_page(UNKNOWN_LOGIN.0, UNKNOWN_LOGIN.1)) };
    let browser = PageBrowser::load(&state, &request).await?;
    if browser.browser.session.is_some() {
        return Ok(HttpResponse::build(StatusCode::FOUND)
            .insert_header((header::LOCATION, destination.path()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish());
    }
    render_outcome(Step::Login(login_page(destination)), &browser, false, None)
}

pub async fn login_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let continuation = continuation_field(&form)?;
    let attempt = LoginAttempt {
        continuation,
        username: field(&form, "username").unwrap_or_default().to_owned(),
        password: SecretString::new(field(&form, "password").unwrap_or_default()),
    };
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
    let answer = MfaAnswer {
        challenge: field(&form, "challenge").unwrap_or_default().to_owned(),
        request_id: field(&form, "request_id").filter(|id| !id.is_empty()).map(str::to_owned),
        code: field(&form, "code").unwrap_or_default().to_owned(),
        enrollment: field(&form, "enrollment").map(str::to_owned),
    };
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
    let new_password = NewPassword {
        continuation,
        new: SecretString::new(field(&form, "new_password").unwrap_or_default()),
        confirm: SecretString::new(field(&form, "confirm_password").unwrap_or_default()),
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
    let request_id = field(&form, "request_id").unwrap_or_default();
    let outcome =
        interaction::resume_pending(&state.context(), request_id, &browser.browser, browser.browser.session.as_ref())
            .await
            .map_err(HttpError::page)?;
    render_outcome(outcome, &browser, true, None)
}
