use uuid::Uuid;

use super::{InvalidValue, string_newtype};
use crate::clock::UnixTime;

/// A login name: 1–64 of `a-z 0-9 . _ - @`, starting with a letter or digit. Input is
/// lower-cased, so `Alice` and `alice` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);
string_newtype!(Username);

impl Username {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let value = input.to_ascii_lowercase();
        let invalid = |reason: &str| InvalidValue::new("username", reason);
        if value.is_empty() || value.len() > 64 {
            return Err(invalid("must have 1 to 64 characters"));
        }
        if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(invalid("must start with a letter or digit"));
        }
        if !value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
            return Err(invalid("may contain only letters, digits and . _ - @"));
        }
        Ok(Self(value))
    }
}

/// An e-mail address, checked for shape only (local@domain, no spaces, at most 320 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let invalid = |reason: &str| InvalidValue::new("email", reason);
        if input.len() > 320 || input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must be at most 320 characters without spaces"));
        }
        match input.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@') => {
                Ok(Self(input.to_owned()))
            }
            _ => Err(invalid("must look like name@example.com")),
        }
    }
}

/// A person's display name: 1–200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);
string_newtype!(DisplayName);

impl DisplayName {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let value = input.trim();
        if value.is_empty() || value.chars().count() > 200 || value.chars().any(char::is_control) {
            return Err(InvalidValue::new("name", "must have 1 to 200 characters and no control characters"));
        }
        Ok(Self(value.to_owned()))
    }
}

/// An application role carried in tokens under `roles`: 1–64 of `A-Z a-z 0-9 _ . : -`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Role(String);
string_newtype!(Role);

impl Role {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let ok = !input.is_empty()
            && input.len() <= 64
            && input.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
        if !ok {
            return Err(InvalidValue::new("role", format!("`{input}` must be 1 to 64 of letters, digits and _ . : -")));
        }
        Ok(Self(input.to_owned()))
    }
}

/// A person who can log in. `id` is the stable, opaque `sub` of every token.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub username: Username,
    pub email: Option<Email>,
    pub email_verified: bool,
    pub name: Option<DisplayName>,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub is_admin: bool,
    pub disabled: bool,
    /// The TOTP secret sealed under the master key; `Some` once the factor is active.
    pub totp_secret: Option<Vec<u8>>,
    /// The password is a temporary one wristband generated: the next sign-in must replace it.
    pub password_change_required: bool,
    /// Signed up on its own: no sign-in until the address is verified.
    pub verify_before_sign_in: bool,
    pub created_at: UnixTime,
}

impl User {
    pub fn has_totp(&self) -> bool {
        self.totp_secret.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_cased_and_restricted() {
        assert_eq!(Username::parse("Alice.Smith").unwrap().as_str(), "alice.smith");
        for bad in ["", ".alice", "al ice", "alice<script>", &"a".repeat(65), "ålice"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_need_one_at_and_no_spaces() {
        assert!(Email::parse("alice@example.com").is_ok());
        for bad in ["alice", "@example.com", "alice@", "a b@example.com", "a@b@c"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_are_token_safe() {
        assert!(Role::parse("billing:admin").is_ok());
        for bad in ["", "has space", "quote\"", &"r".repeat(65)] {
            assert!(Role::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn display_names_refuse_control_characters() {
        assert_eq!(DisplayName::parse("  Alice Smith ").unwrap().as_str(), "Alice Smith");
        assert!(DisplayName::parse("Alice\nSmith").is_err());
        assert!(DisplayName::parse("   ").is_err());
    }
}
