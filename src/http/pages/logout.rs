//! `/end_session` (RP-Initiated Logout 1.0 §2-3) and its confirmation form.

use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::{PageBrowser, cleared_session_cookie};
use crate::flows::logout::{ConfirmLogout, LogoutOutcome, LogoutParams, confirm_end_session, end_session_request};
use crate::flows::upstream::{EndSessionOffer, end_session_offers};
use crate::http::AppState;
use crate::http::error::{HttpError, error_page};
use crate::http::extract::{pairs, query};

#[derive(Template)]
#[template(path = "logout_confirm.html")]
struct ConfirmTemplate<'a> {
    csrf_token: &'a str,
    client_name: Option<&'a str>,
    client_id: Option<&'a str>,
    post_logout_redirect_uri: Option<&'a str>,
    state: Option<&'a str>,
    offers: &'a [EndSessionOffer],
}

#[derive(Template)]
#[template(path = "logged_out.html")]
struct LoggedOutTemplate<'a> {
    offers: &'a [EndSessionOffer],
}

/// The upstreams the signed-in person may also sign out of, read before the session ends.
async fn offers(state: &AppState, browser: &PageBrowser) -> Result<Vec<EndSessionOffer>, HttpError> {
    match &browser.browser.session {
        Some(session) => end_session_offers(&state.context(), session.user.id).await.map_err(HttpError::page),
        None => Ok(Vec::new()),
    }
}

pub async fn end_session_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let params = LogoutParams::from_pairs(query(&request)?);
    start(&request, &state, params, false).await
}

pub async fn end_session_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    start(&request, &state, LogoutParams::from_pairs(pairs(&body)?), true).await
}

pub async fn end_session_confirm_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let offers = offers(&state, &browser).await?;
    let outcome =
        confirm_end_session(&state.context(), LogoutParams::from_pairs(form), browser.browser.session.as_ref())
            .await
            .map_err(HttpError::page)?;
    respond(&browser, outcome, true, &offers)
}

async fn start(
    request: &HttpRequest,
    state: &AppState,
    params: LogoutParams,
    post: bool,
) -> Result<HttpResponse, HttpError> {
    let browser = PageBrowser::load(state, request).await?;
    let offers = offers(state, &browser).await?;
    let outcome = end_session_request(&state.context(), params, browser.browser.session.as_ref())
        .await
        .map_err(HttpError::page)?;
    respond(&browser, outcome, post, &offers)
}

fn respond(
    browser: &PageBrowser,
    outcome: LogoutOutcome,
    after_post: bool,
    offers: &[EndSessionOffer],
) -> Result<HttpResponse, HttpError> {
    match outcome {
        LogoutOutcome::Invalid(message) => Ok(error_page(StatusCode::BAD_REQUEST, "You were not signed out", message)),
        LogoutOutcome::Confirm(ConfirmLogout { client_name, client_id, post_logout_redirect_uri, state }) => {
            let page = ConfirmTemplate {
                csrf_token: browser.csrf_token(),
                client_name: client_name.as_deref(),
                client_id: client_id.as_deref(),
                post_logout_redirect_uri: post_logout_redirect_uri.as_deref(),
                state: state.as_deref(),
                offers,
            };
            Ok(browser.html(StatusCode::OK).body(page.render()?))
        }
        LogoutOutcome::LoggedOut { redirect: Some(url) } => {
            let status = if after_post { StatusCode::SEE_OTHER } else { StatusCode::FOUND };
            Ok(HttpResponse::build(status)
                .cookie(cleared_session_cookie())
                .insert_header((header::LOCATION, url.as_str()))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish())
        }
        LogoutOutcome::LoggedOut { redirect: None } => Ok(browser
            .html(StatusCode::OK)
            .cookie(cleared_session_cookie())
            .body(LoggedOutTemplate { offers }.render()?)),
    }
}
