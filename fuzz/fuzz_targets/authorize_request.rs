//! The authorization request parser: a query string (or POST body) as `/authorize` reads
//! it, checked against a registered client as the endpoint does.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use wristband::flows::authorize::{AuthorizeParams, trusted_redirect, validate};
use wristband::http::extract::pairs;
use wristband::model::{Client, ClientId, GrantType, RedirectUri, RefreshOverrides};

static CLIENT: LazyLock<Client> = LazyLock::new(|| Client {
    id: ClientId::parse("demo").expect("client id"),
    name: "Demo".into(),
    secret_hash: None,
    redirect_uris: vec![RedirectUri::parse("https://app.example.com/cb").expect("redirect URI")],
    post_logout_redirect_uris: Vec::new(),
    grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
    first_party: false,
    require_pkce: true,
    require_mfa: false,
    access_token_seconds: None,
    refresh: RefreshOverrides::default(),
    backchannel_logout_uri: None,
    created_at: 0,
});

fuzz_target!(|data: &[u8]| {
    let Ok(form) = pairs(data) else { return };
    let params = AuthorizeParams::from_pairs(form);
    if let Ok(redirect_uri) = trusted_redirect(&params, Some(&CLIENT)) {
        assert_eq!(redirect_uri.as_str(), "https://app.example.com/cb", "only the registered URI is trusted");
        let _ = validate(&params, &CLIENT, redirect_uri);
    }
});
