//! The snippets of docs/verifying-tokens.md for Node (`jose`) and Python
//! (PyJWT), run against a live wristband so that they stay true: the genuine token for the
//! service's API is accepted; one the same app got for another API, and every forged one of
//! the attack suite, refused. Their packages come from the
//! registries, installed once: `npm ci` beside the Node snippet, a virtualenv in
//! `target/verify-python` for the Python one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use crate::support::TestApp;
use crate::support::browser::{Browser, app_with_tokens, authorize_query, code_for, exchange};
use crate::support::forge::{Trap, forged_access_tokens};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/verify")
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr)))
    }
}

/// `node` with `jose` installed beside the snippet.
fn node() -> &'static Result<(), String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY.get_or_init(|| {
        let dir = examples().join("node");
        if dir.join("node_modules/jose").exists() {
            return Ok(());
        }
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir))
    })
}

/// A Python with PyJWT, in a virtualenv of its own.
fn python() -> &'static Result<PathBuf, String> {
    static READY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    READY.get_or_init(|| {
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/verify-python");
        let python = venv.join("bin/python");
        if run(Command::new(&python).args(["-c", "import jwt"])).is_ok() {
            return Ok(python);
        }
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        let requirements = examples().join("python/requirements.txt");
        run(Command::new(&python).args(["-m", "pip", "install", "-q", "-r"]).arg(requirements))?;
        Ok(python)
    })
}

/// Runs a snippet on `token`; its stdout when it accepted the token.
fn verify_with(program: &Path, script: &Path, app: &TestApp, token: &str) -> Option<String> {
    let output = Command::new(program)
        .arg(script)
        .arg(token)
        .env("ISSUER", &app.address)
        .env("API", ORDERS)
        .output()
        .expect("the snippet runs");
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

const ORDERS: &str = "https://orders.example.com";
const BILLING: &str = "https://billing.example.com";

async fn genuine_accepted_and_forgeries_refused(program: &Path, script: &Path) {
    let (_env, app, secret, _) = app_with_tokens().await;
    app.seed_api(ORDERS, &["orders:read"], false).await;
    app.seed_api(BILLING, &["invoices:read"], false).await;
    app.allow_apis("demo", &[ORDERS, BILLING], true).await;
    let (_, code) = code_for(&app, "demo", "alice", "correct horse battery").await;
    let tokens = exchange(&app, "demo", &secret, &code).await;
    let query = authorize_query("demo", "openid", &[("resource", BILLING)]);
    let redirect = Browser::new(&app).authorize_and_login(&query, "alice", "correct horse battery").await;
    let for_billing = exchange(&app, "demo", &secret, &redirect.redirect_param("code").unwrap()).await;
    let trap = Trap::start().await;
    let wall_clock =
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap();
    let cases = forged_access_tokens(&app, &tokens, &trap.url, wall_clock).await;

    let accepted = verify_with(program, script, &app, tokens["access_token"].as_str().unwrap());

    let claims = crate::support::browser::claims(tokens["access_token"].as_str().unwrap());
    let printed: serde_json::Value =
        serde_json::from_str(accepted.as_deref().expect("the genuine token is accepted")).unwrap();
    assert_eq!(printed["sub"], claims["sub"]);
    for (case, token) in &cases {
        assert_eq!(verify_with(program, script, &app, token), None, "{script:?} accepted: {case}");
    }
    let other_api = for_billing["access_token"].as_str().unwrap();
    assert_eq!(verify_with(program, script, &app, other_api), None, "{script:?} accepted a token for another API");
    assert_eq!(trap.connections.load(Ordering::SeqCst), 0, "jku and x5u are never fetched");
}

#[tokio::test]
async fn the_node_snippet_accepts_a_genuine_token_and_refuses_every_forgery() {
    node().as_ref().expect("jose installs from the npm registry");
    genuine_accepted_and_forgeries_refused(Path::new("node"), &examples().join("node/verify.mjs")).await;
}

#[tokio::test]
async fn the_python_snippet_accepts_a_genuine_token_and_refuses_every_forgery() {
    let python = python().as_ref().expect("PyJWT installs from PyPI");
    genuine_accepted_and_forgeries_refused(python, &examples().join("python/verify.py")).await;
}

#[test]
fn the_documentation_shows_the_snippets_the_tests_run() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/verifying-tokens.md")).unwrap();
    for snippet in ["node/verify.mjs", "python/verify.py"] {
        let text = std::fs::read_to_string(examples().join(snippet)).unwrap();
        assert!(readme.contains(&text), "docs/verifying-tokens.md does not show examples/verify/{snippet} as it is");
    }
}
