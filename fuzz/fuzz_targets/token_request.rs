//! The token request parser: the Authorization header and the form body, as `/token`
//! reads them, then the parameters every grant parses.
#![no_main]

use actix_web::http::header;
use actix_web::test::TestRequest;
use libfuzzer_sys::fuzz_target;
use wristband::flows::pkce;
use wristband::flows::token::TokenParams;
use wristband::http::extract::client_form;
use wristband::model::{GrantType, RedirectUri, Scope};

fuzz_target!(|data: &[u8]| {
    // The first line is the Authorization header, the rest the body.
    let (authorization, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&[][..], data),
    };
    let mut request = TestRequest::post().insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"));
    if let Ok(value) = header::HeaderValue::from_bytes(authorization) {
        request = request.insert_header((header::AUTHORIZATION, value));
    }
    let Ok((_auth, form)) = client_form(&request.to_http_request(), body) else { return };
    let Ok(params) = TokenParams::from_pairs(form) else { return };
    let _ = params.get("grant_type").map(GrantType::parse);
    let _ = params.get("scope").map(Scope::parse);
    let _ = params.get("redirect_uri").map(RedirectUri::parse);
    if let Some(verifier) = params.get("code_verifier") {
        let _ = pkce::is_valid_verifier(verifier) && pkce::verify_s256(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }
});
