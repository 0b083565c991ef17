//! The routes of the example service; `main.rs` serves them. `/me` needs any valid
//! token, `/orders` the `orders:read` scope, `/reports` the `auditor` role, and
//! `/.well-known/oauth-protected-resource` (RFC 9728) tells clients where to get a token.

use actix_web::{HttpResponse, web};
use serde_json::json;
use wristband_verifier::{AuthError, Authenticated, Verifier};

/// The scopes the service understands: register its API with them
/// (`wristband api add <identifier> --scope orders:read`).
pub const SCOPES: [&str; 1] = ["orders:read"];

/// Mounts the routes; the app must hold a `web::Data<wristband_verifier::Verifier>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/.well-known/oauth-protected-resource", web::get().to(metadata))
        .route("/me", web::get().to(me))
        .route("/orders", web::get().to(orders))
        .route("/reports", web::get().to(reports));
}

async fn metadata(verifier: web::Data<Verifier>) -> HttpResponse {
    HttpResponse::Ok().json(verifier.resource_metadata(&SCOPES))
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
