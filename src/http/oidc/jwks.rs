//! The JWK Set (RFC 7517 §5) at `jwks_uri`: precomputed bytes, cacheable, revalidated
//! with its ETag.

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use super::super::AppState;

pub async fn jwks_get(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let keys = state.keystore.current();
    let jwks = &keys.jwks;
    // Verifiers cache the set for max-age; a rotation publishes the new key as `next`
    // for longer than that before it signs anything (DESIGN.md, Keys and rotation).
    let cache_control = format!("public, max-age={}, must-revalidate", state.config.keys.jwks_max_age_seconds);
    let not_modified = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| etag_matches(v, &jwks.etag));
    let mut response = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, jwks.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    if not_modified {
        return response.finish();
    }
    response.content_type("application/jwk-set+json").body(Bytes::from_owner(jwks.body.clone()))
}

/// If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `W/` is ignored, `*` matches.
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag)
}

#[cfg(test)]
mod tests {
    use super::etag_matches;

    #[test]
    fn if_none_match_follows_rfc9110() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
        assert!(!etag_matches("abc", "\"abc\""));
    }
}
