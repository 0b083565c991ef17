//! Mail through a real SMTP conversation (`support::smtp`): a forgotten password reset by
//! the mailed link, addresses verified by theirs, invitations; nothing tells whether an
//! account exists; the second factor survives a reset; a mail server that is down delays
//! mail and loses none; two instances send each message once.

use wristband::config::MailDelivery;
use wristband::flows::Actor;
use wristband::flows::admin::{ProfileInput, invite_user, update_user_profile};
use wristband::flows::password_reset::send_reset_link;
use wristband::model::{MailState, Username};

use crate::support::browser::{Browser, Page, REDIRECT_URI, authorize_query, code_for, exchange};
use crate::support::pages::is_code_page;
use crate::support::process::cli_ok;
use crate::support::smtp::{Received, SmtpSink};
use crate::support::{PASSWORD, TestApp, TestEnv};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// An app that sends mail to `sink`, with the client `demo` and `alice`, whose address
/// (alice@example.com) is verified by following the link mailed to it.
async fn mail_app(sink: &SmtpSink) -> (TestEnv, TestApp, String) {
    let env = TestEnv::new().await;
    let mut config = env.config();
    config.mail.delivery = sink.delivery();
    config.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    let app = env.spawn_with(config).await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    let verification = sink.wait_for(1).await.pop().unwrap();
    assert_eq!(verification.to, ["alice@example.com"]);
    confirm_address(&app, &verification).await;
    (env, app, secret)
}

async fn confirm_address(app: &TestApp, mail: &Received) {
    let link = mail.link(&app.url("/email/verify?token="));
    let mut browser = Browser::new(app);
    let page = browser.get(link.trim_start_matches(&app.address)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let confirmed = browser
        .post(
            "/email/verify",
            &[("csrf_token", &page.hidden("csrf_token").unwrap()), ("token", &page.hidden("token").unwrap())],
        )
        .await;
    assert!(confirmed.body.contains("Your address is verified"), "{}", confirmed.body);
}

async fn forgot(app: &TestApp, identifier: &str) -> Page {
    let mut browser = Browser::new(app);
    let form = browser.get("/password/forgot").await;
    browser
        .post("/password/forgot", &[("csrf_token", &form.hidden("csrf_token").unwrap()), ("identifier", identifier)])
        .await
}

/// Opens a reset (or invitation) link and submits the form; the reset page and the answer.
async fn follow_reset(app: &TestApp, link: &str, password: &str, code: &str) -> (Page, Page) {
    let mut browser = Browser::new(app);
    let page = browser.get(link.trim_start_matches(&app.address)).await;
    let csrf = page.hidden("csrf_token").unwrap_or_default();
    let token = page.hidden("token").unwrap_or_default();
    let answer = browser
        .post(
            "/password/reset",
            &[
                ("csrf_token", &csrf),
                ("token", &token),
                ("new_password", password),
                ("confirm_password", password),
                ("code", code),
            ],
        )
        .await;
    (page, answer)
}

async fn signs_in(app: &TestApp, password: &str) -> Page {
    let mut browser = Browser::new(app);
    let login = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    browser.submit_login(&login, "alice", password).await
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_the_mailed_link_and_everything_signed_in_is_signed_out() {
    let sink = SmtpSink::start().await;
    let (_env, app, secret) = mail_app(&sink).await;
    let (_, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    let tokens = exchange(&app, "demo", &secret, &code).await;

    let asked = forgot(&app, "alice").await;
    assert!(asked.body.contains("Check your email"), "{}", asked.body);
    let mail = sink.wait_for(2).await.pop().unwrap();
    let link = mail.link(&app.url("/password/reset?token=wbl_"));
    let (page, changed) = follow_reset(&app, &link, NEW_PASSWORD, "").await;
    let notice = sink.wait_for(3).await.pop().unwrap();
    let (again, _) = follow_reset(&app, &link, "yet another passphrase", "").await;
    let refresh = app
        .post_token(
            "demo",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
        )
        .await;

    assert_eq!(
        (mail.to.as_slice(), mail.subject().contains("Choose a new password")),
        (&["alice@example.com".to_owned()][..], true)
    );
    assert!(mail.text().contains("within 30 minutes"), "{}", mail.text());
    assert!(page.body.contains("Choose a new password") && !page.body.contains("name=\"code\""), "{}", page.body);
    assert!(changed.body.contains("Your password was changed"), "{}", changed.body);
    assert!(notice.subject().contains("was changed") && notice.to == ["alice@example.com"]);
    assert!(again.body.contains("This link no longer works"), "used once: {}", again.body);
    assert_eq!(refresh.status(), 400, "the refresh family ended with the reset");
    assert_eq!(signs_in(&app, PASSWORD).await.status, 200, "the old password is refused");
    assert_eq!(signs_in(&app, NEW_PASSWORD).await.status, 303, "the new one signs in");
}

#[tokio::test]
async fn an_unknown_or_unverified_name_gets_the_same_page_and_no_mail() {
    let sink = SmtpSink::start().await;
    let (_env, app, _) = mail_app(&sink).await;
    app.seed_user("bob", PASSWORD, &[]).await; // bob's address is not verified
    sink.wait_for(2).await;

    let known = forgot(&app, "alice").await;
    let unknown = forgot(&app, "nobody").await;
    let unverified = forgot(&app, "bob").await;
    let by_address = forgot(&app, "ALICE@example.com").await;
    let mails = sink.wait_for(4).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;

    for page in [&unknown, &unverified, &by_address] {
        assert_eq!((page.status, &page.body), (known.status, &known.body), "the same answer");
    }
    let resets = &sink.messages()[2..];
    assert_eq!(resets.len(), 2, "alice by name and by address; nobody and bob get nothing: {mails:?}");
    assert!(resets.iter().all(|m| m.to == ["alice@example.com"]));
}

#[tokio::test]
async fn superseded_expired_and_outdated_links_no_longer_work_and_requests_are_limited() {
    let sink = SmtpSink::start().await;
    let (_env, app, _) = mail_app(&sink).await;
    let prefix = app.url("/password/reset?token=wbl_");

    forgot(&app, "alice").await;
    let first = sink.wait_for(2).await.pop().unwrap().link(&prefix);
    forgot(&app, "alice").await;
    let second = sink.wait_for(3).await.pop().unwrap().link(&prefix);
    let (superseded, _) = follow_reset(&app, &first, NEW_PASSWORD, "").await;
    app.clock.advance(31 * 60);
    let (expired, _) = follow_reset(&app, &second, NEW_PASSWORD, "").await;
    forgot(&app, "alice").await;
    let third = sink.wait_for(4).await.pop().unwrap().link(&prefix);
    let alice = app.store.find_user_by_username(&Username::parse("alice").unwrap()).await.unwrap().unwrap();
    wristband::flows::admin::set_user_password(
        &app.ctx(),
        "alice",
        Some(wristband::security::secret::SecretString::new("an admin's choice here")),
        Actor::Cli,
    )
    .await
    .unwrap();
    let (outdated, _) = follow_reset(&app, &third, NEW_PASSWORD, "").await;
    // Since the clock moved, alice's name was asked for once; three allowed, the fourth waits.
    let more = [forgot(&app, "ALICE").await, forgot(&app, "alice").await, forgot(&app, " Alice").await];
    let unknown_limited = [
        forgot(&app, "ghost").await,
        forgot(&app, "ghost").await,
        forgot(&app, "ghost").await,
        forgot(&app, "ghost").await,
    ];

    for (name, page) in [("superseded", &superseded), ("expired", &expired), ("outdated", &outdated)] {
        assert!(page.body.contains("This link no longer works"), "{name}: {}", page.body);
    }
    assert_eq!(more.each_ref().map(|p| p.status), [200, 200, 429], "a fourth request for one name waits");
    assert!(more[2].headers.contains_key("retry-after"));
    assert_eq!(unknown_limited.map(|p| p.status), [200, 200, 200, 429], "the same limit for a name that is nobody's");
    assert_ne!(app.store.find_user(alice.id).await.unwrap().unwrap().password_hash, alice.password_hash);
}

#[tokio::test]
async fn a_reset_never_removes_the_second_factor() {
    let sink = SmtpSink::start().await;
    let (_env, app, _) = mail_app(&sink).await;
    let phone = app.enrol_totp("alice").await;

    forgot(&app, "alice").await;
    let link = sink.wait_for(2).await.pop().unwrap().link(&app.url("/password/reset?token=wbl_"));
    let (page, without_code) = follow_reset(&app, &link, NEW_PASSWORD, "").await;
    let (_, wrong_code) = follow_reset(&app, &link, NEW_PASSWORD, "000000").await;
    let (_, with_code) = follow_reset(&app, &link, NEW_PASSWORD, &app.code(&phone)).await;
    let login = signs_in(&app, NEW_PASSWORD).await;

    assert!(page.body.contains("name=\"code\""), "the reset page asks for the code: {}", page.body);
    assert_eq!(without_code.status, 400);
    assert!(wrong_code.body.contains("That code did not work"), "{}", wrong_code.body);
    assert!(with_code.body.contains("Your password was changed"), "{}", with_code.body);
    assert!(is_code_page(&login), "signing in still asks for the code");
    assert!(app.store.find_user_by_username(&Username::parse("alice").unwrap()).await.unwrap().unwrap().has_totp());
}

/// `email_verified` in the ID token of a fresh login of alice with the `email` scope.
async fn email_verified_claim(app: &TestApp, secret: &str) -> serde_json::Value {
    let mut browser = Browser::new(app);
    let redirect = browser.authorize_and_login(&authorize_query("demo", "openid email", &[]), "alice", PASSWORD).await;
    let tokens = exchange(app, "demo", secret, &redirect.redirect_param("code").unwrap()).await;
    crate::support::browser::claims(tokens["id_token"].as_str().unwrap())["email_verified"].clone()
}

#[tokio::test]
async fn a_changed_address_is_unverified_until_its_link_is_followed_and_the_old_one_hears_of_it() {
    let sink = SmtpSink::start().await;
    let (_env, app, secret) = mail_app(&sink).await;
    let alice = app.store.find_user_by_username(&Username::parse("alice").unwrap()).await.unwrap().unwrap();
    let before = email_verified_claim(&app, &secret).await;

    let profile =
        ProfileInput { email: "alice@new.example".into(), name: "alice Example".into(), roles: String::new() };
    update_user_profile(&app.ctx(), alice.id, profile, Actor::Cli).await.unwrap();
    let mails = sink.wait_for(3).await;
    let changed = email_verified_claim(&app, &secret).await;
    let verification = mails.iter().find(|m| m.to == ["alice@new.example"]).expect("a link to the new address");
    let notice = mails
        .iter()
        .find(|m| m.to == ["alice@example.com"] && m.subject().contains("changed"))
        .expect("a notice to the old one");
    confirm_address(&app, verification).await;
    let after = email_verified_claim(&app, &secret).await;

    assert_eq!((before, changed, after), (true.into(), false.into(), true.into()));
    assert!(notice.text().contains("alice@new.example"));
}

#[tokio::test]
async fn an_invitation_lets_the_person_choose_a_password_and_proves_the_address() {
    let sink = SmtpSink::start().await;
    let (_env, app, _) = mail_app(&sink).await;

    let carol = invite_user(&app.ctx(), "carol", "carol@example.com", vec![], false, Actor::Cli).await.unwrap();
    let invitation = sink.wait_for(2).await.pop().unwrap();
    let link = invitation.link(&app.url("/password/reset?token=wbl_"));
    let (page, chosen) = follow_reset(&app, &link, NEW_PASSWORD, "").await;
    let mut browser = Browser::new(&app);
    let login = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let signed_in = browser.submit_login(&login, "carol", NEW_PASSWORD).await;

    assert_eq!(invitation.to, ["carol@example.com"]);
    assert!(invitation.text().contains("your username is carol") && invitation.text().contains("72 hours"));
    assert!(page.body.contains("Welcome"), "{}", page.body);
    assert!(chosen.body.contains("Your password was changed"), "{}", chosen.body);
    assert_eq!(signed_in.status, 303, "carol signs in with the password she chose");
    assert!(app.store.find_user(carol.id).await.unwrap().unwrap().email_verified, "the invitation proved the address");
}

#[tokio::test]
async fn mail_waits_while_the_smtp_server_is_down_and_goes_out_when_it_returns() {
    let mut sink = SmtpSink::start().await;
    let (_env, app, _) = mail_app(&sink).await;
    sink.stop();

    send_reset_link(&app.ctx(), "alice").await.unwrap();
    let mut queued = None;
    for _ in 0..100 {
        let latest = app.store.recent_mail(1).await.unwrap().pop().unwrap();
        if latest.attempts >= 1 && latest.last_error.is_some() {
            queued = Some(latest);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let queued = queued.expect("an attempt failed while the server was down");
    let waiting = outbox_metrics(&app).await;
    sink.restart().await;
    app.clock.advance(60);
    let delivered = sink.wait_for(2).await.pop().unwrap();
    // The server has the message before the worker hears its answer and marks it sent.
    let mut sent = app.store.recent_mail(1).await.unwrap().pop().unwrap();
    for _ in 0..100 {
        if sent.state() == MailState::Sent {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        sent = app.store.recent_mail(1).await.unwrap().pop().unwrap();
    }

    assert_eq!(queued.state(), MailState::Queued);
    assert!(waiting.contains(r#"wristband_mail_outbox{state="queued"} 1"#), "{waiting}");
    assert!(
        waiting.contains(r#"wristband_mail_deliveries_total{kind="password_reset",outcome="retried"}"#),
        "{waiting}"
    );
    assert!(outbox_metrics(&app).await.contains(r#"wristband_mail_outbox{state="queued"} 0"#));
    assert!(delivered.subject().contains("Choose a new password"));
    assert_eq!(
        (sent.state(), sent.sealed_body.is_none()),
        (MailState::Sent, true),
        "sent, and its link no longer kept"
    );
}

async fn outbox_metrics(app: &TestApp) -> String {
    let scrape = app.http.get(format!("{}/metrics", app.metrics_address.as_ref().unwrap())).send().await.unwrap();
    scrape.text().await.unwrap()
}

#[tokio::test]
async fn two_instances_on_one_database_send_each_message_once() {
    let sink = SmtpSink::start().await;
    let (env, app, _) = mail_app(&sink).await;
    let mut config = env.config();
    config.mail.delivery = sink.delivery();
    let other = env.spawn_with(config).await;
    for n in 0..8 {
        let name = format!("user{n}");
        app.seed_user(&name, PASSWORD, &[]).await;
    }

    let mails = sink.wait_for(9).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let everything = sink.messages();
    let mut ids: Vec<String> =
        everything.iter().map(|m| m.data.lines().find(|l| l.starts_with("Message-ID")).unwrap().to_owned()).collect();
    ids.sort();
    ids.dedup();

    assert_eq!(everything.len(), 9, "each verification once: {mails:?}");
    assert_eq!(ids.len(), 9);
    drop(other);
}

#[tokio::test]
async fn without_an_smtp_server_mail_is_written_as_eml_files() {
    let env = TestEnv::new().await;
    let app = env.spawn().await;
    app.seed_user("alice", PASSWORD, &[]).await;
    let MailDelivery::Files(dir) = env.config().mail.delivery else { panic!("files by default") };

    let mut files = Vec::new();
    for _ in 0..100 {
        files = std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        if !files.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(files.len(), 1, "one .eml in {}", dir.display());
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(files[0].extension().is_some_and(|e| e == "eml"));
    assert!(eml.contains("To: alice@example.com") && eml.contains("/email/verify?token="), "{eml}");
}

#[tokio::test]
async fn invitations_from_the_cli_and_the_admin_pages_go_out_and_the_outbox_is_listed() {
    let sink = SmtpSink::start().await;
    let (env, app, _) = mail_app(&sink).await;
    let env = env.with_issuer(&app.address);

    let printed =
        cli_ok(&env, &["user", "invite", "dave", "--email", "dave@example.com", "--role", "reader"], None).await;
    let (mut admin, csrf) = crate::admin::admin_browser(&app).await;
    let invited = admin
        .post(
            "/admin/users",
            &[
                ("csrf_token", &csrf),
                ("username", "erin"),
                ("email", "erin@example.com"),
                ("roles", ""),
                ("invite", "yes"),
            ],
        )
        .await;
    let mails = sink.wait_for(3).await;
    let outbox = admin.get("/admin/mail").await;

    assert!(printed.contains("invited dave"), "{printed}");
    assert_eq!(invited.status, 303, "{}", invited.body);
    for name in ["dave", "erin"] {
        let mail = mails.iter().find(|m| m.to == [format!("{name}@example.com")]).expect("an invitation");
        assert!(mail.text().contains(&format!("your username is {name}")), "{}", mail.text());
    }
    assert!(outbox.body.contains("invitation") && outbox.body.contains("erin@example.com"), "{}", outbox.body);
    assert!(!outbox.body.contains("wbl_"), "no link on the page");
}

#[tokio::test]
async fn a_person_changes_their_address_on_the_account_page_with_their_password() {
    let sink = SmtpSink::start().await;
    let (_env, app, _) = mail_app(&sink).await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/login?destination=account").await;
    let csrf = login.hidden("csrf_token").unwrap();
    browser
        .post(
            "/login",
            &[("csrf_token", &csrf), ("destination", "account"), ("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    let account = browser.get("/account").await;
    let csrf = account.hidden("csrf_token").unwrap();

    let wrong = browser
        .post(
            "/account/email",
            &[("csrf_token", &csrf), ("email", "alice@elsewhere.example"), ("current_password", "not it")],
        )
        .await;
    let changed = browser
        .post(
            "/account/email",
            &[("csrf_token", &csrf), ("email", "alice@elsewhere.example"), ("current_password", PASSWORD)],
        )
        .await;
    let mails = sink.wait_for(3).await;
    let page = browser.get("/account").await;

    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("Your password is not right"), "{}", wrong.body);
    assert_eq!(changed.location.as_deref(), Some("/account?notice=email_changed"));
    assert!(mails.iter().any(|m| m.to == ["alice@elsewhere.example"] && m.subject().contains("Confirm")));
    assert!(mails.iter().any(|m| m.to == ["alice@example.com"] && m.subject().contains("changed")));
    assert!(page.body.contains("alice@elsewhere.example") && page.body.contains("not verified"), "{}", page.body);
}

/// An app with sign-up open (for `example.com` addresses) that mails to `sink`.
async fn sign_up_app(sink: &SmtpSink) -> (TestEnv, TestApp) {
    let env = TestEnv::new().await;
    let mut config = env.config();
    config.mail.delivery = sink.delivery();
    config.registration =
        wristband::config::RegistrationSettings { enabled: true, allowed_domains: vec!["example.com".into()] };
    let app = env.spawn_with(config).await;
    app.seed_client("demo", REDIRECT_URI, true).await;
    (env, app)
}

async fn sign_up(app: &TestApp, username: &str, email: &str) -> Page {
    let mut browser = Browser::new(app);
    let form = browser.get("/register").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let fields = [
        ("csrf_token", form.hidden("csrf_token").unwrap()),
        ("username", username.to_owned()),
        ("email", email.to_owned()),
        ("new_password", PASSWORD.to_owned()),
        ("confirm_password", PASSWORD.to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post("/register", &fields).await
}

async fn sign_in_as(app: &TestApp, username: &str) -> Page {
    let mut browser = Browser::new(app);
    let login = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    browser.submit_login(&login, username, PASSWORD).await
}

#[tokio::test]
async fn people_sign_up_and_sign_in_once_their_address_is_verified() {
    let sink = SmtpSink::start().await;
    let (_env, app) = sign_up_app(&sink).await;
    let prompt_create = Browser::new(&app)
        .get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("prompt", "create")])))
        .await;
    let discovery = app.get_json("/.well-known/openid-configuration").await;

    let signed_up = sign_up(&app, "frank", "frank@example.com").await;
    let before = sign_in_as(&app, "frank").await;
    let link = sink.wait_for(1).await.pop().unwrap();
    confirm_address(&app, &link).await;
    let after = sign_in_as(&app, "frank").await;
    let frank = app.store.find_user_by_username(&Username::parse("frank").unwrap()).await.unwrap().unwrap();
    let profile = ProfileInput { email: "frank@new.example".into(), name: String::new(), roles: String::new() };
    update_user_profile(&app.ctx(), frank.id, profile, Actor::Cli).await.unwrap();
    let after_a_change = sign_in_as(&app, "frank").await;
    let elsewhere = sign_up(&app, "gina", "gina@other.example").await;
    let taken = sign_up(&app, "frank", "frank2@example.com").await;

    assert_eq!(prompt_create.location, Some(app.url("/register")), "prompt=create opens the sign-up page");
    assert!(discovery["prompt_values_supported"].as_array().unwrap().contains(&"create".into()));
    assert!(signed_up.body.contains("Check your email"), "{}", signed_up.body);
    assert!(before.body.contains("Confirm your email address first"), "{}", before.body);
    assert!(!crate::support::pages::has_session_cookie(&before));
    assert_eq!(after.status, 303, "verified, frank signs in");
    assert_eq!(after_a_change.status, 303, "a later, unverified address does not lock frank out");
    assert!(elsewhere.body.contains("Addresses at other.example cannot sign up here"), "{}", elsewhere.body);
    assert!(taken.body.contains("The username frank is taken"), "{}", taken.body);
}

#[tokio::test]
async fn signing_up_with_an_address_that_has_an_account_tells_only_its_owner() {
    let sink = SmtpSink::start().await;
    let (_env, app) = sign_up_app(&sink).await;
    sign_up(&app, "frank", "frank@example.com").await;
    confirm_address(&app, &sink.wait_for(1).await.pop().unwrap()).await;

    let fresh = sign_up(&app, "hal", "hal@example.com").await;
    let copycat = sign_up(&app, "mallory", "FRANK@example.com").await;
    let mails = sink.wait_for(3).await;

    assert_eq!((copycat.status, &copycat.body), (fresh.status, &fresh.body), "the same answer");
    let notice = mails.iter().find(|m| m.subject().contains("tried to sign up")).expect("the owner hears of it");
    assert_eq!(notice.to, ["frank@example.com"]);
    assert!(app.store.find_user_by_username(&Username::parse("mallory").unwrap()).await.unwrap().is_none());
}

#[tokio::test]
async fn sign_up_is_closed_by_default() {
    let (_env, app, _) = crate::support::app_with_alice().await;
    let page = Browser::new(&app).get("/register").await;
    let login = Browser::new(&app).get("/login?destination=account").await;
    let create = Browser::new(&app)
        .get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("prompt", "create")])))
        .await;

    assert_eq!(page.status, 400);
    assert!(page.body.contains("Sign-up is not open here"));
    assert!(!login.body.contains("/register"));
    assert_eq!(create.status, 200, "prompt=create is ignored: the login page");
}

#[tokio::test]
async fn concurrent_sign_ups_from_one_address_stop_at_the_limit() {
    let sink = SmtpSink::start().await;
    let env = TestEnv::new().await;
    let mut config = env.config();
    config.mail.delivery = sink.delivery();
    config.registration = wristband::config::RegistrationSettings { enabled: true, allowed_domains: vec![] };
    config.rate_limits.registration_per_ip =
        Some(wristband::security::rate_limit::RateLimit { burst: 3, period_seconds: 3_600 });
    let app = env.spawn_with(config).await;

    let pages = futures::future::join_all((0..12).map(|i| {
        let app = &app;
        async move { sign_up(app, &format!("racer{i}"), &format!("racer{i}@example.com")).await }
    }))
    .await;

    let made = pages.iter().filter(|p| p.body.contains("Check your email")).count();
    let refused = pages.iter().filter(|p| p.status == 429).count();
    assert_eq!((made, refused), (3, 9), "{:?}", pages.iter().map(|p| p.status).collect::<Vec<_>>());
    let mut accounts = 0;
    for i in 0..12 {
        let name = Username::parse(&format!("racer{i}")).unwrap();
        accounts += usize::from(app.store.find_user_by_username(&name).await.unwrap().is_some());
    }
    assert_eq!(accounts, 3, "twelve at once make three accounts");
}
