//! OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2). A field appears only
//! when what it describes is served.

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use serde::Serialize;

use super::super::AppState;
use crate::keys::RS256;
use crate::model::OIDC_SCOPES;

#[derive(Debug, Serialize)]
struct ProviderMetadata<'a> {
    issuer: &'a str,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    revocation_endpoint: String,
    introspection_endpoint: String,
    end_session_endpoint: String,
    scopes_supported: &'static [&'static str],
    response_types_supported: [&'static str; 1],
    response_modes_supported: [&'static str; 1],
    grant_types_supported: [&'static str; 3],
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 1],
    token_endpoint_auth_methods_supported: [&'static str; 3],
    revocation_endpoint_auth_methods_supported: [&'static str; 2],
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    code_challenge_methods_supported: [&'static str; 1],
    claims_supported: [&'static str; 18],
    prompt_values_supported: Vec<&'static str>,
    acr_values_supported: [&'static str; 3],
    claims_parameter_supported: bool,
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
    authorization_response_iss_parameter_supported: bool,
    backchannel_logout_supported: bool,
    backchannel_logout_session_supported: bool,
}

/// Serializes the metadata for `issuer`; done once at start-up.
/// The discovery document; `registration`: sign-up is open (`prompt=create`).
pub fn build_document(issuer: &str, registration: bool) -> Result<Vec<u8>, serde_json::Error> {
    let url = |path: &str| format!("{issuer}{path}");
    serde_json::to_vec(&ProviderMetadata {
        issuer,
        authorization_endpoint: url("/authorize"),
        token_endpoint: url("/token"),
        userinfo_endpoint: url("/userinfo"),
        jwks_uri: url("/jwks.json"),
        revocation_endpoint: url("/revoke"),
        introspection_endpoint: url("/introspect"),
        end_session_endpoint: url("/end_session"),
        scopes_supported: &OIDC_SCOPES,
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: [RS256],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
        revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        code_challenge_methods_supported: ["S256"],
        claims_supported: [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "azp",
            "at_hash",
            "sid",
            "name",
            "preferred_username",
            "email",
            "email_verified",
            "roles",
            "client_id",
        ],
        prompt_values_supported: ["none", "login", "consent", "select_account"]
            .into_iter()
            .chain(registration.then_some("create"))
            .collect(),
        acr_values_supported: crate::model::AssuranceLevel::ALL.map(crate::model::AssuranceLevel::acr),
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        authorization_response_iss_parameter_supported: true,
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
    })
}

pub async fn discovery_get(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(Bytes::from_owner(state.discovery.clone()))
}
