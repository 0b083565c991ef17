use super::InvalidValue;
use crate::clock::UnixTime;

/// `acr` of a login with one factor (a password).
pub const ACR_ONE_FACTOR: &str = "urn:wristband:acr:1fa";
/// `acr` of a login with two factors (a password and a one-time code).
pub const ACR_TWO_FACTOR: &str = "urn:wristband:acr:2fa";
/// `acr` of a login that used a passkey: phishing-resistant, because the authenticator signs
/// for this origin only and verified the person (PIN or biometrics) itself.
pub const ACR_PHISHING_RESISTANT: &str = "urn:wristband:acr:phr";

/// How strongly a login proved who the person is; each level satisfies the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AssuranceLevel {
    OneFactor,
    TwoFactor,
    PhishingResistant,
}

impl AssuranceLevel {
    pub const ALL: [Self; 3] = [Self::OneFactor, Self::TwoFactor, Self::PhishingResistant];

    pub fn acr(self) -> &'static str {
        match self {
            Self::OneFactor => ACR_ONE_FACTOR,
            Self::TwoFactor => ACR_TWO_FACTOR,
            Self::PhishingResistant => ACR_PHISHING_RESISTANT,
        }
    }

    pub fn from_acr(acr: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.acr() == acr)
    }
}

/// What a passkey assertion proved, for `amr` (RFC 8176).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasskeyProof {
    /// The key cannot leave its authenticator (not backup-eligible): `hwk`; a synced
    /// passkey is `swk`.
    pub device_bound: bool,
}

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

    /// A user-verified passkey, alone or after a password. The key (`hwk` or `swk`) and
    /// the verification the authenticator did itself (`user`: WebAuthn's UV flag, which
    /// does not say whether by PIN or biometrics) are two factors on their own (`mfa`).
    pub fn passkey(at: UnixTime, proof: PasskeyProof, after_password: bool) -> Self {
        let key = if proof.device_bound { "hwk" } else { "swk" };
        let mut amr: Vec<String> = Vec::new();
        if after_password {
            amr.push("pwd".to_owned());
        }
        amr.extend([key, "user", "mfa"].map(str::to_owned));
        Self { auth_time: at, acr: ACR_PHISHING_RESISTANT.to_owned(), amr }
    }

    /// A sign-in through an upstream provider (RFC 8176 `fed`): one factor, or two when
    /// the upstream is trusted for it and said its own login used a second factor.
    pub fn federated(at: UnixTime, upstream_mfa: bool) -> Self {
        if upstream_mfa {
            Self { auth_time: at, acr: ACR_TWO_FACTOR.to_owned(), amr: ["fed", "mfa"].map(str::to_owned).to_vec() }
        } else {
            Self { auth_time: at, acr: ACR_ONE_FACTOR.to_owned(), amr: vec!["fed".to_owned()] }
        }
    }

    /// This second-factor login as a step up of `first`: its first factor was `first`'s
    /// (an upstream's `fed`, say), not a password.
    pub fn after(mut self, first: &Self) -> Self {
        if first.amr.iter().any(|m| m == "fed") {
            for method in &mut self.amr {
                if method == "pwd" {
                    "fed".clone_into(method);
                }
            }
        }
        self
    }

    /// The level this login reached; an `acr` this version does not know counts as one
    /// factor.
    pub fn level(&self) -> AssuranceLevel {
        AssuranceLevel::from_acr(&self.acr).unwrap_or(AssuranceLevel::OneFactor)
    }

    pub fn amr_json(&self) -> String {
        serde_json::Value::from(self.amr.clone()).to_string()
    }

    pub fn from_stored(auth_time: UnixTime, acr: String, amr_json: &str) -> Result<Self, InvalidValue> {
        let amr = serde_json::from_str(amr_json).map_err(|e| InvalidValue::new("amr", e.to_string()))?;
        Ok(Self { auth_time, acr, amr })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_every_login_names_its_own() {
        assert!(AssuranceLevel::OneFactor < AssuranceLevel::TwoFactor);
        assert!(AssuranceLevel::TwoFactor < AssuranceLevel::PhishingResistant);
        assert_eq!(Authentication::password(0).level(), AssuranceLevel::OneFactor);
        assert_eq!(Authentication::two_factor(0).level(), AssuranceLevel::TwoFactor);
        let synced = Authentication::passkey(0, PasskeyProof { device_bound: false }, false);
        assert_eq!((synced.level(), synced.amr.join(" ")), (AssuranceLevel::PhishingResistant, "swk user mfa".into()));
        let bound = Authentication::passkey(0, PasskeyProof { device_bound: true }, true);
        assert_eq!(bound.amr.join(" "), "pwd hwk user mfa");
        let fed = Authentication::federated(0, false);
        assert_eq!((fed.level(), fed.amr.join(" ")), (AssuranceLevel::OneFactor, "fed".into()));
        assert_eq!(Authentication::federated(0, true).level(), AssuranceLevel::TwoFactor);
        let stepped_up = Authentication::two_factor(5).after(&fed);
        assert_eq!((stepped_up.level(), stepped_up.amr.join(" ")), (AssuranceLevel::TwoFactor, "fed otp mfa".into()));
        assert_eq!(Authentication::two_factor(5).after(&Authentication::password(0)).amr.join(" "), "pwd otp mfa");
        let unknown = Authentication { auth_time: 0, acr: "urn:other".into(), amr: vec![] };
        assert_eq!(unknown.level(), AssuranceLevel::OneFactor);
    }
}
