//! The routes of the example service; `main.rs` serves them. `/me` needs any valid
//! token, `/orders` the `orders:read` scope, `/reports` the `auditor` role.

use actix_web::{HttpResponse, web};
use serde_json::json;
use wristband_verifier::{AuthError, Authenticated};

/// Mounts the routes; the app must hold a `web::Data<wristband_verifier::Verifier>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/me", web::get().to(me))
        .route("/orders", web::get().to(orders))
        .route("/reports", web::get().to(reports));
}

async fn me(auth: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "sub": auth.subject, "client_id": auth.client_id, "scopes": auth.scopes }))
}

async fn orders(auth: Authenticated) -> Result<HttpResponse, AuthError> {
    auth.require_scope("orders:read")?;
    Ok(HttpResponse::Ok().json(json!({ "orders": [], "for": auth.subject })))
}

async fn reports(auth: Authenticated) -> Result<HttpResponse, AuthError> {
    auth.require_role("auditor")?;
    Ok(HttpResponse::Ok().json(json!({ "reports": [] })))
}
