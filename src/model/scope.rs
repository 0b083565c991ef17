use std::collections::BTreeSet;

use super::InvalidValue;

/// The scopes wristband grants (OIDC Core §5.4 and §11, plus `roles`).
pub const SUPPORTED_SCOPES: [&str; 5] = ["openid", "profile", "email", "roles", "offline_access"];

/// Refresh tokens that outlive the browser session (OIDC Core §11).
pub const OFFLINE_ACCESS: &str = "offline_access";

/// A granted or requested scope (RFC 6749 §3.3): a set of known scope tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope(BTreeSet<&'static str>);

impl Scope {
    /// Parses a space-delimited scope; unknown tokens are refused (`invalid_scope`).
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let mut tokens = BTreeSet::new();
        for token in input.split(' ').filter(|t| !t.is_empty()) {
            let known = SUPPORTED_SCOPES
                .iter()
                .find(|s| **s == token)
                .ok_or_else(|| InvalidValue::new("scope", format!("`{}` is not a supported scope", shorten(token))))?;
            tokens.insert(*known);
        }
        Ok(Self(tokens))
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
        Self(self.0.union(&other.0).copied().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.iter().copied().collect::<Vec<_>>().join(" "))
    }
}

/// Keeps error messages (which may be shown to people) short whatever was sent.
fn shorten(token: &str) -> String {
    token.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_sets_of_known_tokens() {
        let scope = Scope::parse("profile openid  openid").unwrap();
        assert_eq!(scope.to_string(), "openid profile");
        assert!(scope.contains("openid"));
        assert!(Scope::parse("openid").unwrap().is_subset(&scope));
        assert!(!scope.is_subset(&Scope::parse("openid").unwrap()));
        assert!(Scope::parse("").unwrap().is_empty());
    }

    #[test]
    fn unknown_scopes_are_refused() {
        let err = Scope::parse("openid admin").unwrap_err();
        assert!(err.to_string().contains("`admin`"));
    }
}
