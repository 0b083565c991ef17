//! `POST /token` (RFC 6749 §3.2). Every response, success or error, is `no-store`.

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use crate::flows::token::{TokenParams, exchange};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{client_form, request_meta};

pub async fn token_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (auth, form) = client_form(&request, &body).map_err(HttpError::json)?;
    let params = TokenParams::from_pairs(form).map_err(HttpError::json)?;
    let response = exchange(&state.context(), auth, params, &request_meta(&request)).await.map_err(HttpError::json)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(response))
}
