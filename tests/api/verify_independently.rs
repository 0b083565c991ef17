//! A resource server's view: verify an access token with josekit and the published JWKS
//! alone, RS256 only, checking typ, iss, aud and exp, the way DESIGN.md tells services to.

use crate::support::browser::{REDIRECT_URI, code_for, exchange};
use crate::support::spawn_app;

#[tokio::test]
async fn an_access_token_verifies_against_the_jwks_with_josekit() {
    let (_env, app) = spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", "correct horse battery", &[]).await;
    let (_browser, code) = code_for(&app, "demo", "alice", "correct horse battery").await;
    let tokens = exchange(&app, "demo", &secret, &code).await;
    let access = tokens["access_token"].as_str().unwrap();
    let discovery = app.get_json("/.well-known/openid-configuration").await;
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    assert_eq!(jwks_uri, app.url("/jwks.json"));
    let verifiers = app.jwks_verifiers().await;
    let (payload, header) = josekit::jwt::decode_with_verifier_selector(access, |header| {
        Ok(verifiers.iter().find(|v| v.key_id() == header.key_id()).map(|v| v.as_ref()))
    })
    .expect("the access token verifies with a published key");

    assert_eq!(header.token_type(), Some("at+jwt"));
    assert_eq!(payload.issuer(), Some(app.address.as_str()));
    assert_eq!(payload.audience(), Some(vec!["demo"]));
    let expires = payload.expires_at().unwrap();
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(app.clock_now() as u64);
    assert_eq!(expires, now + std::time::Duration::from_secs(900));
    assert!(tokens["id_token"].as_str().is_some_and(|id| {
        josekit::jwt::decode_with_verifier_selector(id, |h| {
            Ok(verifiers.iter().find(|v| v.key_id() == h.key_id()).map(|v| v.as_ref()))
        })
        .is_ok()
    }));
}
