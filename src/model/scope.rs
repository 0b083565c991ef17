use std::collections::BTreeSet;

use super::{Api, InvalidValue};

/// The scopes wristband defines itself (OIDC Core §5.4 and §11, plus `roles`); every other
/// scope belongs to an API.
pub const OIDC_SCOPES: [&str; 5] = ["openid", "profile", "email", "roles", "offline_access"];

/// Refresh tokens that outlive the browser session (OIDC Core §11).
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The most scope tokens one request may carry.
const MAX_SCOPE_TOKENS: usize = 64;
const MAX_SCOPE_TOKEN_BYTES: usize = 64;

/// A granted or requested scope (RFC 6749 §3.3): a set of scope tokens. Which tokens are
/// known depends on the APIs of the request: see [`Scope::unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Parses a space-delimited scope by the syntax of RFC 6749 §3.3.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let mut tokens = BTreeSet::new();
        for token in input.split(' ').filter(|t| !t.is_empty()) {
            let printable = |c: char| c == '!' || ('#'..='[').contains(&c) || (']'..='~').contains(&c);
            if token.len() > MAX_SCOPE_TOKEN_BYTES || !token.chars().all(printable) {
                return Err(InvalidValue::new("scope", format!("`{}` is not a scope", shorten(token))));
            }
            tokens.insert(token.to_owned());
        }
        if tokens.len() > MAX_SCOPE_TOKENS {
            return Err(InvalidValue::new("scope", "too many scopes"));
        }
        Ok(Self(tokens))
    }

    /// The first token that neither wristband nor one of `apis` defines.
    pub fn unknown<'a>(&'a self, apis: &[Api]) -> Option<&'a str> {
        self.iter().find(|t| !OIDC_SCOPES.contains(t) && !apis.iter().any(|api| api.defines(t)))
    }

    /// What a token for `api` carries of this scope: the OpenID Connect scopes, and the
    /// scopes `api` defines; never another API's. Without an API: the OIDC scopes only.
    pub fn for_api(&self, api: Option<&Api>) -> Scope {
        Self(
            self.0
                .iter()
                .filter(|t| OIDC_SCOPES.contains(&t.as_str()) || api.is_some_and(|a| a.defines(t)))
                .cloned()
                .collect(),
        )
    }

    /// Each API scope written as `IDENTIFIER#scope`, so that a consent to one API's
    /// `read` is no consent to another's: identifiers never hold a `#`.
    pub fn qualified(&self, apis: &[Api]) -> Scope {
        let mut tokens = BTreeSet::new();
        for token in self.iter() {
            if OIDC_SCOPES.contains(&token) {
                tokens.insert(token.to_owned());
            }
            for api in apis.iter().filter(|api| api.defines(token)) {
                tokens.insert(format!("{}#{token}", api.identifier));
            }
        }
        Self(tokens)
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn union(&self, other: &Scope) -> Scope {
        Self(self.0.union(&other.0).cloned().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(String::as_str)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.iter().map(String::as_str).collect::<Vec<_>>().join(" "))
    }
}

/// Keeps error messages (which may be shown to people) short whatever was sent.
fn shorten(token: &str) -> String {
    token.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApiIdentifier, ApiScope};

    fn api(identifier: &str, scopes: &[&str]) -> Api {
        Api {
            identifier: ApiIdentifier::parse(identifier).unwrap(),
            name: identifier.to_owned(),
            scopes: scopes.iter().map(|s| ApiScope::parse(s, "").unwrap()).collect(),
            access_token_seconds: None,
            created_at: 0,
        }
    }

    #[test]
    fn scopes_are_sets_of_scope_tokens() {
        let scope = Scope::parse("profile openid  openid").unwrap();
        assert_eq!(scope.to_string(), "openid profile");
        assert!(scope.contains("openid"));
        assert!(Scope::parse("openid").unwrap().is_subset(&scope));
        assert!(!scope.is_subset(&Scope::parse("openid").unwrap()));
        assert!(Scope::parse("").unwrap().is_empty());
        assert!(Scope::parse("openid \"quoted\"").is_err());
        assert!(
            Scope::parse(
                &vec!["s"; 65].iter().enumerate().map(|(i, s)| format!("{s}{i}")).collect::<Vec<_>>().join(" ")
            )
            .is_err()
        );
    }

    #[test]
    fn a_scope_is_known_when_wristband_or_an_api_of_the_request_defines_it() {
        let orders = api("https://orders.example.com", &["read", "write"]);
        let scope = Scope::parse("openid read admin").unwrap();
        assert_eq!(scope.unknown(std::slice::from_ref(&orders)), Some("admin"));
        assert_eq!(Scope::parse("openid read").unwrap().unknown(&[orders]), None);
        assert_eq!(Scope::parse("read").unwrap().unknown(&[]), Some("read"));
    }

    #[test]
    fn a_token_for_one_api_carries_none_of_another_apis_scopes() {
        let orders = api("https://orders.example.com", &["read"]);
        let billing = api("https://billing.example.com", &["pay"]);
        let granted = Scope::parse("openid read pay").unwrap();
        assert_eq!(granted.for_api(Some(&orders)).to_string(), "openid read");
        assert_eq!(granted.for_api(Some(&billing)).to_string(), "openid pay");
        assert_eq!(granted.for_api(None).to_string(), "openid");
    }

    #[test]
    fn consent_to_one_apis_scope_is_not_consent_to_the_same_name_at_another() {
        let orders = api("https://orders.example.com", &["read"]);
        let billing = api("https://billing.example.com", &["read"]);
        let scope = Scope::parse("openid read").unwrap();
        let at_orders = scope.qualified(std::slice::from_ref(&orders));
        assert_eq!(at_orders.to_string(), "https://orders.example.com#read openid");
        assert!(!scope.qualified(&[billing]).is_subset(&at_orders));
    }
}
