//! Checking tokens wristband issued (DESIGN.md, Tokens: verification everywhere).

use serde::de::DeserializeOwned;

use super::{ACCESS_TOKEN_TYP, AccessTokenClaims, ID_TOKEN_TYP, IdTokenClaims};
use crate::clock::UnixTime;
use crate::keys::{KeySet, VerifyError};

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Signature(#[from] VerifyError),
    #[error("token type is {0:?}, not the expected one")]
    WrongType(Option<String>),
    #[error("claims are malformed: {0}")]
    Claims(String),
    #[error("issuer is not this provider")]
    WrongIssuer,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token was issued in the future")]
    IssuedInFuture,
}

/// The time claims every JWT we check must satisfy.
trait TimeClaims {
    fn iss(&self) -> &str;
    fn exp(&self) -> UnixTime;
    fn nbf(&self) -> Option<UnixTime>;
    fn iat(&self) -> UnixTime;
}

macro_rules! time_claims {
    ($claims:ty) => {
        impl TimeClaims for $claims {
            fn iss(&self) -> &str {
                &self.iss
            }
            fn exp(&self) -> UnixTime {
                self.exp
            }
            fn nbf(&self) -> Option<UnixTime> {
                self.nbf
            }
            fn iat(&self) -> UnixTime {
                self.iat
            }
        }
    };
}
time_claims!(AccessTokenClaims);
time_claims!(IdTokenClaims);

/// Verifies an access token: RS256 by a published key, `typ: at+jwt` (so an ID token is
/// not accepted as one), our issuer, and the time claims with leeway.
pub fn verify_access_token(
    keys: &KeySet,
    token: &str,
    issuer: &str,
    now: UnixTime,
) -> Result<AccessTokenClaims, TokenError> {
    let claims: AccessTokenClaims = decode(keys, token, ACCESS_TOKEN_TYP, issuer)?;
    check_time(&claims, now, true)?;
    Ok(claims)
}

/// Verifies an `id_token_hint` (RP-Initiated Logout §2): signature and issuer must check
/// out; an expired token is accepted, as the specification allows.
pub fn verify_id_token_hint(
    keys: &KeySet,
    token: &str,
    issuer: &str,
    now: UnixTime,
) -> Result<IdTokenClaims, TokenError> {
    let claims: IdTokenClaims = decode(keys, token, ID_TOKEN_TYP, issuer)?;
    check_time(&claims, now, false)?;
    Ok(claims)
}

fn decode<T: DeserializeOwned + TimeClaims>(
    keys: &KeySet,
    token: &str,
    typ: &str,
    issuer: &str,
) -> Result<T, TokenError> {
    let verified = keys.verify(token)?;
    if verified.typ.as_deref() != Some(&typ.to_ascii_lowercase()) {
        return Err(TokenError::WrongType(verified.typ));
    }
    let claims: T = serde_json::from_slice(&verified.payload).map_err(|e| TokenError::Claims(e.to_string()))?;
    if claims.iss() != issuer {
        return Err(TokenError::WrongIssuer);
    }
    Ok(claims)
}

fn check_time(claims: &impl TimeClaims, now: UnixTime, check_exp: bool) -> Result<(), TokenError> {
    if check_exp && claims.exp() + LEEWAY_SECONDS <= now {
        return Err(TokenError::Expired);
    }
    if claims.nbf().is_some_and(|nbf| nbf > now + LEEWAY_SECONDS) {
        return Err(TokenError::NotYetValid);
    }
    if claims.iat() > now + LEEWAY_SECONDS {
        return Err(TokenError::IssuedInFuture);
    }
    Ok(())
}
