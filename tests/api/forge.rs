//! Tokens an attacker would try: unsigned, HMAC-signed with our public key, signed by a
//! foreign key under our kid, tampered.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::sign::Signer;

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
