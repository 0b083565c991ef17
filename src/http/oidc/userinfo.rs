//! `/userinfo` (OIDC Core §5.3), GET and POST, with `Authorization: Bearer`.

use actix_web::http::header;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};

use crate::flows::userinfo::userinfo;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::bearer_token;

pub async fn userinfo_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let claims = userinfo(&state.context(), bearer_token(&request)).await.map_err(HttpError::bearer)?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(claims))
}
