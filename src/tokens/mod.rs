//! Token contents: claims of access tokens (RFC 9068) and ID tokens (OIDC Core §2),
//! signing them with the active key, and checking the ones wristband receives back.

mod claims;
mod verify;

pub use claims::{AccessTokenClaims, BACKCHANNEL_LOGOUT_EVENT, IdTokenClaims, LogoutTokenClaims, at_hash};
pub use verify::{LEEWAY_SECONDS, TokenError, verify_access_token, verify_id_token_hint};

use crate::keys::{KeyError, KeySet};

/// `typ` of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// `typ` of ID tokens.
pub const ID_TOKEN_TYP: &str = "JWT";
/// `typ` of logout tokens (Back-Channel Logout 1.0 §2.4, explicit typing).
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";

pub fn sign_access_token(keys: &KeySet, claims: &AccessTokenClaims) -> Result<String, KeyError> {
    let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Sign(e.to_string()))?;
    keys.sign(ACCESS_TOKEN_TYP, &payload)
}

pub fn sign_logout_token(keys: &KeySet, claims: &LogoutTokenClaims) -> Result<String, KeyError> {
    let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Sign(e.to_string()))?;
    keys.sign(LOGOUT_TOKEN_TYP, &payload)
}

pub fn sign_id_token(keys: &KeySet, claims: &IdTokenClaims) -> Result<String, KeyError> {
    let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Sign(e.to_string()))?;
    keys.sign(ID_TOKEN_TYP, &payload)
}
