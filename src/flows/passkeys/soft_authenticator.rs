//! A software authenticator for flow tests: a real P-256 key and real WebAuthn messages
//! (attestation `none`, ES256 assertions), so the ceremonies are checked by webauthn-rs
//! exactly as a browser's would be, without a browser. The browser tests use Chromium's
//! virtual authenticator instead.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::Private;
use serde_cbor_2::Value;

use super::{PasskeyOptions, RegistrationOutcome, finish_registration, registration_options};
use crate::clock::Clock;
use crate::flows::interaction::Browser;
use crate::flows::session::start_session;
use crate::flows::testkit::{FlowTest, browser, meta};
use crate::model::Authentication;

const ORIGIN: &str = "http://localhost:8080";
const RP_ID: &str = "localhost";

pub struct SoftAuthenticator {
    key: EcKey<Private>,
    pub credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    pub counter: u32,
    /// A synced passkey (backup-eligible, counter 0) rather than a device-bound key.
    synced: bool,
    pub aaguid: [u8; 16],
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    openssl::sha::sha256(bytes).to_vec()
}

impl SoftAuthenticator {
    pub fn device_bound() -> Self {
        Self::new(false)
    }

    pub fn synced() -> Self {
        Self::new(true)
    }

    fn new(synced: bool) -> Self {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let mut credential_id = vec![0; 32];
        openssl::rand::rand_bytes(&mut credential_id).unwrap();
        Self {
            key: EcKey::generate(&group).unwrap(),
            credential_id,
            user_handle: Vec::new(),
            counter: 0,
            synced,
            aaguid: [7; 16],
        }
    }

    fn flags(&self, attested: bool) -> u8 {
        let mut flags = 0x01 | 0x04; // user present, user verified
        if self.synced {
            flags |= 0x08 | 0x10; // backup-eligible, backed up
        }
        if attested {
            flags |= 0x40;
        }
        flags
    }

    fn client_data(kind: &str, options: &PasskeyOptions) -> Vec<u8> {
        let challenge = options.public_key["challenge"].as_str().expect("a challenge");
        serde_json::json!({ "type": kind, "challenge": challenge, "origin": ORIGIN, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    fn public_key_cose(&self) -> Vec<u8> {
        let mut ctx = openssl::bn::BigNumContext::new().unwrap();
        let (mut x, mut y) = (openssl::bn::BigNum::new().unwrap(), openssl::bn::BigNum::new().unwrap());
        self.key.public_key().affine_coordinates(self.key.group(), &mut x, &mut y, &mut ctx).unwrap();
        let cose = BTreeMap::from([
            (Value::Integer(1), Value::Integer(2)),
            (Value::Integer(3), Value::Integer(-7)),
            (Value::Integer(-1), Value::Integer(1)),
            (Value::Integer(-2), Value::Bytes(x.to_vec_padded(32).unwrap())),
            (Value::Integer(-3), Value::Bytes(y.to_vec_padded(32).unwrap())),
        ]);
        serde_cbor_2::to_vec(&Value::Map(cose)).unwrap()
    }

    /// The browser's answer to registration `options` (`RegisterPublicKeyCredential` JSON).
    pub fn register(&mut self, options: &PasskeyOptions) -> String {
        self.user_handle = URL_SAFE_NO_PAD.decode(options.public_key["user"]["id"].as_str().unwrap()).unwrap();
        let mut auth_data = sha256(RP_ID.as_bytes());
        auth_data.push(self.flags(true));
        auth_data.extend(self.counter.to_be_bytes());
        auth_data.extend(self.aaguid);
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.public_key_cose());
        let attestation = BTreeMap::from([
            (Value::Text("fmt".into()), Value::Text("none".into())),
            (Value::Text("attStmt".into()), Value::Map(BTreeMap::new())),
            (Value::Text("authData".into()), Value::Bytes(auth_data)),
        ]);
        let attestation_object = serde_cbor_2::to_vec(&Value::Map(attestation)).unwrap();
        serde_json::json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation_object),
                "clientDataJSON": b64(&Self::client_data("webauthn.create", options)),
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }

    /// The browser's answer to authentication `options` (`PublicKeyCredential` JSON); a
    /// device-bound key counts up first.
    pub fn assert(&mut self, options: &PasskeyOptions) -> String {
        if !self.synced {
            self.counter += 1;
        }
        let mut auth_data = sha256(RP_ID.as_bytes());
        auth_data.push(self.flags(false));
        auth_data.extend(self.counter.to_be_bytes());
        let client_data = Self::client_data("webauthn.get", options);
        let mut signed = auth_data.clone();
        signed.extend(sha256(&client_data));
        let signature = EcdsaSig::sign(&sha256(&signed), &self.key).unwrap().to_der().unwrap();
        serde_json::json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature),
                "userHandle": b64(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }

    /// A copy of this authenticator, as a cloner would hold it.
    pub fn clone_key(&self) -> Self {
        Self {
            key: self.key.clone(),
            credential_id: self.credential_id.clone(),
            user_handle: self.user_handle.clone(),
            counter: self.counter,
            synced: self.synced,
            aaguid: self.aaguid,
        }
    }
}

/// alice, signed in with her password just now, in the browser "alice".
pub async fn alice_signed_in(t: &FlowTest) -> Browser {
    let user = t.user("alice").await;
    let started = start_session(&t.ctx(), user, Authentication::password(t.clock.now()), &meta()).await.unwrap();
    Browser { session: Some(started.session), ..browser("alice") }
}

pub async fn register(t: &FlowTest, browser: &Browser, key: &mut SoftAuthenticator) -> RegistrationOutcome {
    let session = browser.session.as_ref().unwrap();
    let options = registration_options(&t.ctx(), session, browser).await.unwrap();
    let answer = key.register(&options);
    finish_registration(&t.ctx(), session, browser, &options.ceremony, "Laptop", &answer, &meta()).await.unwrap()
}
