//! HTTP: routes, shared state and response shapes. Handlers parse, call one flow, and
//! render; protocol rules live in `flows`.

mod health;
mod oidc;
mod state;

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::web;

pub use oidc::discovery::build_document as discovery_document;
pub use state::AppState;

/// Every route, on one screen.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .wrap(
                DefaultHeaders::new()
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::REFERRER_POLICY, "no-referrer")),
            )
            .route("/.well-known/openid-configuration", web::get().to(oidc::discovery::discovery_get))
            .route("/.well-known/oauth-authorization-server", web::get().to(oidc::discovery::discovery_get))
            .route("/jwks.json", web::get().to(oidc::jwks::jwks_get))
            .route("/healthz", web::get().to(health::healthz_get))
            .route("/readyz", web::get().to(health::readyz_get)),
    );
}
