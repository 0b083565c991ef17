//! The admin pages over HTTP: who gets in, and every task an administrator does there.

use wristband::model::{ClientId, KeyState, Username};
use wristband::security::random::sha256_hex;

use crate::support::TestApp;
use crate::support::browser::{
    Browser, Page, REDIRECT_URI, app_with_tokens, authorize_query, claims, code_for, exchange,
};

/// What the bootstrapped admin's printed, temporary password is replaced with.
const ADMIN_PASSWORD: &str = "the admin's own passphrase";

/// The bootstrapped admin, signed in with TOTP, their temporary password replaced, on the
/// dashboard; and the form token of that session.
pub async fn admin_browser(app: &TestApp) -> (Browser, String) {
    let phone = app.enrol_totp("admin").await;
    let password = app.bootstrapped_admin.clone().unwrap().password.unwrap();
    let mut browser = Browser::new(app);
    let login = browser.get("/login?destination=admin").await;
    let csrf = login.hidden("csrf_token").unwrap();
    let code_page = browser
        .post(
            "/login",
            &[("csrf_token", &csrf), ("destination", "admin"), ("username", "admin"), ("password", password.expose())],
        )
        .await;
    let temporary = browser.submit_code(&code_page, &app.code(&phone)).await;
    let done = browser.replace_password(&temporary, ADMIN_PASSWORD).await;
    assert_eq!(done.location.as_deref(), Some("/admin"), "{}", done.body);
    assert_eq!(browser.get("/admin").await.status, 200);
    let csrf = browser.get("/admin/keys").await.hidden("csrf_token").expect("the signed-in session's form token");
    (browser, csrf)
}

/// Signs in at `/authorize` with a temporary password, which must be replaced before the
/// code is issued; returns the browser and the code.
async fn first_sign_in(app: &TestApp, username: &str, temporary: &str, chosen: &str) -> (Browser, String) {
    let mut browser = Browser::new(app);
    let login = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid roles", &[]))).await;
    let page = browser.submit_login(&login, username, temporary).await;
    let skipped = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid roles", &[]))).await;
    assert!(skipped.body.contains("Choose a new password"), "no code before the password is replaced");
    let silent = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("prompt", "none")]))).await;
    assert_eq!(silent.redirect_param("error").as_deref(), Some("interaction_required"));
    let short = browser.replace_password(&page, "short").await;
    assert!(short.body.contains("at least"), "the policy applies: {}", short.body);
    let redirect = browser.replace_password(&page, chosen).await;
    assert_eq!(redirect.status, 303, "{}", redirect.body);
    let mut again = Browser::new(app);
    let login = again.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert!(
        again.submit_login(&login, username, temporary).await.body.contains("Incorrect"),
        "the temporary one is gone"
    );
    (browser, redirect.redirect_param("code").expect("a code"))
}

fn secret_on(page: &Page) -> String {
    let start = page.body.find("<code class=\"secret\" id=\"secret\">").expect("a secret is shown") + 33;
    page.body[start..start + page.body[start..].find("</code>").unwrap()].to_owned()
}

async fn events(app: &TestApp, name: &str) -> Vec<wristband::store::AuditRecord> {
    app.store.recent_audit_events(100).await.unwrap().into_iter().filter(|e| e.event == name).collect()
}

/// Every route of the admin scope, as served, with its path parameters filled in.
fn every_admin_route() -> Vec<(&'static str, String)> {
    wristband::http::ADMIN_ROUTES.iter().map(|(method, path)| (*method, fill_parameters(path))).collect()
}

/// `{id}`, `{sid}`, `{kid}` and `{action}` replaced by plausible values: the guard refuses
/// before any handler reads them.
fn fill_parameters(path: &str) -> String {
    let mut filled = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e + 1);
        filled.push_str(&rest[..start]);
        filled.push_str(if &rest[start..end] == "{action}" {
            "disable"
        } else {
            "00000000-0000-0000-0000-000000000000"
        });
        rest = &rest[end..];
    }
    filled.push_str(rest);
    filled
}

#[tokio::test]
async fn every_admin_route_refuses_everyone_but_an_administrator_with_two_factors() {
    let (_env, app, _, _) = app_with_tokens().await;
    let mut anonymous = Browser::new(&app);
    let (mut alice, _) = code_for(&app, "demo", "alice", "correct horse battery").await;
    let alice_csrf = alice.get("/account").await.hidden("csrf_token").expect("a form token for alice");
    let mut one_factor = Browser::new(&app);
    let login = one_factor.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let password = app.bootstrapped_admin.clone().unwrap().password.unwrap();
    let temporary = one_factor.submit_login(&login, "admin", password.expose()).await;
    assert_eq!(one_factor.replace_password(&temporary, ADMIN_PASSWORD).await.status, 303);
    let one_factor_csrf = one_factor.get("/account").await.hidden("csrf_token").expect("a form token");
    let routes = every_admin_route();
    assert!(routes.len() >= 20, "{routes:?}");
    let before = app.state_rows().await;

    for (method, path) in &routes {
        if *method == "GET" {
            let page = anonymous.get(path).await;
            assert_eq!(page.location.as_deref(), Some("/login?destination=admin"), "{method} {path}");
            let page = alice.get(path).await;
            assert_eq!(page.status, 403, "{method} {path}");
            assert!(page.body.contains("Administrators only"), "{method} {path}: {}", page.body);
            if path != "/admin" {
                assert_eq!(one_factor.get(path).await.location.as_deref(), Some("/admin"), "{method} {path}: step up");
            }
        } else {
            let form = [("confirm", "yes"), ("username", "mallory"), ("decision", "allow")];
            assert_eq!(anonymous.post(path, &form).await.status, 403, "{method} {path}: no form token");
            let page = alice.post(path, &[("csrf_token", alice_csrf.as_str()), ("confirm", "yes")]).await;
            assert_eq!(page.status, 403, "{method} {path}");
            assert!(page.body.contains("Administrators only"), "{method} {path}: {}", page.body);
            let page = one_factor.post(path, &[("csrf_token", one_factor_csrf.as_str()), ("confirm", "yes")]).await;
            assert_eq!(page.location.as_deref(), Some("/admin"), "{method} {path}: step up first");
        }
    }
    assert_eq!(app.state_rows().await, before, "nothing changed, no half-done login either");
    let step_up = one_factor.get("/admin").await;
    assert!(step_up.body.contains("Set up two-step verification"), "/admin shows the step: {}", step_up.body);
}

#[tokio::test]
async fn every_admin_form_refuses_a_missing_csrf_token() {
    let (_env, app, _, _) = app_with_tokens().await;
    let (mut admin, _) = admin_browser(&app).await;
    let alice = app.store.find_user_by_username(&Username::parse("alice").unwrap()).await.unwrap().unwrap();
    let kid = app.store.list_signing_keys().await.unwrap()[0].kid.clone();
    let posts = [
        "/admin/users".to_owned(),
        format!("/admin/users/{}", alice.id),
        format!("/admin/users/{}/disable", alice.id),
        "/admin/clients".to_owned(),
        "/admin/clients/demo".to_owned(),
        "/admin/clients/demo/rotate-secret".to_owned(),
        "/admin/clients/demo/delete".to_owned(),
        "/admin/keys/rotate".to_owned(),
        format!("/admin/keys/{kid}/revoke"),
        "/admin/inspect".to_owned(),
    ];
    for path in &posts {
        assert_eq!(admin.post(path, &[("confirm", "yes"), ("username", "mallory")]).await.status, 403, "{path}");
    }
    assert!(!app.store.find_user(alice.id).await.unwrap().unwrap().disabled);
    assert_eq!(app.store.list_signing_keys().await.unwrap().len(), 2, "no rotation, no revocation");
}

#[tokio::test]
async fn an_admin_manages_a_user_from_creation_to_reset() {
    let (_env, app, secret, _) = app_with_tokens().await;
    let (mut admin, csrf) = admin_browser(&app).await;

    let created = admin
        .post(
            "/admin/users",
            &[("csrf_token", &csrf), ("username", "bob"), ("email", "bob@example.com"), ("roles", "reader")],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let password = secret_on(&created);
    let bob = app.store.find_user_by_username(&Username::parse("bob").unwrap()).await.unwrap().unwrap();
    let list = admin.get("/admin/users?q=BO").await;
    assert!(list.body.contains(&format!("/admin/users/{}", bob.id)) && !list.body.contains(">alice<"), "{}", list.body);

    let saved = admin
        .post(
            &format!("/admin/users/{}", bob.id),
            &[("csrf_token", &csrf), ("name", "Bob B"), ("email", ""), ("roles", "reader, writer")],
        )
        .await;
    assert_eq!(saved.location, Some(format!("/admin/users/{}?notice=user_saved", bob.id)));
    let (mut bob_browser, code) = first_sign_in(&app, "bob", &password, "bob's own passphrase").await;
    let tokens = exchange(&app, "demo", &secret, &code).await;
    assert_eq!(claims(tokens["access_token"].as_str().unwrap())["roles"], serde_json::json!(["reader", "writer"]));
    let detail = admin.get(&format!("/admin/users/{}", bob.id)).await;
    assert!(
        detail.body.contains("/sessions/") && detail.body.contains("/admin/families/"),
        "sessions and families listed"
    );

    let disabled = admin.post(&format!("/admin/users/{}/disable", bob.id), &[("csrf_token", &csrf)]).await;
    assert!(disabled.location.unwrap().ends_with("notice=user_disabled"));
    let refreshed = app
        .post_token(
            "demo",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(refreshed.status(), 400, "disabling ends the families");
    assert_eq!(bob_browser.get("/account").await.status, 303, "and the sessions");
    admin.post(&format!("/admin/users/{}/enable", bob.id), &[("csrf_token", &csrf)]).await;
    let temporary = admin.post(&format!("/admin/users/{}/password", bob.id), &[("csrf_token", &csrf)]).await;
    let new_password = secret_on(&temporary);
    assert_ne!(new_password, password);
    first_sign_in(&app, "bob", &new_password, "bob's second passphrase").await;

    let admin_id = app.store.find_user_by_username(&Username::parse("admin").unwrap()).await.unwrap().unwrap().id;
    let myself = admin.post(&format!("/admin/users/{admin_id}/disable"), &[("csrf_token", &csrf)]).await;
    assert!(myself.status == 400 && myself.body.contains("cannot disable your own account"), "{}", myself.body);
    assert!(!app.store.find_user(admin_id).await.unwrap().unwrap().disabled);
    for event in ["user_created", "user_updated", "user_disabled", "user_enabled", "user_password_set"] {
        let found = events(&app, event).await;
        assert!(found.iter().any(|e| e.actor_user_id == Some(admin_id)), "{event} is audited with the admin");
    }
}

#[tokio::test]
async fn an_admin_creates_edits_rotates_and_deletes_a_client() {
    let (_env, app, _, _) = app_with_tokens().await;
    let (mut admin, csrf) = admin_browser(&app).await;

    let created = admin
        .post(
            "/admin/clients",
            &[
                ("csrf_token", &csrf),
                ("client_id", "reports"),
                ("name", "Reports"),
                ("client_credentials", "yes"),
                ("access_token_seconds", "600"),
            ],
        )
        .await;
    let secret = secret_on(&created);
    let token = app.post_token("reports", &secret, &[("grant_type", "client_credentials")]).await;
    assert_eq!(token.status(), 200);
    let bad = admin
        .post(
            "/admin/clients",
            &[("csrf_token", &csrf), ("client_id", "x"), ("redirect_uris", "http://evil.example/cb")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Nothing was changed") && bad.body.contains("https"), "{}", bad.body);

    let saved = admin
        .post(
            "/admin/clients/reports",
            &[
                ("csrf_token", &csrf),
                ("name", "Reports v2"),
                ("authorization_code", "yes"),
                ("redirect_uris", REDIRECT_URI),
                ("require_mfa", "yes"),
            ],
        )
        .await;
    assert_eq!(saved.location.as_deref(), Some("/admin/clients/reports?notice=client_saved"), "{}", saved.body);
    let client = app.store.find_client(&ClientId::parse("reports").unwrap()).await.unwrap().unwrap();
    assert!(client.require_mfa && client.name == "Reports v2" && !client.is_public());
    let rotated = admin.post("/admin/clients/reports/rotate-secret", &[("csrf_token", &csrf)]).await;
    let new_secret = secret_on(&rotated);
    assert_ne!(new_secret, secret);
    // Each change applies to the very next request, though the server caches clients.
    let form = [("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", REDIRECT_URI)];
    assert_eq!(app.post_token("reports", &secret, &form).await.status(), 401, "the old secret is refused at once");
    assert_eq!(app.post_token("reports", &new_secret, &form).await.status(), 400, "the new secret authenticates");

    let confirm = admin.get("/admin/clients/reports/delete").await;
    assert!(confirm.body.contains("Delete this client?"));
    let deleted = admin.post("/admin/clients/reports/delete", &[("csrf_token", &csrf), ("confirm", "yes")]).await;
    assert_eq!(deleted.location.as_deref(), Some("/admin/clients?notice=client_deleted"));
    assert_eq!(app.post_token("reports", &new_secret, &form).await.status(), 401, "a deleted client is gone at once");
}

#[tokio::test]
async fn rotate_now_asks_first_when_verifiers_may_lack_the_next_key_and_revoke_asks_always() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let (mut admin, csrf) = admin_browser(&app).await;
    let before = app.store.list_signing_keys().await.unwrap();
    let active = before.iter().find(|k| k.state == KeyState::Active).unwrap().kid.clone();

    let asked = admin.post("/admin/keys/rotate", &[("csrf_token", &csrf)]).await;
    assert!(asked.body.contains("Rotate before every verifier has the next key?"), "{}", asked.body);
    assert_eq!(app.store.list_signing_keys().await.unwrap().len(), 2, "nothing yet");
    let rotated = admin.post("/admin/keys/rotate", &[("csrf_token", &csrf), ("confirm", "yes")]).await;
    assert_eq!(rotated.location.as_deref(), Some("/admin/keys?notice=key_rotated"));
    let keys_page = admin.get("/admin/keys").await;
    assert!(keys_page.body.contains(&active) && keys_page.body.contains("retired"));
    let old_token = tokens["access_token"].as_str().unwrap();
    let introspected = app.post_basic("/introspect", "demo", &secret, &[("token", old_token)]).await;
    assert_eq!(introspected.json::<serde_json::Value>().await.unwrap()["active"], true, "old tokens keep working");

    app.clock.advance(300);
    let quiet = admin.post("/admin/keys/rotate", &[("csrf_token", &csrf)]).await;
    assert_eq!(quiet.location.as_deref(), Some("/admin/keys?notice=key_rotated"), "no question once caches hold it");
    assert!(admin.get(&format!("/admin/keys/{active}/revoke")).await.body.contains("Revoke this key?"));
    let revoked =
        admin.post(&format!("/admin/keys/{active}/revoke"), &[("csrf_token", &csrf), ("confirm", "yes")]).await;
    assert_eq!(revoked.location.as_deref(), Some("/admin/keys?notice=key_revoked"));
    let state = app.store.list_signing_keys().await.unwrap().into_iter().find(|k| k.kid == active).unwrap().state;
    assert_eq!(state, KeyState::Revoked);
    assert_eq!(events(&app, "key_rotated").await.len(), 2);
}

#[tokio::test]
async fn families_audit_and_the_inspector() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let (mut admin, csrf) = admin_browser(&app).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let family = app.store.find_refresh_token(&sha256_hex(refresh)).await.unwrap().unwrap().family.id;

    let listed = admin.get("/admin/families?user=alice&client=demo").await;
    assert!(listed.body.contains(&family.to_string()), "{}", listed.body);
    assert!(!admin.get("/admin/families?client=other").await.body.contains(&family.to_string()));
    let revoked = admin
        .post(&format!("/admin/families/{family}/revoke"), &[("csrf_token", &csrf), ("back", "https://evil.example/")])
        .await;
    assert_eq!(revoked.location.as_deref(), Some("/admin/families?notice=family_revoked"), "never an open redirect");
    let refreshed =
        app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(refreshed.status(), 400);
    let introspected =
        app.post_basic("/introspect", "demo", &secret, &[("token", tokens["access_token"].as_str().unwrap())]).await;
    assert_eq!(introspected.json::<serde_json::Value>().await.unwrap()["active"], false);

    let audit = admin.get("/admin/audit?event=refresh_family_revoked").await;
    assert!(
        audit.body.contains("refresh_family_revoked") && !audit.body.contains("<td>login_succeeded</td>"),
        "{}",
        audit.body
    );
    let bad_time = admin.get("/admin/audit?since=yesterday").await;
    assert!(bad_time.body.contains("Since must look like"));

    let report =
        admin.post("/admin/inspect", &[("csrf_token", &csrf), ("token", tokens["id_token"].as_str().unwrap())]).await;
    assert!(report.body.contains("Every check passed"), "{}", report.body);
    let forged = admin.post("/admin/inspect", &[("csrf_token", &csrf), ("token", "eyJhbGciOiJub25lIn0.e30.")]).await;
    assert!(forged.body.contains("Some checks failed") && forged.body.contains("only RS256 is accepted"));
}

#[tokio::test]
async fn the_apis_page_registers_an_api_with_introspection_credentials_lists_it_and_removes_it() {
    const ORDERS: &str = "https://orders.example.com";
    let (_env, app, _, _) = app_with_tokens().await;
    let (mut admin, csrf) = admin_browser(&app).await;

    let created = admin
        .post(
            "/admin/apis",
            &[
                ("csrf_token", &csrf),
                ("identifier", ORDERS),
                ("name", "Orders"),
                ("scopes", "orders:read = Read your orders\norders:write"),
                ("introspection", "yes"),
            ],
        )
        .await;
    let secret = secret_on(&created);
    let saved = admin
        .post(
            "/admin/clients/demo",
            &[
                ("csrf_token", &csrf),
                ("authorization_code", "yes"),
                ("refresh_token", "yes"),
                ("redirect_uris", REDIRECT_URI),
                ("first_party", "yes"),
                ("resources", ORDERS),
                ("default_resource", ORDERS),
            ],
        )
        .await;
    let listed = admin.get("/admin/apis").await;
    let dashboard = admin.get("/admin").await;
    let unknown = admin
        .post(
            "/admin/clients/demo",
            &[("csrf_token", &csrf), ("redirect_uris", REDIRECT_URI), ("resources", "https://nope.example.com")],
        )
        .await;

    assert!(secret.starts_with("wbs_"), "the introspection secret, shown once");
    assert_eq!(saved.location.as_deref(), Some("/admin/clients/demo?notice=client_saved"), "{}", saved.body);
    assert!(listed.body.contains(ORDERS) && listed.body.contains("orders:read orders:write"), "{}", listed.body);
    assert!(listed.body.contains("demo"), "demo may request it: {}", listed.body);
    assert!(dashboard.body.contains("<th>APIs</th><td>1</td>"), "{}", dashboard.body);
    assert_eq!(unknown.status, 400);
    assert!(unknown.body.contains("no API"), "{}", unknown.body);
    let client = app.store.find_client(&ClientId::parse("demo").unwrap()).await.unwrap().unwrap();
    assert_eq!(client.default_resource.map(|r| r.to_string()).as_deref(), Some(ORDERS));

    let confirm = admin.get("/admin/apis/remove?identifier=https%3A%2F%2Forders.example.com").await;
    let removed = admin
        .post(
            "/admin/apis/remove?identifier=https%3A%2F%2Forders.example.com",
            &[("csrf_token", &csrf), ("confirm", "yes")],
        )
        .await;

    assert!(confirm.body.contains("Remove this API?"), "{}", confirm.body);
    assert_eq!(removed.location.as_deref(), Some("/admin/apis?notice=api_removed"), "{}", removed.body);
    assert!(app.store.list_apis().await.unwrap().is_empty());
    assert_eq!(events(&app, "api_created").await.len() + events(&app, "api_removed").await.len(), 2);
}
