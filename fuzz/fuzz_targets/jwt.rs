//! The JWT verifier, as userinfo, introspection and logout run it: any bytes as a token,
//! and fuzzed claims under a genuine signature so the checks after the signature run too.
#![no_main]

use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use wristband::config::MasterKeySource;
use wristband::keys::{KeySet, Keystore, generate_rsa_key};
use wristband::model::{KeyState, SigningKeyRecord};
use wristband::security::master_key::MasterKey;
use wristband::tokens::{verify_access_token, verify_id_token_hint};

const ISSUER: &str = "https://id.example.com";
const NOW: i64 = 1_800_000_000;

static KEYS: LazyLock<Arc<KeySet>> = LazyLock::new(|| {
    let master = MasterKey::load_or_create(&MasterKeySource::Inline([7; 32])).expect("master key");
    let key = generate_rsa_key(2048, &master).expect("RSA key");
    let record = SigningKeyRecord {
        kid: key.kid,
        state: KeyState::Active,
        algorithm: key.algorithm.to_owned(),
        key_bits: key.key_bits,
        sealed_private_key: key.sealed_private_key,
        public_jwk: key.public_jwk,
        created_at: NOW - 60,
        activated_at: Some(NOW - 60),
        retired_at: None,
        revoked_at: None,
    };
    Keystore::new(&[record], master).expect("keystore").current()
});

fuzz_target!(|data: &[u8]| {
    let keys = &*KEYS;
    let Some((&mode, rest)) = data.split_first() else { return };
    let token = match mode % 3 {
        0 => String::from_utf8_lossy(rest).into_owned(),
        1 => keys.sign("at+jwt", rest).expect("signing works"),
        _ => keys.sign("JWT", rest).expect("signing works"),
    };
    let _ = verify_access_token(keys, &token, ISSUER, NOW);
    let _ = verify_id_token_hint(keys, &token, ISSUER, NOW);
});
