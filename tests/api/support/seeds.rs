//! Named starting points: a spawned app with the people and clients a test begins with.

use crate::support::browser::REDIRECT_URI;
use crate::support::{TestApp, TestEnv};

/// The password every seeded person signs in with.
pub const PASSWORD: &str = "correct horse battery";

/// Spawns an app in an environment of its own; keep the environment alive as long as the app.
pub async fn spawn_app() -> (TestEnv, TestApp) {
    let env = TestEnv::new().await;
    let app = env.spawn().await;
    (env, app)
}

/// The first-party client `demo` (no consent page) and the user `alice`; the client secret.
pub async fn app_with_alice() -> (TestEnv, TestApp, String) {
    let (env, app) = spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    (env, app, secret)
}

/// The same with a second person, `bob`.
pub async fn app_with_alice_and_bob() -> (TestEnv, TestApp, String) {
    let (env, app, secret) = app_with_alice().await;
    app.seed_user("bob", PASSWORD, &[]).await;
    (env, app, secret)
}

/// The third-party (consent-asking) client `demo` and the user `alice`; the client secret.
pub async fn app_with_third_party_demo() -> (TestEnv, TestApp, String) {
    let (env, app) = spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, false).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    (env, app, secret)
}
