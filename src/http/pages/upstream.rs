//! Signing in through another provider: `POST /login/upstream/{name}` (the login page's
//! button) sends the browser there; `GET /login/upstream/{name}/callback` is where it comes
//! back. `POST /account/upstreams/link` and `/unlink` manage the person's own links.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::account::signed_in_to;
use super::{PageBrowser, continuation_field, render_outcome, render_step, see_other};
use crate::flows::Actor;
use crate::flows::upstream::{self, Callback, CallbackOutcome};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{query, read_form, request_meta};
use crate::model::Destination;

/// The provider's answer (RFC 6749 §4.1.2, §4.1.2.1).
#[derive(Deserialize, Default)]
#[serde(default)]
struct CallbackQuery {
    state: String,
    code: String,
    error: String,
}

/// `POST /account/upstreams/link` and `/unlink`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct UpstreamField {
    upstream: String,
}

pub async fn start_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let continuation = continuation_field(&form)?;
    let step =
        upstream::start_sign_in(&state.context(), &name, &continuation, &browser.browser, &request_meta(&request))
            .await
            .map_err(HttpError::page)?;
    render_outcome(step, &browser, true, None)
}

pub async fn callback_get(
    request: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let browser = PageBrowser::load(&state, &request).await?;
    let CallbackQuery { state: answer_state, code, error } = read_form(&query(&request)?)?;
    let non_empty = |value: String| Some(value).filter(|v| !v.is_empty());
    let answer = Callback { state: non_empty(answer_state), code: non_empty(code), error: non_empty(error) };
    let outcome = upstream::callback(&state.context(), &name, answer, &browser.browser, &request_meta(&request))
        .await
        .map_err(HttpError::page)?;
    match outcome {
        CallbackOutcome::SignIn(step) => render_step(step, browser, &state.master_key),
        CallbackOutcome::Account(notice) => Ok(see_other(&format!("/account?notice={notice}"))),
        CallbackOutcome::Failed(message) => {
            Err(HttpError::bad_page("Signing in with another provider did not work", message))
        }
    }
}

pub async fn link_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, session, form) = signed_in_to(&state, &request, Some(&body), Destination::Account).await?;
    let UpstreamField { upstream: name } = read_form(&form)?;
    let ctx = state.context();
    let url = upstream::start_link(&ctx, &name, &session, &browser.browser, &request_meta(&request))
        .await
        .map_err(HttpError::page)?;
    Ok(see_other(url.as_str()))
}

pub async fn unlink_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (_, session, form) = signed_in_to(&state, &request, Some(&body), Destination::Account).await?;
    let UpstreamField { upstream: name } = read_form(&form)?;
    let removed =
        upstream::unlink(&state.context(), session.user.id, &name, Actor::Own).await.map_err(HttpError::page)?;
    Ok(see_other(if removed { "/account?notice=identity_unlinked" } else { "/account?notice=nothing_changed" }))
}
