//! Native apps (RFC 8252): a public client's loopback IP redirect URI matches with any
//! port at request time (§7.3); every other redirect URI, `localhost` included, and every
//! confidential client's, matches exactly.

use wristband::flows::admin::ClientInput;

use crate::support::browser::{Browser, VERIFIER, authorize_query};
use crate::support::{TestApp, spawn_app};

const REGISTERED: &str = "http://127.0.0.1:9000/callback";

fn query(client_id: &str, redirect_uri: &str) -> String {
    authorize_query(client_id, "openid", &[]).replace(
        &format!("redirect_uri={}", urlencode(crate::support::browser::REDIRECT_URI)),
        &format!("redirect_uri={}", urlencode(redirect_uri)),
    )
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn seed(app: &TestApp, client_id: &str, public: bool, redirect_uri: &str) -> Option<String> {
    app.seed_client_with(ClientInput {
        client_id: client_id.into(),
        redirect_uris: vec![redirect_uri.into()],
        first_party: true,
        public,
        ..ClientInput::default()
    })
    .await
}

#[tokio::test]
async fn a_native_app_gets_its_code_on_the_port_it_asked_for_and_exchanges_it_with_that_uri() {
    let (_env, app) = spawn_app().await;
    seed(&app, "native", true, REGISTERED).await;
    app.seed_user("alice", "correct horse battery", &[]).await;
    let asked = "http://127.0.0.1:51234/callback";

    for (exchanged_with, status) in [(REGISTERED, 400), (asked, 200)] {
        let mut browser = Browser::new(&app);
        let done = browser.authorize_and_login(&query("native", asked), "alice", "correct horse battery").await;
        let location = done.location.clone().unwrap();
        assert!(location.starts_with(&format!("{asked}?code=")), "{location}");
        let code = done.redirect_param("code").unwrap();
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", "native"),
            ("code", code.as_str()),
            ("redirect_uri", exchanged_with),
            ("code_verifier", VERIFIER),
        ];
        let response = app.http.post(app.url("/token")).form(&form).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "exchanged with {exchanged_with}");
    }
}

#[tokio::test]
async fn other_ports_are_refused_for_localhost_other_paths_and_confidential_clients() {
    let (_env, app) = spawn_app().await;
    seed(&app, "native", true, REGISTERED).await;
    seed(&app, "named", true, "http://localhost:9000/callback").await;
    seed(&app, "server", false, REGISTERED).await;
    let mut browser = Browser::new(&app);

    for (client, asked) in [
        ("native", "http://127.0.0.1:51234/other"),
        ("native", "http://127.0.0.2:51234/callback"),
        ("named", "http://localhost:51234/callback"),
        ("server", "http://127.0.0.1:51234/callback"),
    ] {
        let page = browser.get(&format!("/authorize?{}", query(client, asked))).await;
        assert_eq!(page.status, 400, "{client} {asked}: an error page, never a redirect");
        assert!(page.location.is_none());
    }
}
