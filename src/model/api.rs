//! APIs (resource servers, RFC 8707): what an access token is for. Each has an identifier
//! that becomes the `aud` of its tokens, and the scopes it defines.

use super::{InvalidValue, OIDC_SCOPES, string_newtype};

/// An API's identifier: an absolute `http(s)` URI without a fragment (RFC 8707 §2), kept
/// exactly as registered, since clients name it and services check `aud` against it
/// byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiIdentifier(String);

string_newtype!(ApiIdentifier);

/// Long enough for any service URL; short enough to sit in every token.
const MAX_IDENTIFIER_BYTES: usize = 255;

impl ApiIdentifier {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let invalid = |reason: &str| InvalidValue::new("API identifier", reason);
        if input.is_empty() || input.len() > MAX_IDENTIFIER_BYTES {
            return Err(invalid("must be an absolute URI of at most 255 bytes"));
        }
        if input.contains('#') {
            return Err(invalid("must not contain a fragment (RFC 8707 §2)"));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces or control characters"));
        }
        let url =
            url::Url::parse(input).map_err(|_| invalid("must be an absolute URI such as https://api.example.com"))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(invalid("must be an http or https URI with a host"));
        }
        Ok(Self(input.to_owned()))
    }
}

/// A scope an API defines, with the sentence the consent page shows for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiScope {
    pub name: String,
    pub description: String,
}

/// The longest scope name or description accepted.
const MAX_SCOPE_NAME_BYTES: usize = 64;
const MAX_DESCRIPTION_BYTES: usize = 200;

impl ApiScope {
    /// `name` is a scope token (RFC 6749 §3.3) that is not one of the OpenID Connect
    /// scopes wristband defines itself.
    pub fn parse(name: &str, description: &str) -> Result<Self, InvalidValue> {
        let invalid = |reason: String| InvalidValue::new("scope", reason);
        let printable = |c: char| c == '!' || ('#'..='[').contains(&c) || (']'..='~').contains(&c);
        if name.is_empty() || name.len() > MAX_SCOPE_NAME_BYTES || !name.chars().all(printable) {
            return Err(invalid(format!(
                "`{}` must be 1 to {MAX_SCOPE_NAME_BYTES} printable characters without spaces, quotes or backslashes",
                name.chars().take(40).collect::<String>()
            )));
        }
        if OIDC_SCOPES.contains(&name) {
            return Err(invalid(format!("`{name}` is an OpenID Connect scope wristband defines itself")));
        }
        let description = description.trim();
        if description.len() > MAX_DESCRIPTION_BYTES || description.chars().any(char::is_control) {
            return Err(invalid(format!("the description of `{name}` must be one line of at most 200 bytes")));
        }
        Ok(Self { name: name.to_owned(), description: description.to_owned() })
    }
}

/// A registered API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    pub identifier: ApiIdentifier,
    pub name: String,
    pub scopes: Vec<ApiScope>,
    /// Overrides the access-token lifetime of the clients that request this API.
    pub access_token_seconds: Option<i64>,
    pub created_at: i64,
}

impl Api {
    pub fn defines(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.name == scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_absolute_uris_without_fragments_kept_as_given() {
        let id = ApiIdentifier::parse("https://orders.example.com").unwrap();
        assert_eq!(id.as_str(), "https://orders.example.com", "no trailing slash added");
        assert!(ApiIdentifier::parse("http://localhost:8081/api").is_ok());
        for bad in ["", "orders", "/orders", "https://orders.example.com#x", "urn:orders", "https://a b", "ftp://x"] {
            assert!(ApiIdentifier::parse(bad).is_err(), "{bad}");
        }
        assert!(ApiIdentifier::parse(&format!("https://{}.com", "a".repeat(300))).is_err());
    }

    #[test]
    fn api_scopes_are_scope_tokens_other_than_the_oidc_ones() {
        assert!(ApiScope::parse("orders:read", "Read your orders").is_ok());
        for bad in ["", "two words", "quote\"", "back\\slash", "openid", "offline_access"] {
            assert!(ApiScope::parse(bad, "").is_err(), "{bad}");
        }
        assert!(ApiScope::parse("x", &"d".repeat(201)).is_err());
    }
}
