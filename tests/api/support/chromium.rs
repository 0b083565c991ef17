//! A real headless Chromium for tests: Debian's `chromium` and `chromium-driver`, driven
//! over WebDriver with fantoccini; WebAuthn through Chromium's virtual authenticator (the
//! WebDriver WebAuthn extension commands).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::TestApp;
use crate::support::browser::{VERIFIER, claims};
use tokio::process::{Child, Command};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver on a free loopback port, stopped when dropped.
pub struct Driver {
    _process: Child,
    pub url: String,
}

pub async fn start_driver() -> Driver {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "the browser tests need Debian's chromium and chromium-driver: apt-get install chromium chromium-driver \
         (.ci/run installs them)"
    );
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let process = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/status")).await.is_ok_and(|r| r.status().is_success()) {
            return Driver { _process: process, url };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer on {url}");
}

pub async fn chromium(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]
        }),
    );
    ClientBuilder::native().capabilities(capabilities).connect(&driver.url).await.expect("a Chromium session")
}

/// Saves what the browser shows as `target/screenshots/<name>.png`.
pub async fn screenshot(browser: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = browser.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{name}: a PNG");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Waits for the element (a click may still be loading the next page), then types.
pub async fn fill(browser: &Client, css: &str, text: &str) {
    let field = browser.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

pub async fn click(browser: &Client, css: &str) {
    browser.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

/// Waits (10 s at most) for the page to say `needle`: after a click, the next page may
/// still be loading.
pub async fn expect_text(browser: &Client, needle: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(main) = browser.find(Locator::Css("main")).await
            && let Ok(text) = main.text().await
        {
            if text.contains(needle) {
                return;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never said {needle:?}; it says: {last}");
}

/// Chromium's virtual authenticator in one browser session: a platform authenticator
/// (CTAP2, internal transport) with resident keys and user verification that succeeds,
/// as a laptop's fingerprint reader would.
pub struct VirtualAuthenticator {
    base: String,
}

impl VirtualAuthenticator {
    pub async fn add(driver: &Driver, browser: &Client) -> Self {
        let session = browser.session_id().await.unwrap().expect("a WebDriver session");
        let url = format!("{}/session/{session}/webauthn/authenticator", driver.url);
        let options = serde_json::json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserConsenting": true,
            "isUserVerified": true,
        });
        let added: serde_json::Value =
            reqwest::Client::new().post(&url).json(&options).send().await.unwrap().json().await.unwrap();
        let id = added["value"].as_str().unwrap_or_else(|| panic!("a virtual authenticator: {added}"));
        Self { base: format!("{url}/{id}") }
    }

    /// The credentials it holds, as WebDriver describes them (with their private keys).
    pub async fn credentials(&self) -> Vec<serde_json::Value> {
        let listed: serde_json::Value =
            reqwest::get(format!("{}/credentials", self.base)).await.unwrap().json().await.unwrap();
        listed["value"].as_array().cloned().unwrap_or_default()
    }

    pub async fn remove_credential(&self, credential_id: &str) {
        let url = format!("{}/credentials/{credential_id}", self.base);
        assert!(reqwest::Client::new().delete(url).send().await.unwrap().status().is_success());
    }

    pub async fn add_credential(&self, credential: &serde_json::Value) {
        let url = format!("{}/credential", self.base);
        let response = reqwest::Client::new().post(url).json(credential).send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.text().await.unwrap());
    }
}

/// A client's redirect URI that answers: the browser lands on it with the code.
pub async fn callback_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0; 4096];
            let _ = stream.read(&mut request).await;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\n<main>Back home</main>").await;
        }
    });
    format!("http://{address}/cb")
}

/// Waits for the browser to land on the client's callback; the ID token its code buys.
pub async fn id_token_at_callback(
    browser: &Client,
    app: &TestApp,
    client_id: &str,
    callback: &str,
    secret: &str,
) -> serde_json::Value {
    let mut url = browser.current_url().await.unwrap();
    for _ in 0..100 {
        if url.as_str().starts_with(callback) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        url = browser.current_url().await.unwrap();
    }
    assert!(url.as_str().starts_with(callback), "back at the client: {url}");
    let code = url.query_pairs().find(|(k, _)| k == "code").expect("a code").1.into_owned();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", callback),
        ("code_verifier", VERIFIER),
    ];
    let response = app.post_token(client_id, secret, &form).await;
    assert_eq!(response.status(), 200);
    let tokens: serde_json::Value = response.json().await.unwrap();
    claims(tokens["id_token"].as_str().unwrap())
}
