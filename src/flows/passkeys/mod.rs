//! Passkeys (WebAuthn Level 3, through webauthn-rs): registering one from the account
//! page, signing in with one alone, and using one as the second step after a password.
//! The relying party is the issuer: its host is the RP id, the issuer itself the only
//! origin. Every ceremony is a challenge kept in the database (`passkey_ceremonies`):
//! taken once, bound to the browser that asked, gone after five minutes.

mod assertion;
mod ceremony;
mod registration;

pub use assertion::{PasskeyAnswer, second_factor_options, sign_in, sign_in_options, verify_second_factor};
pub use registration::{
    PasskeyOverview, RegistrationOutcome, finish_registration, list_passkeys, registration_options, remove_passkey,
    rename_passkey,
};

use std::sync::Arc;

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use crate::security::random::sha256_hex;

/// How long a ceremony waits for the browser: WebAuthn's recommended timeout.
const CEREMONY_SECONDS: i64 = 300;

/// wristband as a WebAuthn relying party. Browsers refuse an IP address as an RP id, so
/// an issuer on an address (`http://127.0.0.1:8080`) has no passkeys: the pages do not
/// offer them and the endpoints say why.
#[derive(Clone)]
pub struct RelyingParty(Arc<Webauthn>);

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RelyingParty")
    }
}

impl RelyingParty {
    /// The relying party of `issuer`; `None` when its host is an IP address.
    pub fn for_issuer(issuer: &str) -> Option<Self> {
        let origin = Url::parse(issuer).ok()?;
        let rp_id = origin.domain()?.to_owned();
        let webauthn = WebauthnBuilder::new(&rp_id, &origin).ok()?.rp_name("wristband").build().ok()?;
        Some(Self(Arc::new(webauthn)))
    }
}

/// What the browser needs to run a ceremony: its id (posted back with the answer) and the
/// WebAuthn options, as JSON for `PublicKeyCredential.parse*OptionsFromJSON`.
#[derive(Debug, Clone)]
pub struct PasskeyOptions {
    pub ceremony: String,
    pub public_key: serde_json::Value,
}

/// The key a passkey is found by: SHA-256 of its credential id.
fn credential_hash(credential_id: &[u8]) -> String {
    sha256_hex(&base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, credential_id))
}

#[cfg(test)]
pub(crate) mod soft_authenticator;
#[cfg(test)]
mod tests;
