//! Passkeys in the browser: the options each ceremony starts with (JSON, fetched by
//! `static/passkeys.js`), the forms that post the authenticator's answer, and the
//! account's passkeys page. Every POST is CSRF-checked like any page form; a refusal is
//! the usual error page, whose message the script shows.

use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::account::signed_in_to;
use super::{PageBrowser, RecoveryCodesTemplate, continuation_field, render_step, see_other};
use crate::clock::format_rfc3339;
use crate::flows::passkeys::{
    self, PasskeyAnswer, PasskeyOptions, PasskeyOverview, RegistrationOutcome, second_factor_options, sign_in,
    sign_in_options,
};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{query, read_form, request_meta};
use crate::model::Destination;

pub async fn script_get() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(include_str!("../../../static/passkeys.js"))
}

/// A passkey's answer as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
struct AnswerFields {
    ceremony: String,
    credential: String,
}

/// `POST /login/mfa/passkey/options`: the second-factor challenge to answer.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ChallengeField {
    challenge: String,
}

/// `POST /account/passkeys`, `/account/passkeys/rename`, `/account/passkeys/remove`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PasskeyFields {
    id: String,
    name: String,
    ceremony: String,
    credential: String,
}

/// `?notice=` on the passkeys page.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: String,
}

const NOTICES: [(&str, &str); 3] = [
    ("added", "The passkey was added. Next time, sign in with it."),
    ("renamed", "The passkey was renamed."),
    ("removed", "The passkey was removed. It can no longer sign in to this account."),
];

fn options_json(options: PasskeyOptions) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "ceremony": options.ceremony, "publicKey": options.public_key }))
}

/// `POST /login/passkey/options`: a ceremony for signing in with a passkey alone.
pub async fn login_options_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let continuation = continuation_field(&form)?;
    let options = sign_in_options(&state.context(), &continuation, &browser.browser, &request_meta(&request))
        .await
        .map_err(HttpError::page)?;
    Ok(options_json(options))
}

/// `POST /login/passkey`: the passkey's answer; the login goes on like any other.
pub async fn login_passkey_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let continuation = continuation_field(&form)?;
    let AnswerFields { ceremony, credential } = read_form(&form)?;
    let answer = PasskeyAnswer { ceremony, credential };
    let step = sign_in(&state.context(), continuation, &answer, &browser.browser, &request_meta(&request))
        .await
        .map_err(HttpError::page)?;
    render_step(step, browser, &state.master_key)
}

/// `POST /login/mfa/passkey/options`: a ceremony answering a second-factor challenge.
pub async fn mfa_options_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let ChallengeField { challenge } = read_form(&form)?;
    let options =
        second_factor_options(&state.context(), &challenge, &browser.browser).await.map_err(HttpError::page)?;
    Ok(options_json(options))
}

struct PasskeyRow {
    id: String,
    name: String,
    created_at: String,
    last_used_at: String,
    kind: &'static str,
}

#[derive(Template)]
#[template(path = "account_passkeys.html")]
struct PasskeysTemplate<'a> {
    csrf_token: &'a str,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    passkeys: Vec<PasskeyRow>,
    recent_sign_in: bool,
    available: bool,
}

pub async fn passkeys_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let (browser, session, _) = signed_in_to(&state, &request, None, Destination::Passkeys).await?;
    let notice = read_form::<NoticeQuery>(&query(&request)?)
        .ok()
        .and_then(|q| NOTICES.iter().find(|(k, _)| *k == q.notice).map(|(_, text)| *text));
    let overview = passkeys::list_passkeys(&state.context(), &session).await.map_err(HttpError::page)?;
    render_passkeys(&browser, overview, notice, None, StatusCode::OK)
}

fn render_passkeys(
    browser: &PageBrowser,
    overview: PasskeyOverview,
    notice: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, HttpError> {
    let passkeys = overview
        .passkeys
        .into_iter()
        .map(|p| PasskeyRow {
            id: p.id.to_string(),
            kind: if p.device_bound() { "this device only" } else { "synced" },
            name: p.name.to_string(),
            created_at: format_rfc3339(p.created_at),
            last_used_at: p.last_used_at.map_or_else(|| "never".to_owned(), format_rfc3339),
        })
        .collect();
    let page = PasskeysTemplate {
        csrf_token: browser.csrf_token(),
        notice,
        error,
        passkeys,
        recent_sign_in: overview.recent_sign_in,
        available: overview.available,
    };
    Ok(browser.html(status).body(page.render()?))
}

/// `POST /account/passkeys/options`: a ceremony creating a passkey for the signed-in person.
pub async fn passkeys_options_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, session, _) = signed_in_to(&state, &request, Some(&body), Destination::Passkeys).await?;
    let options =
        passkeys::registration_options(&state.context(), &session, &browser.browser).await.map_err(HttpError::page)?;
    Ok(options_json(options))
}

/// `POST /account/passkeys`: the new passkey, named.
pub async fn passkeys_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, session, form) = signed_in_to(&state, &request, Some(&body), Destination::Passkeys).await?;
    let PasskeyFields { name, ceremony, credential, .. } = read_form(&form)?;
    let ctx = state.context();
    let outcome = passkeys::finish_registration(
        &ctx,
        &session,
        &browser.browser,
        &ceremony,
        &name,
        &credential,
        &request_meta(&request),
    )
    .await
    .map_err(HttpError::page)?;
    match outcome {
        RegistrationOutcome::Added { recovery_codes: Some(codes) } => {
            let page = RecoveryCodesTemplate {
                codes: &codes,
                request_id: None,
                next_path: "/account/passkeys?notice=added",
                csrf_token: browser.csrf_token(),
            };
            Ok(browser.html(StatusCode::OK).body(page.render()?))
        }
        RegistrationOutcome::Added { recovery_codes: None } => Ok(see_other("/account/passkeys?notice=added")),
        RegistrationOutcome::Refused(message) => {
            let overview = passkeys::list_passkeys(&ctx, &session).await.map_err(HttpError::page)?;
            render_passkeys(&browser, overview, None, Some(&message), StatusCode::BAD_REQUEST)
        }
    }
}

pub async fn passkey_rename_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (_, session, form) = signed_in_to(&state, &request, Some(&body), Destination::Passkeys).await?;
    let PasskeyFields { id, name, .. } = read_form(&form)?;
    let renamed = passkeys::rename_passkey(&state.context(), &session, &id, &name).await.map_err(HttpError::page)?;
    Ok(see_other(if renamed { "/account/passkeys?notice=renamed" } else { "/account?notice=nothing_changed" }))
}

pub async fn passkey_remove_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (_, session, form) = signed_in_to(&state, &request, Some(&body), Destination::Passkeys).await?;
    let PasskeyFields { id, .. } = read_form(&form)?;
    let removed = passkeys::remove_passkey(&state.context(), &session, &id, &request_meta(&request))
        .await
        .map_err(HttpError::page)?;
    Ok(see_other(if removed { "/account/passkeys?notice=removed" } else { "/account?notice=nothing_changed" }))
}
