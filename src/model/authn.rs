use super::InvalidValue;
use crate::clock::UnixTime;

/// `acr` of a login with one factor (a password).
pub const ACR_ONE_FACTOR: &str = "urn:wristband:acr:1fa";
/// `acr` of a login with two factors (a password and a one-time code).
pub const ACR_TWO_FACTOR: &str = "urn:wristband:acr:2fa";

/// How and when a person proved who they are; carried into every token of the login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    pub auth_time: UnixTime,
    pub acr: String,
    /// RFC 8176 method references, e.g. `["pwd"]`.
    pub amr: Vec<String>,
}

impl Authentication {
    pub fn password(at: UnixTime) -> Self {
        Self { auth_time: at, acr: ACR_ONE_FACTOR.to_owned(), amr: vec!["pwd".to_owned()] }
    }

    /// A password and then a TOTP or recovery code (RFC 8176 `otp`, `mfa`).
    pub fn two_factor(at: UnixTime) -> Self {
        Self { auth_time: at, acr: ACR_TWO_FACTOR.to_owned(), amr: ["pwd", "otp", "mfa"].map(str::to_owned).to_vec() }
    }

    pub fn is_two_factor(&self) -> bool {
        self.acr == ACR_TWO_FACTOR
    }

    pub fn amr_json(&self) -> String {
        serde_json::Value::from(self.amr.clone()).to_string()
    }

    pub fn from_stored(auth_time: UnixTime, acr: String, amr_json: &str) -> Result<Self, InvalidValue> {
        let amr = serde_json::from_str(amr_json).map_err(|e| InvalidValue::new("amr", e.to_string()))?;
        Ok(Self { auth_time, acr, amr })
    }
}
