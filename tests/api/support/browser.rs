//! A browser for tests: follows nothing by itself, keeps cookies the way a browser does on
//! http://127.0.0.1 (a secure context, so `Secure` and `__Host-` cookies are kept), and
//! reads forms from pages.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::support::TestApp;

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9000/cb";

/// What came back.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of a hidden form field.
    pub fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }

    /// A query parameter of the redirect target.
    pub fn redirect_param(&self, name: &str) -> Option<String> {
        let location = url::Url::parse(self.location.as_deref()?).ok()?;
        location.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
}

#[derive(Clone)]
pub struct Browser {
    http: reqwest::Client,
    base: String,
    pub cookies: BTreeMap<String, String>,
    /// Sent as `X-Forwarded-For`, as a reverse proxy (or a forger) would.
    pub forwarded_for: Option<String>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self::at(&app.address)
    }

    /// A browser with no cookies yet, talking to the server at `base`.
    pub fn at(base: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, base: base.to_owned(), cookies: BTreeMap::new(), forwarded_for: None }
    }

    /// Sends the next requests, with the same cookies, to another instance.
    pub fn switch_to(&mut self, app: &TestApp) {
        self.base = app.address.clone();
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.try_get(path).await.expect("request sent")
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.try_post(path, form).await.expect("request sent")
    }

    /// A GET that may fail to reach the server (an instance that was killed).
    pub async fn try_get(&mut self, path: &str) -> Result<Page, reqwest::Error> {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn try_post(&mut self, path: &str, form: &[(&str, &str)]) -> Result<Page, reqwest::Error> {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    async fn send(&mut self, mut request: reqwest::RequestBuilder) -> Result<Page, reqwest::Error> {
        if !self.cookies.is_empty() {
            let header: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("Cookie", header.join("; "));
        }
        if let Some(client) = &self.forwarded_for {
            request = request.header("X-Forwarded-For", client);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers.get("location").map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> =
            headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        for cookie in &set_cookies {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Ok(Page { status, location, set_cookies, headers, body: response.text().await? })
    }

    /// Answers the login page of `page` with the given credentials.
    pub async fn submit_login(&mut self, page: &Page, username: &str, password: &str) -> Page {
        let csrf = page.hidden("csrf_token").expect("login form has a CSRF token");
        let request_id = page.hidden("request_id").expect("login form has a request id");
        self.post(
            "/login",
            &[("csrf_token", &csrf), ("request_id", &request_id), ("username", username), ("password", password)],
        )
        .await
    }

    /// Answers the page that replaces a temporary password.
    pub async fn replace_password(&mut self, page: &Page, new_password: &str) -> Page {
        assert!(page.body.contains("Choose a new password"), "the temporary-password page: {}", page.body);
        let mut form = vec![
            ("csrf_token", page.hidden("csrf_token").expect("CSRF token")),
            ("new_password", new_password.to_owned()),
            ("confirm_password", new_password.to_owned()),
        ];
        for name in ["request_id", "destination"] {
            if let Some(value) = page.hidden(name) {
                form.push((name, value));
            }
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post("/login/password", &form).await
    }

    /// Answers a consent page.
    pub async fn submit_consent(&mut self, page: &Page, decision: &str) -> Page {
        let csrf = page.hidden("csrf_token").expect("consent form has a CSRF token");
        let request_id = page.hidden("request_id").expect("consent form has a request id");
        self.post("/consent", &[("csrf_token", &csrf), ("request_id", &request_id), ("decision", decision)]).await
    }

    /// Logs in through `/authorize` and answers consent if asked; returns the final redirect.
    pub async fn authorize_and_login(&mut self, query: &str, username: &str, password: &str) -> Page {
        let login_page = self.get(&format!("/authorize?{query}")).await;
        assert_eq!(login_page.status, 200, "login page: {:?} {}", login_page.location, login_page.body);
        let mut page = self.submit_login(&login_page, username, password).await;
        if page.status == 200 && page.body.contains("action=\"/consent\"") {
            page = self.submit_consent(&page, "allow").await;
        }
        assert_eq!(page.status, 303, "redirect after login: {}", page.body);
        page
    }
}

/// An authorization request query for `client_id` with S256 PKCE, `state` and `nonce`,
/// plus `extra` parameters.
pub fn authorize_query(client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", scope)
        .append_pair("state", "af0ifjsldkj")
        .append_pair("nonce", "n-0S6_WzA2Mj")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256");
    for (name, value) in extra {
        query.append_pair(name, value);
    }
    query.finish()
}

/// The claims of a JWT, unverified (tests check what was issued).
pub fn claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

/// The header of a JWT, unverified.
pub fn header(jwt: &str) -> serde_json::Value {
    let header = jwt.split('.').next().expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url")).expect("JSON header")
}

/// A logged-in browser and a code for `client_id`, with the default scope.
pub async fn code_for(app: &TestApp, client_id: &str, username: &str, password: &str) -> (Browser, String) {
    let mut browser = Browser::new(app);
    let query = authorize_query(client_id, "openid profile email roles", &[]);
    let redirect = browser.authorize_and_login(&query, username, password).await;
    let code = redirect.redirect_param("code").expect("a code");
    (browser, code)
}

/// Exchanges a code of `client_id` (with the test verifier) and returns the token response.
pub async fn exchange(app: &TestApp, client_id: &str, secret: &str, code: &str) -> serde_json::Value {
    let response = app
        .post_token(
            client_id,
            secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A fresh app with the first-party client `demo`, the user `alice` (password
/// `correct horse battery`), and the tokens of one login; returns the client secret too.
pub async fn app_with_tokens() -> (crate::support::TestEnv, TestApp, String, serde_json::Value) {
    let (env, app) = crate::support::spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", "correct horse battery", &[]).await;
    let (_browser, code) = code_for(&app, "demo", "alice", "correct horse battery").await;
    let tokens = exchange(&app, "demo", &secret, &code).await;
    (env, app, secret, tokens)
}
