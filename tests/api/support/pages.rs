//! Steps of a browser login that several test files take.

use crate::support::PASSWORD;
use crate::support::browser::{Browser, Page};

/// Starts a login at `/authorize` and submits the password; returns the page after it.
pub async fn password_step(browser: &mut Browser, query: &str, username: &str) -> Page {
    let login = browser.get(&format!("/authorize?{query}")).await;
    assert_eq!(login.status, 200, "{}", login.body);
    browser.submit_login(&login, username, PASSWORD).await
}

pub fn is_code_page(page: &Page) -> bool {
    page.status == 200 && page.body.contains("action=\"/login/mfa\"") && page.body.contains("Two-step verification")
}

pub fn has_session_cookie(page: &Page) -> bool {
    page.set_cookies.iter().any(|c| c.starts_with("__Host-wristband_session=") && !c.contains("Max-Age=0"))
}
