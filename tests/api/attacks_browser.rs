//! The attack suite, browser: forged form posts (no token, another browser's, another
//! session's, another site's), session fixation, cookie attributes, security headers, and
//! markup in every field a person or client controls.

use crate::support::browser::{Browser, REDIRECT_URI, authorize_query};
use crate::support::{PASSWORD, app_with_alice, spawn_app};

/// Signs `username` in at `/account`; returns the browser and its account page.
pub async fn account_of(app: &crate::support::TestApp, username: &str) -> (Browser, crate::support::browser::Page) {
    let mut browser = Browser::new(app);
    let login = browser.get("/login?destination=account").await;
    let csrf = login.hidden("csrf_token").unwrap();
    let signed_in = browser
        .post(
            "/login",
            &[("csrf_token", &csrf), ("destination", "account"), ("username", username), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signed_in.location.as_deref(), Some("/account"), "{}", signed_in.body);
    let page = browser.get("/account").await;
    (browser, page)
}

#[tokio::test]
async fn a_form_token_from_before_the_login_or_from_another_session_is_refused() {
    let (_env, app, _) = app_with_alice().await;
    app.seed_user("bob", PASSWORD, &[]).await;
    let (mut alice, alice_page) = account_of(&app, "alice").await;
    let (mut bob, bob_page) = account_of(&app, "bob").await;
    let alice_sid = alice_page.body.split("name=\"sid\" value=\"").nth(1).unwrap()[..36].to_owned();
    let before_login = {
        let mut fresh = Browser::new(&app);
        fresh.get("/login?destination=account").await.hidden("csrf_token").unwrap()
    };
    let before = app.state_rows().await;

    let foreign = bob
        .post(
            "/account/sessions/end",
            &[("csrf_token", &alice_page.hidden("csrf_token").unwrap()), ("sid", &alice_sid)],
        )
        .await;
    let stale = alice.post("/account/sessions/end", &[("csrf_token", &before_login), ("sid", &alice_sid)]).await;
    let missing = alice.post("/account/sessions/end", &[("sid", &alice_sid)]).await;

    for (case, page) in
        [("another session's token", &foreign), ("a token from before the login", &stale), ("no token", &missing)]
    {
        assert_eq!(page.status, 403, "{case}");
        assert!(page.body.contains("nothing was done"), "{case}: {}", page.body);
    }
    assert_eq!(app.state_rows().await, before);
    assert_eq!(alice.get("/account").await.status, 200, "alice is still signed in");
    let own = bob
        .post("/account/sessions/end", &[("csrf_token", &bob_page.hidden("csrf_token").unwrap()), ("sid", &alice_sid)])
        .await;
    // Bob's own token works for bob, on a session that is not his: to no effect.
    assert_eq!((own.status, own.location.as_deref()), (303, Some("/account?notice=nothing_changed")));
    assert_eq!(alice.get("/account").await.status, 200, "alice is still signed in");
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_even_with_a_valid_token() {
    let (_env, app, _) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let form = [
        ("csrf_token", login_page.hidden("csrf_token").unwrap()),
        ("request_id", login_page.hidden("request_id").unwrap()),
        ("username", "alice".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let cookies: Vec<String> = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let post = |headers: &[(&str, &str)]| {
        let mut request = app.http.post(app.url("/login")).form(&form).header("cookie", cookies.join("; "));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };

    for headers in [
        &[("sec-fetch-site", "cross-site"), ("origin", "null")][..],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "https://evil.example")],
        &[("origin", &app.address.replace("127.0.0.1", "localhost"))],
        &[("referer", "https://evil.example/phish")],
    ] {
        let response = post(headers).await.unwrap();
        assert_eq!(response.status(), 403, "{headers:?}");
        assert!(response.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().contains("session")));
        assert!(response.text().await.unwrap().contains("another site"), "{headers:?}");
    }
    let own = post(&[("sec-fetch-site", "same-origin"), ("origin", "null")]).await.unwrap();
    assert_eq!(own.status(), 303, "our own form, as a browser sends it under no-referrer");
}

#[tokio::test]
async fn every_html_page_carries_the_security_headers() {
    let (_env, app, _) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    let pages = [
        browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await,
        browser.get("/authorize?client_id=nobody").await,
        browser.get("/login?destination=nowhere").await,
        browser.get("/end_session").await,
        browser.post("/login", &[("username", "alice")]).await,
    ];
    for page in &pages {
        let header = |name: &str| page.headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let csp = header("content-security-policy");
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self';") && !csp.contains("unsafe-"), "first-party files only: {csp}");
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert_eq!(header("cache-control"), "no-store", "{}", page.status);
        assert!(header("strict-transport-security").is_empty(), "no HSTS on an http issuer");
        let scripts = page.body.matches("<script").count();
        let files = page.body.matches("<script src=\"/static/passkeys.js?v=").count();
        assert_eq!(scripts, files, "no inline script, only the passkey file");
    }
}

#[tokio::test]
async fn markup_in_names_and_details_is_escaped_on_every_page() {
    let (_env, app) = spawn_app().await;
    let payload = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>";
    app.seed_client_with(wristband::flows::admin::ClientInput {
        client_id: "xss".into(),
        name: Some(payload.into()),
        redirect_uris: vec![REDIRECT_URI.into()],
        ..Default::default()
    })
    .await;
    let input = wristband::flows::admin::UserInput {
        username: "mallory".into(),
        email: Some("mallory@example.com".into()),
        name: Some(payload.into()),
        roles: Vec::new(),
        is_admin: false,
        password: Some(wristband::security::secret::SecretString::new(PASSWORD)),
        verify_before_sign_in: false,
    };
    let (mallory, _) =
        wristband::flows::admin::add_user(&app.ctx(), input, wristband::flows::Actor::Cli).await.unwrap();
    let mut browser = Browser::new(&app);
    let login = browser
        .get(&format!("/authorize?{}", authorize_query("xss", "openid profile", &[("login_hint", payload)])))
        .await;
    let failed = browser.submit_login(&login, payload, "wrong").await;
    let consent = browser.submit_login(&login, "mallory", PASSWORD).await;
    let (mut admin, _) = crate::admin::admin_browser(&app).await;
    let admin_pages = [
        admin.get("/admin/users").await,
        admin.get(&format!("/admin/users/{}", mallory.id)).await,
        admin.get("/admin/clients").await,
        admin.get("/admin/clients/xss").await,
        admin.get("/admin/audit").await,
        admin.get("/admin").await,
    ];

    for page in [&login, &failed, &consent].into_iter().chain(admin_pages.iter()) {
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(!page.body.contains("<script>alert"), "{}", page.body);
        assert!(!page.body.contains("<img src=x"), "{}", page.body);
    }
    assert!(consent.body.contains("&#60;script&#62;") || consent.body.contains("&lt;script&gt;"), "{}", consent.body);
    assert!(admin_pages[0].body.contains("mallory"));
}

#[tokio::test]
async fn the_session_cookie_is_host_prefixed_secure_http_only_and_lax() {
    let (_env, app, _) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;

    let logged_in = browser.submit_login(&login_page, "alice", PASSWORD).await;

    let cookie =
        logged_in.set_cookies.iter().find(|c| c.starts_with("__Host-wristband_session=")).expect("session cookie");
    let attributes: Vec<String> = cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
    for required in ["httponly", "secure", "samesite=lax", "path=/"] {
        assert!(attributes.iter().any(|a| a == required), "{required} missing in {cookie}");
    }
    assert!(!attributes.iter().any(|a| a.starts_with("domain")), "no Domain on a __Host- cookie");
    let csrf = login_page.set_cookies.iter().find(|c| c.starts_with("__Host-wristband_csrf=")).expect("csrf cookie");
    assert!(csrf.contains("Secure") && csrf.contains("HttpOnly") && csrf.contains("Path=/"), "{csrf}");
    for page in [&login_page, &logged_in] {
        assert_eq!(page.headers["cache-control"], "no-store");
        assert_eq!(page.headers["x-frame-options"], "DENY");
        assert!(page.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    }
}

#[tokio::test]
async fn a_planted_session_cookie_is_replaced_at_login() {
    let (_env, app, _) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    browser.cookies.insert("__Host-wristband_session".into(), "planted-by-the-attacker-0123456789abcdef".into());
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;

    browser.submit_login(&login_page, "alice", PASSWORD).await;

    let session = browser.cookies.get("__Host-wristband_session").unwrap();
    assert_ne!(session, "planted-by-the-attacker-0123456789abcdef");
    assert_opens_no_session(&app, "planted-by-the-attacker-0123456789abcdef").await;
}

/// A browser presenting `cookie` as its session is asked to sign in.
async fn assert_opens_no_session(app: &crate::support::TestApp, cookie: &str) {
    let mut browser = Browser::new(app);
    browser.cookies.insert("__Host-wristband_session".into(), cookie.to_owned());
    let page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert!(page.body.contains("action=\"/login\""), "{cookie} opens no session");
}

#[tokio::test]
async fn a_login_without_the_csrf_token_or_from_another_browser_is_refused() {
    let (_env, app, _) = app_with_alice().await;
    let mut victim = Browser::new(&app);
    let login_page = victim.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let request_id = login_page.hidden("request_id").unwrap();
    let mut attacker = Browser::new(&app);
    let attacker_page = attacker.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let attacker_csrf = attacker_page.hidden("csrf_token").unwrap();

    let form = [
        ("csrf_token", attacker_csrf.as_str()),
        ("request_id", &request_id),
        ("username", "alice"),
        ("password", PASSWORD),
    ];
    let missing = victim.post("/login", &form[1..]).await;
    let foreign = victim.post("/login", &form).await;
    let replayed_elsewhere = attacker.post("/login", &form).await;

    for page in [&missing, &foreign] {
        assert_eq!(page.status, 403);
        assert!(page.set_cookies.iter().all(|c| !c.starts_with("__Host-wristband_session")));
    }
    // The attacker's own CSRF token is valid for the attacker, but the victim's request is
    // bound to the victim's browser.
    assert_eq!(replayed_elsewhere.status, 400);
    assert!(replayed_elsewhere.set_cookies.iter().all(|c| !c.starts_with("__Host-wristband_session")));
    assert!(!app.store.recent_audit_events(10).await.unwrap().iter().any(|e| e.event == "login_succeeded"));
}

#[tokio::test]
async fn every_login_gets_a_new_session_id_and_ends_the_previous_session() {
    let (_env, app, _) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    browser.authorize_and_login(&authorize_query("demo", "openid", &[]), "alice", PASSWORD).await;
    let first = browser.cookies["__Host-wristband_session"].clone();

    let login_page =
        browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("prompt", "login")]))).await;
    browser.submit_login(&login_page, "alice", PASSWORD).await;

    let second = browser.cookies["__Host-wristband_session"].clone();
    assert_ne!(first, second);
    assert_opens_no_session(&app, &first).await;
}
