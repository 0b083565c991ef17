//! The OAuth side of tests: token-endpoint forms and answers, query strings.

use crate::support::TestApp;
use crate::support::browser::REDIRECT_URI;

pub fn code_form<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ]
}

pub async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["error_description"].is_string());
    (status, body["error"].as_str().unwrap().to_owned())
}

pub async fn introspect_active(app: &TestApp, secret: &str, token: &str) -> bool {
    let response = app.post_basic("/introspect", "demo", secret, &[("token", token)]).await;
    response.json::<serde_json::Value>().await.unwrap()["active"] == true
}

pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    query.finish()
}
