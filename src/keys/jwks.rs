use std::sync::Arc;

use super::KeyError;
use crate::model::{KeyState, SigningKeyRecord};

/// The JWKS document (RFC 7517 §5), serialized once per key change and served as bytes.
#[derive(Debug, Clone)]
pub struct Jwks {
    pub body: Arc<[u8]>,
    /// A strong validator for the body (RFC 9110 §8.8.3), quoted.
    pub etag: String,
}

impl Jwks {
    /// Publishes `next`, `active` and `retired` keys, active first; never `revoked` ones.
    pub fn build(records: &[SigningKeyRecord]) -> Result<Self, KeyError> {
        let rank = |state: KeyState| match state {
            KeyState::Active => 0,
            KeyState::Next => 1,
            KeyState::Retired => 2,
            KeyState::Revoked | KeyState::Removed => 3,
        };
        let mut published: Vec<&SigningKeyRecord> = records.iter().filter(|r| r.state.is_published()).collect();
        published.sort_by_key(|r| (rank(r.state), std::cmp::Reverse(r.created_at)));
        let keys = published
            .into_iter()
            .map(|record| {
                serde_json::from_str::<serde_json::Value>(&record.public_jwk)
                    .map_err(|e| KeyError::InvalidJwk { kid: record.kid.clone(), reason: e.to_string() })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let body = serde_json::json!({ "keys": keys }).to_string().into_bytes();
        let digest = openssl::sha::sha256(&body);
        let etag = format!("\"{}\"", digest[..16].iter().map(|b| format!("{b:02x}")).collect::<String>());
        Ok(Self { body: body.into(), etag })
    }
}
