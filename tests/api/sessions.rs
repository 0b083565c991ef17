//! Browser sessions end when unused for `sessions.idle_seconds`; using them keeps them.

use crate::support::TestEnv;
use crate::support::browser::{Browser, REDIRECT_URI, authorize_query};

#[tokio::test]
async fn a_session_unused_for_the_idle_limit_ends_and_the_login_page_says_why() {
    let env = TestEnv::new().await;
    let mut config = env.config();
    // Longer than the idle limit several times over, so only idleness can end it.
    config.sessions.lifetime_seconds = 7 * 86_400;
    let app = env.spawn_with(config).await;
    app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", "correct horse battery", &[]).await;
    let mut browser = Browser::new(&app);
    let query = format!("/authorize?{}", authorize_query("demo", "openid", &[]));
    browser.authorize_and_login(&authorize_query("demo", "openid", &[]), "alice", "correct horse battery").await;
    let idle = app.config.sessions.idle_seconds;

    // Used every few hours, it lives on past the idle limit.
    for _ in 0..3 {
        app.clock.advance(idle - 60);
        let again = browser.get(&query).await;
        assert_eq!(again.status, 302, "still signed in: {}", again.body);
    }
    app.clock.advance(idle + 1);
    let page = browser.get(&query).await;

    assert_eq!(page.status, 200);
    assert!(page.body.contains("action=\"/login\""), "{}", page.body);
    assert!(page.body.contains("not used for a while"), "the page says why: {}", page.body);
    let ended = app.store.recent_audit_events(20).await.unwrap();
    let ended = ended.iter().find(|e| e.event == "session_ended").expect("the session ended");
    assert_eq!(ended.details["reason"], "session_idle");
    let later = browser.get(&query).await;
    assert!(!later.body.contains("not used for a while"), "said once");
}
