//! The attack suite, second factor: a TOTP code replayed, a recovery code replayed, and
//! codes guessed until the factor locks.

use wristband::model::Username;

use crate::support::app_with_alice;
use crate::support::browser::{Browser, authorize_query};
use crate::support::pages::{has_session_cookie, is_code_page, password_step};
use crate::support::totp::{offered_secret, recovery_codes};

#[tokio::test]
async fn a_totp_code_is_refused_the_second_time() {
    let (_env, app, _) = app_with_alice().await;
    let phone = app.enrol_totp("alice").await;
    let code = app.code(&phone);
    let mut first = Browser::new(&app);
    let mut second = Browser::new(&app);
    let first_page = password_step(&mut first, &authorize_query("demo", "openid", &[]), "alice").await;
    let second_page = password_step(&mut second, &authorize_query("demo", "openid", &[]), "alice").await;

    assert_eq!(first.submit_code(&first_page, &code).await.status, 303);
    let replay = second.submit_code(&second_page, &code).await;

    assert!(is_code_page(&replay), "asked again: {}", replay.body);
    assert!(replay.body.contains("That code did not work"));
    assert!(!has_session_cookie(&replay));
    app.clock.advance(30);
    assert_eq!(second.submit_code(&second_page, &app.code(&phone)).await.status, 303, "the next code works");
}

#[tokio::test]
async fn a_recovery_code_enrolled_on_the_account_page_works_once() {
    let (_env, app, _) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    password_step(&mut browser, &authorize_query("demo", "openid", &[]), "alice").await;
    let enroll = browser.get("/account/mfa").await;
    assert!(enroll.body.contains("<img class=\"qr\" src=\"data:image/png;base64,"), "a QR image: {}", enroll.body);
    let phone = offered_secret(&enroll);
    let csrf = enroll.hidden("csrf_token").unwrap();
    let token = enroll.hidden("enrollment").unwrap();

    let wrong =
        browser.post("/account/mfa/enable", &[("csrf_token", &csrf), ("enrollment", &token), ("code", "000000")]).await;
    assert_eq!(wrong.status, 400);
    assert!(
        app.store
            .find_user_by_username(&Username::parse("alice").unwrap())
            .await
            .unwrap()
            .unwrap()
            .totp_secret
            .is_none()
    );
    let shown = browser
        .post("/account/mfa/enable", &[("csrf_token", &csrf), ("enrollment", &token), ("code", &app.code(&phone))])
        .await;
    let codes = recovery_codes(&shown);
    assert_eq!(codes.len(), 10, "{}", shown.body);

    let mut lost_phone = Browser::new(&app);
    let page = password_step(&mut lost_phone, &authorize_query("demo", "openid", &[]), "alice").await;
    assert_eq!(lost_phone.submit_code(&page, &codes[3].to_lowercase()).await.status, 303, "typed in lower case");
    let mut again = Browser::new(&app);
    let page = password_step(&mut again, &authorize_query("demo", "openid", &[]), "alice").await;
    let refused = again.submit_code(&page, &codes[3]).await;
    assert!(is_code_page(&refused) && refused.body.contains("That code did not work"));
    assert!(app.store.recent_audit_events(30).await.unwrap().iter().any(|e| e.event == "recovery_code_used"));
}

#[tokio::test]
async fn five_wrong_codes_lock_the_factor_until_the_lockout_expires() {
    let (_env, app, _) = app_with_alice().await;
    let phone = app.enrol_totp("alice").await;
    let mut browser = Browser::new(&app);
    let page = password_step(&mut browser, &authorize_query("demo", "openid", &[]), "alice").await;

    for attempt in 1..=4 {
        let wrong = browser.submit_code(&page, "123456").await;
        assert!(wrong.body.contains(&format!("{} more wrong", 5 - attempt)), "{attempt}: {}", wrong.body);
    }
    let locked = browser.submit_code(&page, "ABCDE-FGHIJ-KLMNO-PQRST").await;
    let while_locked = browser.submit_code(&page, &app.code(&phone)).await;

    assert_eq!((locked.status, &locked.headers["retry-after"]), (429, &"900".parse().unwrap()));
    assert!(locked.body.contains("Wait 15 minutes"), "{}", locked.body);
    assert_eq!(while_locked.status, 429, "the right code waits too");
    assert!(!has_session_cookie(&while_locked));
    let events = app.store.recent_audit_events(30).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.event == "mfa_failed").count(), 5);
    assert_eq!(events.iter().filter(|e| e.event == "mfa_locked").count(), 1);
    let fresh = password_step(&mut Browser::new(&app), &authorize_query("demo", "openid", &[]), "alice").await;
    assert!(fresh.body.contains("locked"), "a new login sees the lock too");

    app.clock.advance(15 * 60 + 1);
    let mut later = Browser::new(&app);
    let page = password_step(&mut later, &authorize_query("demo", "openid", &[]), "alice").await;
    assert_eq!(later.submit_code(&page, &app.code(&phone)).await.status, 303);
}
