//! `POST /consent`: the consent page's answer.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{PageBrowser, render_outcome};
use crate::flows::consent::decide_consent;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::read_form;

/// The consent page's answer to one pending request.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Decision {
    decision: String,
    request_id: String,
}

pub async fn consent_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (browser, form) = PageBrowser::load_for_form(&state, &request, &body).await?;
    let Decision { decision, request_id } = read_form(&form)?;
    let allow = match decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => return Err(HttpError::bad_page("No answer was given", "Go back, then choose Allow or Deny.")),
    };
    let outcome =
        decide_consent(&state.context(), &request_id, allow, &browser.browser).await.map_err(HttpError::page)?;
    render_outcome(outcome, &browser, true, None)
}
