//! Micro-benchmarks of the work that bounds wristband's throughput: RS256 signing (one per
//! client_credentials token, two with an ID token), RS256 verification (userinfo,
//! introspection), a resource server's verification with the `wristband-verifier` crate,
//! and argon2id at the configured parameters (one per login, for unknown users too).
//! `cargo bench --bench crypto`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use wristband::app::Application;
use wristband::clock::SystemClock;
use wristband::config::{Config, MasterKeySource};
use wristband::flows::Actor;
use wristband::flows::admin::{ClientInput, add_client};
use wristband::keys::{KeySet, Keystore, generate_rsa_key};
use wristband::model::{KeyState, SigningKeyRecord};
use wristband::security::master_key::MasterKey;
use wristband::security::password::PasswordHasher;
use wristband::security::secret::SecretString;
use wristband::tokens::{AccessTokenClaims, sign_access_token, verify_access_token};
use wristband_verifier::Verifier;

const ISSUER: &str = "https://id.example.com";
const NOW: i64 = 1_800_000_000;

/// One active RSA-2048 key, as the keystore holds it after start-up.
fn keys() -> Arc<KeySet> {
    let master = MasterKey::load_or_create(&MasterKeySource::Inline([7; 32])).expect("master key");
    let key = generate_rsa_key(2048, &master).expect("RSA key");
    let record = SigningKeyRecord {
        kid: key.kid,
        state: KeyState::Active,
        algorithm: key.algorithm.to_owned(),
        key_bits: key.key_bits,
        sealed_private_key: key.sealed_private_key,
        public_jwk: key.public_jwk,
        created_at: NOW,
        activated_at: Some(NOW),
        retired_at: None,
        revoked_at: None,
    };
    Keystore::new(&[record], master).expect("keystore").current()
}

/// An access token's claims as the authorization-code grant issues them.
fn claims() -> AccessTokenClaims {
    AccessTokenClaims {
        iss: ISSUER.into(),
        sub: "0196b1c2-7d7e-7c1a-9f00-3a5b2c1d4e5f".into(),
        aud: "demo".into(),
        client_id: "demo".into(),
        exp: NOW + 900,
        iat: NOW,
        nbf: None,
        jti: "0196b1c2-7d7e-7c1a-9f00-3a5b2c1d4e60".into(),
        scope: Some("openid profile email".into()),
        auth_time: Some(NOW),
        acr: Some("urn:wristband:acr:1fa".into()),
        amr: Some(vec!["pwd".into()]),
        sid: Some("0196b1c2-7d7e-7c1a-9f00-3a5b2c1d4e61".into()),
        roles: None,
    }
}

fn tokens(c: &mut Criterion) {
    let keys = keys();
    let claims = claims();
    c.bench_function("RS256 sign an access token", |b| {
        b.iter(|| sign_access_token(&keys, black_box(&claims)).expect("signed"))
    });
    let token = sign_access_token(&keys, &claims).expect("signed");
    c.bench_function("RS256 verify an access token (all checks)", |b| {
        b.iter(|| verify_access_token(&keys, black_box(&token), ISSUER, NOW).expect("valid"))
    });
}

/// What a Rust service pays per request: `Verifier::verify` on an access token that a live
/// wristband (SQLite in a temporary folder) issued, its keys found through discovery and
/// then cached.
fn verifier(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temporary folder");
    let (verifier, token) = runtime.block_on(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let database_url = format!("sqlite://{}/wristband.db?mode=rwc", dir.path().display());
        let mut config = Config::for_tests(dir.path(), &database_url);
        config.issuer = format!("http://{}", listener.local_addr().expect("address"));
        let issuer = config.issuer.clone();
        let app = Application::with_listener(config, listener, Arc::new(SystemClock)).await.expect("wristband starts");
        let services = app.services().clone();
        tokio::spawn(app.run_until_stopped());
        let client = ClientInput {
            client_id: "service".into(),
            grant_types: vec!["client_credentials".into()],
            ..ClientInput::default()
        };
        let created = add_client(&services.context(), client, Actor::Cli).await.expect("client");
        let secret = created.secret.expect("a confidential client");
        let response: serde_json::Value = reqwest::Client::new()
            .post(format!("{issuer}/token"))
            .basic_auth("service", Some(secret.expose()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("a token response")
            .json()
            .await
            .expect("JSON");
        let token = response["access_token"].as_str().expect("an access token").to_owned();
        (Verifier::discover(&issuer, "service").await.expect("discovery"), token)
    });
    c.bench_function("wristband-verifier: verify an access token (cached JWKS)", |b| {
        b.iter(|| runtime.block_on(verifier.verify(black_box(&token))).expect("valid"))
    });
}

fn passwords(c: &mut Criterion) {
    let config = Config::from_sources(None, &|_| None).expect("default configuration");
    let hasher = PasswordHasher::new(&config.password).expect("hasher");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let password = SecretString::new("correct horse battery staple");
    let stored = runtime.block_on(hasher.hash(&password)).expect("hash");
    let mut group = c.benchmark_group("argon2id at the default parameters");
    group.sample_size(20);
    group.bench_function("verify a known user's password", |b| {
        b.iter(|| runtime.block_on(hasher.verify(&password, Some(&stored))).expect("verified"))
    });
    group.bench_function("verify for an unknown user (dummy hash)", |b| {
        b.iter(|| runtime.block_on(hasher.verify(&password, None)).expect("verified"))
    });
    group.finish();
}

criterion_group!(benches, tokens, verifier, passwords);
criterion_main!(benches);
