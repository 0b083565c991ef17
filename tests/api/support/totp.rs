//! Second-factor helpers: the authenticator app of a test person, and answering the
//! second-factor pages.

use wristband::flows::Actor;
use wristband::flows::admin::provision_totp;
use wristband::security::totp::TotpSecret;

use crate::support::TestApp;
use crate::support::browser::{Browser, Page};

/// What an authenticator app holds after scanning: the secret in an `otpauth://` URI or
/// typed from the page (RFC 4648 base32).
pub fn authenticator(base32_or_url: &str) -> TotpSecret {
    let base32 = match url::Url::parse(base32_or_url) {
        Ok(url) if url.scheme() == "otpauth" => {
            url.query_pairs().find(|(k, _)| k == "secret").map(|(_, v)| v.into_owned()).expect("a secret parameter")
        }
        _ => base32_or_url.to_owned(),
    };
    let mut bits: u64 = 0;
    let mut count = 0;
    let mut bytes = Vec::new();
    for c in base32.trim_end_matches('=').bytes() {
        let value = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".iter().position(|&a| a == c).expect("base32") as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
        }
    }
    TotpSecret::from_bytes(bytes, "test", "person").expect("a TOTP secret")
}

impl TestApp {
    /// Provisions TOTP for `username` the way `wristband user totp` does.
    pub async fn enrol_totp(&self, username: &str) -> TotpSecret {
        let url = provision_totp(&self.ctx(), username, Actor::Cli).await.expect("TOTP provisioned");
        authenticator(&url)
    }

    /// The code the person's app shows now, by the server's clock.
    pub fn code(&self, app: &TotpSecret) -> String {
        app.code_at(self.clock_now())
    }
}

/// The text between `<code class="secret">` and `</code>` of an enrollment page.
pub fn offered_secret(page: &Page) -> TotpSecret {
    let start = page.body.find("<code class=\"secret\">").expect("the secret is shown") + 21;
    let end = page.body[start..].find("</code>").expect("closing tag") + start;
    authenticator(&page.body[start..end])
}

/// The recovery codes listed on a recovery-codes page.
pub fn recovery_codes(page: &Page) -> Vec<String> {
    page.body
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest.split("</code>").next().expect("closing tag").to_owned())
        .collect()
}

impl Browser {
    /// Answers a second-factor or enrollment page of a login with `code`.
    pub async fn submit_code(&mut self, page: &Page, code: &str) -> Page {
        let mut form = vec![
            ("csrf_token", page.hidden("csrf_token").expect("CSRF token")),
            ("challenge", page.hidden("challenge").expect("a challenge")),
            ("code", code.to_owned()),
        ];
        for name in ["request_id", "enrollment"] {
            if let Some(value) = page.hidden(name) {
                form.push((name, value));
            }
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post("/login/mfa", &form).await
    }
}
