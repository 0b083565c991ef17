use super::InvalidValue;
use crate::clock::UnixTime;

/// Where a signing key is in its life (DESIGN.md, Keys and rotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// Published in the JWKS so verifiers cache it, not yet signing.
    Next,
    /// The one key that signs.
    Active,
    /// Published, no longer signing; kept until every token it signed has expired.
    Retired,
    /// Out of the JWKS at once: its tokens are no longer accepted.
    Revoked,
    /// Retired long enough that every token it signed has expired: out of the JWKS, the
    /// row kept for the audit trail.
    Removed,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Revoked => "revoked",
            Self::Removed => "removed",
        }
    }

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        [Self::Next, Self::Active, Self::Retired, Self::Revoked, Self::Removed]
            .into_iter()
            .find(|s| s.as_str() == input)
            .ok_or_else(|| InvalidValue::new("key state", input.to_owned()))
    }

    /// Whether verifiers should find this key in the JWKS.
    pub fn is_published(self) -> bool {
        !matches!(self, Self::Revoked | Self::Removed)
    }
}

impl std::fmt::Display for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A signing key as stored: the private key is sealed under the master key.
#[derive(Debug, Clone)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub state: KeyState,
    pub algorithm: String,
    pub key_bits: u32,
    pub sealed_private_key: Vec<u8>,
    /// The public JWK as JSON text, exactly as published.
    pub public_jwk: String,
    pub created_at: UnixTime,
    pub activated_at: Option<UnixTime>,
    pub retired_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
}

/// A freshly generated key, its private half already sealed, ready to be stored.
#[derive(Debug, Clone)]
pub struct NewSigningKey {
    pub kid: String,
    pub algorithm: &'static str,
    pub key_bits: u32,
    pub sealed_private_key: Vec<u8>,
    pub public_jwk: String,
}

/// One key moving from the state it is expected to be in to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMove {
    pub kid: String,
    pub from: KeyState,
    pub to: KeyState,
}

/// A change of key states applied atomically, optionally storing a new `next` key.
#[derive(Debug, Clone)]
pub struct KeyTransition {
    pub moves: Vec<KeyMove>,
    pub new_next: Option<NewSigningKey>,
}
