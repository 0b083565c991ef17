//! The claims of a wristband access token (RFC 9068 §2.2) and the checks on them.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::VerifyError;

/// A verified access token.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    /// `iss`.
    pub issuer: String,
    /// `sub`: the user's id, or the client's for client_credentials.
    pub subject: String,
    /// `client_id`: the application the token was issued to.
    pub client_id: Option<String>,
    /// `scope`, split on spaces.
    pub scopes: Vec<String>,
    /// `roles`: the user's roles, when the `roles` scope was granted.
    pub roles: Vec<String>,
    /// `aud`, as a list.
    pub audience: Vec<String>,
    /// `exp`, `iat` and `nbf`, in seconds since the epoch.
    pub expires_at: i64,
    pub issued_at: i64,
    pub not_before: Option<i64>,
    pub jti: Option<String>,
    /// Every claim, for what the fields above leave out (`auth_time`, `acr`, `amr`, `sid`).
    pub claims: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct RawClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    iat: i64,
    nbf: Option<i64>,
    jti: Option<String>,
    client_id: Option<String>,
    scope: Option<String>,
    roles: Option<Vec<String>>,
}

impl AccessToken {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    pub(crate) fn from_payload(payload: &[u8]) -> Result<Self, VerifyError> {
        let claims: serde_json::Value =
            serde_json::from_slice(payload).map_err(|e| VerifyError::Claims(e.to_string()))?;
        let raw = RawClaims::deserialize(&claims).map_err(|e| VerifyError::Claims(e.to_string()))?;
        let audience = match raw.aud {
            Audience::One(aud) => vec![aud],
            Audience::Many(list) => list,
        };
        let scopes = raw.scope.unwrap_or_default().split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        Ok(Self {
            issuer: raw.iss,
            subject: raw.sub,
            client_id: raw.client_id,
            scopes,
            roles: raw.roles.unwrap_or_default(),
            audience,
            expires_at: raw.exp,
            issued_at: raw.iat,
            not_before: raw.nbf,
            jti: raw.jti,
            claims,
        })
    }

    /// RFC 9068 §4: the issuer, the audience, and the times with `leeway` seconds of skew.
    pub(crate) fn check(&self, issuer: &str, audience: &str, now: i64, leeway: i64) -> Result<(), VerifyError> {
        if self.issuer != issuer {
            return Err(VerifyError::Issuer);
        }
        if !self.audience.iter().any(|aud| aud == audience) {
            return Err(VerifyError::Audience);
        }
        if self.expires_at.saturating_add(leeway) <= now {
            return Err(VerifyError::Expired);
        }
        if self.not_before.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return Err(VerifyError::NotYetValid);
        }
        if self.issued_at > now.saturating_add(leeway) {
            return Err(VerifyError::IssuedInFuture);
        }
        Ok(())
    }
}

/// Seconds since the epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn token(changes: serde_json::Value) -> Result<AccessToken, VerifyError> {
        let mut claims = serde_json::json!({
            "iss": "https://id.example", "sub": "u1", "aud": "orders", "client_id": "web",
            "exp": NOW + 900, "iat": NOW, "jti": "j1", "scope": "openid orders:read", "roles": ["ops"],
        });
        for (name, value) in changes.as_object().unwrap() {
            claims[name] = value.clone();
        }
        AccessToken::from_payload(claims.to_string().as_bytes())
    }

    fn check(changes: serde_json::Value, now: i64) -> Result<(), VerifyError> {
        token(changes)?.check("https://id.example", "orders", now, 60)
    }

    #[test]
    fn a_good_token_exposes_its_scopes_and_roles() {
        let access = token(serde_json::json!({})).unwrap();
        assert!(access.has_scope("orders:read") && !access.has_scope("orders"));
        assert!(access.has_role("ops") && !access.has_role("admin"));
        assert_eq!(check(serde_json::json!({}), NOW), Ok(()));
        assert_eq!(check(serde_json::json!({"aud": ["billing", "orders"]}), NOW), Ok(()));
    }

    #[test]
    fn issuer_audience_and_times_are_checked_with_leeway() {
        assert_eq!(check(serde_json::json!({"iss": "https://evil.example"}), NOW), Err(VerifyError::Issuer));
        assert_eq!(check(serde_json::json!({"aud": "billing"}), NOW), Err(VerifyError::Audience));
        assert_eq!(check(serde_json::json!({"aud": []}), NOW), Err(VerifyError::Audience));
        assert_eq!(check(serde_json::json!({}), NOW + 900 + 59), Ok(()));
        assert_eq!(check(serde_json::json!({}), NOW + 900 + 60), Err(VerifyError::Expired));
        assert_eq!(check(serde_json::json!({"nbf": NOW + 61}), NOW), Err(VerifyError::NotYetValid));
        assert_eq!(check(serde_json::json!({"nbf": NOW + 60}), NOW), Ok(()));
        assert_eq!(check(serde_json::json!({"iat": NOW + 61}), NOW), Err(VerifyError::IssuedInFuture));
        assert_eq!(check(serde_json::json!({"exp": i64::MAX}), NOW), Ok(()));
    }

    #[test]
    fn missing_or_mistyped_claims_are_refused() {
        for changes in [
            serde_json::json!({"exp": "tomorrow"}),
            serde_json::json!({"sub": 7}),
            serde_json::json!({"aud": 7}),
            serde_json::json!({"roles": "ops"}),
        ] {
            assert!(matches!(token(changes.clone()), Err(VerifyError::Claims(_))), "{changes}");
        }
        assert!(matches!(AccessToken::from_payload(b"[1]"), Err(VerifyError::Claims(_))));
    }
}
