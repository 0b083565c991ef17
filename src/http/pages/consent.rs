//! `POST /consent`: the consent page's answer.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use super::{PageBrowser, render_outcome};
use crate::flows::consent::decide_consent;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::field;

pub async fn consent_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let allow = match field(&form, "decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => return Err(HttpError::bad_page("No answer was given", "Go back, then choose Allow or Deny.")),
    };
    let request_id = field(&form, "request_id").unwrap_or_default();
    let outcome =
        decide_consent(&state.context(), request_id, allow, &browser.browser).await.map_err(HttpError::page)?;
    render_outcome(outcome, &browser, true, None)
}
