//! Upstream providers: other OpenID Connect or OAuth 2.0 providers a person may sign in
//! with, the upstream identities linked to local users, and the sign-ins under way.

use url::Url;
use uuid::Uuid;

use super::{Destination, InvalidValue, string_newtype};
use crate::clock::UnixTime;

/// An upstream's name, in its URLs (`/login/upstream/NAME/callback`): 1–32 of `a-z 0-9 -`,
/// starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UpstreamName(String);
string_newtype!(UpstreamName);

impl UpstreamName {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let invalid = |reason: &str| InvalidValue::new("upstream name", reason);
        if input.is_empty() || input.len() > 32 {
            return Err(invalid("must have 1 to 32 characters"));
        }
        if !input.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(invalid("must start with a lower-case letter"));
        }
        if !input.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(invalid("may contain only a-z, 0-9 and -"));
        }
        Ok(Self(input.to_owned()))
    }
}

/// Which members of a plain OAuth 2.0 provider's user document (its userinfo or user API)
/// name the person. GitHub's: `id`, `login`, `name`, `email`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClaimMapping {
    pub subject: String,
    pub username: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// A boolean member saying the email is verified; without one, the provider's email
    /// never counts as verified (so it never links an account by itself).
    pub email_verified: Option<String>,
}

/// How wristband talks to an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamProtocol {
    /// OpenID Connect: endpoints and keys discovered from the issuer, an ID token verified.
    Oidc { issuer: Url },
    /// Plain OAuth 2.0 (GitHub style): explicit endpoints, no ID token; the person is read
    /// from the user document with the access token.
    OAuth2(Box<OAuth2Provider>),
}

/// A plain OAuth 2.0 provider's endpoints and the members of its user document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2Provider {
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub userinfo_endpoint: Url,
    pub claims: ClaimMapping,
}

/// A configured upstream provider.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub name: UpstreamName,
    /// On the login page's button: "Sign in with {display_name}".
    pub display_name: String,
    pub protocol: UpstreamProtocol,
    pub client_id: String,
    /// The client secret, sealed with the master key (base64url); opened only to send it.
    pub client_secret_sealed: String,
    pub scopes: Vec<String>,
    /// A first sign-in links to the local account with the same address, when both the
    /// provider and wristband have verified it.
    pub link_by_verified_email: bool,
    /// A first sign-in without a link creates a local account.
    pub create_users: bool,
    /// The provider's own second factor counts as two factors here, when its ID token
    /// says one was used.
    pub trusted_for_mfa: bool,
    /// The logout page offers the provider's `end_session_endpoint`.
    pub offer_end_session: bool,
    pub created_at: UnixTime,
}

impl Upstream {
    /// What a first sign-in with no linked account does, in words (CLI and admin pages).
    pub fn first_sign_in(&self) -> &'static str {
        match (self.link_by_verified_email, self.create_users) {
            (true, true) => "link by verified address, else create an account",
            (true, false) => "link by verified address, else refuse",
            (false, true) => "create an account",
            (false, false) => "refuse (the person links the identity on /account first)",
        }
    }
}

/// An upstream identity linked to a local user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    pub upstream: UpstreamName,
    /// The provider's `sub` (or the mapped subject member), as it sent it.
    pub subject: String,
    pub user_id: Uuid,
    pub email: Option<String>,
    pub username: Option<String>,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

/// What an upstream sign-in was started for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamPurpose {
    /// Signing in, for a pending request (its id sealed with the master key: the callback
    /// brings back only `state`) or a wristband page.
    SignIn { sealed_request_id: Option<String>, destination: Option<Destination> },
    /// A signed-in person links an identity of this upstream to their account.
    Link { user_id: Uuid, sid: Uuid },
}

/// An upstream sign-in waiting for the provider's answer: found by the hash of its
/// `state`, single use, bound to the browser that started it, short-lived.
#[derive(Debug, Clone)]
pub struct UpstreamLogin {
    pub upstream: UpstreamName,
    pub purpose: UpstreamPurpose,
    /// SHA-256 of the browser's CSRF cookie.
    pub browser_hash: String,
    pub nonce: String,
    /// PKCE (RFC 7636): sent with the code; its S256 challenge went with the request.
    pub code_verifier: String,
    pub expires_at: UnixTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_lower_case_and_url_safe() {
        assert!(UpstreamName::parse("github").is_ok());
        assert!(UpstreamName::parse("corp-entra-2").is_ok());
        for bad in ["", "GitHub", "2fa", "-x", "a/b", "a b", &"a".repeat(33)] {
            assert!(UpstreamName::parse(bad).is_err(), "{bad}");
        }
    }
}
