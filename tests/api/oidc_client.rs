//! A certified-style relying party (the `openidconnect` crate) against the spawned server:
//! discovery, PKCE and nonce, the login and consent pages, the code exchange with the ID
//! token verified by the library, userinfo, refresh, client credentials, revocation,
//! introspection and logout.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IntrospectionUrl, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RequestTokenError, Scope, TokenIntrospectionResponse,
    TokenResponse,
};

use crate::support::browser::{Browser, REDIRECT_URI};
use crate::support::service::serve_protected;
use crate::support::spawn_app;

#[tokio::test]
async fn a_relying_party_library_logs_alice_in_and_uses_every_endpoint() {
    // Arrange: the two CLI steps of the README, done through the same admin flows.
    let (_env, app) = spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, false).await;
    let alice = app.seed_user("alice", "correct horse battery", &["reader"]).await;
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Discovery
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(app.address.clone()).unwrap(), &http)
        .await
        .expect("discovery document accepted by the library");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("demo".into()),
        Some(ClientSecret::new(secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap())
    .set_introspection_url(IntrospectionUrl::new(app.url("/introspect")).unwrap());

    // Authorization request with PKCE and nonce, driven through the pages like a browser.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf_state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("roles".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut browser = Browser::new(&app);
    assert!(auth_url.as_str().starts_with(&app.url("/authorize?")));
    let redirect = browser.authorize_and_login(auth_url.query().unwrap(), "alice", "correct horse battery").await;
    assert_eq!(redirect.redirect_param("state").as_deref(), Some(csrf_state.secret().as_str()));
    assert_eq!(redirect.redirect_param("iss").as_deref(), Some(app.address.as_str()));
    let code = redirect.redirect_param("code").unwrap();

    // Code exchange; the library verifies the ID token (RS256 via JWKS, iss, aud, exp, nonce).
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let id_token_verifier = client.id_token_verifier();
    let id_claims = id_token.claims(&id_token_verifier, &nonce).expect("ID token verifies");
    assert_eq!(id_claims.subject().as_str(), alice.id.to_string());
    assert_eq!(id_claims.preferred_username().unwrap().as_str(), "alice");
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_token_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(id_claims.access_token_hash(), Some(&expected_hash));

    // UserInfo
    let userinfo: CoreUserInfoClaims =
        client.user_info(tokens.access_token().clone(), None).unwrap().request_async(&http).await.expect("userinfo");
    assert_eq!(userinfo.subject().as_str(), alice.id.to_string());
    assert_eq!(userinfo.email().unwrap().as_str(), "alice@example.com");

    // Introspection of the access token
    let status = client.introspect(tokens.access_token()).request_async(&http).await.expect("introspection");
    assert!(status.active());

    // Refresh: a new refresh token, and the old one is spent.
    let refresh_token = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client.exchange_refresh_token(&refresh_token).unwrap().request_async(&http).await.expect("refresh");
    let new_refresh = refreshed.refresh_token().expect("a rotated refresh token").clone();
    assert_ne!(new_refresh.secret(), refresh_token.secret());
    assert!(refreshed.id_token().unwrap().claims(&id_token_verifier, |_: Option<&Nonce>| Ok(())).is_ok());

    // Revocation of the family through its newest token; it no longer refreshes. (The
    // library refuses to revoke over http, so this one request is made directly.)
    let revoked = app.post_basic("/revoke", "demo", &secret, &[("token", new_refresh.secret())]).await;
    assert_eq!(revoked.status(), 200);
    assert!(client.exchange_refresh_token(&new_refresh).unwrap().request_async(&http).await.is_err());

    // demo was registered without client_credentials: the server refuses it.
    let refused = client.exchange_client_credentials().unwrap().request_async(&http).await.unwrap_err();
    match refused {
        RequestTokenError::ServerResponse(response) => {
            assert_eq!(*response.error(), CoreErrorResponseType::UnauthorizedClient)
        }
        other => panic!("expected unauthorized_client, got {other:?}"),
    }

    // Logout with the ID token as hint, back to a registered URI with the state.
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", &id_token.to_string())
        .append_pair("post_logout_redirect_uri", &format!("{REDIRECT_URI}/logged-out"))
        .append_pair("state", "bye")
        .finish();
    let logout = browser.get(&format!("/end_session?{query}")).await;
    assert_eq!(logout.status, 302, "{}", logout.body);
    assert_eq!(logout.location.as_deref(), Some(format!("{REDIRECT_URI}/logged-out?state=bye").as_str()));
    let status = client.introspect(refreshed.access_token()).request_async(&http).await.unwrap();
    assert!(!status.active(), "tokens of an ended session are inactive");
}

/// The way a client of an API works: the library asks for a token for the example service
/// (`resource`, RFC 8707) and calls the service with it; the service accepts it, and the
/// same app's token for itself is refused there.
#[tokio::test]
async fn a_relying_party_library_gets_a_token_for_an_api_and_the_api_accepts_it() {
    let (_env, app) = spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, false).await;
    app.seed_user("alice", "correct horse battery", &[]).await;
    let service = serve_protected(&app, "demo").await;
    app.allow_apis("demo", &[&service], false).await;
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.address.clone()).unwrap(), &http).await.unwrap();
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new("demo".into()), Some(ClientSecret::new(secret)))
            .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("orders:read".into()))
        .add_extra_param("resource", &service)
        .set_pkce_challenge(challenge)
        .url();
    let redirect =
        Browser::new(&app).authorize_and_login(auth_url.query().unwrap(), "alice", "correct horse battery").await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(redirect.redirect_param("code").unwrap()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .add_extra_param("resource", &service)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token_verifier = client.id_token_verifier();
    tokens.id_token().unwrap().claims(&id_token_verifier, &nonce).expect("the ID token is still the client's");
    let orders = reqwest::Client::new()
        .get(format!("{service}/orders"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap();
    let scopes: Vec<String> = tokens.scopes().unwrap().iter().map(|s| s.to_string()).collect();

    assert_eq!(orders.status(), 200, "the service accepts a token for its API");
    assert_eq!(scopes, ["openid", "orders:read"]);
    assert_eq!(crate::support::browser::claims(tokens.access_token().secret())["aud"], service.as_str());
}

#[tokio::test]
async fn a_relying_party_library_gets_client_credentials_tokens() {
    let (_env, app) = spawn_app().await;
    let secret = app
        .seed_client_with(wristband::flows::admin::ClientInput {
            client_id: "reporting".into(),
            grant_types: vec!["client_credentials".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let http = openidconnect::reqwest::Client::new();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.address.clone()).unwrap(), &http).await.unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("reporting".into()),
        Some(ClientSecret::new(secret)),
    );

    let tokens = client.exchange_client_credentials().unwrap().request_async(&http).await.expect("client credentials");

    assert!(tokens.refresh_token().is_none());
    assert!(tokens.id_token().is_none());
    let claims = crate::support::browser::claims(tokens.access_token().secret());
    assert_eq!(claims["sub"], "reporting");
    assert_eq!(claims["client_id"], "reporting");
    assert!(claims.get("sid").is_none() && claims.get("auth_time").is_none());
}
