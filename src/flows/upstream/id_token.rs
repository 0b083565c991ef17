//! Verifying an upstream's ID token (OIDC Core §3.1.3.7): the signature by one of the
//! upstream's published keys, with an algorithm from a fixed list (never `none`, never a
//! MAC), then `iss`, `aud`, `azp`, `exp`/`iat` with leeway, and the `nonce` this sign-in
//! sent. Pure: the keys and the clock come in as values.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::{ES256, JwsVerifier, PS256, RS256};
use serde::Deserialize;

use crate::clock::UnixTime;
use crate::security::random::constant_time_eq;

/// Clock difference tolerated between wristband and the upstream.
pub const LEEWAY_SECONDS: i64 = 60;
/// An ID token issued longer ago than this is refused, whatever its `exp`.
const MAX_AGE_SECONDS: i64 = 600;
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What the ID token must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: UnixTime,
}

/// Why an ID token was refused (for the audit log; the person sees one sentence).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("malformed: {0}")]
    Malformed(&'static str),
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(Option<String>),
    /// No published key has the token's `kid` (after one refetch of the keys).
    #[error("no published key {0:?}")]
    UnknownKey(Option<String>),
    #[error("bad signature")]
    Signature,
    #[error("issuer {0:?} is not the upstream's")]
    Issuer(String),
    #[error("audience does not name this client")]
    Audience,
    #[error("azp names another client")]
    AuthorizedParty,
    #[error("expired")]
    Expired,
    #[error("issued in the future or too long ago")]
    IssuedAt,
    #[error("nonce does not match this sign-in")]
    Nonce,
    #[error("claims: {0}")]
    Claims(String),
}

/// The claims wristband reads from an upstream ID token.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    #[serde(deserialize_with = "audience")]
    pub aud: Vec<String>,
    pub azp: Option<String>,
    pub exp: i64,
    pub iat: i64,
    pub nonce: Option<String>,
    pub email: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub email_verified: bool,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub amr: Vec<String>,
    pub acr: Option<String>,
}

fn audience<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Aud::deserialize(d)? {
        Aud::One(one) => vec![one],
        Aud::Many(many) => many,
    })
}

/// Some providers send `"email_verified": "true"`.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::String(s) => s == "true",
        _ => false,
    })
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
    crit: Option<serde_json::Value>,
}

fn header(token: &str) -> Result<Header, IdTokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(IdTokenError::Malformed("too long"));
    }
    let segments: Vec<&str> = token.split('.').collect();
    let [header, _, _] = segments.as_slice() else { return Err(IdTokenError::Malformed("not three segments")) };
    let bytes = URL_SAFE_NO_PAD.decode(header).map_err(|_| IdTokenError::Malformed("header is not base64url"))?;
    let header: Header = serde_json::from_slice(&bytes).map_err(|_| IdTokenError::Malformed("header is not JSON"))?;
    if header.crit.is_some() {
        return Err(IdTokenError::Malformed("crit is not supported"));
    }
    if !matches!(header.alg.as_deref(), Some("RS256" | "PS256" | "ES256")) {
        return Err(IdTokenError::Algorithm(header.alg));
    }
    Ok(header)
}

/// The key of `keys` that may have signed a token with this header: the one with its
/// `kid`, or the only signing key when the token names none.
fn signing_key<'a>(keys: &'a JwkSet, kid: Option<&str>) -> Option<&'a Jwk> {
    let signing = |jwk: &&Jwk| jwk.key_use().is_none_or(|u| u == "sig");
    match kid {
        Some(kid) => keys.get(kid).into_iter().find(signing),
        None => {
            let candidates: Vec<&Jwk> = keys.keys().into_iter().filter(signing).collect();
            if candidates.len() == 1 { Some(candidates[0]) } else { None }
        }
    }
}

fn verifier(alg: &str, jwk: &Jwk) -> Option<Box<dyn JwsVerifier>> {
    if jwk.algorithm().is_some_and(|a| a != alg) {
        return None;
    }
    match alg {
        "RS256" => RS256.verifier_from_jwk(jwk).ok().map(|v| Box::new(v) as Box<dyn JwsVerifier>),
        "PS256" => PS256.verifier_from_jwk(jwk).ok().map(|v| Box::new(v) as Box<dyn JwsVerifier>),
        "ES256" => ES256.verifier_from_jwk(jwk).ok().map(|v| Box::new(v) as Box<dyn JwsVerifier>),
        _ => None,
    }
}

/// Whether `keys` has the key `token` names: when not, the caller refetches them once.
pub fn has_key(keys: &JwkSet, token: &str) -> bool {
    header(token).is_ok_and(|h| signing_key(keys, h.kid.as_deref()).is_some())
}

/// Verifies `token` completely; its claims when every check passed.
pub fn verify(token: &str, keys: &JwkSet, expected: Expected<'_>) -> Result<IdClaims, IdTokenError> {
    let header = header(token)?;
    let alg = header.alg.as_deref().unwrap_or_default();
    let jwk = signing_key(keys, header.kid.as_deref()).ok_or_else(|| IdTokenError::UnknownKey(header.kid.clone()))?;
    let verifier = verifier(alg, jwk).ok_or(IdTokenError::Algorithm(header.alg.clone()))?;
    let (payload, _) = josekit::jwt::decode_with_verifier(token, &*verifier).map_err(|_| IdTokenError::Signature)?;
    let claims: IdClaims = serde_json::from_value(serde_json::Value::Object(payload.into()))
        .map_err(|e| IdTokenError::Claims(e.to_string()))?;
    check(&claims, expected)?;
    Ok(claims)
}

fn check(claims: &IdClaims, expected: Expected<'_>) -> Result<(), IdTokenError> {
    if claims.iss != expected.issuer {
        return Err(IdTokenError::Issuer(claims.iss.clone()));
    }
    if !claims.aud.iter().any(|a| a == expected.client_id) {
        return Err(IdTokenError::Audience);
    }
    // OIDC Core §3.1.3.7 (4, 5): with several audiences `azp` must be present, and when
    // present it must be this client.
    match &claims.azp {
        Some(azp) if azp != expected.client_id => return Err(IdTokenError::AuthorizedParty),
        None if claims.aud.len() > 1 => return Err(IdTokenError::AuthorizedParty),
        _ => {}
    }
    if claims.exp + LEEWAY_SECONDS <= expected.now {
        return Err(IdTokenError::Expired);
    }
    if claims.iat > expected.now + LEEWAY_SECONDS || claims.iat < expected.now - MAX_AGE_SECONDS {
        return Err(IdTokenError::IssuedAt);
    }
    if !claims.nonce.as_deref().is_some_and(|nonce| constant_time_eq(nonce, expected.nonce)) {
        return Err(IdTokenError::Nonce);
    }
    if claims.sub.is_empty() || claims.sub.len() > 255 {
        return Err(IdTokenError::Claims("sub must have 1 to 255 characters".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use josekit::jwk::alg::rsa::RsaKeyPair;
    use josekit::jws::JwsHeader;
    use josekit::jwt::JwtPayload;

    use super::*;

    const ISSUER: &str = "https://upstream.example";

    fn key(kid: &str) -> RsaKeyPair {
        let mut pair = RS256.generate_key_pair(2048).unwrap();
        pair.set_key_id(Some(kid));
        pair
    }

    fn set(keys: &[&RsaKeyPair]) -> JwkSet {
        let mut set = JwkSet::new();
        for pair in keys {
            set.push_key(pair.to_jwk_public_key());
        }
        set
    }

    fn sign(pair: &RsaKeyPair, claims: serde_json::Value) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(pair.key_id().unwrap());
        let serde_json::Value::Object(map) = claims else { unreachable!() };
        let payload = JwtPayload::from_map(map).unwrap();
        let signer = RS256.signer_from_jwk(&pair.to_jwk_private_key()).unwrap();
        josekit::jwt::encode_with_signer(&payload, &header, &signer).unwrap()
    }

    fn good() -> serde_json::Value {
        serde_json::json!({
            "iss": ISSUER, "sub": "u-1", "aud": "wristband", "exp": 1_100, "iat": 1_000, "nonce": "n-1",
            "email": "a@example.com", "email_verified": "true", "amr": ["pwd", "otp", "mfa"],
        })
    }

    fn expected() -> Expected<'static> {
        Expected { issuer: ISSUER, client_id: "wristband", nonce: "n-1", now: 1_010 }
    }

    fn with(change: serde_json::Value) -> serde_json::Value {
        let mut claims = good();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    }

    #[test]
    fn a_good_token_gives_its_claims() {
        let k = key("k1");
        let claims = verify(&sign(&k, good()), &set(&[&k]), expected()).unwrap();
        assert_eq!((claims.sub.as_str(), claims.email_verified), ("u-1", true));
        assert_eq!(claims.amr, ["pwd", "otp", "mfa"]);
    }

    #[test]
    fn every_claim_check_refuses_its_own_mistake() {
        let k = key("k1");
        let keys = set(&[&k]);
        let cases = [
            (serde_json::json!({"iss": "https://evil.example"}), IdTokenError::Issuer("https://evil.example".into())),
            (serde_json::json!({"aud": "other-client"}), IdTokenError::Audience),
            (serde_json::json!({"aud": ["wristband", "other"]}), IdTokenError::AuthorizedParty),
            (serde_json::json!({"azp": "other"}), IdTokenError::AuthorizedParty),
            (serde_json::json!({"exp": 940}), IdTokenError::Expired),
            (serde_json::json!({"iat": 1_100}), IdTokenError::IssuedAt),
            (serde_json::json!({"iat": 100, "exp": 5_000}), IdTokenError::IssuedAt),
            (serde_json::json!({"nonce": "n-2"}), IdTokenError::Nonce),
            (serde_json::json!({"nonce": null}), IdTokenError::Nonce),
        ];
        for (change, error) in cases {
            assert_eq!(verify(&sign(&k, with(change.clone())), &keys, expected()).unwrap_err(), error, "{change}");
        }
        let several = with(serde_json::json!({"aud": ["wristband", "other"], "azp": "wristband"}));
        assert!(verify(&sign(&k, several), &keys, expected()).is_ok(), "several audiences with azp = us");
        let late_but_in_leeway = Expected { now: 1_150, ..expected() };
        assert!(verify(&sign(&k, good()), &keys, late_but_in_leeway).is_ok());
    }

    #[test]
    fn only_the_upstreams_keys_and_asymmetric_algorithms_are_accepted() {
        let k = key("k1");
        let stranger = key("k1");
        let forged = sign(&stranger, good());
        assert_eq!(verify(&forged, &set(&[&k]), expected()).unwrap_err(), IdTokenError::Signature);
        let unknown = key("k2");
        let token = sign(&unknown, good());
        assert!(!has_key(&set(&[&k]), &token));
        assert_eq!(verify(&token, &set(&[&k]), expected()).unwrap_err(), IdTokenError::UnknownKey(Some("k2".into())));
        assert!(verify(&token, &set(&[&k, &unknown]), expected()).is_ok(), "after the keys are refetched");
        let payload = URL_SAFE_NO_PAD.encode(good().to_string());
        for alg in ["none", "HS256"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","kid":"k1"}}"#));
            let token = format!("{header}.{payload}.c2ln");
            assert_eq!(verify(&token, &set(&[&k]), expected()).unwrap_err(), IdTokenError::Algorithm(Some(alg.into())));
        }
        assert!(matches!(verify("a.b", &set(&[&k]), expected()), Err(IdTokenError::Malformed(_))));
        let flipped = {
            let parts: Vec<&str> = forged.split('.').collect();
            let claims = URL_SAFE_NO_PAD.encode(with(serde_json::json!({"sub": "admin"})).to_string());
            format!("{}.{claims}.{}", parts[0], parts[2])
        };
        assert_eq!(verify(&flipped, &set(&[&stranger]), expected()).unwrap_err(), IdTokenError::Signature);
    }
}
