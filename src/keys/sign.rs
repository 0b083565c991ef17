//! Compact JWS with RS256 (RFC 7515, RFC 7518 §3.3). The algorithm is fixed by the
//! keystore, never read from a token; `kid` must name a published key; `jku`, `x5u`,
//! `jwk` and `x5c` headers are ignored, never fetched.

use josekit::jws::{self, JwsHeader};

use super::{KeyError, KeySet};

/// Tokens longer than this are refused before any parsing: nothing wristband signs comes
/// near it.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// A signature that checked out, with what the header said about the token.
#[derive(Debug, Clone)]
pub struct VerifiedJws {
    pub kid: String,
    /// The `typ` header, lower-cased (RFC 7515 §4.1.9 compares it case-insensitively).
    pub typ: Option<String>,
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("token is too long")]
    TooLong,
    #[error("token is not a valid RS256 JWS from a published key: {0}")]
    Invalid(String),
}

impl KeySet {
    /// Signs `payload` with the active key, under the header `typ`.
    pub fn sign(&self, typ: &str, payload: &[u8]) -> Result<String, KeyError> {
        let (kid, signer) = self.signer.as_ref().ok_or(KeyError::NoActiveKey)?;
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(kid.clone());
        jws::serialize_compact(payload, &header, signer).map_err(|e| KeyError::Sign(e.to_string()))
    }

    pub fn verify(&self, token: &str) -> Result<VerifiedJws, VerifyError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::TooLong);
        }
        let (payload, header) = jws::deserialize_compact_with_selector(token, |header| {
            let verifier = header.key_id().and_then(|kid| self.verifiers.get(kid));
            Ok(verifier.map(|v| v as &dyn jws::JwsVerifier))
        })
        .map_err(|e| VerifyError::Invalid(e.to_string()))?;
        let kid = header.key_id().unwrap_or_default().to_owned();
        Ok(VerifiedJws { kid, typ: header.token_type().map(str::to_ascii_lowercase), payload })
    }
}

/// Whether `token`'s signature verifies under one public JWK with RS256, whatever the
/// key's state: the token inspector reports the signature apart from the key's standing.
pub fn signature_matches(token: &str, public_jwk: &str) -> bool {
    let Ok(jwk) = josekit::jwk::Jwk::from_bytes(public_jwk.as_bytes()) else { return false };
    let Ok(verifier) = josekit::jws::RS256.verifier_from_jwk(&jwk) else { return false };
    token.len() <= MAX_TOKEN_BYTES && jws::deserialize_compact(token, &verifier).is_ok()
}
