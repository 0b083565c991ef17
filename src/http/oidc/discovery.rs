//! OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2). A field appears only
//! when what it describes is served.

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use serde::Serialize;

use super::super::AppState;

pub const JWKS_PATH: &str = "/jwks.json";

#[derive(Debug, Serialize)]
struct ProviderMetadata<'a> {
    issuer: &'a str,
    jwks_uri: String,
}

/// Serializes the metadata for `issuer`; done once at start-up.
pub fn build_document(issuer: &str) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&ProviderMetadata { issuer, jwks_uri: format!("{issuer}{JWKS_PATH}") })
}

pub async fn discovery_get(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(Bytes::from_owner(state.discovery.clone()))
}
