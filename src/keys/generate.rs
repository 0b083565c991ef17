use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;

use super::KeyError;
use crate::model::NewSigningKey;
use crate::security::master_key::MasterKey;

/// The one signing algorithm: verifiers pin it, and no token may choose another.
pub const RS256: &str = "RS256";

/// The associated data under which a key's private half is sealed, binding the ciphertext
/// to its kid.
pub(crate) fn seal_purpose(kid: &str) -> String {
    format!("signing_key:{kid}")
}

/// Generates an RSA key; the kid is its RFC 7638 JWK thumbprint, so it is unique and
/// says nothing but which key it is. CPU-bound (~0.2 s for 2048 bits): call it from a
/// blocking context.
pub fn generate_rsa_key(bits: u32, master_key: &MasterKey) -> Result<NewSigningKey, KeyError> {
    let rsa = Rsa::generate(bits)?;
    let n = URL_SAFE_NO_PAD.encode(rsa.n().to_vec());
    let e = URL_SAFE_NO_PAD.encode(rsa.e().to_vec());
    let kid = jwk_thumbprint(&n, &e);
    let private_der = PKey::from_rsa(rsa)?.private_key_to_pkcs8()?;
    let sealed_private_key = master_key.seal(&seal_purpose(&kid), &private_der)?;
    let public_jwk = serde_json::json!({
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": RS256,
        "n": n,
        "e": e,
    })
    .to_string();
    Ok(NewSigningKey { kid, algorithm: RS256, key_bits: bits, sealed_private_key, public_jwk })
}

/// RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace.
fn jwk_thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(openssl::sha::sha256(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(jwk_thumbprint(n, "AQAB"), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn generated_keys_publish_only_public_members_and_seal_the_private_half() {
        let master = MasterKey::load_or_create(&crate::config::MasterKeySource::Inline([3u8; 32])).unwrap();
        let key = generate_rsa_key(2048, &master).unwrap();
        let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk).unwrap();
        let mut members: Vec<&str> = jwk.as_object().unwrap().keys().map(String::as_str).collect();
        members.sort_unstable();
        assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
        assert_eq!(jwk["kid"], key.kid.as_str());
        let der = master.open(&seal_purpose(&key.kid), &key.sealed_private_key).unwrap();
        let rsa = PKey::private_key_from_pkcs8(&der).unwrap().rsa().unwrap();
        assert_eq!(rsa.size() * 8, 2048);
        assert_eq!(URL_SAFE_NO_PAD.encode(rsa.n().to_vec()), jwk["n"].as_str().unwrap());
    }
}
