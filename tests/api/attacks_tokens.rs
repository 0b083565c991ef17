//! The attack suite, tokens: everything an attacker can bring to userinfo and
//! introspection instead of a genuine access token. Each is refused, nothing is fetched
//! from the URLs the headers name, nothing is written, and the genuine token still works.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::browser::{app_with_tokens, claims, header};
use crate::forge;
use crate::helpers::TestApp;

/// A listener that counts the connections it gets: where `jku` and `x5u` point.
struct Trap {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl Trap {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/keys.json", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        tokio::spawn(async move {
            while listener.accept().await.is_ok() {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self { url, connections }
    }
}

async fn userinfo_refuses(app: &TestApp, token: &str, case: &str) {
    let response = app.http.get(app.url("/userinfo")).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 401, "userinfo, {case}");
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains(r#"error="invalid_token""#), "userinfo, {case}: {challenge}");
    assert!(response.text().await.unwrap().contains("invalid_token"), "{case}");
}

async fn introspection(app: &TestApp, secret: &str, token: &str) -> Value {
    let response = app.post_basic("/introspect", "demo", secret, &[("token", token)]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn forged_tampered_expired_and_misused_tokens_are_refused_at_userinfo_and_introspection() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let genuine = claims(&access);
    let kid = header(&access)["kid"].as_str().unwrap().to_owned();
    let jwks = app.get_json("/jwks.json").await;
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone();
    let (pem, jwk_text) = forge::public_key_material(&jwk);
    let trap = Trap::start().await;
    let now = app.clock_now();
    let changed = |name: &str, value: Value| {
        let mut claims = genuine.clone();
        claims[name] = value;
        claims
    };
    let (_browser, code) = crate::browser::code_for(&app, "demo", "alice", "correct horse battery").await;
    let revoked =
        crate::browser::exchange(&app, "demo", &secret, &code).await["access_token"].as_str().unwrap().to_owned();
    app.post_basic("/revoke", "demo", &secret, &[("token", &revoked)]).await;

    let cases: Vec<(&str, String)> = vec![
        ("alg none", forge::unsigned(&kid, &genuine)),
        ("HS256 keyed with the public key's PEM", forge::hs256(&kid, &genuine, &pem)),
        ("HS256 keyed with the public JWK", forge::hs256(&kid, &genuine, &jwk_text)),
        ("RS256 by a foreign key under our kid", forge::foreign_rs256(&kid, &genuine)),
        ("unknown kid", forge::foreign_rs256("no-such-kid", &genuine)),
        ("kid with path traversal", forge::foreign_rs256("../../../../etc/passwd", &genuine)),
        ("kid with SQL", forge::foreign_rs256("' OR '1'='1'; DROP TABLE signing_keys; --", &genuine)),
        ("very long kid", forge::foreign_rs256(&"k".repeat(4_000), &genuine)),
        (
            "jku to the attacker's keys",
            forge::attacker_rs256(json!({"alg": "RS256", "typ": "at+jwt", "kid": kid, "jku": trap.url}), &genuine),
        ),
        (
            "x5u to the attacker's certificate",
            forge::attacker_rs256(json!({"alg": "RS256", "typ": "at+jwt", "kid": kid, "x5u": trap.url}), &genuine),
        ),
        (
            "embedded jwk",
            forge::attacker_rs256(json!({"alg": "RS256", "typ": "at+jwt", "jwk": "{public_jwk}"}), &genuine),
        ),
        (
            "embedded x5c",
            forge::attacker_rs256(json!({"alg": "RS256", "typ": "at+jwt", "kid": kid, "x5c": "{x5c}"}), &genuine),
        ),
        ("flipped payload byte", forge::flipped_payload_byte(&access)),
        ("claims swapped under the signature", forge::with_claims(&access, &changed("sub", json!("someone-else")))),
        ("truncated signature", access[..access.len() - 6].to_owned()),
        ("no signature", access[..access.rfind('.').unwrap() + 1].to_owned()),
        ("expired", app.sign_as_wristband("at+jwt", &changed("exp", json!(now - 61 - 1))).await),
        ("nbf in the future", app.sign_as_wristband("at+jwt", &changed("nbf", json!(now + 3_600))).await),
        ("iat in the future beyond leeway", app.sign_as_wristband("at+jwt", &changed("iat", json!(now + 61))).await),
        ("wrong iss", app.sign_as_wristband("at+jwt", &changed("iss", json!("https://evil.example"))).await),
        ("an ID token", tokens["id_token"].as_str().unwrap().to_owned()),
        ("typ JWT on access claims", app.sign_as_wristband("JWT", &genuine).await),
        ("a revoked jti", revoked),
        ("a refresh token", tokens["refresh_token"].as_str().unwrap().to_owned()),
        ("garbage", "not.a.jwt".to_owned()),
        ("empty segments", "..".to_owned()),
        ("bad base64", "e30!.e30!.e30!".to_owned()),
    ];
    let before = app.state_rows().await;

    for (case, token) in &cases {
        userinfo_refuses(&app, token, case).await;
        if *case != "a refresh token" {
            assert_eq!(introspection(&app, &secret, token).await, json!({"active": false}), "introspection, {case}");
        }
    }
    let wrong_audience = app.sign_as_wristband("at+jwt", &changed("aud", json!("https://other-api.example"))).await;
    userinfo_refuses(&app, &wrong_audience, "a token for another resource").await;
    let described = introspection(&app, &secret, &wrong_audience).await;
    assert_eq!(
        described["aud"], "https://other-api.example",
        "introspection reports the audience for the caller to check"
    );

    assert_eq!(trap.connections.load(Ordering::SeqCst), 0, "jku and x5u are never fetched");
    assert_eq!(app.state_rows().await, before, "nothing was written");
    let still = app.http.get(app.url("/userinfo")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(still.status(), 200, "the genuine token is untouched");
    assert_eq!(introspection(&app, &secret, &access).await["active"], true);
}
