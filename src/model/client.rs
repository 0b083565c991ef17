use super::{ApiIdentifier, AssuranceLevel, InvalidValue, RedirectUri, string_newtype};
use crate::clock::UnixTime;

/// A client identifier: 1–128 of the URI-unreserved characters, so it needs no escaping in
/// URLs and cannot contain the `:` that separates it from the secret in Basic auth.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);
string_newtype!(ClientId);

impl ClientId {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let ok = !input.is_empty()
            && input.len() <= 128
            && input.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'));
        if !ok {
            return Err(InvalidValue::new("client_id", "must be 1 to 128 of letters, digits and - . _ ~"));
        }
        Ok(Self(input.to_owned()))
    }
}

/// The grant types a client may use at the token endpoint (RFC 6749 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 3] = [Self::AuthorizationCode, Self::RefreshToken, Self::ClientCredentials];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        Self::ALL.into_iter().find(|g| g.as_str() == input).ok_or_else(|| {
            InvalidValue::new(
                "grant type",
                format!("`{input}` is not authorization_code, refresh_token or client_credentials"),
            )
        })
    }
}

impl std::fmt::Display for GrantType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A registered relying party. A client without `secret_hash` is public (RFC 6749 §2.1).
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub first_party: bool,
    pub require_mfa: bool,
    /// Logins for this client must use a passkey (`acr` `urn:wristband:acr:phr`).
    pub require_phishing_resistant: bool,
    pub access_token_seconds: Option<i64>,
    /// Overrides of the refresh-family settings (`refresh.*`) for this client.
    pub refresh: RefreshOverrides,
    /// Where the client hears that a browser session ended (Back-Channel Logout 1.0).
    pub backchannel_logout_uri: Option<RedirectUri>,
    /// The APIs the client may request tokens for (RFC 8707).
    pub resources: Vec<ApiIdentifier>,
    /// The API of a request that names none; `None`: a token for the client itself.
    pub default_resource: Option<ApiIdentifier>,
    /// When these are an API's introspection credentials: that API (RFC 7662 §4).
    pub resource_server_for: Option<ApiIdentifier>,
    pub created_at: UnixTime,
}

/// Per-client refresh-token settings; `None` follows the global configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshOverrides {
    pub idle_seconds: Option<i64>,
    pub absolute_seconds: Option<i64>,
    pub reuse_grace_seconds: Option<i64>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The weakest login this client accepts.
    pub fn required_level(&self) -> AssuranceLevel {
        if self.require_phishing_resistant {
            AssuranceLevel::PhishingResistant
        } else if self.require_mfa {
            AssuranceLevel::TwoFactor
        } else {
            AssuranceLevel::OneFactor
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_url_safe() {
        assert!(ClientId::parse("demo-app_1.0~x").is_ok());
        for bad in ["", "has space", "colon:id", "slash/id", &"c".repeat(129)] {
            assert!(ClientId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn grant_types_round_trip_their_wire_names() {
        for grant in GrantType::ALL {
            assert_eq!(GrantType::parse(grant.as_str()).unwrap(), grant);
        }
        assert!(GrantType::parse("password").is_err());
    }
}
