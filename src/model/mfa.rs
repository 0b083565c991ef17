use uuid::Uuid;

use crate::clock::UnixTime;

/// A page of wristband itself that a login can lead to (instead of a client). A fixed
/// list, so a login can never be turned into an open redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Account,
    Admin,
}

impl Destination {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Account, Self::Admin].into_iter().find(|d| d.as_str() == value)
    }

    pub fn path(self) -> &'static str {
        match self {
            Self::Account => "/account",
            Self::Admin => "/admin",
        }
    }

    /// Administrators reach `/admin` only with two factors.
    pub fn requires_two_factors(self) -> bool {
        matches!(self, Self::Admin)
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
    pub expires_at: UnixTime,
}
