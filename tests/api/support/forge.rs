//! Tokens an attacker would try: unsigned, HMAC-signed with our public key, signed by a
//! foreign key under our kid, tampered.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::browser::{claims, header};

/// A listener that counts the connections it gets: where `jku` and `x5u` point.
pub struct Trap {
    pub url: String,
    pub connections: Arc<AtomicUsize>,
}

impl Trap {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/keys.json", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        tokio::spawn(async move {
            while listener.accept().await.is_ok() {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self { url, connections }
    }
}

/// Every way the attack suite tries to pass something else off as the access token of
/// `tokens` (a token response of `app`): forged signatures and headers pointing at
/// `trap_url`, tampering, times wrong as of `now`, other token types, garbage. Each with
/// the name of the case.
pub async fn forged_access_tokens(
    app: &TestApp,
    tokens: &Value,
    trap_url: &str,
    now: i64,
) -> Vec<(&'static str, String)> {
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let genuine = claims(&access);
    let kid = header(&access)["kid"].as_str().unwrap().to_owned();
    let jwks = app.get_json("/jwks.json").await;
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone();
    let (pem, jwk_text) = public_key_material(&jwk);
    let changed = |name: &str, value: Value| {
        let mut claims = genuine.clone();
        claims[name] = value;
        claims
    };
    vec![
        ("alg none", unsigned(&kid, &genuine)),
        ("HS256 keyed with the public key's PEM", hs256(&kid, &genuine, &pem)),
        ("HS256 keyed with the public JWK", hs256(&kid, &genuine, &jwk_text)),
        ("RS256 by a foreign key under our kid", foreign_rs256(&kid, &genuine)),
        ("unknown kid", foreign_rs256("no-such-kid", &genuine)),
        ("kid with path traversal", foreign_rs256("../../../../etc/passwd", &genuine)),
        ("kid with SQL", foreign_rs256("' OR '1'='1'; DROP TABLE signing_keys; --", &genuine)),
        ("very long kid", foreign_rs256(&"k".repeat(4_000), &genuine)),
        (
            "jku to the attacker's keys",
            attacker_rs256(json!({"alg": "RS256", "typ": "at+jwt", "kid": kid, "jku": trap_url}), &genuine),
        ),
        (
            "x5u to the attacker's certificate",
            attacker_rs256(json!({"alg": "RS256", "typ": "at+jwt", "kid": kid, "x5u": trap_url}), &genuine),
        ),
        ("embedded jwk", attacker_rs256(json!({"alg": "RS256", "typ": "at+jwt", "jwk": "{public_jwk}"}), &genuine)),
        (
            "embedded x5c",
            attacker_rs256(json!({"alg": "RS256", "typ": "at+jwt", "kid": kid, "x5c": "{x5c}"}), &genuine),
        ),
        ("flipped payload byte", flipped_payload_byte(&access)),
        ("claims swapped under the signature", with_claims(&access, &changed("sub", json!("someone-else")))),
        ("truncated signature", access[..access.len() - 6].to_owned()),
        ("no signature", access[..access.rfind('.').unwrap() + 1].to_owned()),
        ("expired", app.sign_as_wristband("at+jwt", &changed("exp", json!(now - 61 - 1))).await),
        ("nbf in the future", app.sign_as_wristband("at+jwt", &changed("nbf", json!(now + 3_600))).await),
        ("iat in the future beyond leeway", app.sign_as_wristband("at+jwt", &changed("iat", json!(now + 120))).await),
        ("wrong iss", app.sign_as_wristband("at+jwt", &changed("iss", json!("https://evil.example"))).await),
        ("an ID token", tokens["id_token"].as_str().unwrap().to_owned()),
        ("typ JWT on access claims", app.sign_as_wristband("JWT", &genuine).await),
        ("a refresh token", tokens["refresh_token"].as_str().unwrap().to_owned()),
        ("garbage", "not.a.jwt".to_owned()),
        ("empty segments", "..".to_owned()),
        ("bad base64", "e30!.e30!.e30!".to_owned()),
    ]
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn compact(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()))
}

/// `alg: none`, no signature.
pub fn unsigned(kid: &str, claims: &serde_json::Value) -> String {
    format!("{}.", compact(&serde_json::json!({"alg": "none", "typ": "at+jwt", "kid": kid}), claims))
}

/// HS256 keyed with `secret` (algorithm confusion: the public key used as an HMAC key).
pub fn hs256(kid: &str, claims: &serde_json::Value, secret: &[u8]) -> String {
    let input = compact(&serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}), claims);
    let key = PKey::hmac(secret).unwrap();
    let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer.update(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(&signer.sign_to_vec().unwrap()))
}

/// RS256 by a key that is not ours, under whatever kid the attacker chooses.
pub fn foreign_rs256(kid: &str, claims: &serde_json::Value) -> String {
    let input = compact(&serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": kid}), claims);
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer.update(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(&signer.sign_to_vec().unwrap()))
}

/// RS256 by a fresh attacker key under any header (`jku`, `x5u`, `jwk`, `x5c`, a strange
/// `kid`); `{public_jwk}` in a header value becomes the attacker key's public JWK, and
/// `{x5c}` a self-signed certificate of it.
pub fn attacker_rs256(header: serde_json::Value, claims: &serde_json::Value) -> String {
    let rsa = Rsa::generate(2048).unwrap();
    let jwk = serde_json::json!({
        "kty": "RSA",
        "n": b64(&rsa.n().to_vec()),
        "e": b64(&rsa.e().to_vec()),
    });
    let key = PKey::from_rsa(rsa).unwrap();
    let mut header = header;
    if let Some(object) = header.as_object_mut() {
        for value in object.values_mut() {
            if value == "{public_jwk}" {
                *value = jwk.clone();
            } else if value == "{x5c}" {
                *value = serde_json::json!([base64::engine::general_purpose::STANDARD.encode(self_signed(&key))]);
            }
        }
    }
    let input = compact(&header, claims);
    let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer.update(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(&signer.sign_to_vec().unwrap()))
}

/// A self-signed X.509 certificate (DER) for `key`.
fn self_signed(key: &PKey<openssl::pkey::Private>) -> Vec<u8> {
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "attacker").unwrap();
    let name = name.build();
    let mut builder = openssl::x509::X509::builder().unwrap();
    builder.set_version(2).unwrap();
    builder.set_subject_name(&name).unwrap();
    builder.set_issuer_name(&name).unwrap();
    builder.set_pubkey(key).unwrap();
    builder.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap()).unwrap();
    builder.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap()).unwrap();
    builder.sign(key, MessageDigest::sha256()).unwrap();
    builder.build().to_der().unwrap()
}

/// One byte of the payload changed, the signature kept.
pub fn flipped_payload_byte(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload = URL_SAFE_NO_PAD.decode(&parts[1]).unwrap();
    let middle = payload.len() / 2;
    payload[middle] ^= 0x01;
    parts[1] = b64(&payload);
    parts.join(".")
}

/// The same signature over different claims.
pub fn with_claims(token: &str, claims: &serde_json::Value) -> String {
    let mut parts = token.split('.');
    let (header, _, signature) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    format!("{header}.{}.{signature}", b64(claims.to_string().as_bytes()))
}

/// The public key of a JWK as PEM, and the JWK's JSON text: what an attacker can download.
pub fn public_key_material(jwk: &serde_json::Value) -> (Vec<u8>, Vec<u8>) {
    let n = BigNum::from_slice(&URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap()).unwrap();
    let e = BigNum::from_slice(&URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap()).unwrap();
    let pem = Rsa::from_public_components(n, e).unwrap().public_key_to_pem().unwrap();
    (pem, jwk.to_string().into_bytes())
}
