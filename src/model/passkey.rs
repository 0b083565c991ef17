use uuid::Uuid;

use super::{Destination, InvalidValue, string_newtype};
use crate::clock::UnixTime;

/// A passkey a person registered: the WebAuthn credential (public key, counter, flags, as
/// webauthn-rs keeps it) and what the account pages show of it.
#[derive(Debug, Clone)]
pub struct PasskeyRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: PasskeyName,
    pub credential: webauthn_rs::prelude::Passkey,
    /// The authenticator model it reported at registration (all zeros for most platform
    /// authenticators under attestation `none`).
    pub aaguid: Option<Uuid>,
    /// The key may be synced to other devices (WebAuthn BE flag).
    pub backup_eligible: bool,
    /// The key is synced now (BS flag).
    pub backed_up: bool,
    /// The authenticator's signature counter at the last use; 0 for keys without one.
    pub sign_count: u32,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

impl PasskeyRecord {
    /// A key that can never leave its authenticator: the only kind whose counter going
    /// backwards means a clone.
    pub fn device_bound(&self) -> bool {
        !self.backup_eligible
    }
}

/// What a person calls a passkey: 1–64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyName(String);
string_newtype!(PasskeyName);

impl PasskeyName {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let name = input.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(InvalidValue::new("name", "name the passkey with 1 to 64 characters, e.g. \"Laptop\""));
        }
        Ok(Self(name.to_owned()))
    }
}

/// What a passkey ceremony is for; each kind is finished only by its own form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CeremonyPurpose {
    /// A signed-in person adds a passkey to their account.
    Register { user_id: Uuid, sid: Uuid },
    /// Sign-in without a password, for a pending request or a wristband page; the
    /// authenticator names the account.
    SignIn { authorization_request_hash: Option<String>, destination: Option<Destination> },
    /// The second step of a login, for the second-factor challenge it answers.
    SecondFactor { user_id: Uuid, mfa_challenge_hash: String },
}

/// A WebAuthn challenge waiting for the browser's answer: single use, bound to the
/// browser that asked for it, and short-lived.
#[derive(Debug, Clone)]
pub struct PasskeyCeremony {
    pub purpose: CeremonyPurpose,
    /// SHA-256 of the browser's CSRF cookie.
    pub browser_hash: String,
    /// webauthn-rs's state for this ceremony (the challenge and its policy), JSON.
    pub state: String,
    pub expires_at: UnixTime,
}
