use uuid::Uuid;

use super::AssuranceLevel;
use crate::clock::UnixTime;

/// A page of wristband itself that a login can lead to (instead of a client). A fixed
/// list, so a login can never be turned into an open redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Account,
    /// The account's passkeys: adding one needs a recent sign-in, which leads back here.
    Passkeys,
    Admin,
}

impl Destination {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Passkeys => "passkeys",
            Self::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Account, Self::Passkeys, Self::Admin].into_iter().find(|d| d.as_str() == value)
    }

    pub fn path(self) -> &'static str {
        match self {
            Self::Account => "/account",
            Self::Passkeys => "/account/passkeys",
            Self::Admin => "/admin",
        }
    }

    /// The weakest login that reaches this page: administrators reach `/admin` only with
    /// two factors, or with a passkey when `admin_requires_passkey`
    /// (`admin.require_phishing_resistant`).
    pub fn required_level(self, admin_requires_passkey: bool) -> AssuranceLevel {
        match self {
            Self::Admin if admin_requires_passkey => AssuranceLevel::PhishingResistant,
            Self::Admin => AssuranceLevel::TwoFactor,
            Self::Account | Self::Passkeys => AssuranceLevel::OneFactor,
        }
    }
}

/// A login waiting for its second factor: the password was right (or a one-factor session
/// is being stepped up), and the TOTP or recovery code, or the enrollment, is still due.
#[derive(Debug, Clone)]
pub struct MfaChallenge {
    pub user_id: Uuid,
    /// SHA-256 of the browser's CSRF cookie: only that browser may answer it.
    pub browser_hash: String,
    /// The one-factor session being stepped up; `None` for a fresh login.
    pub sid: Option<Uuid>,
    /// Where the login goes on: a pending authorization request, or a wristband page.
    pub authorization_request_hash: Option<String>,
    pub destination: Option<Destination>,
    /// The level the login must reach: a TOTP code does not answer a challenge for a
    /// passkey.
    pub required: AssuranceLevel,
    pub expires_at: UnixTime,
}
