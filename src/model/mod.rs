//! The shared vocabulary of flows and store: values that are valid once constructed.

mod api;
mod authn;
mod authorization;
mod client;
mod mail;
mod mfa;
mod passkey;
mod redirect_uri;
mod scope;
mod signing_key;
mod upstream;
mod user;

pub use api::{Api, ApiIdentifier, ApiScope};
pub use authn::{ACR_ONE_FACTOR, ACR_PHISHING_RESISTANT, ACR_TWO_FACTOR, AssuranceLevel, Authentication, PasskeyProof};
pub use authorization::{
    AuthorizationRequest, BrowserSession, CodeGrant, PendingAuthorization, Prompt, RefreshFamily, RevocationReason,
};
pub use client::{Client, ClientId, GrantType, RefreshOverrides};
pub use mail::{LinkPurpose, MailKind, MailLink, MailState, QueuedMail};
pub use mfa::{Destination, MfaChallenge};
pub use passkey::{CeremonyPurpose, PasskeyCeremony, PasskeyName, PasskeyRecord};
pub use redirect_uri::RedirectUri;
pub use scope::{OFFLINE_ACCESS, OIDC_SCOPES, Scope};
pub use signing_key::{KeyMove, KeyState, KeyTransition, NewSigningKey, SigningKeyRecord};
pub use upstream::{
    ClaimMapping, LinkedIdentity, OAuth2Provider, Upstream, UpstreamLogin, UpstreamName, UpstreamProtocol,
    UpstreamPurpose,
};
pub use user::{DisplayName, Email, Role, User, Username};

/// A value that failed to parse; `reason` is written for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidValue {
    pub field: &'static str,
    pub reason: String,
}

impl InvalidValue {
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}

/// Declares `as_str`, `AsRef<str>`, `Display` and serde's string form for a newtype.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}
pub(crate) use string_newtype;
