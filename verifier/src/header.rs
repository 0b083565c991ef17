//! The JOSE header, read before any key is chosen: only what it may decide is read, and
//! only RS256 access tokens get as far as a key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::VerifyError;

/// Longer tokens are refused unread.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
const MAX_KID_BYTES: usize = 256;

#[derive(serde::Deserialize)]
struct Header {
    alg: Option<String>,
    typ: Option<String>,
    kid: Option<String>,
    crit: Option<serde_json::Value>,
}

/// The `kid` of a token whose header is acceptable: three segments, `alg` RS256, `typ`
/// `at+jwt` (or its media type, RFC 9068 §2.1), no `crit` (RFC 7515 §4.1.11: extensions
/// we do not implement must be refused), and a `kid`.
pub(crate) fn checked_kid(token: &str) -> Result<String, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::Malformed("too long"));
    }
    let segments: Vec<&str> = token.split('.').collect();
    let [header, _, _] = segments.as_slice() else { return Err(VerifyError::Malformed("not three segments")) };
    let bytes = URL_SAFE_NO_PAD.decode(header).map_err(|_| VerifyError::Malformed("header is not base64url"))?;
    let header: Header = serde_json::from_slice(&bytes).map_err(|_| VerifyError::Malformed("header is not JSON"))?;
    if header.alg.as_deref() != Some("RS256") {
        return Err(VerifyError::Algorithm(header.alg));
    }
    let typ_ok = header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt"));
    if !typ_ok {
        return Err(VerifyError::Type(header.typ));
    }
    if header.crit.is_some() {
        return Err(VerifyError::Malformed("crit is not supported"));
    }
    match header.kid {
        Some(kid) if !kid.is_empty() && kid.len() <= MAX_KID_BYTES => Ok(kid),
        _ => Err(VerifyError::UnknownKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: serde_json::Value) -> String {
        format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(header.to_string()))
    }

    #[test]
    fn an_rs256_access_token_header_gives_its_kid() {
        let kid = checked_kid(&token(serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": "k1"})));
        assert_eq!(kid, Ok("k1".to_owned()));
        let media = checked_kid(&token(serde_json::json!({"alg": "RS256", "typ": "application/AT+JWT", "kid": "k1"})));
        assert_eq!(media, Ok("k1".to_owned()));
    }

    #[test]
    fn other_algorithms_types_and_extensions_are_refused() {
        let cases = [
            (
                serde_json::json!({"alg": "none", "typ": "at+jwt", "kid": "k"}),
                VerifyError::Algorithm(Some("none".into())),
            ),
            (
                serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": "k"}),
                VerifyError::Algorithm(Some("HS256".into())),
            ),
            (serde_json::json!({"typ": "at+jwt", "kid": "k"}), VerifyError::Algorithm(None)),
            (serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "k"}), VerifyError::Type(Some("JWT".into()))),
            (serde_json::json!({"alg": "RS256", "kid": "k"}), VerifyError::Type(None)),
            (
                serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": "k", "crit": ["exp"]}),
                VerifyError::Malformed("crit is not supported"),
            ),
            (serde_json::json!({"alg": "RS256", "typ": "at+jwt"}), VerifyError::UnknownKey),
            (serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": "k".repeat(300)}), VerifyError::UnknownKey),
        ];
        for (header, expected) in cases {
            assert_eq!(checked_kid(&token(header.clone())), Err(expected), "{header}");
        }
    }

    #[test]
    fn garbage_is_malformed() {
        assert_eq!(checked_kid("a.b"), Err(VerifyError::Malformed("not three segments")));
        assert_eq!(checked_kid("!!.e30.e30"), Err(VerifyError::Malformed("header is not base64url")));
        let not_json = format!("{}.e30.e30", URL_SAFE_NO_PAD.encode("not json"));
        assert_eq!(checked_kid(&not_json), Err(VerifyError::Malformed("header is not JSON")));
        assert_eq!(checked_kid(&"a".repeat(20_000)), Err(VerifyError::Malformed("too long")));
    }
}
