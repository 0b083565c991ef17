//! `/authorize` (GET and POST, OIDC Core §3.1.2.1).

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use super::{PageBrowser, render_outcome};
use crate::flows::authorize::{AuthorizeParams, authorize};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{pairs, query, request_meta};

pub async fn authorize_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let params = AuthorizeParams::from_pairs(query(&request)?);
    respond(&request, &state, params, false).await
}

pub async fn authorize_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let params = AuthorizeParams::from_pairs(pairs(&body)?);
    respond(&request, &state, params, true).await
}

async fn respond(
    request: &HttpRequest,
    state: &AppState,
    params: AuthorizeParams,
    post: bool,
) -> Result<HttpResponse, HttpError> {
    let browser = PageBrowser::load(state, request).await?;
    let meta = request_meta(request);
    let outcome = authorize(&state.context(), &params, &browser.browser, &meta).await.map_err(HttpError::page)?;
    render_outcome(outcome, &browser, post, None)
}
