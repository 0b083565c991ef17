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
