//! `POST /login`: the login page's form.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use super::{PageBrowser, host_cookie, render_outcome};
use crate::flows::authorize::AuthorizeOutcome;
use crate::flows::login::{LoginAttempt, LoginOutcome, login};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{SESSION_COOKIE, field, request_meta};
use crate::security::secret::SecretString;

pub async fn login_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let attempt = LoginAttempt {
        request_id: field(&form, "request_id").unwrap_or_default().to_owned(),
        username: field(&form, "username").unwrap_or_default().to_owned(),
        password: SecretString::new(field(&form, "password").unwrap_or_default()),
    };
    let outcome =
        login(&state.context(), attempt, &browser.browser, &request_meta(&request)).await.map_err(HttpError::page)?;
    match outcome {
        LoginOutcome::Failed(page) => render_outcome(AuthorizeOutcome::Login(page), &browser, true, None),
        LoginOutcome::Expired => render_outcome(AuthorizeOutcome::Expired, &browser, true, None),
        LoginOutcome::LoggedIn { session, next } => {
            let cookie = host_cookie(SESSION_COOKIE, session.cookie_value, Some(session.max_age_seconds));
            // The consent page, if any, belongs to the new session.
            let browser = PageBrowser {
                browser: crate::flows::authorize::Browser { session: Some(session.session), ..browser.browser },
                ..browser
            };
            render_outcome(next, &browser, true, Some(cookie))
        }
    }
}
