//! `POST /revoke` (RFC 7009).

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use crate::flows::revoke::revoke;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{TokenField, client_form, read_form};

pub async fn revoke_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, HttpError> {
    let (auth, form) = client_form(&request, &body).map_err(HttpError::json)?;
    let TokenField { token } = read_form(&form).map_err(|e| HttpError::json(e.into()))?;
    revoke(&state.context(), auth, Some(token.as_str()).filter(|t| !t.is_empty())).await.map_err(HttpError::json)?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).finish())
}
